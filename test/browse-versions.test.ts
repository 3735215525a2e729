// The browse version routes through inject: a file's versions (JSON and page), restore, undelete, deleting
// a version, deleted files, downloads of old versions, permissions, CSRF, audit and cache; the same routes
// on an unversioned bucket; and the page's Replace as one conditional overwrite (If-Match), race included.
import t from 'tap'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { AuditRecord, BrowseOptions } from '../src/index.js'
import { bucketName, buildApp, freshVersionedBucket, multipartBody, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const versioned = await freshVersionedBucket(s3)
const plain = bucketName('plain')
await s3.createBucket(plain)

const XRW = { 'x-requested-with': 'fetch', accept: 'application/json' }

interface Deny { user?: string, action: string }

/** An app with a versioned namespace `v` and an unversioned `p`; `x-user` names the user, `deny` refuses actions. */
let apps = 0
/** Where a namespace's file is in S3: each app gets folders of its own. */
type Locate = (ns: 'v' | 'p', path: string) => { bucket: string, key: string }

async function appWith (t: Teardown, options: { deny?: Deny[], namespace?: Partial<BrowseOptions['namespaces'][string]> } = {}): Promise<{ app: FastifyInstance, audit: AuditRecord[], keyOf: Locate }> {
  const base = `app${++apps}`
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, versioned), plain: profileFor(s3, plain) },
    defaultProfile: 'main',
    browse: {
      namespaces: {
        v: { profile: 'main', basePath: base, cache: { ttlSeconds: 60 }, ...options.namespace },
        p: { profile: 'plain', basePath: base, ...options.namespace }
      },
      authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
      authorize: (user, action) => !(options.deny ?? []).some((d) => d.action === action && (d.user === undefined || d.user === user))
    }
  })
  const audit: AuditRecord[] = []
  app.storageAudit.on('record', (r) => audit.push(r))
  return { app, audit, keyOf: (ns, path) => ({ bucket: ns === 'v' ? versioned : plain, key: `${base}/${path}` }) }
}

async function upload (app: FastifyInstance, folderUrl: string, name: string, content: string, user: string, fields: Array<[string, string]> = []) {
  const { body, contentType } = await multipartBody([...fields, ['file', new Blob([content]), name]])
  return await app.inject({ method: 'POST', url: folderUrl, payload: body, headers: { ...XRW, 'x-user': user, 'content-type': contentType } })
}

function as (user: string, headers: Record<string, string> = XRW): Record<string, string> {
  return { ...headers, 'x-user': user }
}

async function content (bucket: string, key: string): Promise<string> {
  return await (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()
}

t.test('versions, restore, undelete and deleting a version through the routes', async (t) => {
  const { app, audit } = await appWith(t)
  const first = await upload(app, '/v/files/docs/', 'plan.txt', 'one', 'alice')
  t.equal(first.statusCode, 201)
  const second = await upload(app, '/v/files/docs/', 'plan.txt', 'two!', 'bob@example.com', [['ifMatch', first.json().files[0].etag]])
  t.equal(second.statusCode, 201, 'bob replaces it (If-Match on the ETag alice got)')
  t.ok(second.json().files[0].versionId, 'the outcome carries the new version id')

  const listed = await app.inject({ url: '/v/versions/docs/plan.txt', headers: as('carol') })
  t.equal(listed.statusCode, 200)
  t.equal(listed.headers['cache-control'], 'no-store')
  const body = listed.json()
  t.equal(body.name, 'plan.txt')
  t.same(body.versions.map((v: { size: number, isLatest: boolean, uploadedBy: string }) => [v.size, v.isLatest, v.uploadedBy]), [[4, true, 'bob@example.com'], [3, false, 'alice']], 'who uploaded each version, from its metadata')
  const [v2, v1] = body.versions as Array<{ versionId: string, url: string }>
  t.equal(v1.url, `/v/files/docs/plan.txt?versionId=${encodeURIComponent(v1.versionId)}`)

  const old = await app.inject({ url: v1.url, headers: as('carol', {}) })
  t.equal(old.statusCode, 200)
  t.equal(old.body, 'one', 'the old version downloads')
  const ranged = await app.inject({ url: v1.url, headers: as('carol', { range: 'bytes=1-' }) })
  t.same([ranged.statusCode, ranged.body, ranged.headers['content-range']], [206, 'ne', 'bytes 1-2/3'], 'with ranges too')
  const beyond = await app.inject({ url: v1.url, headers: as('carol', { range: 'bytes=50-', accept: 'application/json' }) })
  t.same([beyond.statusCode, beyond.headers['content-range']], [416, 'bytes */3'], 'a 416 tells the size of that version')

  const restored = await app.inject({ method: 'POST', url: '/v/restore', headers: as('carol'), payload: { path: 'docs/plan.txt', versionId: v1.versionId } })
  t.equal(restored.statusCode, 201)
  t.equal(restored.json().restoredFrom, v1.versionId)
  t.equal((await app.inject({ url: '/v/files/docs/plan.txt', headers: as('carol', {}) })).body, 'one', 'the old content is current again')

  const removed = await app.inject({ method: 'DELETE', url: `/v/versions/docs/plan.txt?versionId=${encodeURIComponent(v2.versionId)}`, headers: as('carol') })
  t.equal(removed.statusCode, 200)
  t.same(removed.json(), { path: 'docs/plan.txt', versionId: v2.versionId, deleteMarker: false, wasLatest: false })
  t.equal((await app.inject({ url: `/v/files/docs/plan.txt?versionId=${encodeURIComponent(v2.versionId)}`, headers: as('carol', XRW) })).statusCode, 404, 'that version is gone for good')

  // Delete, list the folder's deleted files, undelete.
  t.equal((await app.inject({ method: 'DELETE', url: '/v/files/docs/plan.txt', headers: as('carol') })).statusCode, 204)
  const listing = await app.inject({ url: '/v/files/docs/?format=json', headers: as('carol') })
  t.same(listing.json().files, [], 'the (cached) listing no longer shows it')
  const deleted = await app.inject({ url: '/v/deleted/docs/', headers: as('carol') })
  t.equal(deleted.statusCode, 200)
  t.same(deleted.json().files.map((f: { path: string, size: number }) => [f.path, f.size]), [['docs/plan.txt', 3]])
  const root = (await app.inject({ url: '/v/deleted/', headers: as('carol') })).json()
  t.same(root.files, [], 'not recursive: the root has none of its own')
  t.same(root.folders, [{ name: 'docs', path: 'docs/', deletedUrl: '/v/deleted/docs/' }], 'docs/ has nothing left: a deleted folder')
  const back = await app.inject({ method: 'POST', url: '/v/undelete', headers: as('carol'), payload: { path: 'docs/plan.txt' } })
  t.equal(back.statusCode, 200)
  t.equal(back.json().removedMarkers, 1)
  t.same((await app.inject({ url: '/v/files/docs/?format=json', headers: as('carol') })).json().files.map((f: { path: string }) => f.path), ['docs/plan.txt'], 'the cache was dropped: it is listed again')
  const again = await app.inject({ method: 'POST', url: '/v/undelete', headers: as('carol'), payload: { path: 'docs/plan.txt' } })
  t.same([again.statusCode, again.json().code], [409, 'FST_S3S_EXISTS'], 'undelete of a file that is not deleted')

  const actions = audit.filter((r) => r.user === 'carol' && r.action !== 'list').map((r) => [r.action, r.statusCode, r.result, r.versionId !== undefined])
  t.same(actions, [
    ['versions', 200, 'ok', false],
    ['download', 200, 'ok', true],
    ['download', 206, 'ok', true],
    ['download', 416, 'error', true],
    ['restore', 201, 'ok', true],
    ['download', 200, 'ok', false],
    ['delete-version', 200, 'ok', true],
    ['download', 404, 'error', true],
    ['delete', 204, 'ok', false],
    ['versions', 200, 'ok', false],
    ['versions', 200, 'ok', false],
    ['restore', 200, 'ok', false],
    ['restore', 409, 'denied', false]
  ], 'every action is audited, with the version it acted on')
  t.ok(audit.every((r) => r.key?.endsWith('docs/plan.txt') || r.key?.endsWith('docs/') || r.key?.endsWith('/')))
})

t.test('the pages: versions and deleted files render escaped, and their forms work without script', async (t) => {
  const { app } = await appWith(t)
  const name = '<img src=x onerror=alert(1)>.txt'
  const first = await upload(app, '/v/files/', name, 'a', 'alice <admin>')
  await upload(app, '/v/files/', name, 'bb', 'alice <admin>', [['ifMatch', first.json().files[0].etag]])
  const page = await app.inject({ url: `/v/versions/${encodeURIComponent(name)}`, headers: { 'x-user': 'alice' } })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.headers['content-security-policy'], /script-src 'self'/)
  t.notMatch(page.body, /<img src=x/, 'no markup from the name')
  t.match(page.body, /Versions of &lt;img src=x onerror=alert\(1\)&gt;\.txt/)
  t.match(page.body, /by alice &lt;admin&gt;/, 'the uploader, escaped')
  t.equal((page.body.match(/data-restore-form/g) ?? []).length, 1, 'restore is offered for the older version only')
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]
  const versionId = /name="versionId" value="([^"]+)"/.exec(page.body)![1]
  const cookie = String(page.headers['set-cookie']).split(';')[0]
  const form = new URLSearchParams({ _csrf: token, path: name, versionId }).toString()
  const noToken = await app.inject({ method: 'POST', url: '/v/restore', headers: { 'x-user': 'alice', 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ path: name, versionId }).toString() })
  t.same([noToken.statusCode, noToken.json().code], [403, 'FST_S3S_CSRF'], 'a form without the token is refused')
  const posted = await app.inject({ method: 'POST', url: '/v/restore', headers: { 'x-user': 'alice', cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form })
  t.equal(posted.statusCode, 303)
  t.equal(posted.headers.location, `/v/versions/${encodeURIComponent(name)}`, 'back to the versions page')
  t.equal((await app.inject({ url: `/v/files/${encodeURIComponent(name)}`, headers: { 'x-user': 'alice' } })).body, 'a')

  await app.inject({ method: 'DELETE', url: `/v/files/${encodeURIComponent(name)}`, headers: as('alice') })
  const deleted = await app.inject({ url: '/v/deleted/', headers: { 'x-user': 'alice' } })
  t.equal(deleted.statusCode, 200)
  t.match(deleted.body, /Deleted files in v/)
  t.notMatch(deleted.body, /<img src=x/)
  t.match(deleted.body, /data-undelete-form/)
  const undeleteToken = /name="_csrf" value="([^"]+)"/.exec(deleted.body)![1]
  const undeleteCookie = String(deleted.headers['set-cookie']).split(';')[0]
  const undone = await app.inject({ method: 'POST', url: '/v/undelete', headers: { 'x-user': 'alice', cookie: undeleteCookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: undeleteToken, path: name }).toString() })
  t.equal(undone.statusCode, 303)
  t.equal(undone.headers.location, '/v/files/', 'back to the folder')
  const deletedPage = await app.inject({ url: `/v/versions/${encodeURIComponent(name)}`, headers: { 'x-user': 'alice' } })
  t.notMatch(deletedPage.body, /This file is deleted/, 'and it is no longer deleted')

  const folder = await app.inject({ url: '/v/files/', headers: { 'x-user': 'alice', accept: 'text/html' } })
  t.match(folder.body, /data-show-deleted/, 'the folder page offers deleted files')
  t.match(folder.body, /data-action="versions"/, 'and each file its versions')
  t.match(folder.body, /id="versions-dialog"/)
})

t.test('permissions: versions, restore and delete-version are their own actions', async (t) => {
  const { app } = await appWith(t, { deny: [{ user: 'viewer', action: 'versions' }, { user: 'viewer', action: 'restore' }, { user: 'editor', action: 'delete-version' }] })
  const first = await upload(app, '/v/files/', 'x.txt', '1', 'editor')
  await upload(app, '/v/files/', 'x.txt', '2', 'editor', [['ifMatch', first.json().files[0].etag]])
  const versions = (await app.inject({ url: '/v/versions/x.txt', headers: as('editor') })).json().versions
  const old = versions[1].versionId as string
  const forbidden = { statusCode: 403, code: 'FST_S3S_FORBIDDEN' }
  const res = async (method: 'GET' | 'POST' | 'DELETE', url: string, user: string, payload?: object) => {
    const r = await app.inject({ method, url, headers: as(user), payload })
    return { statusCode: r.statusCode, code: r.json().code }
  }
  t.same(await res('GET', '/v/versions/x.txt', 'viewer'), forbidden)
  t.same(await res('GET', '/v/deleted/', 'viewer'), forbidden)
  t.same(await res('GET', `/v/files/x.txt?versionId=${encodeURIComponent(old)}`, 'viewer'), forbidden, 'old versions need `versions` besides `download`')
  t.equal((await app.inject({ url: '/v/files/x.txt', headers: as('viewer', {}) })).body, '2', 'the current one only needs download')
  t.same(await res('POST', '/v/restore', 'viewer', { path: 'x.txt', versionId: old }), forbidden)
  t.same(await res('POST', '/v/undelete', 'viewer', { path: 'x.txt' }), forbidden)
  t.same(await res('DELETE', `/v/versions/x.txt?versionId=${encodeURIComponent(old)}`, 'editor'), forbidden)
  t.equal((await app.inject({ url: '/v/versions/x.txt', headers: as('editor') })).json().versions.length, 2, 'nothing was deleted')
  const page = await app.inject({ url: '/v/files/', headers: { 'x-user': 'viewer', accept: 'text/html' } })
  t.match(page.body, /data-app/, 'the folder page itself')
  t.notMatch(page.body, /data-show-deleted|data-action="versions"/, 'a user who may not see versions is not offered them')
  t.equal((await app.inject({ url: '/v/files/x.txt', headers: { 'x-user': 'viewer', 'x-requested-with': 'x' } })).statusCode, 200)
  const noXrw = await app.inject({ method: 'DELETE', url: `/v/versions/x.txt?versionId=${encodeURIComponent(old)}`, headers: { 'x-user': 'admin', accept: 'application/json' } })
  t.same([noXrw.statusCode, noXrw.json().code], [403, 'FST_S3S_CSRF'], 'state-changing routes need the CSRF token or X-Requested-With')
})

t.test('bad input is a 4xx and touches nothing', async (t) => {
  const { app } = await appWith(t)
  await upload(app, '/v/files/', 'safe.txt', 'safe', 'alice')
  const cases: Array<[string, 'GET' | 'POST' | 'DELETE', string, object | undefined, number, string]> = [
    ['a folder has no versions', 'GET', '/v/versions/docs/', undefined, 400, 'FST_S3S_BAD_REQUEST'],
    ['a file never uploaded', 'GET', '/v/versions/never.txt', undefined, 404, 'FST_S3S_NOT_FOUND'],
    ['deleted files of a file path', 'GET', '/v/deleted/safe.txt', undefined, 400, 'FST_S3S_BAD_REQUEST'],
    ['a malformed cursor', 'GET', '/v/versions/safe.txt?cursor=%00', undefined, 400, 'FST_S3S_INVALID_ARGUMENT'],
    ['restore without versionId', 'POST', '/v/restore', { path: 'safe.txt' }, 400, 'FST_S3S_BAD_REQUEST'],
    ['restore of an unknown version', 'POST', '/v/restore', { path: 'safe.txt', versionId: '01AAAAAAAAAAAAAAAAAAAAAAAA' }, 404, 'FST_S3S_NOT_FOUND'],
    ['restore with traversal', 'POST', '/v/restore', { path: '../other/x.txt', versionId: 'null' }, 400, 'FST_S3S_INVALID_KEY'],
    ['restore with a control byte in the id', 'POST', '/v/restore', { path: 'safe.txt', versionId: 'a\u0000b' }, 400, 'FST_S3S_INVALID_ARGUMENT'],
    ['undelete without a path', 'POST', '/v/undelete', {}, 400, 'FST_S3S_INVALID_KEY'],
    ['delete without versionId', 'DELETE', '/v/versions/safe.txt', undefined, 400, 'FST_S3S_BAD_REQUEST'],
    ['delete of an unknown version', 'DELETE', '/v/versions/safe.txt?versionId=null', undefined, 404, 'FST_S3S_NOT_FOUND'],
    ['download of an unknown version', 'GET', '/v/files/safe.txt?versionId=01AAAAAAAAAAAAAAAAAAAAAAAA', undefined, 404, 'FST_S3S_NOT_FOUND'],
    ['download with a bad version id', 'GET', '/v/files/safe.txt?versionId=a%20b', undefined, 400, 'FST_S3S_INVALID_ARGUMENT']
  ]
  for (const [what, method, url, payload, status, code] of cases) {
    const res = await app.inject({ method, url, headers: as('alice'), payload })
    t.same([res.statusCode, res.json().code], [status, code], what)
  }
  t.equal((await app.inject({ url: '/v/files/safe.txt', headers: as('alice', {}) })).body, 'safe')
  t.equal((await app.inject({ url: '/v/versions/safe.txt', headers: as('alice') })).json().versions.length, 1)
})

t.test('traversal in the version routes\' paths is a 400, over a real socket', async (t) => {
  const { app } = await appWith(t)
  await raw.send(new PutObjectCommand({ Bucket: versioned, Key: 'secret.txt', Body: 'TOP-SECRET' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const send = async (method: string, path: string): Promise<{ status: number, body: string }> => await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { accept: 'application/json', 'x-requested-with': 'test', 'x-user': 'alice' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
  for (const attack of ['../secret.txt', '%2e%2e/secret.txt', '..%2fsecret.txt', '%252e%252e/secret.txt', 'a/%2e%2e/%2e%2e/secret.txt', 'x%00.txt']) {
    for (const [method, url] of [['GET', `/v/versions/${attack}`], ['DELETE', `/v/versions/${attack}?versionId=null`], ['GET', `/v/deleted/${attack}/`], ['GET', `/v/files/${attack}?versionId=null`]]) {
      const res = await send(method, url)
      t.equal(res.status, 400, `${method} ${url}`)
      t.notMatch(res.body, /TOP-SECRET/)
    }
  }
  t.equal(await content(versioned, 'secret.txt'), 'TOP-SECRET')
})

t.test('on an unversioned bucket: nothing shows, every route answers 409, nothing is touched', async (t) => {
  const { app, keyOf } = await appWith(t)
  await upload(app, '/p/files/', 'current.txt', 'precious', 'alice')
  const { bucket, key } = keyOf('p', 'current.txt')
  const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  const refused = [409, 'FST_S3S_VERSIONING_DISABLED']
  const res = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object): Promise<[number, string]> => {
    const r = await app.inject({ method, url, headers: as('alice'), payload })
    return [r.statusCode, r.json().code]
  }
  t.same(await res('GET', '/p/versions/current.txt'), refused)
  t.same(await res('GET', '/p/deleted/'), refused)
  t.same(await res('GET', '/p/files/current.txt?versionId=null'), refused, 'SeaweedFS would serve the current object for any id')
  t.same(await res('POST', '/p/restore', { path: 'current.txt', versionId: 'null' }), refused)
  t.same(await res('POST', '/p/undelete', { path: 'current.txt' }), refused)
  t.same(await res('DELETE', '/p/versions/current.txt?versionId=null'), refused, 'deleting version "null" would delete the file itself')
  t.same(await res('DELETE', `/p/versions/current.txt?versionId=${head.ETag!.replace(/"/g, '')}`), refused)
  t.equal(await content(bucket, key), 'precious', 'the current object is still there')
  const html = await app.inject({ url: '/p/versions/current.txt', headers: { 'x-user': 'alice' } })
  t.equal(html.statusCode, 409, 'browsers get the error page, not a 5xx')
  t.match(html.body, /Bucket versioning is not enabled/)
  t.match(html.body, /keeps no earlier versions of files/, 'and a hint that fits')
  const page = await app.inject({ url: '/p/files/', headers: { 'x-user': 'alice', accept: 'text/html' } })
  t.match(page.body, /data-app/, 'the folder page itself')
  t.notMatch(page.body, /data-show-deleted|data-action="versions"|data-versions-url/, 'the page offers nothing about versions')
})

t.test('Replace is one conditional overwrite: the 409 names the ETag, If-Match replaces exactly that', async (t) => {
  for (const ns of ['v', 'p'] as const) {
    await t.test(ns === 'v' ? 'versioned bucket' : 'unversioned bucket', async (t) => {
      const { app, keyOf } = await appWith(t)
      const first = await upload(app, `/${ns}/files/`, 'report.txt', 'original', 'alice')
      const stored = first.json().files[0]
      t.ok(stored.etag, 'a stored file reports its ETag')
      const conflict = await upload(app, `/${ns}/files/`, 'report.txt', 'mine', 'bob')
      t.equal(conflict.statusCode, 409)
      const outcome = conflict.json().files[0]
      t.same([outcome.code, outcome.etag], ['FST_S3S_EXISTS', stored.etag], 'the 409 says which content is there')

      // Someone else changes it after bob saw the 409: bob's replace must not silently overwrite that.
      const { bucket, key } = keyOf(ns, 'report.txt')
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'carol changed it' }))
      const lost = await upload(app, `/${ns}/files/`, 'report.txt', 'mine', 'bob', [['ifMatch', outcome.etag]])
      t.same([lost.statusCode, lost.json().files[0].code], [412, 'FST_S3S_PRECONDITION_FAILED'])
      t.equal(await content(bucket, key), 'carol changed it', "carol's change is not lost")

      const fresh = (await upload(app, `/${ns}/files/`, 'report.txt', 'mine', 'bob')).json().files[0].etag
      const replaced = await upload(app, `/${ns}/files/`, 'report.txt', 'mine', 'bob', [['ifMatch', fresh]])
      t.equal(replaced.statusCode, 201, 'a replace of the content bob saw goes through')
      t.equal(await content(bucket, key), 'mine')

      // Two pages replace the same content at once: exactly one wins.
      const etag = replaced.json().files[0].etag
      const both = await Promise.all(['dave', 'erin'].map(async (user) => await upload(app, `/${ns}/files/`, 'report.txt', `by ${user}`, user, [['ifMatch', etag]])))
      t.same(both.map((r) => r.statusCode).sort(), [201, 412], 'one replace wins, the other is told')
      const winner = both[0].statusCode === 201 ? 'dave' : 'erin'
      t.equal(await content(bucket, key), `by ${winner}`)

      // The field applies to the file after it only.
      const two = await upload(app, `/${ns}/files/`, 'report.txt', 'ignored', 'bob', [['ifMatch', '"stale"']])
      t.equal(two.statusCode, 412)
      t.equal(await content(bucket, key), `by ${winner}`)
    })
  }
})

t.test('replacing needs delete permission only where it destroys the old content (no versioning)', async (t) => {
  const { app, keyOf } = await appWith(t, { deny: [{ user: 'uploader', action: 'delete' }] })
  for (const ns of ['v', 'p'] as const) {
    const etag = (await upload(app, `/${ns}/files/`, 'f.txt', 'old', 'admin')).json().files[0].etag
    const res = await upload(app, `/${ns}/files/`, 'f.txt', 'new', 'uploader', [['ifMatch', etag]])
    if (ns === 'v') t.equal(res.statusCode, 201, 'versioned: the old content stays as a version, upload permission is enough')
    else t.same([res.statusCode, res.json().files[0].code], [403, 'FST_S3S_FORBIDDEN'], 'unversioned: the old content would be lost, so delete permission is needed')
  }
  const { key, bucket } = keyOf('p', 'f.txt')
  t.equal(await content(bucket, key), 'old')
})

t.test('recordUploader: false stores no uploader; anonymous uploads never do', async (t) => {
  const { app, keyOf } = await appWith(t, { namespace: { recordUploader: false } })
  await upload(app, '/v/files/', 'quiet.txt', 'q', 'alice')
  const { bucket, key } = keyOf('v', 'quiet.txt')
  const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  t.same(head.Metadata, {}, 'no x-amz-meta-uploaded-by')
  t.equal((await app.inject({ url: '/v/versions/quiet.txt', headers: as('alice') })).json().versions[0].uploadedBy, undefined)
  const anonymous = await buildApp(t, { profiles: { main: profileFor(s3, versioned) }, browse: { namespaces: { a: { basePath: 'anon' } } } })
  const { body, contentType } = await multipartBody([['file', new Blob(['x']), 'anon.txt']])
  await anonymous.inject({ method: 'POST', url: '/a/files/', payload: body, headers: { ...XRW, 'content-type': contentType } })
  t.same((await raw.send(new HeadObjectCommand({ Bucket: versioned, Key: 'anon/anon.txt' }))).Metadata, {})
})
