// Multipart uploads driven part by part, over the wire: StorageOperations signs, the "browser" (fetch) PUTs
// the parts straight to S3, the server judges the completion from S3's own list of parts.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { bucketName, buildApp, objectExists, profileFor, readAll, s3Client, startS3 } from './helper.js'

const MiB = 1024 ** 2
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('mpu')
await s3.createBucket(bucket)
const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: 'mp', maxLinkTtlSeconds: 3600 }) } })
const ops = app.storage.operations()

async function openUploads (prefix = 'mp/'): Promise<Array<{ key?: string, uploadId?: string }>> {
  const page = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))
  return (page.Uploads ?? []).map((u) => ({ key: u.Key, uploadId: u.UploadId }))
}

async function putPart (url: string, body: Uint8Array): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body })
  if (!res.ok) throw new Error(`part PUT answered ${res.status}: ${await res.text()}`)
  return res.headers.get('etag') ?? ''
}

async function storedSha256 (key: string): Promise<string> {
  const got = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return createHash('sha256').update(await readAll(got.Body as AsyncIterable<Uint8Array>)).digest('hex')
}

t.test('the whole flow: create, sign, PUT parts with fetch, list, complete; a UUID name unless preserveFilename', async (t) => {
  const data = randomBytes(11 * MiB)
  const created = await ops.createMultipartUpload('film.mp4', { metadata: { album: 'summer' } })
  t.match(created.key, /^mp\/[0-9a-f-]{36}\.mp4$/)
  t.equal(created.filename, created.key.slice(3))
  t.ok(created.uploadId)
  t.ok((await openUploads()).some((u) => u.uploadId === created.uploadId), 'S3 lists the upload in progress')
  const chunks = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)]
  // Parts in parallel, as a browser sends them.
  const etags = await Promise.all(chunks.map(async (chunk, i) => {
    const signed = await ops.signUploadPart(created.key, created.uploadId, i + 1, { expireSeconds: 300 })
    t.equal(signed.expiresIn, 300)
    t.notMatch(signed.url, /x-amz-checksum|x-amz-sdk-checksum/i, 'no empty-body checksum in the URL')
    return await putPart(signed.url, chunk)
  }))
  const listed = await ops.listUploadParts(created.key, created.uploadId)
  t.same(listed.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 5 * MiB], [3, MiB]])
  t.same(listed.map((p) => p.ETag.replace(/"/g, '')), etags.map((e) => e.replace(/"/g, '')))
  const done = await ops.completeMultipartUpload(created.key, created.uploadId, listed.map((p, i) => ({ PartNumber: p.PartNumber, ETag: etags[i] })), { maxBytes: 11 * MiB })
  t.equal(done.key, created.key)
  t.equal(done.size, 11 * MiB)
  t.equal(await storedSha256(created.key), createHash('sha256').update(data).digest('hex'), 'the stored bytes are the bytes sent')
  const head = await ops.head(created.filename)
  t.equal(head.contentType, 'video/mp4')
  t.equal(head.metadata.album, 'summer')
  t.same(await openUploads(), [], 'no multipart upload left open')

  const kept = await ops.createMultipartUpload('docs/report.pdf', { preserveFilename: true, contentType: 'application/pdf' })
  t.equal(kept.key, 'mp/docs/report.pdf')
  await ops.abortMultipartUpload(kept.key, kept.uploadId)
})

t.test('a part signed again after its first URL expired', async (t) => {
  const created = await ops.createMultipartUpload('late.bin')
  const first = await ops.signUploadPart(created.key, created.uploadId, 1, { expireSeconds: 1 })
  t.equal(first.expiresIn, 1)
  await sleep(2100)
  const stale = await fetch(first.url, { method: 'PUT', body: Buffer.from('late') })
  t.equal(stale.status, 403, 'S3 refuses the expired URL')
  await stale.arrayBuffer()
  const again = await ops.signUploadPart(created.key, created.uploadId, 1)
  t.equal(again.expiresIn, 900, 'the default lifetime of a part URL')
  const etag = await putPart(again.url, Buffer.from('late'))
  const done = await ops.completeMultipartUpload(created.key, created.uploadId, [{ PartNumber: 1, ETag: etag }])
  t.equal(done.size, 4)
  t.ok(await objectExists(raw, bucket, created.key))
})

t.test('part URLs are clamped to the profile ceiling', async (t) => {
  const created = await ops.createMultipartUpload('long.bin')
  t.teardown(async () => await ops.abortMultipartUpload(created.key, created.uploadId))
  t.equal((await ops.signUploadPart(created.key, created.uploadId, 2, { expireSeconds: 86400 })).expiresIn, 3600)
})

t.test('completion over maxBytes is refused from S3\'s sizes and nothing is left', async (t) => {
  const created = await ops.createMultipartUpload('big.bin')
  const etags = []
  for (const [i, size] of [5 * MiB, MiB].entries()) {
    etags.push(await putPart((await ops.signUploadPart(created.key, created.uploadId, i + 1)).url, randomBytes(size)))
  }
  await t.rejects(ops.completeMultipartUpload(created.key, created.uploadId, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })), { maxBytes: 6 * MiB - 1 }),
    { code: 'FST_S3S_TOO_LARGE', statusCode: 413 })
  t.notOk(await objectExists(raw, bucket, created.key), 'no object')
  t.notOk((await openUploads()).some((u) => u.uploadId === created.uploadId), 'no multipart upload listed')
  await t.rejects(ops.listUploadParts(created.key, created.uploadId), { code: 'FST_S3S_NOT_FOUND', statusCode: 404 }, 'the upload is gone')
})

t.test('parts that are not the ones S3 holds, or too small, are refused (400) and the upload aborted', async (t) => {
  async function twoParts (first: number): Promise<{ key: string, uploadId: string, etags: string[] }> {
    const created = await ops.createMultipartUpload('parts.bin')
    const etags = []
    for (const [i, size] of [first, 1024].entries()) etags.push(await putPart((await ops.signUploadPart(created.key, created.uploadId, i + 1)).url, randomBytes(size)))
    return { ...created, etags }
  }
  const wrong = await twoParts(5 * MiB)
  await t.rejects(ops.completeMultipartUpload(wrong.key, wrong.uploadId, [{ PartNumber: 1, ETag: wrong.etags[1] }, { PartNumber: 2, ETag: wrong.etags[1] }]),
    { code: 'FST_S3S_INVALID_ARGUMENT', statusCode: 400, message: /part 1 is not the part S3 holds/ })
  t.notOk((await openUploads()).some((u) => u.uploadId === wrong.uploadId))
  const small = await twoParts(1024)
  await t.rejects(ops.completeMultipartUpload(small.key, small.uploadId, small.etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }))),
    { code: 'FST_S3S_INVALID_ARGUMENT', message: /smaller than 5 MiB/ })
  t.notOk(await objectExists(raw, bucket, small.key))
  t.notOk((await openUploads()).some((u) => u.uploadId === small.uploadId))
  const missing = await twoParts(5 * MiB)
  await t.rejects(ops.completeMultipartUpload(missing.key, missing.uploadId, [{ PartNumber: 1, ETag: missing.etags[0] }, { PartNumber: 3, ETag: missing.etags[1] }]),
    { code: 'FST_S3S_INVALID_ARGUMENT', message: /part 3 was never uploaded/ })
  const order = await twoParts(5 * MiB)
  await t.rejects(ops.completeMultipartUpload(order.key, order.uploadId, [{ PartNumber: 2, ETag: order.etags[1] }, { PartNumber: 1, ETag: order.etags[0] }]),
    { code: 'FST_S3S_INVALID_ARGUMENT', message: /ascending/ })
  t.same(await openUploads(), [], 'every refused upload was aborted')
})

t.test('bad arguments are 400 before anything is sent; a declared size over maxBytes is 413', async (t) => {
  await t.rejects(ops.createMultipartUpload('x.bin', { maxBytes: 0 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.createMultipartUpload('x.bin', { maxBytes: 6 * 1024 ** 4 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.createMultipartUpload('x.bin', { maxBytes: 10, size: 11 }), { code: 'FST_S3S_TOO_LARGE', statusCode: 413 })
  await t.rejects(ops.createMultipartUpload('x.bin', { size: -1 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.createMultipartUpload('../x.bin', { preserveFilename: true }), { code: 'FST_S3S_INVALID_KEY' })
  for (const n of [0, 10001, 1.5, Number.NaN, '1' as unknown as number]) {
    await t.rejects(ops.signUploadPart('mp/x.bin', 'id', n), { code: 'FST_S3S_INVALID_ARGUMENT', message: /partNumber/ }, `part number ${String(n)}`)
  }
  await t.rejects(ops.signUploadPart('mp/x.bin', '', 1), { code: 'FST_S3S_INVALID_ARGUMENT', message: /uploadId/ })
  await t.rejects(ops.signUploadPart('other/x.bin', 'id', 1), { code: 'FST_S3S_INVALID_KEY' }, 'a key outside the location')
  await t.rejects(ops.listUploadParts('mp/x.bin', 'no id\n'), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.completeMultipartUpload('mp/x.bin', 'id', []), { code: 'FST_S3S_INVALID_ARGUMENT', message: /1 to 10000 parts/ })
  await t.rejects(ops.completeMultipartUpload('mp/x.bin', 'id', [{ PartNumber: 1 } as never]), { code: 'FST_S3S_INVALID_ARGUMENT', message: /ETag/ })
  await t.rejects(ops.completeMultipartUpload('mp/x.bin', 'id', [{ PartNumber: 1, ETag: 'e' }], { maxBytes: -1 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.completeMultipartUpload('mp/x.bin', 'not-an-upload', [{ PartNumber: 1, ETag: 'e' }]), { code: 'FST_S3S_NOT_FOUND', statusCode: 404 }, 'an unknown upload is 404, not 5xx')
})

t.test('abort leaves no multipart upload', async (t) => {
  const created = await ops.createMultipartUpload('gone.bin')
  await putPart((await ops.signUploadPart(created.key, created.uploadId, 1)).url, randomBytes(1024))
  await ops.abortMultipartUpload(created.key, created.uploadId)
  t.notOk((await openUploads()).some((u) => u.uploadId === created.uploadId))
  t.notOk(await objectExists(raw, bucket, created.key))
})
