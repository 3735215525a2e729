// Every StorageOperations method, over the wire against the suite's S3 server.
import t from 'tap'
import { Readable } from 'node:stream'
import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { StorageOperations } from '../src/index.js'
import { bucketName, buildApp, captureLogs, postToS3, profileFor, s3Client, readAll, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const mainBucket = bucketName('main')
const otherBucket = bucketName('other')
await s3.createBucket(mainBucket)
await s3.createBucket(otherBucket)

const logs = captureLogs()
const app = await buildApp(t, {
  profiles: {
    main: profileFor(s3, mainBucket, { prefix: 'app1' }),
    other: profileFor(s3, otherBucket, { maxLinkTtlSeconds: 600 }),
    sums: profileFor(s3, mainBucket, { prefix: 'sums', checksums: 'WHEN_SUPPORTED' })
  },
  defaultProfile: 'main'
}, { logger: { level: 'debug', stream: logs.stream } })
const ops = app.storage.operations()

async function headRaw (bucket: string, key: string): Promise<number | undefined> {
  try {
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return head.ContentLength
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined
    throw err
  }
}

async function openUploads (bucket: string, prefix: string): Promise<number> {
  const result = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))
  return (result.Uploads ?? []).length
}

t.test('uploadFile stores a buffer under a UUID name keeping the extension, under prefix and location', async (t) => {
  const result = await ops.uploadFile(Buffer.from('hello'), 'Report.PDF', { location: 'invoices' })
  t.match(result.filename, /^[0-9a-f-]{36}\.PDF$/)
  t.equal(result.key, `app1/invoices/${result.filename}`)
  t.equal(result.size, 5)
  t.equal(result.contentType, 'application/pdf', 'content type guessed from the extension')
  t.ok(result.etag)
  t.equal(await headRaw(mainBucket, result.key), 5, 'the object is where the key says')
  t.ok(await ops.exists(result.filename, { location: 'invoices' }))
  t.notOk(await ops.exists(result.filename), 'not in the profile root')
  const info = await ops.head(result.filename, { location: 'invoices' })
  t.equal(info.size, 5)
  t.equal(info.contentType, 'application/pdf')
})

t.test('uploadFile accepts strings, metadata, content type and encoding', async (t) => {
  const result = await ops.uploadFile('{"a":1}', 'data.bin', {
    preserveFilename: true, contentType: 'application/json', contentEncoding: 'identity', metadata: { owner: 'u-1' }
  })
  t.equal(result.filename, 'data.bin')
  const info = await ops.head('data.bin')
  t.equal(info.contentType, 'application/json')
  t.same(info.metadata, { owner: 'u-1' })
  await t.rejects(ops.uploadFile('x', 'm.txt', { metadata: { name: '한글' } }), { code: 'FST_S3S_INVALID_ARGUMENT', statusCode: 400 })
  await t.rejects(ops.uploadFile('x', 'm.txt', { metadata: { 'bad key': 'v' } }), { code: 'FST_S3S_INVALID_ARGUMENT' })
})

t.test('Unicode names round-trip exactly (NFC, NFD, emoji)', async (t) => {
  const names = ['한글.txt'.normalize('NFC'), '한글.txt'.normalize('NFD'), 'emoji 😀 ü.txt', 'v1..2.txt', 'a +b&c=d%20.txt']
  for (const name of names) await ops.uploadFile(Buffer.from(name), name, { preserveFilename: true, location: 'unicode' })
  const page = await ops.list({ location: 'unicode' })
  t.same(page.files.map((f) => f.name).sort(), [...names].sort(), 'list returns the exact names, NFC and NFD both')
  for (const name of names) {
    const file = await ops.downloadFile(name, { location: 'unicode' })
    t.equal((await readAll(file.body)).toString(), name)
  }
})

t.test('a 50 MiB stream goes multipart with the SDK default checksums on', async (t) => {
  const size = 50 * 1024 * 1024
  const chunk = randomBytes(1024 * 1024)
  const hash = createHash('sha256')
  let sent = 0
  const body = new Readable({
    read () {
      if (sent >= size) { this.push(null); return }
      hash.update(chunk)
      sent += chunk.length
      this.push(chunk)
    }
  })
  const result = await app.storage.operations('sums').uploadFile(body, 'big.bin', { preserveFilename: true })
  t.equal(result.size, size)
  t.match(result.etag, /-\d+"?$/, 'a multipart ETag (md5-of-parts-N)')
  const file = await app.storage.operations('sums').downloadFile('big.bin')
  t.equal(file.contentLength, size)
  const back = createHash('sha256')
  for await (const part of file.body) back.update(part as Buffer)
  t.equal(back.digest('hex'), hash.digest('hex'), 'every byte came back')
})

t.test('a failed stream upload leaves no object and no open multipart upload', async (t) => {
  let sent = 0
  const body = new Readable({
    read () {
      if (sent >= 20 * 1024 * 1024) { this.destroy(new Error('client went away')); return }
      sent += 1024 * 1024
      this.push(randomBytes(1024 * 1024))
    }
  })
  await t.rejects(ops.uploadFile(body, 'broken.bin', { preserveFilename: true, location: 'failed' }), /client went away/)
  await sleep(200)
  t.equal(await headRaw(mainBucket, 'app1/failed/broken.bin'), undefined, 'no object')
  t.equal(await openUploads(mainBucket, 'app1/failed/'), 0, 'no open multipart upload')
})

t.test('maxBytes refuses an oversize stream with 413 and leaves nothing', async (t) => {
  const body = Readable.from((function * () { for (let i = 0; i < 12; i++) yield randomBytes(1024 * 1024) })())
  await t.rejects(ops.uploadFile(body, 'huge.bin', { preserveFilename: true, location: 'limit', maxBytes: 10 * 1024 * 1024 }),
    { code: 'FST_S3S_TOO_LARGE', statusCode: 413 })
  await t.rejects(ops.uploadFile(Buffer.alloc(11), 'small.bin', { location: 'limit', maxBytes: 10 }), { code: 'FST_S3S_TOO_LARGE' })
  await sleep(200)
  t.equal(await headRaw(mainBucket, 'app1/limit/huge.bin'), undefined)
  t.equal(await openUploads(mainBucket, 'app1/limit/'), 0)
})

t.test('ranged downloads', async (t) => {
  const data = Buffer.from('0123456789abcdef')
  await ops.uploadFile(data, 'range.txt', { preserveFilename: true })
  const first = await ops.downloadFile('range.txt', { range: { start: 0, end: 3 } })
  t.equal((await readAll(first.body)).toString(), '0123')
  t.equal(first.contentRange, 'bytes 0-3/16')
  t.equal(first.contentLength, 4)
  const open = await ops.downloadFile('range.txt', { range: 'bytes=10-' })
  t.equal((await readAll(open.body)).toString(), 'abcdef')
  const suffix = await ops.downloadFile('range.txt', { range: 'bytes=-3' })
  t.equal((await readAll(suffix.body)).toString(), 'def')
  await t.rejects(ops.downloadFile('range.txt', { range: 'bytes=5-2' }), { code: 'FST_S3S_INVALID_RANGE', statusCode: 416 })
  await t.rejects(ops.downloadFile('range.txt', { range: 'bytes=0-1,3-4' }), { code: 'FST_S3S_INVALID_RANGE' })
  await t.rejects(ops.downloadFile('range.txt', { range: 'items=0-1' }), { code: 'FST_S3S_INVALID_RANGE' })
  await t.rejects(ops.downloadFile('range.txt', { range: { start: -1 } }), { code: 'FST_S3S_INVALID_RANGE' })
  await t.rejects(ops.downloadFile('range.txt', { range: 'bytes=100-200' }), { code: 'FST_S3S_INVALID_RANGE', statusCode: 416 }, 'past the end: S3 says 416')
})

t.test('downloads of missing keys are 404; conditional reads are 304', async (t) => {
  await t.rejects(ops.downloadFile('nope.txt'), { code: 'FST_S3S_NOT_FOUND', statusCode: 404 })
  await t.rejects(ops.head('nope.txt'), { code: 'FST_S3S_NOT_FOUND', statusCode: 404 })
  const { etag } = await ops.head('range.txt')
  await t.rejects(ops.downloadFile('range.txt', { ifNoneMatch: etag }), { code: 'FST_S3S_NOT_MODIFIED', statusCode: 304 })
})

t.test('presigned GET works with fetch, names the download, and expires', async (t) => {
  await ops.uploadFile(Buffer.from('linked'), 'link.txt', { preserveFilename: true })
  const url = await ops.getDownloadLink('link.txt', 5, { downloadName: '보고서 "final".txt' })
  const res = await fetch(url)
  t.equal(res.status, 200)
  t.equal(await res.text(), 'linked')
  const disposition = res.headers.get('content-disposition') ?? ''
  t.match(disposition, /^attachment; filename="(?:[^"\\]|\\.)*"; filename\*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C%20%22final%22\.txt$/)
  const short = await ops.getDownloadLink('link.txt', 1 / 60)
  t.match(short, /X-Amz-Expires=1(&|$)/)
  await sleep(2100)
  const expired = await fetch(short)
  t.equal(expired.status, 403, 'an expired link is refused')
})

t.test('link lifetimes over the ceiling are clamped with a warning, never refused', async (t) => {
  const other = app.storage.operations('other')
  const url = await other.getDownloadLink('x.txt', 24 * 60)
  t.match(url, /X-Amz-Expires=600(&|$)/)
  const warning = logs.lines.find((l) => l.msg === 'presigned link lifetime clamped to the profile ceiling')
  t.ok(warning, 'a warning was logged')
  t.equal(warning?.requestedSeconds, 86400)
  t.equal(warning?.maxSeconds, 600)
  t.match(await ops.getDownloadLink('x.txt', 10 * 24 * 60), /X-Amz-Expires=604800(&|$)/, 'the 7-day SigV4 limit is the default ceiling')
  await t.rejects(ops.getDownloadLink('x.txt', 0), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.getDownloadLink('x.txt', Number.NaN), { code: 'FST_S3S_INVALID_ARGUMENT' })
})

t.test('presigned PUT: Content-Type is signed', async (t) => {
  const url = await ops.getUploadLink('put.csv', 5, { contentType: 'text/csv' })
  t.match(new URL(url).searchParams.get('X-Amz-SignedHeaders') ?? '', /content-type/)
  const ok = await fetch(url, { method: 'PUT', body: 'a,b\n', headers: { 'content-type': 'text/csv' } })
  t.equal(ok.status, 200, 'with the signed Content-Type')
  t.equal((await ops.head('put.csv')).contentType, 'text/csv')
  const wrong = await fetch(url, { method: 'PUT', body: 'evil', headers: { 'content-type': 'text/html' } })
  t.equal(wrong.status, 403, 'another Content-Type breaks the signature')
  const file = await ops.downloadFile('put.csv')
  t.equal((await readAll(file.body)).toString(), 'a,b\n', 'the refused PUT changed nothing')
  const dflt = await ops.getUploadLink('put.bin', 5)
  const res = await fetch(dflt, { method: 'PUT', body: 'x', headers: { 'content-type': 'application/octet-stream' } })
  t.equal(res.status, 200, 'default Content-Type is application/octet-stream')
})

t.test('presigned POST: a real multipart form within and over its limits', async (t) => {
  const post = await ops.createUploadPost('post.txt', { maxBytes: 10, contentType: 'text/plain', expireSeconds: 60, metadata: { owner: 'u-2' } })
  t.equal(post.key, 'app1/post.txt')
  t.equal(post.maxBytes, 10)
  t.equal(post.expiresIn, 60)
  const send = async (content: string, type = 'text/plain'): Promise<number> => await postToS3(post, content, type, 'post.txt')
  t.equal(await send('x'.repeat(11)), 400, 'one byte over maxBytes is refused')
  t.equal(await headRaw(mainBucket, 'app1/post.txt'), undefined)
  t.equal(await send('x'.repeat(10)), 204, 'exactly maxBytes is accepted: the range measures the file, not the form')
  const info = await ops.head('post.txt')
  t.equal(info.size, 10)
  t.same(info.metadata, { owner: 'u-2' })
  const policy = JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8'))
  t.same(policy.conditions.find((c: unknown) => Array.isArray(c) && c[0] === 'content-length-range'), ['content-length-range', 0, 10])
  t.ok(policy.conditions.some((c: Record<string, string>) => c['Content-Type'] === 'text/plain'), 'the policy pins the Content-Type')
  await t.rejects(ops.createUploadPost('x', { maxBytes: 0 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
})

t.test('duplicateFile copies server-side to a fresh UUID name', async (t) => {
  await ops.uploadFile(Buffer.from('dup'), 'docs/orig.md', { preserveFilename: true })
  const copy = await ops.duplicateFile('docs/orig.md')
  t.match(copy, /^docs\/[0-9a-f-]{36}\.md$/)
  const file = await ops.downloadFile(copy)
  t.equal((await readAll(file.body)).toString(), 'dup')
  t.ok(await ops.exists('docs/orig.md'), 'the original stays')
})

t.test('copyFile to another location, profile and bucket', async (t) => {
  await ops.uploadFile(Buffer.from('copy me'), 'c.txt', { preserveFilename: true, location: 'src' })
  const local = await ops.copyFile('c.txt', { location: 'src', toLocation: 'dst', toFilename: 'c2.txt' })
  t.same(local, { key: 'app1/dst/c2.txt', filename: 'c2.txt', method: 'server-side' })
  const across = await ops.copyFile('c.txt', { location: 'src', toProfile: 'other' })
  t.same(across, { key: 'src/c.txt', filename: 'c.txt', method: 'server-side' })
  const got = await raw.send(new GetObjectCommand({ Bucket: otherBucket, Key: 'src/c.txt' }))
  t.equal(await got.Body!.transformToString(), 'copy me')
  await t.rejects(ops.copyFile('c.txt', { location: 'src' }), { code: 'FST_S3S_INVALID_ARGUMENT' }, 'copying onto itself')
  await t.rejects(ops.copyFile('missing.txt', { toLocation: 'dst' }), { code: 'FST_S3S_NOT_FOUND' })
})

t.test('deleteFile and a batch delete of 2500 keys across two profiles', async (t) => {
  await ops.uploadFile(Buffer.from('bye'), 'gone.txt', { preserveFilename: true })
  await ops.deleteFile('gone.txt')
  t.notOk(await ops.exists('gone.txt'))
  await t.resolves(ops.deleteFile('gone.txt'), 'deleting a missing file succeeds')

  const names = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(4, '0')}`)
  const queue = [...names]
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      await raw.send(new PutObjectCommand({ Bucket: mainBucket, Key: `app1/batch/${name}`, Body: '' }))
    }
  }))
  await raw.send(new PutObjectCommand({ Bucket: otherBucket, Key: 'batch/x', Body: '' }))
  const result = await ops.deleteFiles([...names, { filename: 'x', profile: 'other' }], { location: 'batch' })
  t.equal(result.deleted.length, 2501)
  t.same(result.failed, [])
  const left = await raw.send(new ListObjectsV2Command({ Bucket: mainBucket, Prefix: 'app1/batch/' }))
  t.equal(left.KeyCount ?? 0, 0, 'all 2500 gone')
  t.equal(await headRaw(otherBucket, 'batch/x'), undefined)
  await t.rejects(ops.deleteFiles(['fine', '../escape']), { code: 'FST_S3S_INVALID_KEY' }, 'one bad key: nothing is sent')
})

t.test('list pages with opaque cursors, folders first; listAll walks every key', async (t) => {
  for (const name of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/deep/e.txt']) {
    await ops.uploadFile(Buffer.from(name), name, { preserveFilename: true, location: 'listing' })
  }
  const first = await ops.list({ location: 'listing', limit: 2 })
  t.equal(first.files.length + first.folders.length, 2)
  t.ok(first.nextCursor)
  const seen = [...first.files.map((f) => f.name), ...first.folders.map((f) => f.name)]
  let cursor = first.nextCursor
  while (cursor !== undefined) {
    const page = await ops.list({ location: 'listing', limit: 2, cursor })
    seen.push(...page.files.map((f) => f.name), ...page.folders.map((f) => f.name))
    cursor = page.nextCursor
  }
  t.same(seen.sort(), ['a.txt', 'b.txt', 'c.txt', 'sub/'])
  const sub = await ops.list({ location: 'listing', prefix: 'sub/' })
  t.same(sub.files.map((f) => f.name), ['sub/d.txt'])
  t.same(sub.folders.map((f) => f.name), ['sub/deep/'])
  const all: string[] = []
  for await (const file of ops.listAll({ location: 'listing', limit: 2 })) all.push(file.name)
  t.same(all.sort(), ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/deep/e.txt'])
  await t.rejects(ops.list({ cursor: 'not a cursor!' }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await t.rejects(ops.list({ prefix: '../' }), { code: 'FST_S3S_INVALID_KEY' })
  await t.rejects(ops.list({ limit: 5000 }), { code: 'FST_S3S_INVALID_ARGUMENT' })
})

t.test('bad keys are refused with 400 before anything reaches S3', async (t) => {
  for (const name of ['../x', '/abs', 'a//b', 'a\u0000b', 'a/./b', 'x'.repeat(1025)]) {
    await t.rejects(ops.uploadFile('x', name, { preserveFilename: true }), { code: 'FST_S3S_INVALID_KEY', statusCode: 400 }, JSON.stringify(name).slice(0, 20))
    await t.rejects(ops.downloadFile(name), { code: 'FST_S3S_INVALID_KEY' })
    await t.rejects(ops.getDownloadLink(name, 1), { code: 'FST_S3S_INVALID_KEY' })
  }
  await t.rejects(ops.uploadFile('x', 'ok.txt', { location: '../up' }), { code: 'FST_S3S_INVALID_KEY', message: /location/ })
})

t.test('unknown profiles are refused', async (t) => {
  await t.rejects(ops.downloadFile('a.txt', { profile: 'nope' }), { code: 'FST_S3S_UNKNOWN_PROFILE', message: 'Unknown storage profile "nope"' })
  t.throws(() => app.storage.operations('nope'), { code: 'FST_S3S_UNKNOWN_PROFILE' })
})

t.test('a subclass sets defaults once; per-call options win', async (t) => {
  class Invoices extends StorageOperations {
    static override storageLocation = 'invoices'
    static override storageProfile = 'other'
  }
  const invoices = app.storage.use(Invoices)
  t.ok(invoices instanceof Invoices)
  t.equal(invoices.profile, 'other')
  t.equal(invoices.location, 'invoices')
  const stored = await invoices.uploadFile(Buffer.from('inv'), 'inv.pdf')
  t.equal(stored.key, `invoices/${stored.filename}`)
  t.equal(await headRaw(otherBucket, stored.key), 3, 'in the other profile\'s bucket')
  const overridden = await invoices.uploadFile(Buffer.from('x'), 'y.txt', { profile: 'main', location: 'elsewhere', preserveFilename: true })
  t.equal(overridden.key, 'app1/elsewhere/y.txt')
  class Broken extends StorageOperations { static override storageProfile = 'missing' }
  t.throws(() => app.storage.use(Broken), { code: 'FST_S3S_UNKNOWN_PROFILE' })
})

t.test('req.storage works in a route, uses the default profile and the request logger', async (t) => {
  const routed = await buildApp(t, { profiles: { main: profileFor(s3, mainBucket, { prefix: 'app1' }) } })
  routed.get<{ Params: { name: string } }>('/file/:name', async (req, reply) => {
    t.equal(req.storage, req.storage, 'built once per request')
    const file = await req.storage.downloadFile(req.params.name)
    reply.header('content-type', file.contentType)
    return reply.send(file.body)
  })
  routed.get('/untouched', async () => 'ok')
  const res = await routed.inject('/file/range.txt')
  t.equal(res.statusCode, 200)
  t.equal(res.body, '0123456789abcdef')
  const missing = await routed.inject('/file/missing.txt')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FST_S3S_NOT_FOUND')
  t.equal((await routed.inject('/untouched')).body, 'ok')
})

t.test('S3 errors map to the catalog', async (t) => {
  const errApp = await buildApp(t, {
    profiles: {
      wrongSecret: profileFor(s3, mainBucket, { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong-secret' } }),
      noBucket: profileFor(s3, bucketName('missing')),
      down: { ...profileFor(s3, mainBucket), endpoint: 'http://127.0.0.1:9', clientConfig: { maxAttempts: 1 } }
    },
    defaultProfile: 'wrongSecret'
  })
  const storage = errApp.storage
  await t.rejects(storage.operations('wrongSecret').downloadFile('range.txt'), { code: 'FST_S3S_ACCESS_DENIED', statusCode: 403 })
  await t.rejects(storage.operations('wrongSecret').head('range.txt'), { code: 'FST_S3S_ACCESS_DENIED', statusCode: 403 }, 'a HEAD 403 has no body')
  await t.rejects(storage.operations('noBucket').downloadFile('a.txt'), { code: 'FST_S3S_S3_ERROR', statusCode: 502, message: /NoSuchBucket/ })
  await t.rejects(storage.operations('down').downloadFile('a.txt'), { code: 'FST_S3S_S3_UNAVAILABLE', statusCode: 503 })
})

t.test('logs carry key hashes, never secrets', async (t) => {
  t.notMatch(logs.text(), s3.secretAccessKey)
  t.ok(logs.lines.some((l) => l.msg === 'storage upload' && typeof l.keyHash === 'string'))
})

t.test('ifNoneMatch refuses to overwrite an existing object, small or multipart', async (t) => {
  await ops.uploadFile(Buffer.from('first'), 'once.txt', { preserveFilename: true })
  await t.rejects(ops.uploadFile(Buffer.from('second'), 'once.txt', { preserveFilename: true, ifNoneMatch: true }),
    { code: 'FST_S3S_PRECONDITION_FAILED', statusCode: 412 })
  const big = Readable.from((function * () { for (let i = 0; i < 10; i++) yield Buffer.alloc(1024 * 1024, i) })())
  await t.rejects(ops.uploadFile(big, 'once.txt', { preserveFilename: true, ifNoneMatch: true }),
    { code: 'FST_S3S_PRECONDITION_FAILED' }, 'multipart too')
  const file = await ops.downloadFile('once.txt')
  t.equal((await readAll(file.body)).toString(), 'first', 'the original is intact')
  t.equal(await openUploads(mainBucket, 'app1/once.txt'), 0, 'the refused multipart upload was aborted')
  const fresh = await ops.uploadFile(Buffer.from('new'), 'fresh.txt', { preserveFilename: true, ifNoneMatch: true })
  t.equal(fresh.size, 3, 'a new key is written')
})

t.test('getUploadLink works with either checksum policy: the link never carries a checksum of an empty body', async (t) => {
  for (const checksums of ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const) {
    const policyApp = await buildApp(t, { profiles: { main: profileFor(s3, mainBucket, { prefix: `sums-${checksums}`, checksums }) } })
    const link = await policyApp.storage.operations().getUploadLink('put.txt', 5, { contentType: 'text/plain' })
    t.notMatch(link, /checksum/i, `${checksums}: no checksum parameter`)
    const res = await fetch(link, { method: 'PUT', body: `stored with ${checksums}`, headers: { 'content-type': 'text/plain' } })
    t.equal(res.status, 200, `${checksums}: a real, non-empty PUT is accepted`)
    const back = await policyApp.storage.operations().downloadFile('put.txt')
    t.equal((await readAll(back.body)).toString(), `stored with ${checksums}`)
  }
})
