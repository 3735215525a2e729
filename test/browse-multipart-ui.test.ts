// The browse page's multipart uploader in a real Chromium against the real S3 server: a 300 MiB file in
// parts, the page reloaded at about half, the same file picked again and resumed without re-sending the
// parts S3 has; the stored object's SHA-256 matches. Cancel aborts the multipart upload; an expired part
// URL (a 403 from S3) is signed again.
import t from 'tap'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import type { Page } from 'playwright-core'
import { hasChromium, launchBrowser } from './browser.js'
import { bucketName, buildApp, profileFor, s3Client, startS3 } from './helper.js'

if (!hasChromium()) t.fail('chromium is missing: .ci/run installs it with apt-get install chromium')

declare const document: any, localStorage: any

const MiB = 1024 ** 2
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('mpui')
await s3.createBucket(bucket)
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: {
    authenticate: () => 'ann',
    namespaces: {
      big: { profile: 'main', basePath: 'big', uploadMode: 'presign' },
      small: { profile: 'main', basePath: 'small', uploadMode: 'presign', multipartThreshold: 16 * MiB }
    }
  }
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening')
const origin = `http://127.0.0.1:${address.port}`
const cors = await app.storage.checkCors('main', { origin, apply: true })
if (!cors.ok && !cors.applied) throw new Error('the bucket CORS could not be set')

const dir = await mkdtemp(path.join(tmpdir(), 's3s-mpui-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

/** A file of deterministic pseudo-random bytes (xorshift), written in 1 MiB chunks; its SHA-256. */
async function makeFile (name: string, size: number, seed: number): Promise<{ file: string, sha256: string }> {
  const file = path.join(dir, name)
  const out = createWriteStream(file)
  const hash = createHash('sha256')
  let x = seed >>> 0 || 1
  for (let written = 0; written < size;) {
    const chunk = Buffer.allocUnsafe(Math.min(MiB, size - written))
    for (let i = 0; i + 4 <= chunk.length; i += 4) {
      x ^= x << 13; x >>>= 0
      x ^= x >>> 17
      x ^= x << 5; x >>>= 0
      chunk.writeUInt32LE(x, i)
    }
    hash.update(chunk)
    if (!out.write(chunk)) await once(out, 'drain')
    written += chunk.length
  }
  out.end()
  await once(out, 'finish')
  return { file, sha256: hash.digest('hex') }
}

// Our own SHA-256 judges the bytes: the SDK's check of a multipart object's whole-object CRC64 fails on
// versitygw, whose full-object checksum of a multipart upload the SDK does not expect.
const reader = s3Client(s3, { responseChecksumValidation: 'WHEN_REQUIRED' })
t.teardown(() => reader.destroy())

async function storedSha256 (key: string): Promise<string> {
  const res = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const hash = createHash('sha256')
  for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk)
  return hash.digest('hex')
}

async function openUploads (prefix: string): Promise<number> {
  const res = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))
  return (res.Uploads ?? []).length
}

/** Counts the part PUTs that reached S3, by part number (finished ones, and all started). */
function countParts (page: Page): { finished: Map<number, number>, started: Map<number, number> } {
  const finished = new Map<number, number>()
  const started = new Map<number, number>()
  const partOf = (url: string): number | undefined => {
    if (!url.startsWith(s3.endpoint)) return undefined
    const n = new URL(url).searchParams.get('partNumber')
    return n === null ? undefined : Number(n)
  }
  page.on('request', (req) => {
    const n = partOf(req.url())
    if (req.method() === 'PUT' && n !== undefined) started.set(n, (started.get(n) ?? 0) + 1)
  })
  page.on('requestfinished', async (req) => {
    const n = partOf(req.url())
    if (req.method() !== 'PUT' || n === undefined) return
    const res = await req.response()
    if (res !== null && res.status() === 200) finished.set(n, (finished.get(n) ?? 0) + 1)
  })
  return { finished, started }
}

const { context } = await launchBrowser(t)

async function open (t: { teardown: (fn: () => unknown) => void }, url: string): Promise<{ page: Page, errors: string[] }> {
  const page = await context.newPage()
  t.teardown(() => page.close())
  // Two cores shared with other test files: waits are generous, the assertions are not.
  page.setDefaultTimeout(120_000)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('dialog', (dialog) => { dialog.accept().catch(() => {}) })
  await page.goto(url)
  return { page, errors }
}

t.test('300 MiB in parts, reloaded at half, resumed without re-sending finished parts', async (t) => {
  const size = 300 * MiB
  const { file, sha256 } = await makeFile('film.bin', size, 42)
  const { page, errors } = await open(t, `${origin}/big/files/`)
  const parts = countParts(page)
  const total = Math.ceil(size / (8 * MiB))
  await page.setInputFiles('[data-file-input]', file)
  await page.locator('[data-upload-item][data-state="uploading"]').waitFor()
  // About half: then a reload drops whatever is in flight.
  const deadline = Date.now() + 120_000
  while (parts.finished.size < total / 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.ok(parts.finished.size >= total / 2, `about half the parts are in (${parts.finished.size} of ${total})`)
  await page.reload()
  const before = new Map(parts.finished)
  t.ok(await page.evaluate(() => (localStorage.getItem('fastify-s3-storage:multipart') ?? '').includes('film.bin')), 'the unfinished upload is remembered')

  await page.setInputFiles('[data-file-input]', file)
  const item = page.locator('[data-upload-item][data-state="resumable"]')
  await item.waitFor()
  t.match(await item.locator('.upload-message').textContent(), /unfinished upload of this file was found/)
  const resume = item.getByRole('button', { name: 'Resume the upload of film.bin' })
  t.ok(await resume.evaluate((el) => el === document.activeElement), 'the Resume button has the focus')
  await page.keyboard.press('Enter')
  await page.locator('[data-upload-item][data-state="done"]').waitFor({ timeout: 240_000 })

  const resent = [...before.keys()].filter((n) => (parts.started.get(n) ?? 0) > (before.get(n) ?? 0))
  t.same(resent, [], 'no part S3 already had was sent again')
  t.equal(new Set([...parts.started.keys()]).size, total, 'every part was sent')
  t.equal(await storedSha256('big/film.bin'), sha256, 'the stored object is the file')
  t.equal(await openUploads('big/'), 0, 'no multipart upload left')
  t.equal(await page.evaluate(() => localStorage.getItem('fastify-s3-storage:multipart')), '[]', 'nothing left to resume')
  await page.waitForSelector('tr[data-name="film.bin"]')
  t.same(errors, [])
})

t.test('cancel aborts the multipart upload; a part refused with 403 is signed again', async (t) => {
  const { file } = await makeFile('clip.bin', 160 * MiB, 7)
  const { page, errors } = await open(t, `${origin}/small/files/`)
  const parts = countParts(page)
  const signs: string[] = []
  page.on('request', (req) => { if (req.url().includes('/s3/multipart/') && req.method() === 'GET') signs.push(req.url()) })
  // The first PUT of part 2 answers as S3 does for an expired URL.
  let refused = 0
  await page.route((url) => url.href.startsWith(s3.endpoint) && url.searchParams.get('partNumber') === '2', async (route) => {
    if (refused++ === 0) await route.fulfill({ status: 403, contentType: 'application/xml', body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' })
    else await route.continue()
  })
  await page.setInputFiles('[data-file-input]', file)
  const item = page.locator('[data-upload-item]')
  await item.getByRole('button', { name: 'Pause the upload of clip.bin' }).waitFor()
  t.equal(await openUploads('small/'), 1, 'a multipart upload is open')
  while (parts.finished.size < 2) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(refused >= 1, 'part 2 was refused once')
  t.ok(signs.filter((u) => /partNumbers=(\d+,)*2(,|$)/.test(decodeURIComponent(u))).length >= 2, 'part 2 was signed again after the 403')

  await item.getByRole('button', { name: 'Pause the upload of clip.bin' }).click()
  await page.locator('[data-upload-item][data-state="paused"]').waitFor()
  await item.getByRole('button', { name: 'Cancel the upload of clip.bin' }).click()
  await page.locator('[data-upload-item][data-state="canceled"]').waitFor()
  const deadline = Date.now() + 10_000
  while (await openUploads('small/') > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await openUploads('small/'), 0, 'no multipart upload left on S3')
  t.equal(await page.evaluate(() => localStorage.getItem('fastify-s3-storage:multipart')), '[]', 'nothing remembered')
  t.same(errors, [])
})

t.test('pause stops the parts; resume sends the rest and the file is whole', async (t) => {
  const { file, sha256 } = await makeFile('paused.bin', 96 * MiB, 99)
  const { page, errors } = await open(t, `${origin}/small/files/`)
  const parts = countParts(page)
  await page.setInputFiles('[data-file-input]', file)
  const item = page.locator('[data-upload-item]')
  await item.getByRole('button', { name: 'Pause the upload of paused.bin' }).waitFor()
  while (parts.finished.size < 3) await new Promise((resolve) => setTimeout(resolve, 50))
  await item.getByRole('button', { name: 'Pause the upload of paused.bin' }).click()
  await page.locator('[data-upload-item][data-state="paused"]').waitFor()
  await new Promise((resolve) => setTimeout(resolve, 300))
  // The parts the page saw S3 accept (the ones it remembers). A part whose PUT ended at S3 just as pause
  // aborted it never reached the page, so the page sends it again, by design: it is not counted here.
  const confirmed = await page.evaluate(() => {
    const list = JSON.parse(localStorage.getItem('fastify-s3-storage:multipart') ?? '[]') as Array<{ name: string, done?: Record<string, string> }>
    return Object.keys(list.find((r) => r.name === 'paused.bin')?.done ?? {}).map(Number)
  })
  t.ok(confirmed.length >= 1, `the page confirmed some parts before the pause (${confirmed.length})`)
  const startedAtPause = [...parts.started.values()].reduce((a, b) => a + b, 0)
  await new Promise((resolve) => setTimeout(resolve, 700))
  t.equal([...parts.started.values()].reduce((a, b) => a + b, 0), startedAtPause, 'nothing is sent while paused')
  await item.getByRole('button', { name: 'Resume the upload of paused.bin' }).click()
  await page.locator('[data-upload-item][data-state="done"]').waitFor()
  t.same(confirmed.filter((n) => (parts.started.get(n) ?? 0) > 1), [], 'parts the page saw accepted were not sent again')
  t.equal(await storedSha256('small/paused.bin'), sha256, 'the stored object is the file')
  t.same(errors, [])
})
