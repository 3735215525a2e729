// Direct-to-S3 uploads over the wire: tickets, real multipart POSTs to S3, confirm, links, cleanup, CORS,
// ownership through the ready-made routes, and 50 concurrent uploads.
import t from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { CreateMultipartUploadCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, ListMultipartUploadsCommand, PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { s3UploadRoutes } from '../src/index.js'
import { bucketName, buildApp, objectExists, postToS3, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('direct')
await s3.createBucket(bucket)
const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'app', maxLinkTtlSeconds: 3600 }) } })
const uploads = app.storage.uploads({ maxFileSize: 1024, allowedContentTypes: ['image/png', 'application/pdf'], expirationSeconds: 600 })

async function exists (key: string): Promise<boolean> {
  return await objectExists(raw, bucket, key)
}

t.test('ticket → POST to S3 → confirm → link, byte for byte, with the original Unicode name', async (t) => {
  const ticket = await uploads.createUpload({ filename: '사진 photo.png', contentType: 'image/png', size: 4, metadata: { album: '여름' } })
  t.match(ticket.key, /^app\/uploads\/pending\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f-]{36}\.png$/)
  t.equal(ticket.maxSize, 1024)
  t.equal(ticket.expiresIn, 600)
  t.equal(await postToS3(ticket, 'PNG!', 'image/png'), 204)
  const record = await uploads.confirmUpload(ticket.key)
  t.ok(record)
  t.equal(record!.key, ticket.key.replace('pending/', ''))
  t.equal(record!.filename, '사진 photo.png', 'the original name survives (URL-encoded in metadata)')
  t.equal(record!.size, 4)
  t.equal(record!.contentType, 'image/png')
  t.same(record!.metadata, { album: '여름' })
  t.ok(record!.uploadedAt instanceof Date)
  t.notOk(await exists(ticket.key), 'no longer pending')
  t.same(await uploads.confirmUpload(ticket.key), record, 'confirming twice is harmless')
  const link = await uploads.getDownloadLink(record!.key, { expiresIn: 120 })
  const res = await fetch(link)
  t.equal(await res.text(), 'PNG!')
  t.match(res.headers.get('content-disposition') ?? '', /filename\*=UTF-8''%EC%82%AC%EC%A7%84%20photo\.png/)
  const named = await uploads.getDownloadLink(record!.key, { downloadName: 'my-photo.png' })
  t.match((await fetch(named)).headers.get('content-disposition') ?? '', /my-photo\.png/)
})

t.test('nothing uploaded → null; keys outside the service are refused', async (t) => {
  const ticket = await uploads.createUpload({ filename: 'never.pdf', contentType: 'application/pdf' })
  t.equal(await uploads.confirmUpload(ticket.key), null)
  await t.rejects(uploads.confirmUpload('app/other/x.pdf'), { code: 'FST_S3S_INVALID_KEY' })
  await t.rejects(uploads.confirmUpload('app/uploads/pending/../../x'), { code: 'FST_S3S_INVALID_KEY' })
})

t.test('disallowed types and oversize declared sizes are refused before signing', async (t) => {
  await t.rejects(uploads.createUpload({ filename: 'x.exe', contentType: 'application/x-msdownload' }), { code: 'FST_S3S_TYPE_NOT_ALLOWED', statusCode: 415 })
  await t.rejects(uploads.createUpload({ filename: 'x.png' }), { code: 'FST_S3S_TYPE_NOT_ALLOWED' }, 'a type is required when a list is set')
  await t.rejects(uploads.createUpload({ filename: 'x.png', contentType: 'image/png', size: 1025 }), { code: 'FST_S3S_TOO_LARGE', statusCode: 413, message: /over the limit/ })
  await t.rejects(uploads.createUpload({ filename: '', contentType: 'image/png' }), { code: 'FST_S3S_INVALID_ARGUMENT', statusCode: 400 })
})

t.test('S3 enforces the policy: oversize and wrong-type posts are refused', async (t) => {
  const ticket = await uploads.createUpload({ filename: 'big.png', contentType: 'image/png' })
  t.equal(await postToS3(ticket, new Uint8Array(1025), 'image/png'), 400, 'over maxFileSize')
  t.equal(await postToS3(ticket, 'x', 'text/html'), 403, 'another Content-Type')
  t.notOk(await exists(ticket.key))
  const policy = JSON.parse(Buffer.from(ticket.fields.Policy, 'base64').toString())
  t.ok(policy.conditions.some((c: unknown) => Array.isArray(c) && c[0] === 'content-length-range' && c[2] === 1024))
})

t.test('confirmUpload catches what a lax server accepted, deletes it and refuses', async (t) => {
  // Put objects at pending keys behind the policy's back, as a store that ignores POST policies would.
  const big = await uploads.createUpload({ filename: 'big.png', contentType: 'image/png' })
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: big.key, Body: Buffer.alloc(2048), ContentType: 'image/png' }))
  await t.rejects(uploads.confirmUpload(big.key), { code: 'FST_S3S_TOO_LARGE', statusCode: 413, message: /over the limit/ })
  t.notOk(await exists(big.key), 'deleted')
  const html = await uploads.createUpload({ filename: 'page.png', contentType: 'image/png' })
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: html.key, Body: '<script>', ContentType: 'text/html' }))
  await t.rejects(uploads.confirmUpload(html.key), { code: 'FST_S3S_TYPE_NOT_ALLOWED', statusCode: 415, message: /content type/ })
  t.notOk(await exists(html.key))
})

t.test('an expired ticket is refused by S3', async (t) => {
  const short = app.storage.uploads({ maxFileSize: 1024, expirationSeconds: 1 })
  const ticket = await short.createUpload({ filename: 'late.txt', contentType: 'text/plain' })
  await sleep(2100)
  t.equal(await postToS3(ticket, 'late', 'text/plain'), 403)
  t.notOk(await exists(ticket.key))
})

t.test('cleanupOrphans deletes only old unconfirmed objects and stale multipart uploads', async (t) => {
  const svc = app.storage.uploads({ maxFileSize: 1024, uploadPrefix: 'cleanup' })
  const old = await svc.createUpload({ filename: 'old.txt', contentType: 'text/plain' })
  t.equal(await postToS3(old, 'old', 'text/plain'), 204)
  const confirmedTicket = await svc.createUpload({ filename: 'kept.txt', contentType: 'text/plain' })
  t.equal(await postToS3(confirmedTicket, 'kept', 'text/plain'), 204)
  const confirmed = await svc.confirmUpload(confirmedTicket.key)
  await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'app/cleanup/pending/mp.bin' }))
  await sleep(2100)
  const fresh = await svc.createUpload({ filename: 'fresh.txt', contentType: 'text/plain' })
  t.equal(await postToS3(fresh, 'fresh', 'text/plain'), 204)
  const result = await svc.cleanupOrphans({ olderThan: 2 })
  t.same(result, { deleted: 1, aborted: 1 })
  t.notOk(await exists(old.key), 'the old orphan is gone')
  t.ok(await exists(fresh.key), 'a recent pending upload stays')
  t.ok(await exists(confirmed!.key), 'confirmed files are never touched')
  const open = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'app/cleanup/' }))
  t.equal((open.Uploads ?? []).length, 0)
})

t.test('checkCors reports and fixes a bucket without rules, and leaves correct rules alone', async (t) => {
  const corsBucket = bucketName('cors')
  await s3.createBucket(corsBucket)
  const corsApp = await buildApp(t, { profiles: { main: profileFor(s3, corsBucket) } })
  const before = await corsApp.storage.checkCors('main', { origin: 'https://app.example' })
  t.equal(before.ok, false)
  t.same(before.missing, ['origin', 'method:POST', 'method:PUT', 'header:content-type', 'expose:ETag'])
  t.equal(before.applied, false)
  const fixed = await corsApp.storage.checkCors('main', { origin: 'https://app.example', apply: true })
  t.same([fixed.ok, fixed.applied], [true, true])
  const again = await corsApp.storage.checkCors('main', { origin: 'https://app.example', apply: true })
  t.same([again.ok, again.applied, again.missing], [true, false, []], 'a second run changes nothing')
  const rules = (await raw.send(new GetBucketCorsCommand({ Bucket: corsBucket }))).CORSRules ?? []
  t.equal(rules.length, 1)

  await raw.send(new PutBucketCorsCommand({ Bucket: corsBucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://other.example'], AllowedMethods: ['GET'] }, { AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'POST'], AllowedHeaders: ['content-type'] }] } }))
  const partial = await corsApp.storage.checkCors('main', { origin: 'https://app.example' })
  t.same(partial.missing, ['method:PUT', 'expose:ETag'])
  await corsApp.storage.checkCors('main', { origin: 'https://app.example', apply: true })
  const kept = (await raw.send(new GetBucketCorsCommand({ Bucket: corsBucket }))).CORSRules ?? []
  t.equal(kept.length, 3, 'existing rules are kept, one is added')
  t.ok(kept.some((r) => r.AllowedOrigins?.includes('https://other.example')))
  const good = await corsApp.storage.checkCors('main', { origin: 'https://app.example' })
  t.equal(good.ok, true)
  await raw.send(new DeleteBucketCorsCommand({ Bucket: corsBucket }))
})

t.test('routes: tickets, confirm and links for their owner only; CSRF header; schemas', async (t) => {
  const routed = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'routed' }) } })
  await routed.register(s3UploadRoutes, {
    uploads: { maxFileSize: 1024, allowedContentTypes: ['text/plain'] },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    isAdmin: (user) => user === 'admin'
  })
  const headers = (user: string): Record<string, string> => ({ 'x-user': user, 'x-requested-with': 'fetch' })
  t.equal((await routed.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain' }, headers: { 'x-requested-with': 'fetch' } })).statusCode, 401)
  const noCsrf = await routed.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain' }, headers: { 'x-user': 'ann' } })
  t.equal(noCsrf.statusCode, 403)
  t.equal(noCsrf.json().code, 'FST_S3S_CSRF')
  t.equal((await routed.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain', size: -1 }, headers: headers('ann') })).statusCode, 400, 'the schema refuses bad fields')
  // Fastify's Ajv strips unknown fields (removeAdditional), so they never reach the service.
  const stripped = await routed.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain', owner: 'mallory' }, headers: headers('ann') })
  t.equal(stripped.statusCode, 200, 'an unknown field is dropped, not obeyed')
  t.equal(stripped.json().fields['x-amz-meta-uploaded-by'], 'ann', 'the owner is the signed-in user, whatever the body says')
  const ticketRes = await routed.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain', size: 5 }, headers: headers('ann') })
  t.equal(ticketRes.statusCode, 200)
  const ticket = ticketRes.json()
  t.equal(await postToS3(ticket, 'hello', 'text/plain'), 204)
  const stolen = await routed.inject({ method: 'POST', url: '/uploads/confirm', payload: { key: ticket.key }, headers: headers('bob') })
  t.equal(stolen.statusCode, 403, 'someone else cannot confirm it')
  const confirmed = await routed.inject({ method: 'POST', url: '/uploads/confirm', payload: { key: ticket.key }, headers: headers('ann') })
  t.equal(confirmed.statusCode, 200)
  const record = confirmed.json()
  t.equal(record.owner, 'ann')
  const url = `/uploads/${encodeURIComponent(record.key)}/link`
  t.equal((await routed.inject({ url, headers: { 'x-user': 'bob' } })).statusCode, 403)
  const link = await routed.inject({ url, headers: { 'x-user': 'ann' } })
  t.equal(link.statusCode, 200)
  t.equal(await (await fetch(link.json().url)).text(), 'hello')
  t.equal((await routed.inject({ url, headers: { 'x-user': 'admin' } })).statusCode, 200, 'an admin may')
  t.equal((await routed.inject({ url: `/uploads/${encodeURIComponent('routed/uploads/nope.txt')}/link`, headers: { 'x-user': 'ann' } })).statusCode, 404)
})

t.test('50 concurrent tickets and uploads', async (t) => {
  const svc = app.storage.uploads({ maxFileSize: 1024, uploadPrefix: 'many' })
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const ticket = await svc.createUpload({ filename: `f${i}.txt`, contentType: 'text/plain' })
    const status = await postToS3(ticket, `file ${i}`, 'text/plain')
    const record = await svc.confirmUpload(ticket.key)
    return { status, record, i }
  }))
  t.ok(results.every((r) => r.status === 204), 'every POST accepted')
  t.ok(results.every((r) => r.record?.filename === `f${r.i}.txt` && r.record.size === `file ${r.i}`.length), 'every upload confirmed with its own name and size')
  t.equal(new Set(results.map((r) => r.record?.key)).size, 50, 'distinct keys')
})

t.test('the upload routes: registered after the plugin, under a namespace of their own, audited', async (t) => {
  const bare = Fastify()
  t.teardown(() => bare.close())
  await t.rejects(async () => {
    await bare.register(s3UploadRoutes, { uploads: { maxFileSize: 10 } })
    await bare.ready()
  }, { code: 'FST_S3S_INVALID_OPTION', message: /register the fastify-s3-storage plugin first/ })

  const browsing = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'ns' }) }, browse: { namespaces: { uploads: {} } } })
  await t.rejects(async () => {
    await browsing.register(s3UploadRoutes, { uploads: { maxFileSize: 10 } })
    await browsing.ready()
  }, { code: 'FST_S3S_INVALID_OPTION', message: /"uploads" is a browse namespace too/ }, 'the default name collides with a browse namespace')

  const asked: Array<[string | null, string, string]> = []
  const named = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'ns' }) }, browse: { namespaces: { uploads: {} } } })
  await named.register(s3UploadRoutes, {
    namespace: 'direct',
    uploads: { maxFileSize: 100, allowedContentTypes: ['text/plain'] },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    authorize: (user, action, namespace) => { asked.push([user, action, namespace]); return user !== 'eve' }
  })
  const records: Array<{ action: string, namespace: string, result: string, statusCode: number, user: string | null }> = []
  named.storageAudit.on('record', (record) => records.push(record))
  const headers = (user: string): Record<string, string> => ({ 'x-user': user, 'x-requested-with': 'fetch' })
  const ok = await named.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain' }, headers: headers('ann') })
  t.equal(ok.statusCode, 200)
  const big = await named.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain', size: 101 }, headers: headers('ann') })
  t.equal(big.statusCode, 413, 'too large is 413 here too')
  t.equal(big.json().code, 'FST_S3S_TOO_LARGE')
  const type = await named.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.exe', contentType: 'application/x-msdownload' }, headers: headers('ann') })
  t.equal(type.statusCode, 415, 'a refused type is 415 here too')
  t.equal(type.json().code, 'FST_S3S_TYPE_NOT_ALLOWED')
  const denied = await named.inject({ method: 'POST', url: '/uploads', payload: { filename: 'a.txt', contentType: 'text/plain' }, headers: headers('eve') })
  t.equal(denied.statusCode, 403)
  t.same(asked.map(([, , namespace]) => namespace), ['direct', 'direct', 'direct', 'direct'], 'authorize is asked with the routes\' own namespace')
  t.same(records.map((r) => [r.action, r.namespace, r.result, r.statusCode, r.user]), [
    ['presign', 'direct', 'ok', 200, 'ann'],
    ['presign', 'direct', 'error', 413, 'ann'],
    ['presign', 'direct', 'denied', 415, 'ann'],
    ['presign', 'direct', 'denied', 403, 'eve']
  ], 'one audit record per request, with its outcome')
})

t.test('upload-service options are checked when the service is made: FST_S3S_INVALID_OPTION, not a 400', async (t) => {
  const rows: Array<[object, RegExp]> = [
    [{}, /"maxFileSize" must be a positive whole number/],
    [{ maxFileSize: 0 }, /"maxFileSize"/],
    [{ maxFileSize: 10, allowedContentTypes: [] }, /"allowedContentTypes" must list at least one type/],
    [{ maxFileSize: 10, expirationSeconds: -1 }, /"expirationSeconds" must be positive/],
    [{ maxFileSize: 10, keyGenerator: 'x' }, /"keyGenerator" must be a function/],
    [{ maxFileSize: 10, profile: 'nope' }, /profile "nope" is not one of the profiles/]
  ]
  for (const [options, message] of rows) {
    t.throws(() => app.storage.uploads(options as Parameters<typeof app.storage.uploads>[0]), { code: 'FST_S3S_INVALID_OPTION', statusCode: 500, message }, String(message))
  }
})
