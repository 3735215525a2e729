// Zip downloads over a real listening socket, checked by real unzippers (Info-ZIP unzip, Python's zipfile,
// 7-Zip): a folder of 5,000 small files plus one 1 GiB file (built once for this file, generated as a
// stream), names with Unicode, spaces and sub-folders; deflate and form posts; limits (413), permissions
// (403) and CSRF before any byte; a client that goes away stops the S3 reads; an S3 failure mid-archive
// breaks the response instead of ending a short archive.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import type { AuditRecord } from '../src/index.js'
import { validateBrowseOptions } from '../src/browse/options.js'
import { bucketName, buildApp, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const run = promisify(execFile)
const MiB = 1024 * 1024
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('zip')
await s3.createBucket(bucket)
const work = await mkdtemp(join(tmpdir(), 'zip-test-'))
t.teardown(() => rm(work, { recursive: true, force: true }))

/** One GetObject the proxy forwarded, and how its body ended. */
interface ObjectGet { key: string, bytes: number, finished: boolean, closedEarly: boolean }

/**
 * An HTTP proxy in front of S3 that records every GetObject and whether its body was read to the end or
 * closed early, and can cut one key's body after some bytes (an S3 failure mid-object).
 */
async function objectProxy (t: Teardown, target: string): Promise<{ endpoint: string, gets: ObjectGet[], cut: (key: string, after: number) => void }> {
  const upstream = new URL(target)
  const gets: ObjectGet[] = []
  const cuts = new Map<string, number>()
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const segments = url.pathname.split('/')
    const isObjectGet = req.method === 'GET' && !url.searchParams.has('list-type') && segments.length > 2 && segments[2] !== ''
    const record: ObjectGet | undefined = isObjectGet ? { key: decodeURIComponent(segments.slice(2).join('/')), bytes: 0, finished: false, closedEarly: false } : undefined
    if (record !== undefined) {
      gets.push(record)
      res.on('finish', () => { record.finished = true })
      res.on('close', () => { if (!record.finished) record.closedEarly = true })
    }
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      const cutAt = record === undefined ? undefined : cuts.get(record.key)
      answer.on('data', (chunk: Buffer) => {
        if (record !== undefined) record.bytes += chunk.length
        if (cutAt !== undefined && record !== undefined && record.bytes >= cutAt) {
          res.write(chunk.subarray(0, chunk.length - (record.bytes - cutAt)))
          res.destroy()
          answer.destroy()
          return
        }
        if (!res.write(chunk)) {
          answer.pause()
          res.once('drain', () => answer.resume())
        }
      })
      answer.on('end', () => res.end())
      res.on('close', () => answer.destroy())
    })
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, gets, cut: (key, after) => cuts.set(key, after) }
}

const proxy = await objectProxy(t, s3.endpoint)
const denied = new Set(['guarded/secret.txt'])
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket), watched: profileFor(s3, bucket, { endpoint: proxy.endpoint }) },
  defaultProfile: 'main',
  browse: {
    authorize: (_user, action, _ns, key) => !(action === 'download' && denied.has(key)) && !(action === 'list' && key.startsWith('closed/')),
    namespaces: {
      files: {},
      packed: { zip: { compression: 'deflate' } },
      watched: { profile: 'watched', zip: { maxFiles: 20_000, maxBytes: 2 * 1024 * MiB } },
      tight: { profile: 'watched', zip: { maxFiles: 100, maxBytes: 10 * MiB } },
      nozip: { zip: false }
    }
  }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
const audit: AuditRecord[] = []
app.storageAudit.on('record', (r) => audit.push(r))

// The fixture: 5,000 small files (sizes 0-96 bytes) in 10 sub-folders, names with Unicode and spaces, a
// folder marker (not an entry), and one 1 GiB file generated as a stream (never held in memory).
const SMALL = 5000
const smallName = (i: number): string => `small/d${i % 10}/file-${i}.txt`
const smallBody = (i: number): string => i % 1000 === 0 ? '' : `file ${i}\n` + 'x'.repeat(i % 97)
const named: Record<string, string> = {
  'Ünïcødé/naïve café ☕.txt': 'unicode\n',
  'with space/a b c.txt': 'spaces\n',
  '日本語/ファイル.txt': 'にほんご\n',
  'deep/a/b/c/d.txt': 'deep\n',
  'emoji 🎉.txt': 'party\n'
}
const BIG = 1024 * MiB
const expected = new Map<string, { size: number, sha256: string }>()
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

async function putObject (key: string, body: string): Promise<void> {
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
}

/** 1 GiB of 1 MiB chunks, each different (a counter in its first bytes), hashed as it is generated. */
function bigBody (): { stream: Readable, digest: () => string } {
  const base = randomBytes(MiB)
  const hash = createHash('sha256')
  async function * chunks (): AsyncGenerator<Buffer> {
    for (let i = 0; i < BIG / MiB; i++) {
      const chunk = Buffer.from(base)
      chunk.writeUInt32LE(i, 0)
      hash.update(chunk)
      yield chunk
    }
  }
  return { stream: Readable.from(chunks()), digest: () => hash.digest('hex') }
}

await t.test('fixture', async () => {
  let next = 0
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < SMALL) {
      const i = next++
      await putObject(`fixture/${smallName(i)}`, smallBody(i))
    }
  }))
  for (let i = 0; i < SMALL; i++) expected.set(smallName(i), { size: Buffer.byteLength(smallBody(i)), sha256: sha256(smallBody(i)) })
  for (const [name, body] of Object.entries(named)) {
    await putObject(`fixture/${name}`, body)
    expected.set(name, { size: Buffer.byteLength(body), sha256: sha256(body) })
  }
  await putObject('fixture/marker/', '')
  const big = bigBody()
  await app.storage.operations().uploadFile(big.stream, 'fixture/big.bin', { preserveFilename: true })
  expected.set('big.bin', { size: BIG, sha256: big.digest() })
  for (const [key, body] of [['guarded/ok.txt', 'ok'], ['guarded/secret.txt', 'secret'], ['closed/x.txt', 'x'], ['fragile/a.bin', 'a'.repeat(MiB)],
    ['fragile/b.bin', 'b'.repeat(4 * MiB)], ['fragile/c.bin', 'c'], ['fragile/d.bin', 'd'], ['other/x.txt', 'other']]) {
    await putObject(key, body)
  }
})

/** What Python's zipfile reads: testzip's verdict, and each entry's name, size, SHA-256, UTF-8 flag, method. */
interface PythonView { bad: string | null, entries: Array<{ name: string, size: number, sha256: string, utf8: boolean, method: number }>, zip64: boolean }
const PYTHON_CHECK = `
import sys, zipfile, hashlib, json
import os
with open(sys.argv[1], 'rb') as raw:
    zip64 = False
    if os.path.getsize(sys.argv[1]) >= 42:
        raw.seek(-(22 + 20), 2)
        zip64 = raw.read(4) == b'PK\\x06\\x07'
z = zipfile.ZipFile(sys.argv[1])
out = {'bad': z.testzip(), 'entries': [], 'zip64': zip64}
for info in z.infolist():
    h = hashlib.sha256()
    with z.open(info) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    out['entries'].append({'name': info.filename, 'size': info.file_size, 'sha256': h.hexdigest(), 'utf8': bool(info.flag_bits & 0x800), 'method': info.compress_type})
print(json.dumps(out))
`
async function pythonView (file: string): Promise<PythonView> {
  const { stdout } = await run('python3', ['-c', PYTHON_CHECK, file], { maxBuffer: 64 * MiB })
  return JSON.parse(stdout) as PythonView
}

/** SHA-256 of one entry as `unzip -p` streams it out (into sha256sum, never to disk). */
async function unzipEntryHash (file: string, name: string): Promise<string> {
  const { stdout } = await run('bash', ['-o', 'pipefail', '-c', 'unzip -p "$0" "$1" | sha256sum', file, name])
  return stdout.split(' ')[0]
}

async function sevenZip (): Promise<string | undefined> {
  return existsSync('/usr/bin/7z') ? '/usr/bin/7z' : undefined
}

/** POSTs to a namespace's zip route and saves the answer to a file (the unzippers need one). */
async function download (ns: string, body: unknown, file: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await post(ns, body, headers)
  if (res.ok && res.body !== null) await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file))
  return res
}

async function post (ns: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const form = typeof body === 'string'
  return await fetch(`${origin}/${ns}/zip`, {
    method: 'POST',
    body: form ? body : JSON.stringify(body),
    headers: form ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : { 'content-type': 'application/json', 'x-requested-with': 'fetch', ...headers }
  })
}

t.test('a folder of 5,000 small files and one of 1 GiB, checked by unzip, Python and 7-Zip', async (t) => {
  const file = join(work, 'fixture.zip')
  audit.length = 0
  const res = await download('files', { folder: 'fixture/' }, file)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/zip')
  t.equal(res.headers.get('content-disposition'), 'attachment; filename="fixture.zip"')
  t.equal(res.headers.get('cache-control'), 'no-store')

  const unzip = await run('unzip', ['-tqq', file], { maxBuffer: 16 * MiB }).then(() => 0, (err: { code: number }) => err.code)
  t.equal(unzip, 0, 'unzip -t finds no error')

  const view = await pythonView(file)
  t.equal(view.bad, null, 'zipfile.testzip() finds no bad entry')
  t.equal(view.entries.length, expected.size, 'every file is an entry; the folder marker is not')
  const seen = new Map(view.entries.map((e) => [e.name, e]))
  let same = 0
  for (const [name, want] of expected) {
    const got = seen.get(name)
    if (got !== undefined && got.size === want.size && got.sha256 === want.sha256) same++
    else t.fail(`${name}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`)
  }
  t.equal(same, expected.size, 'every entry has the bytes of its object (SHA-256)')
  t.ok(view.entries.every((e) => e.utf8), 'every entry carries the UTF-8 name flag')
  t.ok(view.entries.every((e) => e.method === 0), 'stored, not deflated, by default')
  t.ok(seen.has('Ünïcødé/naïve café ☕.txt') && seen.has('日本語/ファイル.txt') && seen.has('with space/a b c.txt'), 'Unicode and spaces kept')

  t.equal(await unzipEntryHash(file, 'big.bin'), expected.get('big.bin')!.sha256, 'the 1 GiB entry streamed out of unzip -p has its SHA-256')

  const seven = await sevenZip()
  if (seven === undefined) {
    t.comment('7z t skipped: /usr/bin/7z is not installed (Debian p7zip-full)')
  } else {
    const { stdout } = await run(seven, ['t', file], { maxBuffer: 64 * MiB })
    t.match(stdout, /Everything is Ok/, '7z t: everything is ok')
  }

  const downloads = audit.filter((r) => r.action === 'download')
  t.equal(downloads.length, expected.size, 'one download record per file')
  t.ok(downloads.every((r) => r.statusCode === 200 && r.key!.startsWith('fixture/')))
  const zip = audit.filter((r) => r.action === 'zip')
  t.same(zip.map((r) => [r.key, r.statusCode, r.result]), [['fixture/', 200, 'ok']], 'one zip record for the archive')
  await rm(file)
})

t.test('a selection posted as a form, deflated; entry names relative to the common folder', async (t) => {
  const page = await app.inject({ url: '/packed/files/', headers: { accept: 'text/html' } })
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]
  const cookie = String(page.headers['set-cookie']).split(';')[0]
  const file = join(work, 'selection.zip')
  const paths = ['fixture/with space/a b c.txt', 'fixture/日本語/', 'fixture/deep/', 'fixture/emoji 🎉.txt'].join('\r\n')
  const res = await download('packed', new URLSearchParams({ _csrf: token, paths }).toString(), file, { cookie })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-disposition'), 'attachment; filename="fixture.zip"')
  const view = await pythonView(file)
  t.equal(view.bad, null)
  t.same(view.entries.map((e) => e.name).sort(), ['deep/a/b/c/d.txt', 'emoji 🎉.txt', 'with space/a b c.txt', '日本語/ファイル.txt'])
  t.ok(view.entries.every((e) => e.method === 8), 'deflated')
  for (const e of view.entries) t.equal(e.sha256, expected.get(e.name)!.sha256, e.name)

  const one = join(work, 'one.zip')
  const single = await download('files', { paths: ['fixture/日本語/ファイル.txt'] }, one)
  t.match(single.headers.get('content-disposition'), /^attachment; filename="[^"]+\.zip"; filename\*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E\.zip$/, 'named after the file\'s folder, with an ASCII fallback')
  t.same((await pythonView(one)).entries.map((e) => e.name), ['ファイル.txt'])

  const rootFile = join(work, 'root.zip')
  const root = await download('files', { paths: ['other/', 'guarded/ok.txt'] }, rootFile)
  t.equal(root.headers.get('content-disposition'), 'attachment; filename="files.zip"', 'the root is named after the namespace')
  t.same((await pythonView(rootFile)).entries.map((e) => e.name).sort(), ['guarded/ok.txt', 'other/x.txt'])
})

t.test('over maxFiles or maxBytes: 413 before any byte and before any object is read', async (t) => {
  const before = proxy.gets.length
  const files = await post('tight', { folder: 'fixture/small/' })
  t.equal(files.status, 413)
  t.match(await files.json(), { code: 'FST_S3S_TOO_LARGE', message: /more than 100 files/ })
  const bytes = await post('tight', { paths: ['fixture/big.bin'] })
  t.equal(bytes.status, 413)
  t.match(await bytes.json(), { code: 'FST_S3S_TOO_LARGE', message: /more than 10485760 bytes/ })
  const paths = await post('tight', { paths: Array.from({ length: 101 }, (_, i) => `p${i}.txt`) })
  t.equal(paths.status, 413, 'more paths than maxFiles')
  t.match(audit.at(-1), { action: 'zip', statusCode: 413, result: 'error' }, 'audited')
  t.equal(proxy.gets.length, before, 'no GetObject was sent')
  t.match(audit.at(-1), { action: 'zip', statusCode: 413, result: 'error' })
})

t.test('authorize refuses a file or a folder: 403 before any byte', async (t) => {
  const before = proxy.gets.length
  const file = await post('watched', { folder: 'guarded/' })
  t.equal(file.status, 403)
  t.match(await file.json(), { code: 'FST_S3S_FORBIDDEN', message: /download guarded\/secret\.txt/ })
  const folder = await post('watched', { paths: ['closed/', 'guarded/ok.txt'] })
  t.equal(folder.status, 403)
  t.match(await folder.json(), { code: 'FST_S3S_FORBIDDEN', message: /list closed\// })
  t.equal(proxy.gets.length, before, 'no GetObject was sent')
  t.match(audit.at(-1), { action: 'zip', statusCode: 403, result: 'denied' })
})

t.test('CSRF, bad paths and a namespace without zip', async (t) => {
  const noToken = await post('files', new URLSearchParams({ folder: 'fixture/deep/' }).toString())
  t.equal(noToken.status, 403)
  t.match(await noToken.json(), { code: 'FST_S3S_CSRF' })
  const noHeader = await fetch(`${origin}/files/zip`, { method: 'POST', body: JSON.stringify({ folder: 'fixture/deep/' }), headers: { 'content-type': 'application/json' } })
  t.equal(noHeader.status, 403, 'JSON without X-Requested-With or a token')
  for (const body of [{ folder: '../fixture/' }, { paths: ['fixture/../guarded/secret.txt'] }, { paths: ['a\\b.txt'] }, { paths: ['/etc/passwd'] },
    { paths: ['%2e%2e/x'] }, { paths: [] }, { paths: '\n' }, { folder: 'a/', paths: ['b'] }, {}, { paths: [42] }]) {
    const res = await post('files', body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.match(await res.json(), { code: /^FST_S3S_(BAD_REQUEST|INVALID_KEY)$/ })
  }
  const control = await post('files', { paths: ['fixture/a\tb.txt'] })
  t.equal(control.status, 400, 'a control character')
  const missing = await post('files', { paths: ['fixture/nope.txt'] })
  t.equal(missing.status, 404, 'a selected file that does not exist')
  const off = await post('nozip', { folder: '' })
  t.equal(off.status, 404, 'zip: false has no route')
})

t.test('a client that goes away mid-zip stops the S3 reads', async (t) => {
  const before = proxy.gets.length
  audit.length = 0
  let received = 0
  await new Promise<void>((resolve, reject) => {
    const req = http.request(`${origin}/watched/zip`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'test' } }, (res) => {
      t.equal(res.statusCode, 200)
      res.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received > 4 * MiB) { req.destroy(); resolve() }
      })
    })
    req.on('error', () => resolve())
    req.end(JSON.stringify({ folder: 'fixture/' }))
    setTimeout(() => reject(new Error('the zip never started')), 30_000).unref()
  })
  const gets = (): ObjectGet[] => proxy.gets.slice(before)
  for (let i = 0; i < 100 && gets().some((g) => !g.finished && !g.closedEarly); i++) await sleep(50)
  const big = gets().find((g) => g.key.endsWith('fixture/big.bin'))
  t.ok(big?.closedEarly, 'the 1 GiB GET in flight was closed early')
  t.ok(big !== undefined && big.bytes < BIG / 2, 'and read only in part')
  t.ok(gets().every((g) => g.finished || g.closedEarly), 'no GET is left open')
  t.ok(gets().length <= 2, `at most the entry in progress and one ahead were opened (${gets().length})`)
  const opened = gets().length
  // Nothing is left to open a GET: give a stray one the time to show.
  await sleep(300)
  t.equal(gets().length, opened, 'no GET after the disconnect')
  for (let i = 0; i < 50 && !audit.some((r) => r.action === 'zip'); i++) await sleep(20)
  t.match(audit.filter((r) => r.action === 'zip'), [{ key: 'fixture/', statusCode: 499 }], 'the archive is recorded as abandoned')
  t.match(audit.find((r) => r.action === 'download'), { key: 'fixture/big.bin', statusCode: 499 }, 'the file cut short too')
})

t.test('an S3 failure mid-archive breaks the response; no short archive that looks complete', async (t) => {
  proxy.cut('fragile/b.bin', MiB)
  const before = proxy.gets.length
  audit.length = 0
  const file = join(work, 'fragile.zip')
  const res = await post('watched', { folder: 'fragile/' })
  t.equal(res.status, 200, 'the archive had started')
  const out = createWriteStream(file)
  const failure = await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), out).then(() => undefined, (err: Error) => err)
  t.ok(failure instanceof Error, `the client sees the response cut (${failure?.message})`)
  const unzip = await run('unzip', ['-tqq', file]).then(() => 0, (err: { code: number }) => err.code)
  t.not(unzip, 0, 'unzip -t does not accept what arrived')
  const python = await run('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).testzip()', file]).then(() => 'valid', () => 'invalid')
  t.equal(python, 'invalid', 'neither does zipfile')
  const keys = proxy.gets.slice(before).map((g) => g.key)
  t.notOk(keys.includes('fragile/d.bin'), 'no GET after the failure (c.bin at most, opened one ahead)')
  for (let i = 0; i < 50 && !audit.some((r) => r.action === 'zip'); i++) await sleep(20)
  t.match(audit.filter((r) => r.action === 'download').map((r) => [r.key, r.statusCode]), [['fragile/a.bin', 200], ['fragile/b.bin', 503]])
  t.match(audit.filter((r) => r.action === 'zip'), [{ key: 'fragile/', statusCode: 503, result: 'error' }])
})

t.test('zipStream: the API', async (t) => {
  const ops = app.storage.operations()
  await t.rejects(ops.zipStream({ prefix: 'fixture/' }, { maxFiles: 0 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ prefix: 'fixture/' }, { maxBytes: -1 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ prefix: 'fixture/' }, { compression: 'lzma' as 'store' }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({} as { prefix: string }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream(null as unknown as { prefix: string }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ prefix: 'a/', filenames: ['b'] } as unknown as { prefix: string }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ filenames: [] }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ filenames: [3 as unknown as string] }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.zipStream({ filenames: ['../x'] }), { code: 'FST_S3S_INVALID_KEY' })
  await t.rejects(ops.zipStream({ filenames: ['fixture/nope.txt'] }), { code: 'FST_S3S_NOT_FOUND' })
  await t.rejects(ops.zipStream({ prefix: 'fixture/' }, { signal: AbortSignal.abort() }), { name: 'AbortError' })

  // A selection in one location: names relative to it; the same file twice is one entry.
  const onFile: string[] = []
  const archive = await ops.zipStream({ filenames: ['fixture/deep/', 'fixture/deep/a/b/c/d.txt', 'fixture/emoji 🎉.txt'] }, { onFile: (f, err) => onFile.push(`${f.name}:${err === undefined ? 'ok' : err.message}`) })
  t.equal(archive.files, 2)
  t.equal(archive.bytes, Buffer.byteLength(named['deep/a/b/c/d.txt']) + Buffer.byteLength(named['emoji 🎉.txt']))
  const file = join(work, 'api.zip')
  await pipeline(archive, createWriteStream(file))
  t.same((await pythonView(file)).entries.map((e) => e.name), ['deep/a/b/c/d.txt', 'emoji 🎉.txt'])
  t.same(onFile, ['deep/a/b/c/d.txt:ok', 'emoji 🎉.txt:ok'], 'onFile once per entry, in order')

  const located = await app.storage.operations(undefined).zipStream({ prefix: 'deep/' }, { location: 'fixture' })
  const locatedFile = join(work, 'located.zip')
  await pipeline(located, createWriteStream(locatedFile))
  t.same((await pythonView(locatedFile)).entries.map((e) => e.name), ['a/b/c/d.txt'], 'relative to the prefix inside the location')

  const empty = await ops.zipStream({ prefix: 'no-such-folder/' })
  const emptyFile = join(work, 'empty.zip')
  await pipeline(empty, createWriteStream(emptyFile))
  t.same((await pythonView(emptyFile)).entries, [], 'an empty folder is an empty archive')
})

t.test('zipStream: the signal destroys the archive and the S3 read', async (t) => {
  const ops = app.storage.operations('watched')
  const before = proxy.gets.length
  const controller = new AbortController()
  const archive = await ops.zipStream({ prefix: 'fixture/' }, { signal: controller.signal })
  const failed = new Promise<Error>((resolve) => archive.once('error', resolve))
  let read = 0
  archive.on('data', (chunk: Buffer) => { read += chunk.length; if (read > MiB) controller.abort(new Error('enough')) })
  t.equal((await failed).message, 'enough', 'the archive errors with the signal\'s reason')
  for (let i = 0; i < 100 && proxy.gets.slice(before).some((g) => !g.finished && !g.closedEarly); i++) await sleep(50)
  t.ok(proxy.gets.slice(before).find((g) => g.key === 'fixture/big.bin')?.closedEarly, 'the GET in flight was closed')
})

t.test('zipStream: an object that changes size between the listing and its read breaks the archive', async (t) => {
  await putObject('changing/x.txt', 'short')
  const ops = app.storage.operations()
  const archive = await ops.zipStream({ prefix: 'changing/' }, {
    checkFile: async (file) => { await putObject(file.key, 'a good deal longer now') }
  })
  const err = await pipeline(archive, createWriteStream(join(work, 'changing.zip'))).then(() => undefined, (e: Error) => e)
  t.match(err, { code: 'FST_S3S_S3_ERROR', message: /changing\/x\.txt changed while the archive was read/ })
})

// The zip library alone, entries from memory: the ZIP64 end record depends only on the entry count. Run in a
// child without coverage: yazl's search for the next entry is quadratic, and counted per block it takes long.
const MANY_ENTRIES = `
const yazl = require('yazl')
const zip = new yazl.ZipFile()
for (let i = 0; i < 65537; i++) zip.addBuffer(Buffer.from('z'), 'e/' + i + '.txt', { compress: false })
zip.end()
zip.outputStream.pipe(require('fs').createWriteStream(process.argv[1]))
`

t.test('yazl writes ZIP64 past 65,535 entries, read back by Python and unzip', async (t) => {
  const file = join(work, 'many.zip')
  await run(process.execPath, ['-e', MANY_ENTRIES, file], { env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
  const { stdout } = await run('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.testzip())', file])
  t.equal(stdout.trim(), '65537 None')
  const view = await run('python3', ['-c', 'import sys\nraw = open(sys.argv[1], "rb"); raw.seek(-(22 + 20), 2); print(raw.read(4) == b"PK\\x06\\x07")', file])
  t.equal(view.stdout.trim(), 'True', 'a ZIP64 end of central directory locator')
  const unzip = await run('unzip', ['-tqq', file]).then(() => 0, (err: { code: number }) => err.code)
  t.equal(unzip, 0, 'unzip -t reads it too')
  await rm(file)
})

t.test('the namespace option zip: validated once, with clear messages', async (t) => {
  const zipOf = (zip: unknown): unknown => validateBrowseOptions({ namespaces: { n: { zip } } }, ['main']).namespaces.get('n')?.zip
  t.same(zipOf(undefined), { maxFiles: 10_000, maxBytes: 10 * 1024 ** 3, compression: 'store' }, 'defaults')
  t.same(zipOf({ maxFiles: 5, maxBytes: 99, compression: 'deflate' }), { maxFiles: 5, maxBytes: 99, compression: 'deflate' })
  t.equal(zipOf(false), undefined, 'false: no route')
  for (const [zip, message] of [
    [true, /"zip" must be an object \(\{ maxFiles, maxBytes, compression \}\) or false/],
    [null, /"zip" must be an object/],
    [{ maxFiles: 0 }, /"zip.maxFiles" must be a whole number from 1 to 100000/],
    [{ maxFiles: 200_000 }, /"zip.maxFiles"/],
    [{ maxBytes: 1.5 }, /"zip.maxBytes" must be a whole number of bytes >= 1/],
    [{ maxBytes: '1' }, /"zip.maxBytes"/],
    [{ compression: 'lzma' }, /"zip.compression" must be "store" or "deflate"/]
  ] as Array<[unknown, RegExp]>) {
    t.throws(() => zipOf(zip), { code: 'FST_S3S_INVALID_OPTION', message }, JSON.stringify(zip))
  }
})
