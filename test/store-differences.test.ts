/**
 * What the library answers where S3-compatible stores differ (found by running the suite against versitygw
 * as well as SeaweedFS): the same catalog error whatever the store says, and never a 5xx for the caller's
 * input. Runs on whichever server the suite uses.
 *
 *   npx tap --disable-coverage test/store-differences.test.ts                            # SeaweedFS
 *   S3_TEST_SERVER=versitygw npx tap --disable-coverage test/store-differences.test.ts   # versitygw
 */
import t from 'tap'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { copyObject } from '../src/operations/transfer.js'
import { bucketName, buildApp, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('find')
await s3.createBucket(bucket)
const versity = process.env.S3_TEST_SERVER === 'versitygw'

const app = await buildApp(t, {
  profiles: {
    main: profileFor(s3, bucket),
    badKey: profileFor(s3, bucket, { credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'whatever-secret' } }),
    badSecret: profileFor(s3, bucket, { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' } })
  },
  defaultProfile: 'main'
})
const ops = app.storage.operations()
await ops.uploadFile('x', 'present.txt', { preserveFilename: true })

/** The catalog code an operation fails with ('resolved' if it succeeds); the S3 error goes to a comment. */
async function codeOf (t: { comment(message: string): void }, p: Promise<unknown>): Promise<string> {
  try {
    const value = await p as { body?: { destroy(): void } } | undefined
    value?.body?.destroy()
    return 'resolved'
  } catch (err) {
    const e = err as { code?: string, name: string, message: string, cause?: { name?: string, $metadata?: { httpStatusCode?: number } } }
    if (e.cause !== undefined) t.comment(`${e.code}: ${e.message} (S3: ${e.cause.name}, HTTP ${e.cause.$metadata?.httpStatusCode})`)
    return e.code ?? e.name
  }
}

async function keys (prefix: string): Promise<string[]> {
  const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
  return (page.Contents ?? []).map((o) => o.Key as string)
}

t.test('an unknown access key is access denied, not "not found" (versitygw says 404 XAdminUserNotFound)', async (t) => {
  const bad = app.storage.operations('badKey')
  t.equal(await codeOf(t, bad.downloadFile('present.txt')), 'FST_S3S_ACCESS_DENIED', 'download')
  t.equal(await codeOf(t, bad.list()), 'FST_S3S_ACCESS_DENIED', 'list')
  t.equal(await codeOf(t, bad.uploadFile('y', 'new.txt', { preserveFilename: true })), 'FST_S3S_ACCESS_DENIED', 'upload')
  t.equal(await codeOf(t, bad.deleteFile('present.txt')), 'FST_S3S_ACCESS_DENIED', 'delete')
})

t.test('an unknown access key on HEAD: denied where the store says so; versitygw\'s bare 404 cannot be told apart', async (t) => {
  // A HEAD answer has no body: versitygw's 404 for an unknown key carries no code, so head() can only say
  // "not found" there (README, compatibility table). Every other call above names the real cause.
  const bad = app.storage.operations('badKey')
  const expected = versity ? 'FST_S3S_NOT_FOUND' : 'FST_S3S_ACCESS_DENIED'
  t.equal(await codeOf(t, bad.head('present.txt')), expected, 'head')
  t.equal(await codeOf(t, bad.exists('present.txt')), versity ? 'resolved' : 'FST_S3S_ACCESS_DENIED', 'exists')
})

t.test('a wrong secret is access denied (control)', async (t) => {
  const bad = app.storage.operations('badSecret')
  t.equal(await codeOf(t, bad.downloadFile('present.txt')), 'FST_S3S_ACCESS_DENIED')
  t.equal(await codeOf(t, bad.list()), 'FST_S3S_ACCESS_DENIED')
  t.equal(await codeOf(t, bad.head('present.txt')), 'FST_S3S_ACCESS_DENIED')
})

t.test('recursive deleteFolder of a folder made with createFolder, with files in it (guard)', async (t) => {
  // versitygw keeps a marker as an xattr on a directory and refuses DeleteObject(dir/) while it has
  // children: one DeleteObjects batch listing the marker first must still remove everything.
  await ops.createFolder('box')
  await ops.uploadFile('1', 'box/a.txt', { preserveFilename: true })
  await ops.uploadFile('2', 'box/sub/b.txt', { preserveFilename: true })
  const result = await ops.deleteFolder('box', { recursive: true })
  t.same(result.failed, [], 'nothing refused')
  t.same(await keys('box'), [], 'nothing left, marker included')
})

t.test('deleting the last file of a folder made with createFolder keeps the folder (guard)', async (t) => {
  await ops.createFolder('pair')
  await ops.uploadFile('1', 'pair/a.txt', { preserveFilename: true })
  t.same((await ops.deleteFiles(['pair/a.txt'])).failed, [])
  t.same(await keys('pair'), ['pair/'], 'the marker stays')
})

t.test('createFolder where a file of that name exists: 409 FST_S3S_EXISTS (SeaweedFS ExistingObjectIsFile, versitygw ObjectParentIsFile)', async (t) => {
  await ops.uploadFile('f', 'clash', { preserveFilename: true })
  const code = await codeOf(t, ops.createFolder('clash'))
  t.ok(code === 'resolved' || code === 'FST_S3S_EXISTS', code)
  t.not(code, 'FST_S3S_S3_ERROR', 'never a 502')
})

t.test('uploadFile under a file, or where a folder is: stored, or 409, never a 502', async (t) => {
  await ops.uploadFile('f', 'clash2', { preserveFilename: true })
  await ops.createFolder('dir-first')
  for (const [what, run] of [
    ['a file under a file', () => ops.uploadFile('x', 'clash2/inner.txt', { preserveFilename: true })],
    ['a file where a folder is', () => ops.uploadFile('x', 'dir-first', { preserveFilename: true })]
  ] as const) {
    const code = await codeOf(t, run())
    t.ok(code === 'resolved' || code === 'FST_S3S_EXISTS', `${what}: ${code}`)
    if (versity) t.equal(code, 'FST_S3S_EXISTS', 'versitygw keys are file paths: a clear 409')
  }
})

t.test('a name segment over 255 bytes is a 400 before anything is sent (both stores refuse it: KeyTooLongError)', async (t) => {
  const code = await codeOf(t, ops.uploadFile('x', 'long/' + 'n'.repeat(252) + '.txt', { preserveFilename: true }))
  t.equal(code, 'FST_S3S_INVALID_KEY')
  t.same(await keys('long/'), [], 'nothing stored')
})

t.test('createUploadPost without contentType pins the type of its name (versitygw would store binary/octet-stream)', async (t) => {
  const post = await ops.createUploadPost('bare.txt', { maxBytes: 100 })
  const form = new FormData()
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v)
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'bare.txt')
  const res = await fetch(post.url, { method: 'POST', body: form })
  await res.arrayBuffer()
  t.equal(res.status, 204, 'the browser sends the ticket fields and the file, as assets/browse.js does')
  t.equal(post.fields['Content-Type'], 'text/plain', 'the ticket carries the type')
  t.equal((await ops.head('bare.txt')).contentType, 'text/plain', 'stored with the type of its name')
})

t.test('a multipart server-side copy (UploadPartCopy) works (guard)', async (t) => {
  const big = Buffer.alloc(6 * 1024 * 1024, 7)
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: big }))
  await copyObject(raw, { from: { bucket, key: 'big.bin' }, to: { bucket, key: 'big-copy.bin' }, multipartThreshold: 1, partSize: 5 * 1024 * 1024 })
  const back = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: 'big-copy.bin' }))
  ;(back.Body as { destroy(): void }).destroy()
  t.equal(back.ContentLength, big.length)
  t.match(back.ETag, /-2"$/, 'two parts')
})
