// Shared setup for the plugin's tests: apps registered against the suite's real S3 server.
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { request, type Agent } from 'node:http'
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getS3, s3Client } from './helper-s3.js'
import s3Storage, { type ProfileOptions, type FastifyS3StorageOptions } from '../src/index.js'

/** What a test needs to know of the S3 server it talks to. */
export interface S3Server {
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  createBucket(name: string): Promise<void>
}

interface Teardown { teardown(fn: () => unknown): void }

/** A bucket name no other test uses. */
export function bucketName (label = 'b'): string {
  return `${label}-${randomBytes(5).toString('hex')}`
}

/** Profile options for a bucket on the test server. */
export function profileFor (s3: S3Server, bucket: string, extra: Partial<ProfileOptions> = {}): ProfileOptions {
  return {
    bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...extra
  }
}

/** A raw S3 client for assertions that must not go through the plugin. */
export function rawClient (s3: S3Server): S3Client {
  return s3Client({ ...s3, kind: 'external', createdBuckets: [], stop: async () => {} })
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

/**
 * The S3 server of one test file (see test/helper-s3.ts: the local SeaweedFS, or S3_TEST_ENDPOINT), with a
 * `createBucket(name)` for tests that name their buckets. Stopped when the file's tests end.
 */
export async function startS3 (t: Teardown): Promise<S3Server> {
  const s3 = await getS3(t)
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    async createBucket (name) {
      const client = s3Client(s3)
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }))
      } finally {
        client.destroy()
      }
      if (s3.kind === 'external') s3.createdBuckets.push(name)
    }
  }
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
