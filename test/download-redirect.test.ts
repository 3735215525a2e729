// downloadMode 'redirect': after the same authorize and audit, a 302 to a presigned GET that S3 answers
// with the headers the proxied route sends; Range and conditional requests answered by S3 itself, followed
// by fetch and by curl -L. Against the suite's real S3 server.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { AuditRecord } from '../src/index.js'
import { buildApp, freshBucket, freshVersionedBucket, profileFor, startS3 } from './helper.js'

const run = promisify(execFile)
const s3 = await startS3(t)
const bucket = await freshBucket(s3, 'redir')
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: {
    namespaces: { direct: { downloadMode: 'redirect' }, proxied: {} },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    authorize: (user, action) => action !== 'download' || user !== 'mallory'
  }
})
const records: AuditRecord[] = []
app.storageAudit.on('record', (r) => records.push(r))
const origin = await app.listen({ port: 0, host: '127.0.0.1' })
const ops = app.storage.operations()
const NAME = 'Grüße menu.txt'
const BODY = 'hello, redirected world\n'.repeat(100)
await ops.uploadFile(BODY, NAME, { preserveFilename: true, contentType: 'text/plain; charset=utf-8' })
await ops.uploadFile('<svg xmlns="http://www.w3.org/2000/svg"/>', 'pic.svg', { preserveFilename: true, contentType: 'image/svg+xml' })
const USER = { 'x-user': 'ann' }
const urlOf = (ns: string, name: string, query = ''): string => `${origin}/${ns}/files/${encodeURIComponent(name)}${query}`

t.test('a 302 to a presigned GET whose answer carries the proxied route\'s headers', async (t) => {
  const res = await fetch(urlOf('direct', NAME), { headers: USER, redirect: 'manual' })
  t.equal(res.status, 302)
  t.equal(res.headers.get('cache-control'), 'no-store', 'the redirect itself is never cached')
  const location = res.headers.get('location')!
  t.ok(location.startsWith(s3.endpoint + '/'), 'to the S3 endpoint')
  t.match(location, /X-Amz-Expires=300&/, 'short-lived (redirectExpireSeconds default)')
  t.notOk(await res.text(), 'no body through the app')

  const followed = await fetch(urlOf('direct', NAME), { headers: USER })
  const proxied = await fetch(urlOf('proxied', NAME), { headers: USER })
  t.equal(followed.status, 200)
  t.equal(await followed.text(), BODY, 'the bytes, from S3')
  t.equal(await proxied.text(), BODY)
  for (const header of ['content-type', 'content-disposition', 'cache-control', 'etag', 'content-length']) {
    t.equal(followed.headers.get(header), proxied.headers.get(header), `${header} as the proxied route sends it`)
  }
  t.equal(followed.headers.get('content-disposition'), 'inline; filename="Grusse menu.txt"; filename*=UTF-8\'\'Gr%C3%BC%C3%9Fe%20menu.txt', 'ASCII fallback plus filename*')
  t.equal(followed.headers.get('cache-control'), 'private, no-cache')

  const saved = await fetch(urlOf('direct', NAME, '?download=1'), { headers: USER })
  t.match(saved.headers.get('content-disposition'), /^attachment; filename="Grusse menu.txt"; filename\*=/)
  await saved.arrayBuffer()
  const svg = await fetch(urlOf('direct', 'pic.svg'), { headers: USER })
  t.equal(svg.headers.get('content-type'), 'image/svg+xml')
  t.match(svg.headers.get('content-disposition'), /^attachment;/, 'a type never shown inline is an attachment, as when proxied')
  await svg.arrayBuffer()
})

t.test('Range and conditional requests are answered by S3 (fetch)', async (t) => {
  const ranged = await fetch(urlOf('direct', NAME), { headers: { ...USER, range: 'bytes=7-16' } })
  t.equal(ranged.status, 206)
  t.equal(ranged.headers.get('content-range'), `bytes 7-16/${BODY.length}`)
  t.equal(await ranged.text(), BODY.slice(7, 17))
  const first = await fetch(urlOf('direct', NAME), { headers: USER })
  const etag = first.headers.get('etag')!
  await first.arrayBuffer()
  const cached = await fetch(urlOf('direct', NAME), { headers: { ...USER, 'if-none-match': etag } })
  t.equal(cached.status, 304)
  // S3 itself answers now: versitygw's 304 carries no validators (the proxied route adds them).
  if (s3.kind !== 'versitygw') t.equal(cached.headers.get('etag'), etag)
})

t.test('curl -L: bytes, name, Range, 304, HEAD', async (t) => {
  const curl = async (...args: string[]): Promise<string> => (await run('curl', ['-sS', '-L', '-H', 'x-user: ann', ...args])).stdout
  t.equal(await curl(urlOf('direct', NAME)), BODY)
  t.equal(await curl('-r', '0-4', urlOf('direct', NAME)), 'hello')
  // A presigned GET refuses HEAD (the method is signed): the app answers it from its one HeadObject.
  const head = await curl('-I', urlOf('direct', NAME))
  t.match(head, /^HTTP\/1\.1 200 /, 'HEAD answered by the app, no redirect')
  t.match(head, new RegExp(`content-length: ${BODY.length}\r\n`, 'i'))
  t.match(head, /content-disposition: inline; filename="Grusse menu.txt"/i)
  const etag = /etag: (\S+)/i.exec(head)![1]
  const status = await curl('-o', '/dev/null', '-w', '%{http_code}', '-H', `If-None-Match: ${etag}`, urlOf('direct', NAME))
  t.equal(status, '304', 'S3 answers the conditional request after the redirect')
})

t.test('no redirect without the right to download; every outcome audited', async (t) => {
  records.length = 0
  const anon = await fetch(urlOf('direct', NAME), { redirect: 'manual' })
  t.equal(anon.status, 401)
  t.equal(anon.headers.get('location'), null)
  const denied = await fetch(urlOf('direct', NAME), { headers: { 'x-user': 'mallory', accept: 'application/json' }, redirect: 'manual' })
  t.equal(denied.status, 403)
  t.equal(denied.headers.get('location'), null)
  t.equal((await denied.json() as { code: string }).code, 'FST_S3S_FORBIDDEN')
  const missing = await fetch(urlOf('direct', 'nope.txt'), { headers: { ...USER, accept: 'application/json' }, redirect: 'manual' })
  t.equal(missing.status, 404, 'a missing file is our 404, not a redirect to S3\'s')
  await fetch(urlOf('direct', NAME), { headers: USER, redirect: 'manual' })
  const downloads = records.filter((r) => r.action === 'download' && r.namespace === 'direct')
  t.same(downloads.map((r) => [r.user, r.statusCode]), [['mallory', 403], ['ann', 404], ['ann', 302]])
  t.equal(downloads[2].key, NAME)
})

t.test('the page lets previews reach S3 (CSP)', async (t) => {
  const page = await fetch(`${origin}/direct/files/`, { headers: { ...USER, accept: 'text/html' } })
  const csp = page.headers.get('content-security-policy')!
  for (const directive of ['img-src', 'media-src', 'frame-src', 'connect-src']) {
    t.match(csp, new RegExp(`${directive} [^;]*${s3.endpoint.replace(/[.:/]/g, '\\$&')}`), directive)
  }
  const proxied = (await fetch(`${origin}/proxied/files/`, { headers: { ...USER, accept: 'text/html' } })).headers.get('content-security-policy')!
  t.notMatch(proxied, s3.endpoint, 'the proxied namespace needs no S3 origin')
  await page.text()
})

t.test('versionId: the link is to the version asked for', async (t) => {
  const versioned = await freshVersionedBucket(s3, 'redirv')
  const vapp = await buildApp(t, { profiles: { v: profileFor(s3, versioned) }, browse: { namespaces: { v: { downloadMode: 'redirect' } } } })
  const vops = vapp.storage.operations()
  await vops.uploadFile('one', 'a.txt', { preserveFilename: true })
  const first = (await vops.head('a.txt')).versionId!
  await vops.uploadFile('two', 'a.txt', { preserveFilename: true })
  const res = await vapp.inject({ url: `/v/files/a.txt?versionId=${encodeURIComponent(first)}` })
  t.equal(res.statusCode, 302)
  t.match(res.headers.location, `versionId=${encodeURIComponent(first)}`)
  t.equal(await (await fetch(res.headers.location as string)).text(), 'one')
  const current = await vapp.inject({ url: '/v/files/a.txt' })
  t.equal(await (await fetch(current.headers.location as string)).text(), 'two')
})

t.test('downloadMode and redirectExpireSeconds are checked', async (t) => {
  await t.rejects(buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { x: { downloadMode: 'bounce' as 'proxy' } } } }), { code: 'FST_S3S_INVALID_OPTION', message: /"downloadMode" must be "proxy" or "redirect"/ })
  await t.rejects(buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { x: { redirectExpireSeconds: 0 } } } }), { code: 'FST_S3S_INVALID_OPTION', message: /"redirectExpireSeconds"/ })
  const short = await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { x: { downloadMode: 'redirect', redirectExpireSeconds: 30 } } } })
  t.match((await short.inject({ url: `/x/files/${encodeURIComponent(NAME)}` })).headers.location, /X-Amz-Expires=30&/)
})
