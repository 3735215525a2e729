// Warm folder pages: an ETag named by what the page is rendered from, 304 to If-None-Match, the rendered
// page kept (the same bytes, CSRF token included, and that token still works), gzip for clients that take
// it, and a new ETag after a write through the routes. Against the suite's real S3 server.
import t from 'tap'
import { gunzipSync } from 'node:zlib'
import { buildApp, freshBucket, multipartBody, profileFor, startS3 } from './helper.js'

const s3 = await startS3(t)
const bucket = await freshBucket(s3, 'warm')
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: {
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    namespaces: { w: { basePath: 'warm', cache: { ttlSeconds: 60 } }, nocache: { basePath: 'warm' } }
  }
})
const ops = app.storage.operations()
for (let i = 0; i < 30; i++) await ops.uploadFile('x', `warm/f-${String(i).padStart(2, '0')}.txt`, { preserveFilename: true })

const HTML = { accept: 'text/html', 'x-user': 'ann' }
const first = await app.inject({ url: '/w/files/', headers: HTML })
const cookie = String(first.headers['set-cookie']).split(';')[0]
const USER = { ...HTML, cookie }
const tokenOf = (body: string): string => /name="_csrf" value="([^"]+)"/.exec(body)![1]

t.test('an ETag, a 304 for If-None-Match, and the same page served again without rendering', async (t) => {
  t.equal(first.statusCode, 200)
  t.equal(first.headers.etag, undefined, 'a first visit (no CSRF secret yet) is rendered for that request only')
  const a = await app.inject({ url: '/w/files/', headers: USER })
  const b = await app.inject({ url: '/w/files/', headers: USER })
  t.equal(a.statusCode, 200)
  t.match(a.headers.etag, /^"[\w-]{27}"$/)
  t.equal(a.headers['cache-control'], 'private, no-cache')
  t.equal(a.headers.vary, 'Accept-Encoding')
  t.equal(b.headers.etag, a.headers.etag)
  t.equal(b.body, a.body, 'the same bytes')
  t.equal(tokenOf(b.body), tokenOf(a.body), 'CSRF token included: the page was not rendered again')
  t.equal((a.body.match(/<tr class="row"/g) ?? []).length, 30)

  const etag = String(a.headers.etag)
  for (const header of [etag, `W/${etag}`, `"nope", ${etag}`]) {
    const cached = await app.inject({ url: '/w/files/', headers: { ...USER, 'if-none-match': header } })
    t.equal(cached.statusCode, 304, header)
    t.equal(cached.body, '')
    t.equal(cached.headers.etag, etag)
  }
  t.equal((await app.inject({ url: '/w/files/', headers: { ...USER, 'if-none-match': '"other"' } })).statusCode, 200)

  // The kept page's token still passes the CSRF check.
  const made = await app.inject({ method: 'POST', url: '/w/mkdir', payload: `path=&name=sub&_csrf=${encodeURIComponent(tokenOf(b.body))}`, headers: { ...USER, 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(made.statusCode, 303)
})

t.test('anything the page shows changes the ETag: a write through the routes, the query, the user', async (t) => {
  const before = await app.inject({ url: '/w/files/', headers: USER })
  const etag = String(before.headers.etag)
  const { body, contentType } = await multipartBody([['file', new Blob(['new']), 'zz-new.txt']])
  const up = await app.inject({ method: 'POST', url: '/w/files/', payload: body, headers: { ...USER, accept: 'application/json', 'x-requested-with': 'fetch', 'content-type': contentType } })
  t.equal(up.statusCode, 201)
  const after = await app.inject({ url: '/w/files/', headers: { ...USER, 'if-none-match': etag } })
  t.equal(after.statusCode, 200, 'the old ETag no longer matches')
  t.not(after.headers.etag, etag)
  t.match(after.body, 'zz-new.txt')
  const sorted = await app.inject({ url: '/w/files/?sort=size', headers: { ...USER, 'if-none-match': String(after.headers.etag) } })
  t.equal(sorted.statusCode, 200)
  t.not(sorted.headers.etag, after.headers.etag)
  const bob = await app.inject({ url: '/w/files/', headers: { ...USER, 'x-user': 'bob', 'if-none-match': String(after.headers.etag) } })
  t.equal(bob.statusCode, 200, 'another user never gets a 304 for ann\'s page')
  const search = await app.inject({ url: '/w/files/?q=zz', headers: USER })
  t.ok(search.headers.etag)
  t.equal((await app.inject({ url: '/w/files/?q=zz', headers: { ...USER, 'if-none-match': String(search.headers.etag) } })).statusCode, 304, 'search pages too')

  // Without a listing cache every request lists S3; an unchanged listing still gets the same ETag.
  const plain = await app.inject({ url: '/nocache/files/', headers: USER })
  t.equal((await app.inject({ url: '/nocache/files/', headers: { ...USER, 'if-none-match': String(plain.headers.etag) } })).statusCode, 304)
  await ops.uploadFile('x', 'warm/behind.txt', { preserveFilename: true })
  const changed = await app.inject({ url: '/nocache/files/', headers: { ...USER, 'if-none-match': String(plain.headers.etag) } })
  t.equal(changed.statusCode, 200, 'a change behind the routes is a new ETag where nothing is cached')
  t.match(changed.body, 'behind.txt')
})

t.test('gzip when asked for, the same page inside', async (t) => {
  const plain = await app.inject({ url: '/w/files/', headers: USER })
  const zipped = await app.inject({ url: '/w/files/', headers: { ...USER, 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(zipped.headers['content-encoding'], 'gzip')
  t.equal(zipped.headers.etag, plain.headers.etag)
  t.equal(gunzipSync(zipped.rawPayload).toString(), plain.body)
  t.ok(zipped.rawPayload.length * 5 < plain.rawPayload.length, `${zipped.rawPayload.length} bytes instead of ${plain.rawPayload.length}`)
  const refused = await app.inject({ url: '/w/files/', headers: { ...USER, 'accept-encoding': 'gzip;q=0, identity' } })
  t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal')
  t.equal(refused.body, plain.body)
})
