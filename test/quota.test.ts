// Quotas of a namespace's space: every upload path (streamed through the app, presigned POST and its
// confirm) refuses what would pass `maxBytes` or `maxFiles` with 413 and stores nothing; usage comes from
// the listing, cached for `usageTtlSeconds`; the page shows a usage bar.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { NamespaceOptions } from '../src/index.js'
import { bucketName, buildApp, multipartBody, objectExists, postFile, postToS3, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('quota')
await s3.createBucket(bucket)
const XRW = { 'x-requested-with': 'fetch', accept: 'application/json' }
let folders = 0

/** A namespace over a folder of its own (so tests never see each other's bytes). */
async function quotaApp (t: Teardown, ns: NamespaceOptions): Promise<{ app: FastifyInstance, folder: string }> {
  const folder = `q${++folders}/`
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: {
      namespaces: { q: { basePath: typeof ns.basePath === 'function' ? ns.basePath : folder, ...ns, ...(typeof ns.basePath === 'function' ? {} : { basePath: folder }) } },
      authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? 'someone'
    }
  })
  return { app, folder }
}

async function upload (app: FastifyInstance, name: string, bytes: number, headers: Record<string, string> = {}) {
  const { body, contentType } = await multipartBody([['file', new Blob([Buffer.alloc(bytes, 7)]), name]])
  return await app.inject({ method: 'POST', url: '/q/files/', payload: body, headers: { ...XRW, ...headers, 'content-type': contentType } })
}

t.test('streamed uploads: refused with 413 before passing maxBytes, nothing stored', async (t) => {
  const { app, folder } = await quotaApp(t, { quota: { maxBytes: 1000 } })
  t.equal((await upload(app, 'a.bin', 600)).statusCode, 201)
  const over = await upload(app, 'b.bin', 500)
  t.equal(over.statusCode, 413)
  const outcome = over.json().files[0]
  t.equal(outcome.code, 'FST_S3S_QUOTA_EXCEEDED')
  t.match(outcome.message, /"b.bin" does not fit: 600 B of the 1000 B quota used, 400 B left/)
  t.notOk(await objectExists(raw, bucket, `${folder}b.bin`), 'nothing stored')
  t.equal((await upload(app, 'c.bin', 400)).statusCode, 201, 'exactly the rest fits')
  const full = await upload(app, 'd.bin', 1)
  t.equal(full.statusCode, 413, 'a full space refuses even one byte')
  // The page's usage bar.
  const page = await app.inject({ url: '/q/files/', headers: { accept: 'text/html' } })
  t.match(page.body, /<meter class="quota-meter"[^>]* value="100"/)
  t.match(page.body, /1000 B of 1000 B used · 2 files/)
  t.match(page.body, /data-free-bytes="0"/)
  // A delete frees the space at once.
  t.equal((await app.inject({ method: 'DELETE', url: '/q/files/a.bin', headers: XRW })).statusCode, 204)
  t.equal((await upload(app, 'e.bin', 600)).statusCode, 201)
})

t.test('a large stream over a real socket: aborted at the quota, no object and no multipart upload left', async (t) => {
  const { app, folder } = await quotaApp(t, { quota: { maxBytes: 6 * 1024 * 1024 } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const result = await postFile({ port, path: '/q/files/', filename: 'big.bin', body: { size: 16 * 1024 * 1024, chunk: Buffer.alloc(1024 * 1024, 1) } })
  t.not(result, 'aborted')
  if (result === 'aborted') return
  t.equal(result.status, 413)
  t.equal(JSON.parse(result.body).files[0].code, 'FST_S3S_QUOTA_EXCEEDED')
  t.notOk(await objectExists(raw, bucket, `${folder}big.bin`))
  const open = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: folder }))
  t.same(open.Uploads ?? [], [], 'the multipart upload was aborted')
  const small = await postFile({ port, path: '/q/files/', filename: 'small.bin', body: { size: 5 * 1024 * 1024, chunk: Buffer.alloc(1024 * 1024, 2) } })
  t.equal(small !== 'aborted' && small.status, 201, 'what fits still goes through')
})

t.test('concurrent uploads cannot take the same free space twice', async (t) => {
  const { app, folder } = await quotaApp(t, { quota: { maxBytes: 1000 } })
  const results = await Promise.all([upload(app, 'x1.bin', 600), upload(app, 'x2.bin', 600), upload(app, 'x3.bin', 600)])
  const stored = results.filter((r) => r.statusCode === 201).length
  t.equal(stored, 1, 'one of three fits')
  t.equal(results.filter((r) => r.statusCode === 413).length, 2)
  let present = 0
  for (const name of ['x1.bin', 'x2.bin', 'x3.bin']) if (await objectExists(raw, bucket, folder + name)) present++
  t.equal(present, 1)
})

t.test('maxFiles: the file after the last one fits is refused; an overwrite does not count', async (t) => {
  const { app, folder } = await quotaApp(t, { overwrite: true, quota: { maxFiles: 2 } })
  t.equal((await upload(app, 'one.txt', 10)).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/q/mkdir', payload: { path: '', name: 'folder' }, headers: XRW })).statusCode, 201, 'folders are not files')
  t.equal((await upload(app, 'two.txt', 10)).statusCode, 201)
  const third = await upload(app, 'three.txt', 10)
  t.equal(third.statusCode, 413)
  t.match(third.json().files[0].message, /would be file 3 of at most 2/)
  t.notOk(await objectExists(raw, bucket, `${folder}three.txt`))
  t.equal((await upload(app, 'two.txt', 20)).statusCode, 201, 'replacing a file keeps the count')
})

t.test('presigned POSTs: checked before signing, bounded by the policy, checked again at confirm', async (t) => {
  let limit = 1000
  const { app, folder } = await quotaApp(t, { uploadMode: 'presign', quota: { maxBytes: () => limit } })
  const presign = async (name: string, size: number) => await app.inject({ method: 'POST', url: '/q/presign', payload: { path: '', files: [{ name, size, type: 'application/octet-stream' }] }, headers: XRW })
  const confirm = async (path: string) => await app.inject({ method: 'POST', url: '/q/presign/confirm', payload: { path }, headers: XRW })

  const first = await presign('a.bin', 800)
  t.equal(first.statusCode, 200)
  const post = first.json().files[0].post
  t.equal(post.maxBytes, 800, 'the policy allows exactly the size the quota was checked for')
  const held = await presign('b.bin', 300)
  t.equal(held.statusCode, 413, 'the first POST holds its 800 bytes until it is confirmed or expires')
  t.equal(held.json().files[0].code, 'FST_S3S_QUOTA_EXCEEDED')
  t.notOk(held.json().files[0].post, 'no POST signed')
  t.not(await postToS3(post, Buffer.alloc(900), 'application/octet-stream'), 204, 'S3 refuses more than the policy allows')
  t.notOk(await objectExists(raw, bucket, `${folder}a.bin`))
  t.equal(await postToS3(post, Buffer.alloc(800), 'application/octet-stream'), 204)
  const ok = await confirm('a.bin')
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().size, 800)
  t.equal((await presign('c.bin', 201)).statusCode, 413, '800 used: 201 does not fit')
  const last = await presign('c.bin', 200)
  t.equal(last.statusCode, 200)

  // The limit shrinks while the upload is on its way: the confirm refuses it and deletes it.
  t.equal(await postToS3(last.json().files[0].post, Buffer.alloc(200), 'application/octet-stream'), 204)
  limit = 900
  const refused = await confirm('c.bin')
  t.equal(refused.statusCode, 413)
  t.equal(refused.json().code, 'FST_S3S_QUOTA_EXCEEDED')
  t.notOk(await objectExists(raw, bucket, `${folder}c.bin`), 'deleted at confirm')
  t.ok(await objectExists(raw, bucket, `${folder}a.bin`), 'the earlier file stays')
  // A confirm for a file no POST was waiting for settles nothing and deletes nothing.
  t.equal((await confirm('a.bin')).statusCode, 200)
  t.ok(await objectExists(raw, bucket, `${folder}a.bin`))
  t.equal((await confirm('nothing.bin')).statusCode, 404)
})

t.test('quota per user with per-user spaces; a function of the user; usage counted after the TTL', async (t) => {
  const { app } = await quotaApp(t, {
    basePath: (user) => `spaces/${user}/`,
    quota: { maxBytes: (user) => user === 'big' ? 2000 : user === 'admin' ? undefined : 1000, usageTtlSeconds: 1 }
  })
  t.equal((await upload(app, 'a.bin', 900, { 'x-user': 'small' })).statusCode, 201)
  t.equal((await upload(app, 'b.bin', 900, { 'x-user': 'small' })).statusCode, 413)
  t.equal((await upload(app, 'a.bin', 1800, { 'x-user': 'big' })).statusCode, 201, 'another user, another space and limit')
  t.equal((await upload(app, 'a.bin', 5000, { 'x-user': 'admin' })).statusCode, 201, 'undefined: no limit for this user')
  const page = await app.inject({ url: '/q/files/', headers: { 'x-user': 'admin', accept: 'text/html' } })
  t.match(page.body, /4\.9 KB used · 1 file/)
  t.notMatch(page.body, /<meter/, 'no bar without a limit')

  // Bytes written around the app are seen once the cached count expires.
  t.equal((await upload(app, 'c.bin', 10, { 'x-user': 'other' })).statusCode, 201)
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'spaces/other/outside.bin', Body: Buffer.alloc(985) }))
  t.equal((await upload(app, 'd.bin', 10, { 'x-user': 'other' })).statusCode, 201, 'the cached count does not know yet')
  await sleep(1100)
  t.equal((await upload(app, 'e.bin', 10, { 'x-user': 'other' })).statusCode, 413, 'counted again after usageTtlSeconds')
})
