// The Companion S3 protocol under browse namespaces in presign mode: keys confined to the user's space,
// upload ids sealed to their user, quota at the start and again at completion, cache and audit, and the
// page's config. Parts go straight to the real S3 server.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { BrowseOptions } from '../src/index.js'
import { bucketName, buildApp, captureLogs, objectExists, postToS3, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const MiB = 1024 ** 2
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('mpbrowse')
await s3.createBucket(bucket)
let apps = 0

async function browseApp (t: Teardown, browse: Omit<BrowseOptions, 'authenticate'>, logs?: ReturnType<typeof captureLogs>): Promise<{ app: FastifyInstance, prefix: string }> {
  const prefix = `b${++apps}`
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix }) },
    browse: { ...browse, authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null }
  }, logs === undefined ? {} : { logger: { level: 'info', stream: logs.stream } })
  return { app, prefix }
}

async function openUploadIds (prefix: string): Promise<string[]> {
  const page = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))
  return (page.Uploads ?? []).map((u) => u.UploadId ?? '')
}

/** The page's calls (it sends X-Requested-With and Accept: application/json, as CONTRACTS.md says). */
function client (app: FastifyInstance, ns: string, user: string) {
  const headers = { 'x-user': user, 'x-requested-with': 'XMLHttpRequest', accept: 'application/json' }
  const q = (key: string): string => new URLSearchParams({ key }).toString()
  return {
    create: async (filename: string, size?: number) => await app.inject({ method: 'POST', url: `/${ns}/s3/multipart`, headers, payload: { filename, type: 'application/octet-stream', metadata: {}, size } }),
    sign: async (key: string, uploadId: string, n: number) => await app.inject({ url: `/${ns}/s3/multipart/${encodeURIComponent(uploadId)}/${n}?${q(key)}`, headers }),
    list: async (key: string, uploadId: string) => await app.inject({ url: `/${ns}/s3/multipart/${encodeURIComponent(uploadId)}?${q(key)}`, headers }),
    complete: async (key: string, uploadId: string, parts: Array<{ PartNumber: number, ETag: string }>) =>
      await app.inject({ method: 'POST', url: `/${ns}/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q(key)}`, headers, payload: { parts } }),
    abort: async (key: string, uploadId: string) => await app.inject({ method: 'DELETE', url: `/${ns}/s3/multipart/${encodeURIComponent(uploadId)}?${q(key)}`, headers }),
    params: async (query: Record<string, string>) => await app.inject({ url: `/${ns}/s3/params?${new URLSearchParams(query)}`, headers }),
    listing: async (path = '') => await app.inject({ url: `/${ns}/files/${path}`, headers })
  }
}

async function sendParts (c: ReturnType<typeof client>, key: string, uploadId: string, sizes: number[]): Promise<Array<{ PartNumber: number, ETag: string }>> {
  const parts = []
  for (const [i, size] of sizes.entries()) {
    const signed = await c.sign(key, uploadId, i + 1)
    const res = await fetch(signed.json().url, { method: 'PUT', body: randomBytes(size) })
    await res.arrayBuffer()
    parts.push({ PartNumber: i + 1, ETag: res.headers.get('etag') ?? '' })
  }
  return parts
}

t.test('per-user spaces: a user\'s upload lands in their folder; nobody else can touch it', async (t) => {
  const logs = captureLogs()
  const { app, prefix } = await browseApp(t, {
    namespaces: {
      home: { uploadMode: 'presign', basePath: (user) => `users/${user ?? 'anon'}/`, cache: { ttlSeconds: 60 }, maxUploadBytes: 6 * 1024 ** 3 },
      team: { uploadMode: 'presign', basePath: 'team/' },
      plain: { basePath: 'plain/' }
    }
  }, logs)
  const alice = client(app, 'home', 'alice')
  const bob = client(app, 'home', 'bob')
  t.same((await alice.listing('docs/')).json().files, [], 'the folder is empty (and its listing cached)')

  const created = await alice.create('docs/big.bin')
  t.equal(created.statusCode, 200)
  const { key, uploadId } = created.json()
  t.equal(key, `${prefix}/users/alice/docs/big.bin`, 'the namespace path under the user\'s space, the name kept')

  // Bob: same namespace, his own space: alice's id is not his (404, before anything is sent), with her
  // key or with his.
  t.equal((await bob.sign(key, uploadId, 1)).statusCode, 404)
  t.equal((await bob.sign(`${prefix}/users/bob/docs/big.bin`, uploadId, 1)).statusCode, 404)
  t.equal((await bob.list(key, uploadId)).statusCode, 404)
  t.equal((await bob.abort(`${prefix}/users/bob/docs/big.bin`, uploadId)).statusCode, 404)
  t.equal((await bob.complete(`${prefix}/users/bob/docs/big.bin`, uploadId, [{ PartNumber: 1, ETag: 'e' }])).statusCode, 404)
  // Another namespace: its folder is not this one.
  t.equal((await client(app, 'team', 'alice').sign(key, uploadId, 1)).statusCode, 404)
  t.equal((await client(app, 'team', 'alice').sign(`${prefix}/team/docs/big.bin`, uploadId, 1)).statusCode, 404, 'a seal is for one namespace')
  // A stream-mode namespace has no multipart routes.
  t.equal((await client(app, 'plain', 'alice').create('x.bin')).statusCode, 404)

  const parts = await sendParts(alice, key, uploadId, [5 * MiB, 1024])
  t.same((await alice.list(key, uploadId)).json().map((p: { PartNumber: number, Size: number }) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 1024]])
  const done = await alice.complete(key, uploadId, parts)
  t.equal(done.statusCode, 200)
  t.same(done.json(), { location: '/home/files/docs/big.bin', key })
  const files = (await alice.listing('docs/')).json().files
  t.same(files.map((f: { path: string, size: number }) => [f.path, f.size]), [['docs/big.bin', 5 * MiB + 1024]], 'the cached listing was invalidated')
  t.same((await bob.listing('docs/')).json().files, [], 'bob sees nothing of it')
  const head = await app.storage.operations().head('users/alice/docs/big.bin')
  t.equal(head.metadata['uploaded-by'], 'alice', 'the uploader is recorded, as for every upload')
  const audit = logs.lines.filter((l) => l.name === 'audit' && l.key === key)
  t.same(audit.map((l) => [l.action, l.statusCode, l.user]), [['upload', 200, 'alice'], ['upload', 200, 'alice']], 'start and completion are audited')

  // overwrite: false (the default) refuses an existing name at the start, with its ETag.
  const again = await alice.create('docs/big.bin')
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'FST_S3S_EXISTS')
  t.same(await openUploadIds(`${prefix}/`), [])

  // The page's config.
  const page = await app.inject({ url: '/home/files/', headers: { 'x-user': 'alice', accept: 'text/html' } })
  t.match(page.body, /data-multipart-url="\/home\/s3\/multipart" data-multipart-threshold="67108864"/)
  const plain = await app.inject({ url: '/plain/files/', headers: { 'x-user': 'alice', accept: 'text/html' } })
  t.notMatch(plain.body, /data-multipart-url/)
})

t.test('a file landed under the same name while the upload ran: 409 at completion, the upload aborted', async (t) => {
  const { app, prefix } = await browseApp(t, { namespaces: { ns: { uploadMode: 'presign' } } })
  const c = client(app, 'ns', 'carol')
  const { key, uploadId } = (await c.create('race.bin')).json()
  const parts = await sendParts(c, key, uploadId, [1024])
  await app.storage.operations().uploadFile(Buffer.from('first'), 'race.bin', { preserveFilename: true })
  const done = await c.complete(key, uploadId, parts)
  t.equal(done.statusCode, 409)
  t.same(await openUploadIds(`${prefix}/`), [])
  t.equal((await app.storage.operations().head('race.bin')).size, 5, 'the other file is untouched')
})

t.test('quota: checked at the start with the declared size, and again at completion with S3\'s sizes', async (t) => {
  const { app, prefix } = await browseApp(t, { namespaces: { q: { uploadMode: 'presign', quota: { maxBytes: 6 * MiB }, basePath: 'q/' } } })
  const c = client(app, 'q', 'dan')
  t.equal((await c.create('declared.bin', 7 * MiB)).statusCode, 413, 'a declared size over the quota is refused before anything starts')
  t.same(await openUploadIds(`${prefix}/`), [])
  // Declaring less than it sends: the completion judges by what S3 holds.
  const { key, uploadId } = (await c.create('liar.bin', 1024)).json()
  const parts = await sendParts(c, key, uploadId, [5 * MiB, 2 * MiB])
  const over = await c.complete(key, uploadId, parts)
  t.equal(over.statusCode, 413)
  t.equal(over.json().code, 'FST_S3S_QUOTA_EXCEEDED')
  t.notOk(await objectExists(raw, bucket, key), 'no object')
  t.same(await openUploadIds(`${prefix}/`), [], 'no multipart upload left')
  // What fits is stored, and counted.
  const fits = (await c.create('fits.bin', 5 * MiB)).json()
  t.equal((await c.complete(fits.key, fits.uploadId, await sendParts(c, fits.key, fits.uploadId, [5 * MiB]))).statusCode, 200)
  t.equal((await c.create('more.bin', 2 * MiB)).statusCode, 413, 'the space now holds the completed file')
  const small = (await c.create('small.bin', 1024)).json()
  t.equal((await c.abort(small.key, small.uploadId)).statusCode, 200, 'abort releases the hold')
  // Single uploads need their size with a quota (the POST's policy pins it).
  t.equal((await c.params({ filename: 'one.bin' })).statusCode, 400)
  const post = await c.params({ filename: 'one.bin', type: 'application/octet-stream', size: '4' })
  t.equal(post.statusCode, 200)
  t.equal(await postToS3(post.json(), 'four', 'application/octet-stream'), 204)
})

t.test('single uploads in a namespace without a quota; maxUploadBytes over 5 GiB is taken in presign mode', async (t) => {
  const { app } = await browseApp(t, { namespaces: { big: { uploadMode: 'presign', maxUploadBytes: 50 * 1024 ** 3, multipartThreshold: 8 * MiB } } })
  const c = client(app, 'big', 'erin')
  const post = await c.params({ filename: 'sub/photo.png', type: 'image/png' })
  t.equal(post.statusCode, 200)
  t.equal(post.json().fields.key.endsWith('/sub/photo.png'), true)
  t.equal(await postToS3(post.json(), 'PNG!', 'image/png'), 204)
  t.equal((await c.create('huge.iso', 40 * 1024 ** 3)).statusCode, 200, 'a 40 GiB file may start')
  t.equal((await c.create('huger.iso', 51 * 1024 ** 3)).statusCode, 413)
  // The page's one-POST route refuses what one POST cannot carry.
  const presign = await app.inject({ method: 'POST', url: '/big/presign', headers: { 'x-user': 'erin', 'x-requested-with': 'x', accept: 'application/json' }, payload: { files: [{ name: 'huge.iso', size: 6 * 1024 ** 3 }] } })
  t.equal(presign.statusCode, 413)
  t.match(presign.json().files[0].message, /multipart/)
  const page = await app.inject({ url: '/big/files/', headers: { 'x-user': 'erin', accept: 'text/html' } })
  t.match(page.body, /data-multipart-threshold="8388608"/)
  for await (const u of app.storage.operations().listMultipartUploads()) await app.storage.operations().abortMultipartUpload(u.key, u.uploadId)
})

t.test('bad input is a clear 4xx', async (t) => {
  const { app } = await browseApp(t, { namespaces: { ns: { uploadMode: 'presign', allowedExtensions: ['bin'] } } })
  const c = client(app, 'ns', 'fay')
  t.equal((await c.create('../x.bin')).statusCode, 400)
  t.equal((await c.create('a/')).statusCode, 400)
  t.equal((await c.create('x.exe')).statusCode, 415)
  t.equal((await app.inject({ method: 'POST', url: '/ns/s3/multipart', headers: { 'x-user': 'fay', 'content-type': 'text/plain' }, payload: '{"filename":"a.bin"}' })).statusCode, 403, 'CSRF')
  t.equal((await app.inject({ method: 'POST', url: '/ns/s3/multipart', headers: { 'x-user': 'fay' }, payload: { filename: 'a.bin' } })).statusCode, 200, 'Uppy\'s JSON POST')
  t.equal((await app.inject({ method: 'POST', url: '/ns/s3/multipart', payload: { filename: 'a.bin' } })).statusCode, 401)
  t.equal((await c.sign('nope', 'x~y', 1)).statusCode, 404, 'an id never handed out')
})

t.test('unfinished uploads are found (and swept) under the namespace\'s folder', async (t) => {
  const { app, prefix } = await browseApp(t, { namespaces: { docs: { uploadMode: 'presign', basePath: 'docs/' }, other: { uploadMode: 'presign', basePath: 'other/' } } })
  const started = (await client(app, 'docs', 'gil').create('a/left.bin', 20 * MiB)).json()
  const kept = (await client(app, 'other', 'gil').create('kept.bin', 20 * MiB)).json()
  const ops = app.storage.operations()
  const found = []
  for await (const u of ops.listMultipartUploads({ prefix: 'docs/' })) found.push(u)
  t.same(found.map((u) => [u.name, u.key]), [['docs/a/left.bin', `${prefix}/docs/a/left.bin`]], 'listMultipartUploads with the namespace prefix')
  t.equal(started.uploadId.startsWith(found[0].uploadId + '~'), true, 'the sealed id the page holds is S3\'s id + seal')
  t.same(await ops.abortStaleMultipartUploads({ prefix: 'docs/', olderThan: 3600 }), { aborted: 0 }, 'a fresh upload is kept')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.same(await ops.abortStaleMultipartUploads({ prefix: 'docs/', olderThan: 1 }), { aborted: 1 })
  t.same(await openUploadIds(`${prefix}/docs/`), [], 'nothing left in the namespace')
  t.equal((await openUploadIds(`${prefix}/other/`)).length, 1, 'another namespace untouched')
  await t.rejects(ops.abortStaleMultipartUploads({ olderThan: -1 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await client(app, 'other', 'gil').abort(kept.key, kept.uploadId)
})
