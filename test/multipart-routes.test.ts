// The Companion S3 protocol routes (what @uppy/aws-s3 6.x speaks with `companionEndpoint`): in s3UploadRoutes
// and under a browse namespace in presign mode. Calls are made as Uppy makes them (plain fetch, no custom
// header) over a real socket, and with inject; parts go straight to the real S3 server.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import { s3UploadRoutes } from '../src/index.js'
import { bucketName, buildApp, captureLogs, objectExists, postToS3, profileFor, readAll, s3Client, startS3, type Teardown } from './helper.js'

const MiB = 1024 ** 2
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('mproutes')
await s3.createBucket(bucket)

async function openUploadIds (prefix: string): Promise<string[]> {
  const page = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))
  return (page.Uploads ?? []).map((u) => u.UploadId ?? '')
}

async function sha256Of (key: string): Promise<string> {
  const got = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return createHash('sha256').update(await readAll(got.Body as AsyncIterable<Uint8Array>)).digest('hex')
}

async function listen (t: Teardown, app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A Companion client as @uppy/aws-s3 6.x is one (its CompanionS3 class): fetch, no custom headers. */
function companion (endpoint: string, headers: Record<string, string> = {}) {
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${endpoint}/s3${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
  }
  const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  return {
    call,
    create: async (filename: string, type: string, extra: Record<string, unknown> = {}) => await call('/multipart', json({ filename, type, metadata: { name: filename }, ...extra })),
    sign: async (uploadId: string, key: string, n: number) => await call(`/multipart/${encodeURIComponent(uploadId)}/${n}?${new URLSearchParams({ key })}`),
    batch: async (uploadId: string, key: string, ns: number[]) => await call(`/multipart/${encodeURIComponent(uploadId)}/batch?${new URLSearchParams({ key, partNumbers: ns.join(',') })}`),
    list: async (uploadId: string, key: string) => await call(`/multipart/${encodeURIComponent(uploadId)}?${new URLSearchParams({ key })}`),
    complete: async (uploadId: string, key: string, parts: Array<{ PartNumber: number, ETag: string }>) =>
      await call(`/multipart/${encodeURIComponent(uploadId)}/complete?${new URLSearchParams({ key })}`, json({ parts })),
    abort: async (uploadId: string, key: string) => await call(`/multipart/${encodeURIComponent(uploadId)}?${new URLSearchParams({ key })}`, { method: 'DELETE' }),
    params: async (query: Record<string, string>) => await call(`/params?${new URLSearchParams(query)}`)
  }
}

async function putPart (url: string, body: Uint8Array): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body })
  t.equal(res.status, 200, 'the part PUT is accepted by S3')
  await res.arrayBuffer()
  return res.headers.get('etag') ?? ''
}

/** Sends `data` in parts of `partSize` through a Companion client; returns the complete answer. */
async function uploadInParts (client: ReturnType<typeof companion>, key: string, uploadId: string, data: Buffer, partSize = 5 * MiB) {
  const parts = []
  for (let start = 0, n = 1; start < data.length; start += partSize, n++) {
    const signed = await client.sign(uploadId, key, n)
    t.equal(signed.status, 200)
    parts.push({ PartNumber: n, ETag: await putPart(signed.body.url, data.subarray(start, start + partSize)) })
  }
  return await client.complete(uploadId, key, parts)
}

t.test('s3UploadRoutes: the whole flow as Uppy drives it, over a real socket', async (t) => {
  const logs = captureLogs()
  const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'svc' }) } }, { logger: { level: 'info', stream: logs.stream } })
  await app.register(s3UploadRoutes, {
    uploads: { maxFileSize: 12 * MiB, allowedContentTypes: ['video/mp4', 'image/png'] },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    prefix: '/api'
  })
  const base = await listen(t, app)
  const alice = companion(`${base}/api`, { 'x-user': 'alice' })
  const bob = companion(`${base}/api`, { 'x-user': 'bob' })

  const created = await alice.create('clip.mp4', 'video/mp4')
  t.equal(created.status, 200)
  const { key, uploadId } = created.body
  t.match(key, /^svc\/uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f-]{36}\.mp4$/, 'a generated key under the service prefix, never pending/')
  t.match(uploadId, /~[\w-]{32}$/, 'S3\'s id sealed to its user')

  // Only the creator: bob gets 404 for alice's upload, on every route, and nothing reaches S3 in his name.
  t.equal((await bob.sign(uploadId, key, 1)).status, 404)
  t.equal((await bob.list(uploadId, key)).status, 404)
  t.equal((await bob.complete(uploadId, key, [{ PartNumber: 1, ETag: 'x' }])).status, 404)
  t.equal((await bob.abort(uploadId, key)).status, 404)
  t.equal((await alice.sign(uploadId.replace(/~.*/, '~' + 'A'.repeat(32)), key, 1)).status, 404, 'a forged seal')
  t.equal((await alice.sign(uploadId.replace(/~.*/, ''), key, 1)).status, 404, 'S3\'s bare id')
  t.equal((await alice.sign(uploadId, key.replace(/\.mp4$/, '.png'), 1)).status, 404, 'the seal is for one key')
  t.equal((await alice.sign(uploadId, key, 10001)).status, 400, 'part numbers 1-10000')
  t.equal((await alice.sign(uploadId, key, 0)).status, 400)

  const batch = await alice.batch(uploadId, key, [1, 2, 3])
  t.equal(batch.status, 200)
  t.same(Object.keys(batch.body.presignedUrls), ['1', '2', '3'])
  t.equal((await alice.batch(uploadId, key, [1, 0])).status, 400)

  const data = randomBytes(11 * MiB)
  const first = await putPart(batch.body.presignedUrls['1'], data.subarray(0, 5 * MiB))
  const listed = await alice.list(uploadId, key)
  t.equal(listed.status, 200)
  t.same(listed.body, [{ PartNumber: 1, Size: 5 * MiB, ETag: first }], 'what S3 holds: a resuming client sends only the rest')
  const rest = []
  for (const [n, chunk] of [[2, data.subarray(5 * MiB, 10 * MiB)], [3, data.subarray(10 * MiB)]] as const) {
    rest.push({ PartNumber: n, ETag: await putPart((await alice.sign(uploadId, key, n)).body.url, chunk) })
  }
  const done = await alice.complete(uploadId, key, [{ PartNumber: 1, ETag: first }, ...rest])
  t.equal(done.status, 200)
  t.same(done.body, { location: key, key })
  t.equal(await sha256Of(key), createHash('sha256').update(data).digest('hex'))
  t.same(await openUploadIds('svc/'), [])
  const audit = logs.lines.filter((l) => l.name === 'audit' && l.key === key)
  t.ok(audit.some((l) => l.action === 'upload' && l.statusCode === 200 && l.user === 'alice'), 'the completion is audited')

  // The service's limits: a type it does not take, a declared size over the limit, S3's sizes over it.
  t.equal((await alice.create('x.exe', 'application/x-msdownload')).status, 415)
  t.equal((await alice.create('x.mp4', 'video/mp4', { size: 13 * MiB })).status, 413)
  const big = (await alice.create('big.mp4', 'video/mp4')).body
  const over = await uploadInParts(alice, big.key, big.uploadId, randomBytes(13 * MiB))
  t.equal(over.status, 413)
  t.equal(over.body.code, 'FST_S3S_TOO_LARGE')
  t.notOk(await objectExists(raw, bucket, big.key), 'nothing stored')
  t.same(await openUploadIds('svc/'), [], 'and no multipart upload left')

  // Abort.
  const gone = (await alice.create('gone.mp4', 'video/mp4')).body
  await putPart((await alice.sign(gone.uploadId, gone.key, 1)).body.url, randomBytes(1024))
  t.equal((await alice.abort(gone.uploadId, gone.key)).status, 200)
  t.same(await openUploadIds('svc/'), [])
  t.equal((await alice.list(gone.uploadId, gone.key)).status, 404, 'an aborted upload is 404, not 5xx')

  // A key outside the service, or a pending one.
  const other = (await alice.create('o.mp4', 'video/mp4')).body
  t.equal((await alice.sign(other.uploadId, 'elsewhere/o.mp4', 1)).status, 404, 'a key the seal was not made for')
  t.equal((await alice.abort(other.uploadId, other.key)).status, 200)

  // Single uploads: a presigned POST with the service's limits (into pending/, confirmed as tickets are).
  const params = await alice.params({ filename: 'pic.png', type: 'image/png' })
  t.equal(params.status, 200)
  t.equal(params.body.method, 'POST')
  t.match(params.body.fields.key, /^svc\/uploads\/pending\//)
  t.equal(await postToS3(params.body, 'PNG!', 'image/png'), 204)
  t.equal((await alice.params({ filename: 'x.exe', type: 'application/x-msdownload' })).status, 415)
  t.equal((await companion(`${base}/api`).create('a.mp4', 'video/mp4')).status, 401, 'no user: 401')
})

t.test('CSRF: what a cross-site page could send is refused; Uppy\'s own requests pass', async (t) => {
  const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'csrf' }) } })
  await app.register(s3UploadRoutes, { uploads: { maxFileSize: MiB } })
  const base = await listen(t, app)
  const body = JSON.stringify({ filename: 'a.txt', type: 'text/plain' })
  // A cross-site fetch with a "simple" content type (no preflight), or an HTML form.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const res = await fetch(`${base}/s3/multipart`, { method: 'POST', body, headers: { 'content-type': type } })
    t.equal(res.status, 403, `${type}: refused`)
    t.equal(((await res.json()) as { code: string }).code, 'FST_S3S_CSRF')
  }
  // What a browser marks cross-site, whatever it carries.
  const marked = await fetch(`${base}/s3/multipart`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' } })
  t.equal(marked.status, 403)
  const markedGet = await app.inject({ url: '/s3/params?filename=a.txt', headers: { 'sec-fetch-site': 'cross-site' } })
  t.equal(markedGet.statusCode, 403, 'a cross-site signing GET too')
  t.same(await openUploadIds('csrf/'), [], 'no upload was started')
  // Uppy's request (JSON, same origin) and a script with X-Requested-With pass.
  const ok = await fetch(`${base}/s3/multipart`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' } })
  t.equal(ok.status, 200)
  const xrw = await app.inject({ method: 'POST', url: '/s3/multipart', payload: body, headers: { 'content-type': 'text/plain', 'x-requested-with': 'XMLHttpRequest' } })
  t.equal(xrw.statusCode, 400, 'past the CSRF rule (a text body is not the JSON the schema wants)')
  const up = await ok.json() as { key: string, uploadId: string }
  t.equal((await app.inject({ method: 'DELETE', url: `/s3/multipart/${encodeURIComponent(up.uploadId)}?key=${encodeURIComponent(up.key)}` })).statusCode, 200, 'DELETE needs a preflight cross-site: allowed')
  t.equal((await app.inject({ method: 'POST', url: `/s3/multipart/${encodeURIComponent(up.uploadId)}?key=${encodeURIComponent(up.key)}`, payload: { parts: [{ PartNumber: 1, ETag: 'e' }] } })).statusCode, 404, 'POST is only /complete')
  t.equal((await app.inject({ method: 'DELETE', url: `/s3/multipart/${encodeURIComponent(up.uploadId)}/complete?key=${encodeURIComponent(up.key)}` })).statusCode, 404)
  t.equal((await app.inject({ url: `/s3/multipart/${encodeURIComponent(up.uploadId)}/batch?key=${encodeURIComponent(up.key)}` })).statusCode, 400, 'batch needs partNumbers')
  // The ticket routes keep their own rule (X-Requested-With).
  t.equal((await app.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt' } })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt' }, headers: { 'x-requested-with': 'x' } })).statusCode, 200)
  t.same(await openUploadIds('csrf/'), [])
})

t.test('seals survive a restart with uploadSecret; a bad secret is refused at register time', async (t) => {
  const secret = 's'.repeat(32)
  const make = async () => {
    const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'restart' }) } })
    await app.register(s3UploadRoutes, { uploads: { maxFileSize: MiB }, uploadSecret: [secret] })
    return app
  }
  const one = await make()
  const created = (await one.inject({ method: 'POST', url: '/s3/multipart', payload: { filename: 'a.bin' } })).json()
  await one.close()
  const two = await make()
  const list = await two.inject({ url: `/s3/multipart/${encodeURIComponent(created.uploadId)}?key=${encodeURIComponent(created.key)}` })
  t.equal(list.statusCode, 200, 'another instance with the same secret opens the seal')
  t.same(list.json(), [])
  t.equal((await two.inject({ method: 'DELETE', url: `/s3/multipart/${encodeURIComponent(created.uploadId)}?key=${encodeURIComponent(created.key)}` })).statusCode, 200)
  const bad = await buildApp(t, { profiles: { main: profileFor(s3, bucket) } })
  bad.register(s3UploadRoutes, { uploads: { maxFileSize: 1 }, uploadSecret: 'short' })
  await t.rejects(async () => await bad.ready(), { code: 'FST_S3S_INVALID_OPTION' })
})
