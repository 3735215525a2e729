// Streamed uploads through the browse routes as browsers and broken clients send them, over a real socket:
// names the HTML form encoding escapes, answers that list every stored file when a form fails part-way,
// long names, and metadata rules shared with the direct-upload service.
import t from 'tap'
import net from 'node:net'
import { bucketName, buildApp, objectExists, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('bup')
await s3.createBucket(bucket)
const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { up: { basePath: 'up' } } } })
const address = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))
const exists = async (key: string): Promise<boolean> => await objectExists(raw, bucket, key)

/** Sends a raw request and resolves to the status and body. */
async function send (head: string, body: string | Buffer): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(Number(address.port), address.hostname)
    let answer = ''
    socket.on('data', (chunk) => { answer += chunk.toString('utf8') })
    socket.on('error', reject)
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0)
      resolve({ status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) })
    })
    socket.write(head)
    socket.write(body)
  })
}

function multipartHead (length: number, boundary: string): string {
  return `POST /up/files/ HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${length}\r\n` +
    'x-requested-with: test\r\naccept: application/json\r\nconnection: close\r\n\r\n'
}

function filePart (boundary: string, filename: string, content: string): string {
  return `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: text/plain\r\n\r\n${content}\r\n`
}

t.test('a multipart filename with " arrives as %22 (the HTML form encoding) and is stored with its quotes', async (t) => {
  // What Chromium and Firefox send for a file named `say "hi".txt`.
  const body = filePart('b1', 'say %22hi%22.txt', 'quoted') + '--b1--\r\n'
  const res = await send(multipartHead(Buffer.byteLength(body), 'b1'), body)
  t.equal(res.status, 201, res.body)
  t.equal(JSON.parse(res.body).files[0].name, 'say "hi".txt')
  t.ok(await exists('up/say "hi".txt'))
  t.notOk(await exists('up/say %22hi%22.txt'))
  const lf = filePart('b2', 'line%0Abreak.txt', 'x') + '--b2--\r\n'
  const refused = await send(multipartHead(Buffer.byteLength(lf), 'b2'), lf)
  t.equal(refused.status, 400, 'an encoded line break decodes to a control character, which the key rules refuse')
  t.equal(JSON.parse(refused.body).files[0].code, 'FST_S3S_INVALID_KEY')
})

t.test('a form that breaks after its first file: the answer lists the stored file and the failure', async (t) => {
  const first = filePart('b3', 'kept.txt', 'complete file')
  // The second part never ends: the body stops before its closing boundary (a broken client, a proxy cut).
  const body = first + '--b3\r\ncontent-disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nhalf of a fi'
  const res = await send(multipartHead(Buffer.byteLength(body), 'b3'), body)
  t.equal(res.status, 400)
  const files = JSON.parse(res.body).files as Array<{ name: string, statusCode: number, code?: string }>
  t.match(files[0], { name: 'kept.txt', path: 'kept.txt', statusCode: 201, size: 13, etag: /^"[0-9a-f]+"$/ }, 'the stored file is reported (with its new ETag)')
  t.ok(files.length > 1 && files.slice(1).every((f) => f.statusCode === 400 && f.code === 'FST_S3S_BAD_REQUEST'), 'then the failure')
  t.ok(await exists('up/kept.txt'), 'the first file is stored')
  t.notOk(await exists('up/cut.txt'), 'the cut one is not')
})

t.test('more files than a request may carry: the stored ones are all reported, then a 413 for the rest', async (t) => {
  const boundary = 'b4'
  const count = 1005
  const body = Array.from({ length: count }, (_, i) => filePart(boundary, `many/f${i}.txt`, 'x')).join('') + `--${boundary}--\r\n`
  const res = await send(multipartHead(Buffer.byteLength(body), boundary), body)
  t.equal(res.status, 413)
  const files = JSON.parse(res.body).files as Array<{ name: string, statusCode: number, code?: string, message?: string }>
  const stored = files.filter((f) => f.statusCode === 201)
  t.equal(stored.length, 1000, 'every stored file is in the answer')
  const last = files[files.length - 1]
  t.equal(last.statusCode, 413)
  t.equal(last.code, 'FST_S3S_TOO_LARGE')
  t.match(last.message, /at most 1000 files per request/)
  t.ok(await exists('up/f999.txt'), 'the 1000th file is stored')
  t.notOk(await exists('up/f1000.txt'), 'the 1001st is not')
})

t.test('names over 255 bytes are a clear 400, for files and folders alike, never a 502', async (t) => {
  const long = 'n'.repeat(300)
  const body = filePart('b5', long + '.txt', 'x') + '--b5--\r\n'
  const res = await send(multipartHead(Buffer.byteLength(body), 'b5'), body)
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).files[0].code, 'FST_S3S_INVALID_KEY')
  t.match(JSON.parse(res.body).files[0].message, /longer than 255 bytes/)
  const mkdir = await app.inject({ method: 'POST', url: '/up/mkdir', payload: { path: '', name: 'd'.repeat(300) }, headers: { 'x-requested-with': 'test', accept: 'application/json' } })
  t.equal(mkdir.statusCode, 400)
  t.equal(mkdir.json().code, 'FST_S3S_INVALID_KEY')
  const nested = await app.inject({ url: '/up/files/' + 'x'.repeat(256) + '/', headers: { accept: 'application/json' } })
  t.equal(nested.statusCode, 400, 'a listing of such a folder too')
})

t.test('metadata as S3 takes it: any case, underscores, stored lower-cased; a clear reason when refused', async (t) => {
  const ops = app.storage.operations()
  const stored = await ops.uploadFile('m', 'meta.txt', { preserveFilename: true, metadata: { uploadedBy: 'u1', uploaded_by: 'u2', 'X-Team': 'core' } })
  t.same((await ops.head(stored.filename)).metadata, { uploadedby: 'u1', uploaded_by: 'u2', 'x-team': 'core' })
  await t.rejects(ops.uploadFile('m', 'bad.txt', { metadata: { 'has space': 'x' } }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /HTTP header name/ })
  await t.rejects(ops.uploadFile('m', 'bad.txt', { metadata: { name: 'café' } }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /printable ASCII/ })
  await t.rejects(ops.uploadFile('m', 'bad.txt', { metadata: { a: 'x'.repeat(3000) } }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /2048/ })
  await t.rejects(ops.uploadFile('m', 'bad.txt', { metadata: { Owner: 'a', owner: 'b' } }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /differ only in case/ })
  const uploads = app.storage.uploads({ maxFileSize: 100 })
  const ticket = await uploads.createUpload({ filename: 'a.txt', contentType: 'text/plain', metadata: { uploadedBy: 'user-1', uploaded_by: 'user-1' } })
  t.equal(ticket.fields['x-amz-meta-uploadedby'], 'user-1', 'the direct-upload service takes the metadata its own README shows')
  t.equal(ticket.fields['x-amz-meta-uploaded_by'], 'user-1')
  await t.rejects(uploads.createUpload({ filename: 'a.txt', metadata: { 'Uploaded-By': 'mallory' } }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /the upload service's own/ })
})
