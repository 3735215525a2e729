// Hostile input, table-driven: every row names the exact status and error code it must get, no row may get
// a 5xx or hang, and nothing may be written anywhere. Sent over a real socket so no client library
// cleans the request up first. Ends with a seeded fuzz loop over the key builder and the Range parser.
import t, { type Test } from 'tap'
import { connect, type AddressInfo } from 'node:net'
import { ListObjectsV2Command, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { buildKey } from '../src/keys.js'
import { decodeBrowsePath } from '../src/browse/paths.js'
import { parseRange } from '../src/operations/range.js'
import { StorageOperations } from '../src/index.js'
import { bucketName, buildApp, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('hostile')
await s3.createBucket(bucket)
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket, { prefix: 'app' }) },
  browse: { namespaces: { docs: { basePath: 'base', allowedExtensions: ['txt', 'png'], maxUploadBytes: 4096 } } }
})
const ops: StorageOperations = app.storage.operations()
await ops.uploadFile('0123456789', 'ok.txt', { location: 'base', preserveFilename: true })
await ops.uploadFile('outside', 'secret.txt', { preserveFilename: true })
await app.listen({ port: 0, host: '127.0.0.1' })
const port = (app.server.address() as AddressInfo).port

async function allKeys (): Promise<string[]> {
  const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket }))
  return (page.Contents ?? []).map((o) => o.Key!).sort()
}
const initialKeys = await allKeys()

interface RawResponse { status: number, body: string }

/** Sends bytes as they are and reads one HTTP response (or times out: a hang is a failure). */
function sendRaw (request: Buffer | string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer: a hang')) }, timeoutMs)
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))
      if (length === null || text.length >= end + 4 + Number(length[1])) socket.end()
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('utf8')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
    socket.on('error', () => {})
    socket.write(request)
  })
}

function get (path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const lines = [`GET ${path} HTTP/1.1`, 'host: localhost', 'accept: application/json', 'connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return sendRaw(lines.join('\r\n') + '\r\n\r\n')
}

function send (method: string, path: string, headers: Record<string, string>, body: Buffer | string = ''): Promise<RawResponse> {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body)
  const lines = [`${method} ${path} HTTP/1.1`, 'host: localhost', 'accept: application/json', 'x-requested-with: test', 'connection: close', `content-length: ${payload.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return sendRaw(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]))
}

// The route's own code, or for multi-file uploads the worst file's code.
function codeOf (res: RawResponse): string | undefined {
  try {
    const body = JSON.parse(res.body)
    return body.code ?? body.files?.find((f: { statusCode: number }) => f.statusCode === res.status)?.code
  } catch {
    return undefined
  }
}

async function expectNothingWritten (t: Test, what: string): Promise<void> {
  t.same(await allKeys(), initialKeys, `${what}: nothing was written`)
  const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
  t.equal((uploads.Uploads ?? []).length, 0, `${what}: no open multipart upload`)
}

let rows = 0

// ---- keys through the public API -----------------------------------------------------------------------
const badNames: string[] = [
  '..', '.', '../x', 'a/../b', 'a/..', './a', 'a/./b', 'a//b', 'a/', '/a', '//a', '\\a', 'a\\b', 'a\\..\\b',
  ...Array.from({ length: 32 }, (_, i) => `c${String.fromCharCode(i)}x`),
  'del\u007fx', 'c1\u0080x', 'c1\u0085x', 'c1\u009fx',
  'bidi\u202ex', 'bidi\u202dx', 'iso\u2066x', 'iso\u2069x', 'ls\u2028x', 'ps\u2029x',
  'x'.repeat(1025), '한'.repeat(342), 'a/'.repeat(400) + 'b'.repeat(300), ''
]

t.test(`${badNames.length} bad names × 6 API methods: 400 FST_S3S_INVALID_KEY, nothing sent`, async (t) => {
  for (const name of badNames) {
    // Code points spelled out: a raw U+2028 in a test title would break the TAP stream itself.
    const label = [...name.slice(0, 16)].map((c) => /[\x20-\x7e]/.test(c) ? c : `U+${c.codePointAt(0)!.toString(16)}`).join('')
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['uploadFile', () => ops.uploadFile('x', name, { preserveFilename: true })],
      ['downloadFile', () => ops.downloadFile(name)],
      ['getDownloadLink', () => ops.getDownloadLink(name, 5)],
      ['deleteFile', () => ops.deleteFile(name)],
      ['head', () => ops.head(name)],
      ['copyFile', () => ops.copyFile('ok.txt', { location: 'base', toFilename: name })]
    ]
    for (const [method, call] of calls) {
      rows++
      await t.rejects(call(), { code: 'FST_S3S_INVALID_KEY', statusCode: 400 }, `${method} ${label}`)
    }
  }
  await expectNothingWritten(t, 'bad names')
})

t.test('bad locations, profiles, TTLs, ranges, cursors and limits through the API', async (t) => {
  const cases: Array<[string, () => Promise<unknown>, string, number]> = [
    ['location ..', () => ops.uploadFile('x', 'a.txt', { location: '..' }), 'FST_S3S_INVALID_KEY', 400],
    ['location /abs', () => ops.uploadFile('x', 'a.txt', { location: '/abs' }), 'FST_S3S_INVALID_KEY', 400],
    ['location NUL', () => ops.uploadFile('x', 'a.txt', { location: 'a\u0000' }), 'FST_S3S_INVALID_KEY', 400],
    ['toLocation ..', () => ops.copyFile('ok.txt', { location: 'base', toLocation: '../..' }), 'FST_S3S_INVALID_KEY', 400],
    ['unknown profile', () => ops.downloadFile('ok.txt', { profile: 'nope' }), 'FST_S3S_UNKNOWN_PROFILE', 500],
    ['unknown toProfile', () => ops.copyFile('ok.txt', { location: 'base', toProfile: 'nope' }), 'FST_S3S_UNKNOWN_PROFILE', 500],
    ['TTL 0', () => ops.getDownloadLink('ok.txt', 0), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['TTL -5', () => ops.getDownloadLink('ok.txt', -5), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['TTL NaN', () => ops.getDownloadLink('ok.txt', Number.NaN), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['TTL Infinity', () => ops.getDownloadLink('ok.txt', Number.POSITIVE_INFINITY), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['TTL string', () => ops.getDownloadLink('ok.txt', '5' as unknown as number), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['PUT TTL -1', () => ops.getUploadLink('ok.txt', -1), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['POST TTL 0', () => ops.createUploadPost('ok.txt', { expireSeconds: 0 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['POST maxBytes -1', () => ops.createUploadPost('ok.txt', { maxBytes: -1 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['POST maxBytes 6 GiB', () => ops.createUploadPost('ok.txt', { maxBytes: 6 * 1024 ** 3 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['POST maxBytes 1.5', () => ops.createUploadPost('ok.txt', { maxBytes: 1.5 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['range 5-2', () => ops.downloadFile('ok.txt', { location: 'base', range: 'bytes=5-2' }), 'FST_S3S_INVALID_RANGE', 416],
    ['range two', () => ops.downloadFile('ok.txt', { location: 'base', range: 'bytes=0-1,2-3' }), 'FST_S3S_INVALID_RANGE', 416],
    ['range unit', () => ops.downloadFile('ok.txt', { location: 'base', range: 'lines=1-2' }), 'FST_S3S_INVALID_RANGE', 416],
    ['range huge', () => ops.downloadFile('ok.txt', { location: 'base', range: 'bytes=99999999999999999999-' }), 'FST_S3S_INVALID_RANGE', 416],
    ['range -0', () => ops.downloadFile('ok.txt', { location: 'base', range: 'bytes=-0' }), 'FST_S3S_INVALID_RANGE', 416],
    ['range object', () => ops.downloadFile('ok.txt', { location: 'base', range: { start: 3, end: 1 } }), 'FST_S3S_INVALID_RANGE', 416],
    ['range NaN', () => ops.downloadFile('ok.txt', { location: 'base', range: { start: Number.NaN } }), 'FST_S3S_INVALID_RANGE', 416],
    ['range past end', () => ops.downloadFile('ok.txt', { location: 'base', range: 'bytes=100-' }), 'FST_S3S_INVALID_RANGE', 416],
    ['cursor junk', () => ops.list({ cursor: '!!!' }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['cursor huge', () => ops.list({ cursor: 'a'.repeat(5000) }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['limit 0', () => ops.list({ limit: 0 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['limit 1001', () => ops.list({ limit: 1001 }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['delimiter', () => ops.list({ delimiter: '|' as '/' }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['list prefix ..', () => ops.list({ prefix: '../' }), 'FST_S3S_INVALID_KEY', 400],
    ['metadata unicode', () => ops.uploadFile('x', 'm.txt', { metadata: { k: 'ü' } }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['metadata CRLF', () => ops.uploadFile('x', 'm.txt', { metadata: { k: 'a\r\nx-amz-acl: public-read' } }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['metadata key', () => ops.uploadFile('x', 'm.txt', { metadata: { 'a b': 'v' } }), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['maxBytes exceeded', () => ops.uploadFile(Buffer.alloc(10), 'm.txt', { maxBytes: 5 }), 'FST_S3S_TOO_LARGE', 413],
    ['deleteFiles one bad', () => ops.deleteFiles(['ok.txt', '../secret.txt']), 'FST_S3S_INVALID_KEY', 400],
    ['parseS3Url', async () => StorageOperations.parseS3Url('http://x/y'), 'FST_S3S_INVALID_KEY', 400],
    ['folder root', () => ops.deleteFolder(''), 'FST_S3S_INVALID_ARGUMENT', 400],
    ['createFolder ..', () => ops.createFolder('..'), 'FST_S3S_INVALID_KEY', 400]
  ]
  for (const [title, call, code, statusCode] of cases) {
    rows++
    await t.rejects(call(), { code, statusCode }, title)
  }
  await expectNothingWritten(t, 'API arguments')
})

// ---- browse routes ----------------------------------------------------------------------------------------
const routeCases: Array<[string, () => Promise<RawResponse>, number, string | undefined]> = [
  ['unknown namespace', () => get('/nope/files/'), 404, undefined],
  ['unknown namespace upper', () => get('/DOCS/files/'), 404, undefined],
  ['traversal', () => get('/docs/files/../secret.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['traversal %2e', () => get('/docs/files/%2e%2e/secret.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['traversal %252e', () => get('/docs/files/%252e%252e/secret.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['encoded slash', () => get('/docs/files/..%2fsecret.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['backslash', () => get('/docs/files/..%5csecret.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['overlong utf-8', () => get('/docs/files/%c0%ae%c0%ae/secret.txt'), 400, 'FST_ERR_BAD_URL'],
  ['lone %', () => get('/docs/files/%'), 400, 'FST_ERR_BAD_URL'],
  ['NUL', () => get('/docs/files/a%00b'), 400, 'FST_S3S_INVALID_KEY'],
  ['bidi', () => get('/docs/files/a%E2%80%AEb.txt'), 400, 'FST_S3S_INVALID_KEY'],
  ['CRLF', () => get('/docs/files/a%0d%0aset-cookie:x'), 400, 'FST_S3S_INVALID_KEY'],
  ['1025-byte key', () => get('/docs/files/' + 'x'.repeat(1025)), 400, 'FST_S3S_INVALID_KEY'],
  ['raw non-UTF-8 byte', () => sendRaw(Buffer.concat([Buffer.from('GET /docs/files/a'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt HTTP/1.1\r\nhost: x\r\naccept: application/json\r\nconnection: close\r\n\r\n')])), 400, undefined],
  ['empty cursor junk', () => get('/docs/files/?cursor=%00%01'), 400, 'FST_S3S_INVALID_ARGUMENT'],
  ['cursor too long', () => get('/docs/files/?cursor=' + 'A'.repeat(10_000)), 400, 'FST_S3S_INVALID_ARGUMENT'],
  ['search non-UTF-8', () => get('/docs/files/?q=%ff'), 200, undefined],
  ['search 10 KB', () => get('/docs/files/?q=' + 'a'.repeat(10_000)), 200, undefined],
  ['range malformed', () => get('/docs/files/ok.txt', { range: 'bytes=abc' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range reversed', () => get('/docs/files/ok.txt', { range: 'bytes=9-1' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range past end', () => get('/docs/files/ok.txt', { range: 'bytes=10-' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range huge number', () => get('/docs/files/ok.txt', { range: 'bytes=' + '9'.repeat(30) + '-' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range 1000 ranges', () => get('/docs/files/ok.txt', { range: 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i}-${i}`).join(',') }), 200, undefined],
  ['range negative', () => get('/docs/files/ok.txt', { range: 'bytes=-5-3' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range unit', () => get('/docs/files/ok.txt', { range: 'pages=1-2' }), 200, undefined],
  ['range empty', () => get('/docs/files/ok.txt', { range: 'bytes=' }), 416, 'FST_S3S_INVALID_RANGE'],
  ['range on missing', () => get('/docs/files/missing.txt', { range: 'bytes=0-1' }), 404, 'FST_S3S_NOT_FOUND'],
  ['if-modified-since junk', () => get('/docs/files/ok.txt', { 'if-modified-since': 'yesterday' }), 200, undefined],
  ['header flood', () => get('/docs/files/', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, 'v']))), 431, undefined],
  ['huge header', () => get('/docs/files/', { 'x-big': 'a'.repeat(20_000) }), 431, undefined],
  ['delete traversal', () => send('DELETE', '/docs/files/..%2f..%2fsecret.txt', {}), 400, 'FST_S3S_INVALID_KEY'],
  ['delete root', () => send('DELETE', '/docs/files/', {}), 400, 'FST_S3S_BAD_REQUEST'],
  ['delete missing', () => send('DELETE', '/docs/files/missing.txt', {}), 404, 'FST_S3S_NOT_FOUND'],
  ['delete without CSRF', () => sendRaw('DELETE /docs/files/ok.txt HTTP/1.1\r\nhost: x\r\naccept: application/json\r\nconnection: close\r\n\r\n'), 403, 'FST_S3S_CSRF'],
  ['mkdir traversal', () => send('POST', '/docs/mkdir', { 'content-type': 'application/json' }, '{"path":"../","name":"x"}'), 400, 'FST_S3S_INVALID_KEY'],
  ['mkdir no name', () => send('POST', '/docs/mkdir', { 'content-type': 'application/json' }, '{"path":""}'), 400, 'FST_S3S_BAD_REQUEST'],
  ['mkdir bad JSON', () => send('POST', '/docs/mkdir', { 'content-type': 'application/json' }, '{"path":'), 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
  ['mkdir name NUL', () => send('POST', '/docs/mkdir', { 'content-type': 'application/json' }, '{"path":"","name":"a\\u0000"}'), 400, 'FST_S3S_INVALID_KEY'],
  ['mkdir path number', () => send('POST', '/docs/mkdir', { 'content-type': 'application/json' }, '{"path":5,"name":"a"}'), 400, 'FST_S3S_INVALID_KEY'],
  ['upload to a file URL', () => send('POST', '/docs/files/ok.txt', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--\r\n'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload not multipart', () => send('POST', '/docs/files/', { 'content-type': 'application/json' }, '{}'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload no boundary', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data' }, 'junk'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload empty body', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, ''), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload garbage', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, 'garbage garbage'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload truncated', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\ncontent-disposition: form-data; name="file"; filename="t.txt"\r\n\r\nhalf a fi'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload no filename', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\ncontent-disposition: form-data; name="file"; filename=""\r\n\r\nabc\r\n--x--\r\n'), 400, 'FST_S3S_BAD_REQUEST'],
  ['upload bad extension', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\ncontent-disposition: form-data; name="file"; filename="evil.exe"\r\n\r\nMZ\r\n--x--\r\n'), 415, 'FST_S3S_TYPE_NOT_ALLOWED'],
  ['upload control name', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\ncontent-disposition: form-data; name="file"; filename="a\u0001.txt"\r\n\r\nx\r\n--x--\r\n'), 400, 'FST_S3S_INVALID_KEY'],
  ['upload too large', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, `--x\r\ncontent-disposition: form-data; name="file"; filename="big.txt"\r\n\r\n${'a'.repeat(5000)}\r\n--x--\r\n`), 413, 'FST_S3S_TOO_LARGE'],
  ['upload 5000 tiny parts', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, Array.from({ length: 5000 }, (_, i) => `--x\r\ncontent-disposition: form-data; name="f${i}"\r\n\r\nv\r\n`).join('') + '--x--\r\n'), 413, 'FST_FIELDS_LIMIT'],
  // busboy keeps the first 100 header pairs of a part and drops the rest; the part is then judged as usual.
  ['upload part header flood', () => send('POST', '/docs/files/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\ncontent-disposition: form-data; name="file"; filename="h.exe"\r\n' + Array.from({ length: 500 }, (_, i) => `x-h${i}: v\r\n`).join('') + '\r\nx\r\n--x--\r\n'), 415, 'FST_S3S_TYPE_NOT_ALLOWED'],
  ['presign in stream mode', () => send('POST', '/docs/presign', { 'content-type': 'application/json' }, '{"files":[]}'), 404, undefined]
]

t.test(`${routeCases.length} hostile requests to the browse routes`, async (t) => {
  for (const [title, call, status, code] of routeCases) {
    rows++
    const res = await call()
    t.equal(res.status, status, `${title}: status`)
    t.ok(res.status < 500, `${title}: never a 5xx`)
    if (code !== undefined) t.equal(codeOf(res), code, `${title}: code`)
    t.notMatch(res.body, /outside/, `${title}: nothing from outside basePath`)
  }
  const after = await get('/docs/files/ok.txt')
  t.equal(after.status, 200, 'the app still serves')
  await expectNothingWritten(t, 'browse routes')
})

t.test('at least 200 hostile inputs were checked', async (t) => {
  t.ok(rows >= 200, `${rows} rows`)
})

// ---- fuzz -------------------------------------------------------------------------------------------------
function mulberry32 (seed: number): () => number {
  let a = seed
  return () => {
    a |= 0; a = a + 0x6D2B79F5 | 0
    let r = Math.imul(a ^ a >>> 15, 1 | a)
    r = r + Math.imul(r ^ r >>> 7, 61 | r) ^ r
    return ((r ^ r >>> 14) >>> 0) / 4294967296
  }
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_KEY = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029\\]/
const ALPHABET = ['a', 'b', '.', '..', '/', '\\', '%', '%2e', '%2f', '%25', '%c0%ae', '\u0000', '\n', '\u202e', '한', '😀', ' ', '-', '~', 'ü', 'e\u0301', '%ff', '%00']

t.test('fuzz: the key builder and URL decoder never leave the prefix, never admit control bytes', async (t) => {
  const random = mulberry32(20261127)
  const deadline = Date.now() + 3000
  let tried = 0
  let accepted = 0
  for (; tried < 20_000 && Date.now() < deadline; tried++) {
    let input = ''
    const parts = 1 + Math.floor(random() * 12)
    for (let i = 0; i < parts; i++) {
      input += random() < 0.1 ? String.fromCharCode(Math.floor(random() * 0x3000)) : ALPHABET[Math.floor(random() * ALPHABET.length)]
    }
    for (const build of [() => buildKey('pre/', 'loc', input), () => 'pre/loc/' + decodeBrowsePath(input).path]) {
      let key: string
      try {
        key = build()
      } catch (err) {
        const code = (err as { code?: string }).code
        if (code !== 'FST_S3S_INVALID_KEY') t.fail(`unexpected error ${code} for ${JSON.stringify(input)}`)
        continue
      }
      accepted++
      const segments = key.split('/')
      if (!key.startsWith('pre/loc/') || segments.includes('..') || segments.includes('.') ||
        UNSAFE_IN_KEY.test(key) || Buffer.byteLength(key) > 1024) {
        t.fail(`unsafe key ${JSON.stringify(key)} from ${JSON.stringify(input)}`)
      }
    }
  }
  t.ok(tried > 1000, `${tried} inputs, ${accepted} accepted as safe keys`)
})

t.test('fuzz: the Range parser never throws and only passes single well-formed ranges', async (t) => {
  const random = mulberry32(7)
  const pieces = ['bytes', 'BYTES', '=', '-', ',', ' ', '0', '1', '9', '99999999999999999999', 'a', ';', '\t', 'items']
  let tried = 0
  const deadline = Date.now() + 2000
  for (; tried < 20_000 && Date.now() < deadline; tried++) {
    let header = ''
    const n = Math.floor(random() * 10)
    for (let i = 0; i < n; i++) header += pieces[Math.floor(random() * pieces.length)]
    let result
    try {
      result = parseRange(header)
    } catch (err) {
      t.fail(`parseRange threw for ${JSON.stringify(header)}: ${(err as Error).message}`)
      continue
    }
    if (result.kind === 'single' && !/^bytes=(\d+-\d*|-\d+)$/.test(result.header)) t.fail(`bad range passed: ${JSON.stringify(header)}`)
  }
  t.ok(tried > 1000, `${tried} headers`)
})
