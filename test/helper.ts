/**
 * The one helper of the test suite: the S3 server of a test file, raw clients for assertions, apps with the
 * plugin registered, and request builders.
 *
 *   import t from 'tap'
 *   import { startS3, freshBucket, s3Client } from './helper.js'
 *   const s3 = await startS3(t)           // started once for this file, stopped in t.teardown
 *   t.test('...', async (t) => { const bucket = await freshBucket(s3) ... })
 *
 * By default a local SeaweedFS (src/dev/local-s3.ts). With env `S3_TEST_ENDPOINT` set, that endpoint is
 * used instead (MinIO, AWS, ...): `S3_TEST_ACCESS_KEY`, `S3_TEST_SECRET_KEY`, `S3_TEST_REGION` (default
 * us-east-1) and `S3_TEST_BUCKET` (optional: when set, `freshBucket` returns it instead of creating buckets,
 * so tests must use unique keys). With env `S3_TEST_SERVER=versitygw`, a local versitygw per file instead
 * (src/dev/versitygw.ts).
 */
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import http, { request, type Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
  type S3ClientConfig
} from '@aws-sdk/client-s3'
import { startLocalS3, type LocalS3 } from '../src/dev/local-s3.js'
import { startVersityGw } from '../src/dev/versitygw.js'
import s3Storage, { type ProfileOptions, type FastifyS3StorageOptions } from '../src/index.js'

/** Anything with tap's `teardown` (the root `t` or a subtest). */
export interface Teardown { teardown(fn: () => unknown): void }

export interface TestS3 {
  /** `http://127.0.0.1:PORT` (or `S3_TEST_ENDPOINT`); always use path-style addressing. */
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  /** `'external'` when `S3_TEST_ENDPOINT` is set. */
  kind: LocalS3['kind'] | 'external'
  /** The local server (for `restart()`), undefined with an external endpoint. */
  server?: LocalS3
  /** `S3_TEST_BUCKET`, if set. */
  fixedBucket?: string
  /** Buckets made by `freshBucket` on an external endpoint, removed by `stop()`. */
  createdBuckets: string[]
  /** Stops the local server; on an external endpoint, deletes the buckets made by `freshBucket`. */
  stop(): Promise<void>
  /** Creates a bucket of the given name (tests that name their buckets). */
  createBucket(name: string): Promise<void>
}

/** Starts (or connects to) the S3 server; the caller must `stop()` it. */
export async function startTestS3 (): Promise<TestS3> {
  const endpoint = process.env.S3_TEST_ENDPOINT
  if (endpoint) {
    const s3: TestS3 = {
      endpoint,
      region: process.env.S3_TEST_REGION || 'us-east-1',
      accessKeyId: process.env.S3_TEST_ACCESS_KEY || '',
      secretAccessKey: process.env.S3_TEST_SECRET_KEY || '',
      kind: 'external',
      fixedBucket: process.env.S3_TEST_BUCKET || undefined,
      createdBuckets: [],
      stop: () => removeBuckets(s3),
      createBucket: (name) => createNamedBucket(s3, name)
    }
    return s3
  }
  const which = process.env.S3_TEST_SERVER || 'seaweedfs'
  if (which !== 'seaweedfs' && which !== 'versitygw') throw new Error(`S3_TEST_SERVER=${which}: expected seaweedfs or versitygw`)
  const server = which === 'versitygw' ? await startVersityGw() : await startLocalS3()
  const s3: TestS3 = {
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    kind: server.kind,
    server,
    createdBuckets: [],
    stop: () => server.stop(),
    createBucket: (name) => createNamedBucket(s3, name)
  }
  return s3
}

/**
 * The S3 server of a test file (one per file: tap runs files in separate processes), stopped when the
 * file's tests end.
 */
export async function startS3 (t: Teardown): Promise<TestS3> {
  const s3 = await startTestS3()
  t.teardown(() => s3.stop())
  return s3
}

/** A raw SDK client for assertions: path-style, the server's keys, no retries. */
export function s3Client (s3: TestS3, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 1,
    ...overrides
  })
}

/** A random, valid bucket name no other test uses: `<prefix>-<10 hex chars>`. */
export function bucketName (prefix = 'b'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}

async function createNamedBucket (s3: TestS3, name: string): Promise<void> {
  const client = s3Client(s3)
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }))
  } finally {
    client.destroy()
  }
  if (s3.kind === 'external') s3.createdBuckets.push(name)
}

/** Creates a bucket with a random name (or returns `S3_TEST_BUCKET`). */
export async function freshBucket (s3: TestS3, prefix = 'test'): Promise<string> {
  if (s3.fixedBucket) return s3.fixedBucket
  const bucket = bucketName(prefix)
  await s3.createBucket(bucket)
  return bucket
}

/** Creates a bucket with a random name and turns its versioning on (`'Suspended'` to suspend it after). */
export async function freshVersionedBucket (s3: TestS3, prefix = 'ver', status: 'Enabled' | 'Suspended' = 'Enabled'): Promise<string> {
  const bucket = bucketName(prefix)
  await s3.createBucket(bucket)
  const client = s3Client(s3)
  try {
    await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
    if (status === 'Suspended') await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }))
  } finally {
    client.destroy()
  }
  return bucket
}

/** Best effort: empties and deletes the buckets that `freshBucket` made. */
async function removeBuckets (s3: TestS3): Promise<void> {
  const client = s3Client(s3)
  try {
    for (const Bucket of s3.createdBuckets.splice(0)) {
      try {
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }))
        for (const u of uploads.Uploads ?? []) {
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }))
        }
        let token: string | undefined
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }))
          const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }))
          if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }))
          token = page.NextContinuationToken
        } while (token)
        await client.send(new DeleteBucketCommand({ Bucket }))
      } catch {
        // leave it: an external test bucket is not worth failing the suite for
      }
    }
  } finally {
    client.destroy()
  }
}

/** Profile options for a bucket on the test server. */
export function profileFor (s3: TestS3, bucket: string, extra: Partial<ProfileOptions> = {}): ProfileOptions {
  return {
    bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...extra
  }
}

/** Captured log lines (parsed pino JSON) and the stream to give Fastify's logger. */
export function captureLogs (): { stream: Writable, lines: Array<Record<string, unknown>>, text: () => string } {
  const raw: string[] = []
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue
        raw.push(line)
        lines.push(JSON.parse(line))
      }
      done()
    }
  })
  return { stream, lines, text: () => raw.join('\n') }
}

/** A Fastify app with the plugin registered, closed when the test ends. */
export async function buildApp (t: Teardown, options: FastifyS3StorageOptions, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions)
  t.teardown(() => app.close())
  await app.register(s3Storage, options)
  return app
}

/** Reads a stream to a Buffer (test data only: the library itself never does this). */
export async function readAll (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** A multipart/form-data body built by the platform's FormData, for `inject` and `fetch`. */
export async function multipartBody (fields: Array<[string, string] | [string, Blob, string]>): Promise<{ body: Buffer, contentType: string }> {
  const form = new FormData()
  for (const field of fields) {
    if (field.length === 2) form.append(field[0], field[1])
    else form.append(field[0], field[1], field[2])
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form })
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! }
}

/** Whether an object exists, asked of S3 directly. */
export async function objectExists (client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return true
  } catch {
    return false
  }
}

/** Options of {@link postFile}. */
export interface PostFileOptions {
  port: number
  /** The folder URL, e.g. `/ns/files/`. */
  path: string
  filename: string
  /** The bytes, or a chunk repeated up to `size` bytes (a large body without holding it). */
  body: Buffer | { size: number, chunk: Buffer }
  /** Runs after each 1 MiB written; return `'stop'` to drop the connection there (a client going away). */
  during?: (sent: number) => void | 'stop'
  agent?: Agent
}

/**
 * Posts one file as multipart/form-data over a real socket, written in 1 MiB pieces with backpressure, as
 * a browser form would (with `X-Requested-With` and `Accept: application/json`). `'aborted'` when the
 * connection was dropped (by `during`, or by the server).
 */
export function postFile (options: PostFileOptions): Promise<{ status: number, body: string } | 'aborted'> {
  const boundary = 't' + randomBytes(8).toString('hex')
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${options.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const size = Buffer.isBuffer(options.body) ? options.body.length : options.body.size
  const piece = (offset: number): Buffer => {
    const body = options.body
    if (Buffer.isBuffer(body)) return body.subarray(offset, offset + 1024 * 1024)
    return body.chunk.subarray(0, Math.min(body.chunk.length, size - offset))
  }
  return new Promise((resolve) => {
    let done = false
    const finish = (value: { status: number, body: string } | 'aborted'): void => { if (!done) { done = true; resolve(value) } }
    const req = request({
      host: '127.0.0.1',
      port: options.port,
      method: 'POST',
      path: options.path,
      agent: options.agent,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + size + tail.length,
        'x-requested-with': 'test',
        accept: 'application/json'
      }
    }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => finish({ status: res.statusCode!, body: Buffer.concat(parts).toString() }))
    })
    req.on('error', () => finish('aborted'))
    req.write(head)
    let sent = 0
    const write = (): void => {
      while (sent < size) {
        const next = piece(sent)
        sent += next.length
        const ok = req.write(next)
        if (options.during?.(sent) === 'stop') { req.destroy(); finish('aborted'); return }
        if (!ok) { req.once('drain', write); return }
      }
      req.end(tail)
    }
    write()
  })
}

/**
 * Sends a presigned POST as a browser would: the policy's fields, a `Content-Type` field of `type` (the
 * form field, not the file part's header, is what S3 stores and checks against the policy), then the file.
 * Resolves to S3's status.
 */
export async function postToS3 (post: { url: string, fields: Record<string, string> }, content: string | Uint8Array, type: string, filename = 'upload'): Promise<number> {
  const form = new FormData()
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v)
  form.set('Content-Type', type)
  form.append('file', new Blob([content], { type }), filename)
  const res = await fetch(post.url, { method: 'POST', body: form })
  await res.arrayBuffer()
  return res.status
}

/** One request the proxy forwarded, with who signed it. */
export interface SignedRequest {
  method: string
  path: string
  /** From `Authorization: AWS4-HMAC-SHA256 Credential=<id>/…` or a presigned `X-Amz-Credential`. */
  accessKeyId?: string
  /** `x-amz-security-token` header or `X-Amz-Security-Token` query parameter. */
  sessionToken?: string
  /** The status S3 answered with. */
  status?: number
}

/**
 * A transparent HTTP proxy in front of S3 that records which key signed each request. It forwards bytes and
 * headers unchanged (Host included, so signatures stay valid): SeaweedFS still checks every signature.
 */
export async function recordingProxy (t: Teardown, target: string): Promise<{ endpoint: string, requests: SignedRequest[] }> {
  const upstream = new URL(target)
  const requests: SignedRequest[] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const auth = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')
    const query = url.searchParams.get('X-Amz-Credential')
    const record: SignedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      accessKeyId: auth?.[1] ?? query?.split('/')[0],
      sessionToken: (req.headers['x-amz-security-token'] as string | undefined) ?? url.searchParams.get('X-Amz-Security-Token') ?? undefined
    }
    requests.push(record)
    const forward = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers
    }, (answer) => {
      record.status = answer.statusCode
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}
