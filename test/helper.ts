// Shared setup for the plugin's tests: apps registered against the suite's real S3 server.
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { startLocalS3 } from '../src/dev/local-s3.js'
import s3Storage, { type ProfileOptions, type S3StorageOptions } from '../src/index.js'

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
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
  })
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
export async function buildApp (t: Teardown, options: S3StorageOptions, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
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
 * The S3 server of one test file: the local SeaweedFS (started on free ports with a temp dir and real keys),
 * or the endpoint named by S3_TEST_ENDPOINT / S3_TEST_ACCESS_KEY / S3_TEST_SECRET_KEY / S3_TEST_REGION.
 * Stopped when the file's tests end.
 */
export async function startS3 (t: Teardown): Promise<S3Server> {
  const endpoint = process.env.S3_TEST_ENDPOINT
  if (endpoint !== undefined && endpoint !== '') {
    const server: S3Server = {
      endpoint,
      region: process.env.S3_TEST_REGION ?? 'us-east-1',
      accessKeyId: process.env.S3_TEST_ACCESS_KEY ?? '',
      secretAccessKey: process.env.S3_TEST_SECRET_KEY ?? '',
      async createBucket (name) {
        const client = rawClient(server)
        try {
          await client.send(new CreateBucketCommand({ Bucket: name }))
        } finally {
          client.destroy()
        }
      }
    }
    return server
  }
  const s3 = await startLocalS3()
  t.teardown(() => s3.stop())
  return s3
}
