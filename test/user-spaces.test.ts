// Per-user spaces: `basePath` as a function of the user. A table of user × route × someone else's path:
// every route (listing, search, download, share link, upload, presign and its confirm, mkdir, delete) sees
// and touches only the user's own folder; a user id that would build an unsafe path is refused.
import t from 'tap'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { AuditRecord, BrowseOptions } from '../src/index.js'
import { bucketName, buildApp, multipartBody, objectExists, postToS3, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('spaces')
await s3.createBucket(bucket)

const XRW = { 'x-requested-with': 'fetch', accept: 'application/json' }

async function spacesApp (t: Teardown, extra: Partial<BrowseOptions> = {}): Promise<FastifyInstance> {
  return await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: 'app' }) },
    browse: {
      namespaces: {
        home: { basePath: (user) => `users/${user}/`, cache: { ttlSeconds: 60 } },
        // Async, from the request: a tenant's space.
        direct: { basePath: async (user, req) => `tenants/${String(req.headers['x-tenant'] ?? 'none')}/${user}/`, uploadMode: 'presign' }
      },
      authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
      ...extra
    }
  })
}

async function seed (app: FastifyInstance): Promise<void> {
  const ops = app.storage.operations()
  for (const [key, body] of [
    ['users/alice/a.txt', 'alice a'], ['users/alice/sub/x.txt', 'alice x'], ['users/alice/shared-name.txt', 'alice'],
    ['users/bob/b.txt', 'bob b'], ['users/bob/shared-name.txt', 'bob'],
    ['tenants/t1/alice/t.txt', 'tenant alice']
  ]) await ops.uploadFile(body, key, { preserveFilename: true })
}

/** A request with the path sent exactly as written (inject and fetch resolve dot segments first). */
async function rawRequest (app: FastifyInstance, method: string, path: string, headers: Record<string, string>): Promise<{ statusCode: number, body: string }> {
  if (app.server.address() === null) await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ statusCode: res.statusCode!, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}

const as = (user: string, more: Record<string, string> = {}): Record<string, string> => ({ ...XRW, 'x-user': user, ...more })

t.test('user × route × someone else\'s path: each sees and touches only their own folder', async (t) => {
  const app = await spacesApp(t)
  await seed(app)
  const records: AuditRecord[] = []
  app.storageAudit.on('record', (r) => records.push(r))

  // Listing: own files only, cached per user (alice's listing is cached first, then bob asks).
  const aliceRoot = await app.inject({ url: '/home/files/', headers: as('alice') })
  t.same(aliceRoot.json().files.map((f: { name: string }) => f.name).sort(), ['a.txt', 'shared-name.txt'])
  t.same(aliceRoot.json().folders.map((f: { path: string }) => f.path), ['sub/'])
  const bobRoot = await app.inject({ url: '/home/files/', headers: as('bob') })
  t.same(bobRoot.json().files.map((f: { name: string }) => f.name).sort(), ['b.txt', 'shared-name.txt'], 'the cache is keyed per user: bob never gets alice\'s cached page')
  t.equal((await app.inject({ url: '/home/files/shared-name.txt', headers: as('bob') })).body, 'bob', 'the same name is each user\'s own file')

  // Bob against alice's files, every route, every way of naming them.
  const elsewhere = ['a.txt', 'sub/x.txt', 'users/alice/a.txt', 'app/users/alice/a.txt']
  const traversal = ['../alice/a.txt', '%2e%2e/alice/a.txt', '..%2falice/a.txt', '%252e%252e/alice/a.txt', 'x/../../alice/a.txt']
  for (const path of elsewhere) {
    const name = `bob → ${path}`
    t.equal((await app.inject({ url: `/home/files/${path}`, headers: as('bob') })).statusCode, 404, `download ${name}`)
    t.equal((await app.inject({ url: `/home/link/${path}`, headers: as('bob') })).statusCode, 404, `share link ${name}`)
    t.equal((await app.inject({ method: 'DELETE', url: `/home/files/${path}`, headers: as('bob') })).statusCode, 404, `delete ${name}`)
  }
  for (const path of traversal) {
    const name = `bob → ${path}`
    t.equal((await rawRequest(app, 'GET', `/home/files/${path}`, as('bob'))).statusCode, 400, `download ${name}`)
    t.equal((await rawRequest(app, 'GET', `/home/link/${path}`, as('bob'))).statusCode, 400, `share link ${name}`)
    t.equal((await rawRequest(app, 'DELETE', `/home/files/${path}`, as('bob'))).statusCode, 400, `delete ${name}`)
  }
  t.equal((await app.inject({ method: 'DELETE', url: '/home/files/sub/?recursive=1', headers: as('bob') })).statusCode, 404, 'delete alice\'s folder as bob')
  t.equal((await app.inject({ url: '/home/files/sub/', headers: as('bob') })).json().files.length, 0, 'list alice\'s sub-folder as bob: empty')
  for (const q of ['x.txt', 'sub', 'a.txt']) {
    const found = (await app.inject({ url: `/home/files/?q=${q}`, headers: as('bob') })).json()
    t.same([...found.files, ...found.folders], [], `search "${q}" as bob finds nothing of alice's`)
  }
  t.same((await app.inject({ url: '/home/files/?q=a', headers: as('alice') })).json().files.map((f: { path: string }) => f.path).sort(), ['a.txt', 'shared-name.txt'], 'search as alice finds hers')

  // Uploads, mkdir and presign: into bob's own folder, whatever path they name.
  const form = await multipartBody([['file', new Blob(['from bob']), 'a.txt']])
  const up = await app.inject({ method: 'POST', url: '/home/files/', payload: form.body, headers: { ...as('bob'), 'content-type': form.contentType } })
  t.equal(up.statusCode, 201)
  t.ok(await objectExists(raw, bucket, 'app/users/bob/a.txt'), 'stored under bob\'s folder')
  const alices = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: 'app/users/alice/a.txt' }))
  t.equal(await alices.Body?.transformToString(), 'alice a', 'alice\'s a.txt untouched')
  for (const path of ['../alice/', '%2e%2e/alice/']) {
    const bad = await rawRequest(app, 'POST', `/home/files/${path}`, { ...as('bob'), 'content-type': form.contentType })
    t.equal(bad.statusCode, 400, `upload into ${path}`)
  }
  const mkdir = await app.inject({ method: 'POST', url: '/home/mkdir', payload: { path: '', name: 'new' }, headers: as('bob') })
  t.equal(mkdir.statusCode, 201)
  t.ok(await objectExists(raw, bucket, 'app/users/bob/new/'))
  for (const body of [{ path: '../alice/', name: 'x' }, { path: '', name: '..' }, { path: 'sub/../../alice/', name: 'x' }]) {
    t.equal((await app.inject({ method: 'POST', url: '/home/mkdir', payload: body, headers: as('bob') })).statusCode, 400, `mkdir ${JSON.stringify(body)}`)
  }
  t.notOk(await objectExists(raw, bucket, 'app/users/alice/x/'))
  t.equal((await app.inject({ url: '/home/files/', headers: as('bob') })).json().folders.length, 1, 'bob\'s cached listing learnt of his new folder')

  const presign = await app.inject({ method: 'POST', url: '/direct/presign', payload: { path: '', files: [{ name: 'p.txt', size: 5 }] }, headers: as('bob', { 'x-tenant': 't1' }) })
  t.equal(presign.statusCode, 200)
  const post = presign.json().files[0].post
  t.equal(post.fields.key, 'app/tenants/t1/bob/p.txt', 'the POST is for bob\'s tenant folder')
  t.equal(await postToS3(post, 'hello', 'text/plain'), 204)
  t.equal((await app.inject({ method: 'POST', url: '/direct/presign/confirm', payload: { path: 'p.txt' }, headers: as('bob', { 'x-tenant': 't1' }) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/direct/presign/confirm', payload: { path: 't.txt' }, headers: as('bob', { 'x-tenant': 't1' }) })).statusCode, 404, 'confirm alice\'s file as bob')
  t.equal((await app.inject({ method: 'POST', url: '/direct/presign/confirm', payload: { path: '../alice/t.txt' }, headers: as('bob', { 'x-tenant': 't1' }) })).statusCode, 400)
  t.equal((await app.inject({ url: '/direct/files/t.txt', headers: as('alice', { 'x-tenant': 't1' }) })).body, 'tenant alice', 'alice sees her tenant file')
  t.equal((await app.inject({ url: '/direct/files/t.txt', headers: as('alice', { 'x-tenant': 't2' }) })).statusCode, 404, 'not from another tenant')

  // Audit records carry the full key in the user's folder.
  t.ok(records.some((r) => r.action === 'upload' && r.user === 'bob' && r.key === 'app/users/bob/a.txt'))
  t.notOk(records.some((r) => r.user === 'bob' && /^app\/(users|tenants\/t1)\/alice\//.test(r.key ?? '')), 'no record of bob touching alice\'s folder')
  t.ok(records.filter((r) => r.user === 'bob' && r.statusCode !== 400).every((r) => /^app\/(users|tenants\/t1)\/bob\//.test(r.key ?? '')), 'every key bob reached is in his folder')
  for (const key of ['app/users/alice/a.txt', 'app/users/alice/sub/x.txt', 'app/users/alice/shared-name.txt']) t.ok(await objectExists(raw, bucket, key), `${key} still there`)
})

t.test('a user id that would build an unsafe path is refused (403), never repaired', async (t) => {
  const app = await spacesApp(t)
  await seed(app)
  const unsafe = ['..', '.', '../bob', 'alice/../bob', '/bob', 'a//b', 'a\\b', 'bell\u0007', 'rtl\u202egnp', 'x'.repeat(300)]
  const routes: Array<[string, string, object | undefined]> = [
    ['GET', '/home/files/', undefined],
    ['GET', '/home/files/b.txt', undefined],
    ['GET', '/home/link/b.txt', undefined],
    ['DELETE', '/home/files/b.txt', undefined],
    ['POST', '/home/mkdir', { path: '', name: 'x' }]
  ]
  for (const user of unsafe) {
    for (const [method, url, payload] of routes) {
      const res = await app.inject({ method: method as 'GET', url, payload, headers: { ...XRW, 'x-user': encodeURIComponent(user) === user ? user : user } }).catch((err: Error) => ({ statusCode: -1, json: () => ({ message: err.message }) }))
      // Header values cannot carry control characters: those ids never arrive at all.
      if (res.statusCode === -1) continue
      t.equal(res.statusCode, 403, `${JSON.stringify(user).slice(0, 30)} ${method} ${url}`)
      t.match(res.json().message, /no safe folder for this user/)
    }
  }
  const blank = await app.inject({ url: '/home/files/', headers: XRW })
  t.equal(blank.statusCode, 401, 'no user: 401, not the whole namespace')
  t.ok(await objectExists(raw, bucket, 'app/users/bob/b.txt'), 'bob\'s files untouched')

  // Ids with control characters, which no header carries, reach basePath through authenticate.
  const hostile = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: 'app' }) },
    browse: { namespaces: { home: { basePath: (user) => `users/${user}/` } }, authenticate: (req) => ({ a: 'bell\u0007', b: 'nl\nx', c: 'rtl\u202egnp.exe' })[req.headers['x-user'] as 'a'] ?? null }
  })
  for (const id of ['a', 'b', 'c']) {
    const res = await hostile.inject({ url: '/home/files/', headers: { ...XRW, 'x-user': id } })
    t.equal(res.statusCode, 403, `control character id ${id}`)
  }
  // A basePath answering nonsense, or throwing.
  const broken = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: { namespaces: { n: { basePath: () => 42 as unknown as string }, e: { basePath: () => { throw new Error('directory down') } } }, authenticate: () => 'u' }
  })
  t.equal((await broken.inject({ url: '/n/files/', headers: XRW })).statusCode, 403, 'not a string: refused')
  t.equal((await broken.inject({ url: '/e/files/', headers: XRW })).statusCode, 500, 'a throwing basePath: a 500, nothing listed')
})

t.test('anonymous namespaces: basePath gets null and may use the request', async (t) => {
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: 'app' }) },
    browse: { namespaces: { pub: { basePath: (user, req) => user === null ? `hosts/${req.hostname}/` : 'never/' } } }
  })
  await app.storage.operations().uploadFile('hi', 'hosts/localhost/hi.txt', { preserveFilename: true })
  t.same((await app.inject({ url: '/pub/files/', headers: { accept: 'application/json', host: 'localhost' } })).json().files.map((f: { name: string }) => f.name), ['hi.txt'])
  t.same((await app.inject({ url: '/pub/files/', headers: { accept: 'application/json', host: 'other.test' } })).json().files, [])
})

t.test('register-time validation of basePath and quota', async (t) => {
  const cases: Array<[BrowseOptions, RegExp]> = [
    [{ namespaces: { d: { basePath: 3 as unknown as string } } }, /"basePath" must be a folder or a function of the user/],
    [{ namespaces: { d: { quota: {} } } }, /"quota" needs "maxBytes" or "maxFiles"/],
    [{ namespaces: { d: { quota: { maxBytes: -1 } } } }, /"quota.maxBytes" must be a whole number >= 0 or a function of the user/],
    [{ namespaces: { d: { quota: { maxFiles: 1.5 } } } }, /"quota.maxFiles" must be a whole number/],
    [{ namespaces: { d: { quota: { maxFiles: 1, usageTtlSeconds: 0 } } } }, /"quota.usageTtlSeconds" must be a whole number from 1 to 3600/]
  ]
  for (const [browse, message] of cases) {
    await t.rejects(buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse }), { code: 'FST_S3S_INVALID_OPTION', message }, message.source)
  }
})
