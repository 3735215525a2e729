// Downloads as real clients see them, over a real socket: HEAD without a body read (counted at a proxy in
// front of S3), If-Range, weak If-None-Match, validators on every 304, ranges with huge numbers, non-ASCII
// names saved by curl, wget, aria2c, HTTPie, Node's fetch and Chromium, and XML types as attachments.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { asciiFallback } from '../src/content-disposition.js'
import { hasChromium, launchBrowser } from './browser.js'
import { bucketName, buildApp, profileFor, recordingProxy, startS3, type Teardown } from './helper.js'

const run = promisify(execFile)
const s3 = await startS3(t)
const bucket = bucketName('dl')
await s3.createBucket(bucket)
const proxy = await recordingProxy(t, s3.endpoint)
const app = await buildApp(t, {
  profiles: { main: profileFor({ ...s3, endpoint: proxy.endpoint }, bucket) },
  browse: { namespaces: { docs: {} } }
})
const base = (await app.listen({ port: 0, host: '127.0.0.1' })) + '/docs/files/'
const ops = app.storage.operations()
const put = async (name: string, body: string | Buffer, contentType?: string): Promise<void> => {
  await ops.uploadFile(body, name, { preserveFilename: true, contentType })
}
const urlOf = (name: string): string => base + encodeURIComponent(name)

async function tempDir (t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-dl-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function which (command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (existsSync(path.join(dir, command))) return path.join(dir, command)
  }
  return undefined
}

t.test('HEAD is one HeadObject and reads no body (rclone sends one per file)', async (t) => {
  await put('big.bin', Buffer.alloc(8 * 1024 * 1024, 1))
  const before = proxy.requests.length
  const res = await fetch(urlOf('big.bin'), { method: 'HEAD' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-length'), String(8 * 1024 * 1024))
  t.match(res.headers.get('etag'), /^"[0-9a-f-]+"$/)
  t.ok(res.headers.get('last-modified'))
  t.equal(res.headers.get('accept-ranges'), 'bytes')
  t.equal(res.headers.get('content-disposition'), 'inline; filename="big.bin"')
  t.same(proxy.requests.slice(before).map((r) => r.method), ['HEAD'], 'exactly one HeadObject, no GetObject')
  const etag = res.headers.get('etag')!
  const cached = await fetch(urlOf('big.bin'), { method: 'HEAD', headers: { 'if-none-match': `W/${etag}` } })
  t.equal(cached.status, 304, 'HEAD answers conditionals too')
  t.equal(cached.headers.get('etag'), etag)
  const missing = await fetch(urlOf('nope.bin'), { method: 'HEAD' })
  t.equal(missing.status, 404)
  const { stdout } = await run('curl', ['-sSI', urlOf('big.bin')])
  t.match(stdout, /^HTTP\/1\.1 200/)
  t.match(stdout, /content-length: 8388608/i)
})

t.test('If-Range: a stale validator gets the whole new file (200), a current one its range (206)', async (t) => {
  await put('doc.txt', 'version one, the old bytes')
  const v1 = await fetch(urlOf('doc.txt'))
  const oldTag = v1.headers.get('etag')!
  await v1.arrayBuffer()
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await put('doc.txt', 'VERSION TWO, the new bytes!')
  const range = { range: 'bytes=0-6' }
  const stale = await fetch(urlOf('doc.txt'), { headers: { ...range, 'if-range': oldTag } })
  t.equal(stale.status, 200, 'the ETag no longer matches: whole representation')
  t.equal(await stale.text(), 'VERSION TWO, the new bytes!')
  const head = await fetch(urlOf('doc.txt'), { method: 'HEAD' })
  const tag = head.headers.get('etag')!
  const lastModified = head.headers.get('last-modified')!
  const current = await fetch(urlOf('doc.txt'), { headers: { ...range, 'if-range': tag } })
  t.equal(current.status, 206)
  t.equal(await current.text(), 'VERSION')
  const weak = await fetch(urlOf('doc.txt'), { headers: { ...range, 'if-range': `W/${tag}` } })
  t.equal(weak.status, 200, 'a weak validator never satisfies If-Range')
  await weak.arrayBuffer()
  const byDate = await fetch(urlOf('doc.txt'), { headers: { ...range, 'if-range': lastModified } })
  t.equal(byDate.status, 206, 'If-Range with the Last-Modified date')
  await byDate.arrayBuffer()
  const oldDate = await fetch(urlOf('doc.txt'), { headers: { ...range, 'if-range': new Date(Date.parse(lastModified) - 60_000).toUTCString() } })
  t.equal(oldDate.status, 200, 'another date: whole representation')
  await oldDate.arrayBuffer()
  // curl's resume (-C) sends Range; with a changed file and If-Range it must not splice two versions.
  const dir = await tempDir(t)
  const { stdout } = await run('curl', ['-sS', '-o', path.join(dir, 'out'), '-w', '%{http_code}', '-r', '0-6', '-H', `If-Range: ${oldTag}`, urlOf('doc.txt')])
  t.equal(stdout, '200')
  t.equal(await readFile(path.join(dir, 'out'), 'utf8'), 'VERSION TWO, the new bytes!')
})

t.test('conditional GETs: weak If-None-Match matches, and every 304 carries ETag and Last-Modified', async (t) => {
  await put('cond.txt', 'conditional')
  const first = await fetch(urlOf('cond.txt'))
  const etag = first.headers.get('etag')!
  const lastModified = first.headers.get('last-modified')!
  await first.arrayBuffer()
  for (const inm of [etag, `W/${etag}`, `"other", W/${etag}`, '*']) {
    const res = await fetch(urlOf('cond.txt'), { headers: { 'if-none-match': inm } })
    t.equal(res.status, 304, `If-None-Match: ${inm}`)
    t.equal(res.headers.get('etag'), etag)
    t.equal(res.headers.get('last-modified'), lastModified)
  }
  const changed = await fetch(urlOf('cond.txt'), { headers: { 'if-none-match': '"other"' } })
  t.equal(changed.status, 200)
  await changed.arrayBuffer()
  const since = await fetch(urlOf('cond.txt'), { headers: { 'if-modified-since': lastModified } })
  t.equal(since.status, 304, 'If-Modified-Since at Last-Modified')
  t.equal(since.headers.get('etag'), etag, 'the 304 of If-Modified-Since carries the ETag')
  t.equal(since.headers.get('last-modified'), lastModified, '... and Last-Modified')
  const future = await fetch(urlOf('cond.txt'), { headers: { 'if-modified-since': new Date(Date.now() + 3_600_000).toUTCString() } })
  t.equal(future.status, 200, 'a date in the future is ignored, whatever the store would say')
  await future.arrayBuffer()
  const both = await fetch(urlOf('cond.txt'), { headers: { 'if-none-match': '"other"', 'if-modified-since': lastModified } })
  t.equal(both.status, 200, 'If-None-Match wins over If-Modified-Since')
  await both.arrayBuffer()
})

t.test('ranges with huge numbers clamp to the object; a trailing empty list element is allowed', async (t) => {
  await put('ten.txt', '0123456789')
  const cases: Array<[string, number, string, string | null]> = [
    ['bytes=0-99999999999999999999', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=-99999999999999999999', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=2-99999999999999999999', 206, '23456789', 'bytes 2-9/10'],
    ['bytes=0-1,', 206, '01', 'bytes 0-1/10'],
    ['bytes=, 3-4', 206, '34', 'bytes 3-4/10'],
    ['bytes=-3', 206, '789', 'bytes 7-9/10'],
    ['bytes=5-', 206, '56789', 'bytes 5-9/10'],
    ['bytes=0-1,4-5', 200, '0123456789', null],
    ['items=0-1', 200, '0123456789', null]
  ]
  for (const [range, status, body, contentRange] of cases) {
    const res = await fetch(urlOf('ten.txt'), { headers: { range } })
    t.equal(res.status, status, range)
    t.equal(await res.text(), body, `${range}: body`)
    t.equal(res.headers.get('content-range'), contentRange, `${range}: Content-Range`)
  }
  const past = await fetch(urlOf('ten.txt'), { headers: { range: 'bytes=99999999999999999999-' } })
  t.equal(past.status, 416, 'a first byte past any object is unsatisfiable')
  t.equal(past.headers.get('content-range'), 'bytes */10')
  await past.arrayBuffer()
})

const NAMES = ['résumé.txt', 'Grüße.txt', 'café menu.pdf', 'say "hi".txt', '한글 파일.txt', 'plain.txt']

t.test('non-ASCII names: an ASCII filename plus filename*, saved right by every client', async (t) => {
  for (const name of NAMES) await put(name, `bytes of ${name}`, name.endsWith('.pdf') ? 'application/pdf' : 'text/plain')
  for (const name of NAMES) {
    const res = await fetch(urlOf(name) + '?download=1')
    const header = res.headers.get('content-disposition')!
    await res.arrayBuffer()
    const ascii = /^[\x20-\x7e]*$/.test(name) && !name.includes('"')
    t.ok(/^[\x20-\x7e]+$/.test(header), `${name}: the header is plain ASCII`)
    t.match(header, /^attachment; filename="[^"]+"/, `${name}: an ASCII fallback`)
    if (!ascii) {
      t.match(header, /filename\*=UTF-8''/, `${name}: filename* carries the exact name`)
      const star = /filename\*=UTF-8''([^;]+)/.exec(header)![1]
      t.equal(decodeURIComponent(star), name, `${name}: Node's fetch reads the exact name back`)
    }
  }
  t.equal(asciiFallback('résumé.txt'), 'resume.txt')
  t.equal(asciiFallback('Grüße.txt'), 'Grusse.txt')
  t.equal(asciiFallback('한글 파일.txt'), '__ __.txt')

  // curl and HTTPie read only `filename` (no RFC 8187): they must get the ASCII fallback, never mojibake.
  // HTTPie writes to stdout unless that is a terminal, so it runs under `script` (a pseudo-terminal).
  const httpie = which('http') ?? [path.resolve('.cache/httpie/bin/http')].find(existsSync)
  const clients: Array<{ name: string, bin?: string, args: (url: string) => string[], saves: (name: string) => string }> = [
    { name: 'curl', bin: which('curl'), args: (url) => ['-sS', '-OJ', url], saves: asciiFallback },
    { name: 'wget', bin: which('wget'), args: (url) => ['-q', '--content-disposition', url], saves: (n) => n },
    { name: 'aria2c', bin: which('aria2c'), args: (url) => ['-q', '--allow-overwrite=true', url], saves: (n) => n },
    { name: 'HTTPie', bin: httpie === undefined ? undefined : which('script'), args: (url) => ['-qec', `${httpie} --download --quiet GET '${url}'`, '/dev/null'], saves: asciiFallback }
  ]
  for (const client of clients) {
    await t.test(client.name, { skip: client.bin === undefined && `${client.name} is not installed (.ci/run installs it)` }, async (t) => {
      for (const name of NAMES) {
        const dir = await tempDir(t)
        await run(client.bin!, client.args(urlOf(name) + '?download=1'), { cwd: dir })
        const saved = await readdir(dir)
        t.same(saved, [client.saves(name)], `saves ${JSON.stringify(name)} as ${JSON.stringify(client.saves(name))}`)
        t.equal(await readFile(path.join(dir, saved[0]), 'utf8'), `bytes of ${name}`)
      }
    })
  }
})

t.test('Chromium saves non-ASCII names exactly (its download event)', { skip: !hasChromium() && 'needs /usr/bin/chromium' }, async (t) => {
  const { context } = await launchBrowser(t)
  const page = await context.newPage()
  for (const name of ['café menu.pdf', 'résumé.txt', '한글 파일.txt']) {
    await page.setContent(`<a id="file" href="${urlOf(name)}?download=1">file</a>`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#file')])
    t.equal(download.suggestedFilename(), name, name)
    t.equal(await readFile(await download.path(), 'utf8'), `bytes of ${name}`)
  }
})

t.test('presigned links: downloadName gets the same ASCII fallback plus filename*', async (t) => {
  const url = await ops.getDownloadLink('résumé.txt', 5, { downloadName: 'café menu.pdf' })
  const res = await fetch(url)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-disposition'), 'attachment; filename="cafe menu.pdf"; filename*=UTF-8\'\'caf%C3%A9%20menu.pdf')
  await res.arrayBuffer()
})

t.test('XML-based and script-capable types are attachments, never inline', async (t) => {
  const types: Array<[string, string]> = [
    ['feed.rss', 'application/rss+xml'], ['math.mml', 'application/mathml+xml'], ['data.xml', 'application/xml'],
    ['page.xhtml', 'application/xhtml+xml'], ['pic.svg', 'image/svg+xml'], ['page.html', 'text/html'],
    ['style.xsl', 'text/xsl'], ['app.js', 'text/javascript'], ['atom.xml', 'application/atom+xml; charset=utf-8']
  ]
  for (const [name, type] of types) {
    await put(name, '<x/>', type)
    const res = await fetch(urlOf(name))
    t.match(res.headers.get('content-disposition'), /^attachment;/, `${type} is an attachment`)
    await res.arrayBuffer()
  }
  for (const [name, type] of [['photo.png', 'image/png'], ['notes.txt', 'text/plain'], ['doc.pdf', 'application/pdf']]) {
    await put(name, 'x', type)
    const res = await fetch(urlOf(name))
    t.match(res.headers.get('content-disposition'), /^inline;/, `${type} stays inline (previews)`)
    await res.arrayBuffer()
  }
})
