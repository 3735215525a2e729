// The browse routes' logic through inject: listing, download, upload, delete, mkdir, search, presign,
// permissions, CSRF, audit and cache, against the suite's S3 server.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import { allowList, type AuditRecord, type BrowseOptions } from '../src/index.js'
import { escapeControl } from '../src/http/audit.js'
import { bucketName, buildApp, captureLogs, multipartBody, objectExists, postToS3, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('browse')
const otherBucket = bucketName('browse2')
await s3.createBucket(bucket)
await s3.createBucket(otherBucket)

const JSON_ACCEPT = { accept: 'application/json' }
const XRW = { 'x-requested-with': 'fetch', accept: 'application/json' }

async function appWith (t: Teardown, browse: BrowseOptions, logStream?: NodeJS.WritableStream): Promise<FastifyInstance> {
  return await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: 'app' }), other: profileFor(s3, otherBucket) },
    defaultProfile: 'main',
    browse
  }, logStream === undefined ? {} : { logger: { level: 'info', stream: logStream } })
}

async function exists (b: string, key: string): Promise<boolean> {
  return await objectExists(raw, b, key)
}

async function upload (app: FastifyInstance, url: string, files: Array<[string, string | Uint8Array]>, headers: Record<string, string> = XRW) {
  const { body, contentType } = await multipartBody(files.map(([name, content]) => ['file', new Blob([content]), name] as [string, Blob, string]))
  return await app.inject({ method: 'POST', url, payload: body, headers: { ...headers, 'content-type': contentType } })
}

t.test('register-time validation of browse options', async (t) => {
  const cases: Array<[BrowseOptions, RegExp]> = [
    [{ namespaces: {} }, /"browse.namespaces" must name at least one namespace/],
    [{ namespaces: { 'bad name': {} } }, /browse namespace "bad name" must be/],
    [{ namespaces: { Docs: {}, docs: {} } }, /browse namespaces "Docs" and "docs" differ only in case/],
    [{ namespaces: { docs: { profile: 'nope' } } }, /browse namespace "docs": profile "nope" is not one of the profiles \(main, other\)/],
    [{ namespaces: { docs: { basePath: '../x' } } }, /browse namespace "docs": "basePath"/],
    [{ namespaces: { docs: { uploadMode: 'ftp' as 'stream' } } }, /"uploadMode" must be "stream" or "presign"/],
    [{ namespaces: { docs: { allowedExtensions: ['pdf', 'p/ng'] } } }, /"allowedExtensions" has an invalid extension "p\/ng"/],
    [{ namespaces: { docs: { pageSize: 5000 } } }, /"pageSize" must be a whole number from 1 to 1000/],
    [{ namespaces: { docs: { objectHostname: 'javascript:alert(1)' } } }, /"objectHostname" must be an http\(s\) URL/]
  ]
  for (const [browse, message] of cases) {
    await t.rejects(async () => { await appWith(t, browse) }, { code: 'FST_S3S_INVALID_OPTION', message }, message.source)
  }
})

t.test('listing: folders then files, JSON and escaped HTML, paths relative to the namespace', async (t) => {
  const app = await appWith(t, { namespaces: { docs: { basePath: 'shared/docs', pageSize: 2 } } })
  const ops = app.storage.operations()
  for (const name of ['b.txt', 'a.txt', 'c.txt', 'sub/x.txt', '<img src=x onerror=alert(1)>.png']) {
    await ops.uploadFile('data', name, { location: 'shared/docs', preserveFilename: true })
  }
  await ops.uploadFile('outside', 'secret.txt', { location: 'shared', preserveFilename: true })
  const seen: string[] = []
  let url: string | undefined = '/docs/files/'
  let pages = 0
  while (url !== undefined) {
    const res: { statusCode: number, json(): any } = await app.inject({ url, headers: JSON_ACCEPT })
    t.equal(res.statusCode, 200)
    const page: { folders: Array<{ name: string, path: string }>, files: Array<{ path: string, url: string, size: number, lastModified: string }>, nextCursor?: string } = res.json()
    pages++
    for (const f of page.folders) { seen.push(f.path); t.equal(f.name + '/', f.path) }
    for (const f of page.files) {
      seen.push(f.path)
      t.equal(f.url, '/docs/files/' + encodeURIComponent(f.path))
      t.equal(typeof f.size, 'number')
      t.ok(f.lastModified)
    }
    url = page.nextCursor === undefined ? undefined : `/docs/files/?cursor=${encodeURIComponent(page.nextCursor)}`
  }
  t.equal(pages, 3, 'pageSize 2 → 3 pages for 5 entries')
  t.same(seen.sort(), ['<img src=x onerror=alert(1)>.png', 'a.txt', 'b.txt', 'c.txt', 'sub/'].sort())
  t.notOk(seen.includes('secret.txt'), 'nothing outside basePath')
  const sub = (await app.inject({ url: '/docs/files/sub/', headers: JSON_ACCEPT })).json()
  t.same(sub.files.map((f: { path: string }) => f.path), ['sub/x.txt'])

  const html = await app.inject('/docs/files/?cursor=' + encodeURIComponent((await app.inject({ url: '/docs/files/', headers: JSON_ACCEPT })).json().nextCursor))
  t.equal(html.headers['content-type'], 'text/html; charset=utf-8')
  const page = await app.inject({ url: '/docs/files/', headers: { accept: 'text/html' } })
  const all = (await app.inject({ url: '/docs/files/?format=json' })).json()
  t.ok(all.files.length > 0, '?format=json works too')
  t.notMatch(page.body + html.body, /<img src=x/, 'no raw markup from names')
  const big = await appWith(t, { namespaces: { docs: { basePath: 'shared/docs' } } })
  const full = await big.inject({ url: '/docs/files/', headers: { accept: 'text/html' } })
  t.match(full.body, /&lt;img src=x onerror=alert\(1\)&gt;\.png/, 'the name shows as text')
  t.equal((await app.inject('/docs')).headers.location, '/docs/files/')
})

t.test('download: headers, ranges, 416, 304 and attachments', async (t) => {
  const app = await appWith(t, { namespaces: { docs: {} } })
  await app.storage.operations().uploadFile('0123456789', 'r/한글 file.txt', { preserveFilename: true })
  const url = '/docs/files/r/' + encodeURIComponent('한글 file.txt')
  const full = await app.inject(url)
  t.equal(full.statusCode, 200)
  t.equal(full.body, '0123456789')
  t.equal(full.headers['content-length'], '10')
  t.equal(full.headers['accept-ranges'], 'bytes')
  t.equal(full.headers['content-type'], 'text/plain')
  t.ok(full.headers.etag)
  t.ok(full.headers['last-modified'])
  t.equal(full.headers['x-content-type-options'], 'nosniff')
  t.match(full.headers['content-security-policy'], /sandbox/)
  const cases: Array<[string, number, string, string | undefined]> = [
    ['bytes=0-3', 206, '0123', 'bytes 0-3/10'],
    ['bytes=7-', 206, '789', 'bytes 7-9/10'],
    ['bytes=-4', 206, '6789', 'bytes 6-9/10'],
    ['bytes=-100', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=5-1000', 206, '56789', 'bytes 5-9/10'],
    ['BYTES=1-1', 206, '1', 'bytes 1-1/10'],
    ['bytes=0-1,4-5', 200, '0123456789', undefined],
    ['items=0-3', 200, '0123456789', undefined]
  ]
  for (const [range, status, body, contentRange] of cases) {
    const res = await app.inject({ url, headers: { range } })
    t.equal(res.statusCode, status, range)
    t.equal(res.body, body, range)
    t.equal(res.headers['content-range'], contentRange, range)
  }
  for (const range of ['bytes=10-', 'bytes=20-30', 'bytes=5-2', 'bytes=abc', 'bytes=-0', 'bytes=--1', 'bytes=0-1,x', 'bytes=' + '9'.repeat(50) + '-']) {
    const res = await app.inject({ url, headers: { range, accept: 'application/json' } })
    t.equal(res.statusCode, 416, range)
    t.equal(res.headers['content-range'], 'bytes */10', range)
    t.equal(res.json().code, 'FST_S3S_INVALID_RANGE', range)
  }
  const page416 = await app.inject({ url, headers: { range: 'bytes=10-', accept: 'text/html' } })
  t.equal(page416.statusCode, 416)
  t.equal(page416.headers['content-range'], 'bytes */10', 'the error page keeps Content-Range')
  t.match(page416.headers['content-type'], /text\/html/, 'browsers get the error page')
  const etag = full.headers.etag as string
  const notModified = await app.inject({ url, headers: { 'if-none-match': etag } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
  // A date after Last-Modified, but not in the future: RFC 9110 says to ignore a future date (versitygw
  // does, SeaweedFS does not), and equal to Last-Modified is 200 on versitygw (it compares its sub-second mtime).
  const after = Date.parse(full.headers['last-modified'] as string) + 1000
  if (Date.now() < after) await sleep(after - Date.now() + 10)
  const since = await app.inject({ url, headers: { 'if-modified-since': new Date(after).toUTCString() } })
  t.equal(since.statusCode, 304)
  const changed = await app.inject({ url, headers: { 'if-none-match': '"other"' } })
  t.equal(changed.statusCode, 200)
  const attachment = await app.inject(url + '?download=1')
  t.equal(attachment.headers['content-disposition'], 'attachment; filename="__ file.txt"; filename*=UTF-8\'\'%ED%95%9C%EA%B8%80%20file.txt')
  await app.storage.operations().uploadFile('<script>alert(1)</script>', 'page.html', { preserveFilename: true })
  const html = await app.inject('/docs/files/page.html')
  t.match(html.headers['content-disposition'], /^attachment/, 'active content is never inline')
  const missing = await app.inject({ url: '/docs/files/missing.txt', headers: JSON_ACCEPT })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FST_S3S_NOT_FOUND')
  const missingHtml = await app.inject('/docs/files/missing.txt')
  t.equal(missingHtml.statusCode, 404)
  t.match(missingHtml.body, /<h1>404<\/h1>/)
})

t.test('upload: stored under basename, extension rules, overwrite 409, mixed outcomes carry the worst status', async (t) => {
  const app = await appWith(t, { namespaces: { pics: { basePath: 'pics', allowedExtensions: ['png', 'PDF'] } } })
  const ok = await upload(app, '/pics/files/2024/', [['C:\\Users\\me\\photo.PNG', 'png-bytes'], ['../../evil/x.pdf', 'pdf']])
  t.equal(ok.statusCode, 201)
  t.same(ok.json().files.map((f: { path: string, statusCode: number }) => [f.path, f.statusCode]), [['2024/photo.PNG', 201], ['2024/x.pdf', 201]])
  t.ok(await exists(bucket, 'app/pics/2024/photo.PNG'), 'the basename of a Windows path')
  t.ok(await exists(bucket, 'app/pics/2024/x.pdf'), 'a traversal in the filename is reduced to its basename')
  const mixed = await upload(app, '/pics/files/2024/', [['new.png', 'n'], ['photo.PNG', 'again'], ['script.exe', 'MZ'], ['noext', 'x'], ['.png', 'x']])
  t.equal(mixed.statusCode, 415, 'the worst of 201, 409 and 415 is 415')
  const byName = Object.fromEntries(mixed.json().files.map((f: { name: string, statusCode: number, code?: string }) => [f.name, [f.statusCode, f.code]]))
  t.same(byName['new.png'], [201, undefined])
  t.same(byName['photo.PNG'], [409, 'FST_S3S_EXISTS'])
  t.same(byName['script.exe'], [415, 'FST_S3S_TYPE_NOT_ALLOWED'])
  t.same(byName.noext, [415, 'FST_S3S_TYPE_NOT_ALLOWED'], 'no extension is refused when a list is set')
  t.same(byName['.png'], [415, 'FST_S3S_TYPE_NOT_ALLOWED'], 'a dotfile has no extension')
  t.notOk(await exists(bucket, 'app/pics/2024/script.exe'), 'refused before any byte is stored')
  const body = await app.storage.operations().downloadFile('pics/2024/photo.PNG')
  t.equal((await body.body.toArray()).join(''), 'png-bytes', 'the 409 changed nothing')

  const folder = await multipartBody([['folder', 'new folder']])
  const made = await app.inject({ method: 'POST', url: '/pics/files/2024/', payload: folder.body, headers: { ...XRW, 'content-type': folder.contentType } })
  t.equal(made.statusCode, 201)
  t.ok(await exists(bucket, 'app/pics/2024/new folder/'), 'an empty-files request with a folder name makes the folder')
  const nothing = await multipartBody([['other', 'x']])
  const bad = await app.inject({ method: 'POST', url: '/pics/files/', payload: nothing.body, headers: { ...XRW, 'content-type': nothing.contentType } })
  t.equal(bad.statusCode, 400)
  const toFile = await upload(app, '/pics/files/2024/photo.PNG', [['a.png', 'x']])
  t.equal(toFile.statusCode, 400, 'uploads go to folder URLs')
  const html = await upload(app, '/pics/files/2024/', [['html.png', 'x']], { 'x-requested-with': 'fetch' })
  t.equal(html.statusCode, 303, 'a browser form gets redirected back to the folder')
  t.equal(html.headers.location, '/pics/files/2024/')
})

t.test('upload over maxUploadBytes is 413 with nothing left behind', async (t) => {
  const app = await appWith(t, { namespaces: { small: { basePath: 'small', maxUploadBytes: 1024 } } })
  const res = await upload(app, '/small/files/', [['big.bin', new Uint8Array(4096)]])
  t.equal(res.statusCode, 413)
  t.equal(res.json().files[0].code, 'FST_S3S_TOO_LARGE')
  t.notOk(await exists(bucket, 'app/small/big.bin'))
  const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'app/small/' }))
  t.equal((uploads.Uploads ?? []).length, 0)
  const exact = await upload(app, '/small/files/', [['exact.bin', new Uint8Array(1024)]])
  t.equal(exact.statusCode, 201, 'exactly the limit is fine')
})

t.test('overwrite: true replaces files', async (t) => {
  const app = await appWith(t, { namespaces: { w: { basePath: 'w', overwrite: true } } })
  t.equal((await upload(app, '/w/files/', [['a.txt', 'one']])).statusCode, 201)
  t.equal((await upload(app, '/w/files/', [['a.txt', 'two']])).statusCode, 201)
  t.equal((await app.inject('/w/files/a.txt')).body, 'two')
})

t.test('CSRF: scripts send X-Requested-With, forms send the page token, cross-site forms are refused', async (t) => {
  const app = await appWith(t, { namespaces: { c: { basePath: 'csrf' } } })
  const form = await multipartBody([['file', new Blob(['x']), 'x.txt']])
  const crossSite = await app.inject({ method: 'POST', url: '/c/files/', payload: form.body, headers: { 'content-type': form.contentType, origin: 'https://evil.example' } })
  t.equal(crossSite.statusCode, 403)
  t.equal(crossSite.json().code, 'FST_S3S_CSRF')
  t.notOk(await exists(bucket, 'app/csrf/x.txt'))
  const del = await app.inject({ method: 'DELETE', url: '/c/files/x.txt' })
  t.equal(del.statusCode, 403)
  const mk = await app.inject({ method: 'POST', url: '/c/mkdir', payload: 'path=&name=evil', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(mk.statusCode, 403)

  const page = await app.inject({ url: '/c/files/', headers: { accept: 'text/html' } })
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1]
  t.ok(token, 'the page carries a token')
  const cookie = String(page.headers['set-cookie']).split(';')[0]
  t.match(String(page.headers['set-cookie']), /SameSite=Strict/i)
  const withToken = await app.inject({ method: 'POST', url: `/c/files/?_csrf=${encodeURIComponent(token!)}`, payload: form.body, headers: { 'content-type': form.contentType, cookie } })
  t.equal(withToken.statusCode, 303)
  t.ok(await exists(bucket, 'app/csrf/x.txt'))
  const wrongCookie = await app.inject({ method: 'POST', url: `/c/files/?_csrf=${encodeURIComponent(token!)}`, payload: form.body, headers: { 'content-type': form.contentType } })
  t.equal(wrongCookie.statusCode, 403, 'a token without its cookie is refused')
  const mkdir = await app.inject({ method: 'POST', url: '/c/mkdir', payload: `_csrf=${encodeURIComponent(token!)}&path=&name=made`, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } })
  t.equal(mkdir.statusCode, 303)
  t.ok(await exists(bucket, 'app/csrf/made/'))
})

t.test('delete: files, empty and non-empty folders, recursive', async (t) => {
  const app = await appWith(t, { namespaces: { d: { basePath: 'del' } } })
  const ops = app.storage.operations()
  for (const name of ['f.txt', 'dir/a.txt', 'dir/deep/b.txt']) await ops.uploadFile('x', name, { location: 'del', preserveFilename: true })
  await ops.createFolder('empty', { location: 'del' })
  t.equal((await app.inject({ method: 'DELETE', url: '/d/files/f.txt', headers: XRW })).statusCode, 204)
  t.notOk(await exists(bucket, 'app/del/f.txt'))
  t.equal((await app.inject({ method: 'DELETE', url: '/d/files/f.txt', headers: XRW })).statusCode, 404)
  const notEmpty = await app.inject({ method: 'DELETE', url: '/d/files/dir/', headers: XRW })
  t.equal(notEmpty.statusCode, 409)
  t.equal(notEmpty.json().code, 'FST_S3S_FOLDER_NOT_EMPTY')
  t.equal((await app.inject({ method: 'DELETE', url: '/d/files/empty/', headers: XRW })).statusCode, 200)
  t.notOk(await exists(bucket, 'app/del/empty/'))
  const recursive = await app.inject({ method: 'DELETE', url: '/d/files/dir/?recursive=1', headers: XRW })
  t.equal(recursive.statusCode, 200)
  t.equal(recursive.json().deleted, 2)
  t.notOk(await exists(bucket, 'app/del/dir/deep/b.txt'))
  t.equal((await app.inject({ method: 'DELETE', url: '/d/files/', headers: XRW })).statusCode, 400, 'never the namespace root')
})

t.test('mkdir with JSON', async (t) => {
  const app = await appWith(t, { namespaces: { m: { basePath: 'mk' } } })
  const res = await app.inject({ method: 'POST', url: '/m/mkdir', payload: { path: 'a/', name: '새 폴더' }, headers: XRW })
  t.equal(res.statusCode, 201)
  t.equal(res.json().path, 'a/새 폴더/')
  t.ok(await exists(bucket, 'app/mk/a/새 폴더/'))
  for (const name of ['..', '', 'a/../..']) {
    const bad = await app.inject({ method: 'POST', url: '/m/mkdir', payload: { path: '', name }, headers: XRW })
    t.equal(bad.statusCode, 400, JSON.stringify(name))
  }
  t.equal((await app.inject({ method: 'POST', url: '/m/mkdir', payload: { path: '../', name: 'x' }, headers: XRW })).statusCode, 400)
})

t.test('search: case-insensitive, NFC on both sides, recursive, folders by their own name, bounded', async (t) => {
  const app = await appWith(t, { namespaces: { s: { basePath: 'search', searchMaxKeys: 50 }, tiny: { basePath: 'search', searchMaxKeys: 3 } } })
  const ops = app.storage.operations()
  const nfd = '보고서 Final.txt'.normalize('NFD')
  for (const name of [nfd, 'other/REPORT.md', 'reports/q1.csv', 'x/y/z.txt', 'misc.txt']) await ops.uploadFile('x', name, { location: 'search', preserveFilename: true })
  const korean = (await app.inject({ url: '/s/files/?q=' + encodeURIComponent('보고서'.normalize('NFC')), headers: JSON_ACCEPT })).json()
  t.same(korean.files.map((f: { path: string }) => f.path), [nfd], 'an NFC query finds an NFD name')
  const report = (await app.inject({ url: '/s/files/?q=RePoRt', headers: JSON_ACCEPT })).json()
  t.same(report.files.map((f: { path: string }) => f.path), ['other/REPORT.md'])
  t.same(report.folders.map((f: { path: string }) => f.path), ['reports/'], 'folders match on their own segment')
  t.equal(report.truncated, false)
  const inFolder = (await app.inject({ url: '/s/files/x/?q=z', headers: JSON_ACCEPT })).json()
  t.same(inFolder.files.map((f: { path: string }) => f.path), ['x/y/z.txt'])
  const none = (await app.inject({ url: '/s/files/?q=search', headers: JSON_ACCEPT })).json()
  t.same(none.files, [], 'basePath is not matched against')
  const bounded = (await app.inject({ url: '/tiny/files/?q=t', headers: JSON_ACCEPT })).json()
  t.equal(bounded.truncated, true)
  const page = await app.inject({ url: '/tiny/files/?q=t', headers: { accept: 'text/html' } })
  t.match(page.body, /stopped after scanning/)
})

t.test('permissions: 401 without a user, 403 when authorize says no, allowList', async (t) => {
  const logs = captureLogs()
  const app = await appWith(t, {
    namespaces: { p: { basePath: 'perm' } },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    authorize: (user, action) => action !== 'delete' || user === 'boss@admin.example'
  }, logs.stream)
  await app.storage.operations().uploadFile('x', 'f.txt', { location: 'perm', preserveFilename: true })
  const anon = await app.inject({ url: '/p/files/', headers: JSON_ACCEPT })
  t.equal(anon.statusCode, 401)
  t.equal(anon.json().code, 'FST_S3S_UNAUTHENTICATED')
  t.equal((await app.inject({ url: '/p/files/', headers: { ...JSON_ACCEPT, 'x-user': 'ann@example.com' } })).statusCode, 200)
  const denied = await app.inject({ method: 'DELETE', url: '/p/files/f.txt', headers: { ...XRW, 'x-user': 'ann@example.com' } })
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'FST_S3S_FORBIDDEN')
  t.ok(await exists(bucket, 'app/perm/f.txt'))
  t.equal((await app.inject({ method: 'DELETE', url: '/p/files/f.txt', headers: { ...XRW, 'x-user': 'boss@admin.example' } })).statusCode, 204)
  const check = allowList({ emails: ['Ann@Example.com'], domains: ['admin.example'] })
  t.ok(check('ann@example.com'))
  t.ok(check('x@ADMIN.example'))
  t.notOk(check('x@evil-admin.example'))
  t.notOk(check(null))
})

t.test('audit: one record per action per file, fields, levels, escaping, keyHash-only option', async (t) => {
  const logs = captureLogs()
  const app = await appWith(t, { namespaces: { a: { basePath: 'audit', allowedExtensions: ['txt'] } } }, logs.stream)
  const records: AuditRecord[] = []
  app.storageAudit.on('record', (r) => records.push(r))
  await upload(app, '/a/files/', [['one.txt', '1'], ['two.txt', '2'], ['bad.exe', '3']], { ...XRW, 'user-agent': 'UA\nforged line ' + 'x'.repeat(400) })
  const uploads = logs.lines.filter((l) => l.name === 'audit' && l.action === 'upload')
  t.equal(uploads.length, 3, 'one per file')
  t.equal(uploads[2].result, 'denied', 'the refused extension is recorded as denied')
  t.equal(uploads[2].level, 40)
  const first = uploads[0]
  t.equal(first.namespace, 'a')
  t.equal(first.bucket, bucket)
  t.equal(first.key, 'app/audit/one.txt')
  t.match(first.keyHash, /^[0-9a-f]{16}$/)
  t.equal(first.result, 'ok')
  t.equal(first.statusCode, 201)
  t.equal(first.level, 30, 'ok is info')
  t.equal(first.user, null)
  t.ok(first.clientIp)
  t.ok(first.requestId)
  t.notMatch(first.userAgent as string, /\n/, 'control characters are escaped')
  t.match(first.userAgent as string, /^UA\\u000aforged line/)
  t.ok(Buffer.byteLength(first.userAgent as string) <= 256 + 5)
  await app.inject({ url: '/a/files/nope.txt', headers: JSON_ACCEPT })
  const missing = logs.lines.find((l) => l.name === 'audit' && l.action === 'download')
  t.equal(missing?.result, 'error')
  t.equal(missing?.statusCode, 404)
  t.equal(missing?.level, 50)
  t.equal(missing?.key, 'app/audit/nope.txt')
  t.equal(escapeControl('a\u202eb\u2028c\u0000d'), 'a\\u202eb\\u2028c\\u0000d', 'bidi overrides and separators are escaped too')
  t.equal(records.length, 4, 'the emitter sees every record')

  const hashed = captureLogs()
  const hashOnly = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: 'app' }) },
    browse: { namespaces: { h: { basePath: 'audit' } }, auditKeyHashOnly: true, authorize: () => false }
  }, { logger: { level: 'info', stream: hashed.stream } })
  await hashOnly.inject({ url: '/h/files/one.txt' })
  const denied = hashed.lines.find((l) => l.name === 'audit')
  t.equal(denied?.key, undefined)
  t.match(denied?.keyHash, /^[0-9a-f]{16}$/)
  t.equal(denied?.result, 'denied')
  t.equal(denied?.level, 40, 'denied is warn')
})

t.test('cache: hit within the TTL, dropped on upload, delete and mkdir; search bypasses it', async (t) => {
  const app = await appWith(t, { namespaces: { k: { basePath: 'cache', cache: { ttlSeconds: 60 } } } })
  const ops = app.storage.operations()
  await ops.uploadFile('x', 'a.txt', { location: 'cache', preserveFilename: true })
  const names = async (url = '/k/files/'): Promise<string[]> => (await app.inject({ url, headers: JSON_ACCEPT })).json().files.map((f: { path: string }) => f.path)
  t.same(await names(), ['a.txt'])
  await ops.uploadFile('x', 'b.txt', { location: 'cache', preserveFilename: true })
  t.same(await names(), ['a.txt'], 'a change behind the routes is not seen within the TTL')
  t.same(await names('/k/files/?q=b'), ['b.txt'], 'search is never cached')
  const fresh = (await app.inject({ url: '/k/files/', headers: { ...JSON_ACCEPT, 'cache-control': 'no-cache' } })).json()
  t.same(fresh.files.map((f: { path: string }) => f.path), ['a.txt', 'b.txt'], 'Cache-Control: no-cache asks S3')
  t.same(await names(), ['a.txt', 'b.txt'], 'and refreshes the cache for everyone')
  await upload(app, '/k/files/', [['c.txt', 'x']])
  t.same(await names(), ['a.txt', 'b.txt', 'c.txt'], 'an upload through the routes drops the cached folder')
  await app.inject({ method: 'DELETE', url: '/k/files/a.txt', headers: XRW })
  t.same(await names(), ['b.txt', 'c.txt'])
  await app.inject({ method: 'POST', url: '/k/mkdir', payload: { path: '', name: 'sub' }, headers: XRW })
  t.same((await app.inject({ url: '/k/files/', headers: JSON_ACCEPT })).json().folders.map((f: { path: string }) => f.path), ['sub/'])
  await upload(app, '/k/files/sub/', [['deep.txt', 'x']])
  t.same(await names('/k/files/sub/'), ['sub/deep.txt'])
})

t.test('two namespaces on two profiles; objectHostname links', async (t) => {
  const app = await appWith(t, { namespaces: { one: { basePath: 'ns1' }, two: { profile: 'other', objectHostname: 'https://cdn.example/' } } })
  await upload(app, '/one/files/', [['a.txt', '1']])
  await upload(app, '/two/files/', [['b.txt', '2']])
  t.ok(await exists(bucket, 'app/ns1/a.txt'))
  t.ok(await exists(otherBucket, 'b.txt'))
  const two = (await app.inject({ url: '/two/files/', headers: JSON_ACCEPT })).json()
  t.equal(two.files[0].url, 'https://cdn.example/b.txt')
  t.equal((await app.inject('/two/files/b.txt')).body, '2', 'the download route still works')
})

t.test('presign mode: one POST per file with the same rules', async (t) => {
  const app = await appWith(t, { namespaces: { ps: { basePath: 'presign', uploadMode: 'presign', allowedExtensions: ['txt'], maxUploadBytes: 100 }, st: {} } })
  await app.storage.operations().uploadFile('x', 'in/taken.txt', { location: 'presign', preserveFilename: true })
  const res = await app.inject({
    method: 'POST',
    url: '/ps/presign',
    headers: XRW,
    payload: { path: 'in/', files: [{ name: 'ok.txt', size: 5, type: 'text/plain' }, { name: 'x.exe', size: 1 }, { name: 'big.txt', size: 101 }, { name: 'taken.txt', size: 1 }] }
  })
  t.equal(res.statusCode, 415, 'the worst of 200, 415, 413 and 409')
  const [ok, exe, big] = res.json().files
  t.equal(ok.statusCode, 200)
  t.equal(exe.statusCode, 415)
  t.equal(big.statusCode, 413)
  t.equal(res.json().files[3].statusCode, 409, 'an existing file is not signed over')
  t.equal(await postToS3(ok.post, 'hello', 'text/plain', 'ok.txt'), 204)
  t.ok(await exists(bucket, 'app/presign/in/ok.txt'))
  t.equal((await app.inject({ method: 'POST', url: '/st/presign', headers: XRW, payload: { files: [] } })).statusCode, 404, 'no presign route in stream mode')
})

t.test('contentSecurityPolicy: replaced, edited or switched off by the host', async (t) => {
  const replaced = await appWith(t, { namespaces: { c1: { basePath: 'csp' } }, contentSecurityPolicy: "default-src 'self'" })
  t.equal((await replaced.inject({ url: '/c1/files/', headers: { accept: 'text/html' } })).headers['content-security-policy'], "default-src 'self'")
  const seen: Array<string | undefined> = []
  const edited = await appWith(t, {
    namespaces: { c2: { basePath: 'csp' } },
    contentSecurityPolicy: (policy, namespace) => { seen.push(namespace); return policy.replace("font-src 'self'", "font-src 'self' https://fonts.example") }
  })
  const page = await edited.inject({ url: '/c2/files/', headers: { accept: 'text/html' } })
  t.match(page.headers['content-security-policy'], /font-src 'self' https:\/\/fonts\.example/)
  t.match(page.headers['content-security-policy'], /script-src 'self'/, 'the rest of the default stays')
  t.ok(seen.includes('c2'), 'the function is told the namespace')
  const off = await appWith(t, { namespaces: { c3: { basePath: 'csp' } }, contentSecurityPolicy: false })
  t.equal((await off.inject({ url: '/c3/files/', headers: { accept: 'text/html' } })).headers['content-security-policy'], undefined)
  await t.rejects(async () => { await appWith(t, { namespaces: { c4: {} }, contentSecurityPolicy: "default-src 'self'\r\nx-evil: 1" }) },
    { code: 'FST_S3S_INVALID_OPTION', message: /line breaks/ })
})
