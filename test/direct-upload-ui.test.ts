// The direct-upload example in a real Chromium: ticket, a POST straight to the S3 server with a progress
// bar, confirm, and a link whose bytes match what was picked.
import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { hasChromium, launchBrowser } from './browser.js'
import { bucketName, startS3 } from './helper.js'
// @ts-expect-error the example is plain JavaScript
import { allowOrigin, buildDirectUploadApp } from '../examples/direct-upload/app.js'

if (!hasChromium()) t.fail('chromium is missing: .ci/run installs it with apt-get install chromium')

const s3 = await startS3(t)
const bucket = bucketName('direct-ui')
await s3.createBucket(bucket)
const app = await buildDirectUploadApp(s3, { bucket })
t.teardown(() => app.close())
await app.listen({ port: 0, host: '127.0.0.1' })
const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
await allowOrigin(app, origin)

t.test('a file goes straight to S3 with a progress bar, is confirmed and linked', async (t) => {
  const { context } = await launchBrowser(t)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', (e) => errors.push(e.message))
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-direct-'))
  const content = randomBytes(3 * 1024 * 1024)
  const file = path.join(dir, '보고서 report.pdf')
  await writeFile(file, content)
  await page.goto(origin + '/')
  await page.setInputFiles('#file', file)
  await page.click('button[type=submit]')
  await page.waitForSelector('#link', { timeout: 20_000 })
  t.equal(await page.$eval('#progress', (p) => (p as unknown as { value: number }).value), 100, 'the progress bar reached 100%')
  t.equal(await page.textContent('#link'), '보고서 report.pdf', 'the original Unicode name')
  const href = await page.getAttribute('#link', 'href')
  t.match(href, /^http:\/\/127\.0\.0\.1:\d+\//, 'a presigned link to the S3 server')
  const res = await fetch(href!)
  t.ok(Buffer.from(await res.arrayBuffer()).equals(content), 'the bytes match what was picked')
  t.same(errors, [], 'no console errors')
})

t.test('a disallowed type is refused with a message', async (t) => {
  const { context } = await launchBrowser(t)
  const page = await context.newPage()
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-direct-'))
  const file = path.join(dir, 'tool.exe')
  await writeFile(file, 'MZ')
  await page.goto(origin + '/')
  await page.setInputFiles('#file', file)
  await page.click('button[type=submit]')
  await page.waitForSelector('#result.error')
  t.match(await page.textContent('#result'), /not one of/)
})
