/**
 * The S3 server of a test file: one per file (tap runs files in separate
 * processes), started once with `getS3(t)` on the root test.
 *
 *   import t from 'tap'
 *   import { getS3, freshBucket, s3Client } from './helper-s3.js'
 *   const s3 = await getS3(t)
 *   t.test('...', async (t) => { const bucket = await freshBucket(s3) ... })
 *
 * By default a local SeaweedFS (src/dev/local-s3.ts). With env
 * `S3_TEST_ENDPOINT` set, that endpoint is used instead (MinIO, AWS, ...):
 * `S3_TEST_ACCESS_KEY`, `S3_TEST_SECRET_KEY`, `S3_TEST_REGION` (default
 * us-east-1) and `S3_TEST_BUCKET` (optional: when set, `freshBucket` returns
 * it instead of creating buckets, so tests must use unique keys).
 * With env `S3_TEST_SERVER=versitygw`, a local versitygw per file instead
 * (src/dev/versitygw.ts).
 */
import { randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig
} from '@aws-sdk/client-s3'
import { startLocalS3, type LocalS3 } from '../src/dev/local-s3.js'
import { startVersityGw } from '../src/dev/versitygw.js'

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
}

/** Anything with tap's `teardown` (the root `t` or a subtest). */
export interface HasTeardown {
  teardown(fn: () => unknown): void
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
      stop: () => removeBuckets(s3)
    }
    return s3
  }
  const which = process.env.S3_TEST_SERVER || 'seaweedfs'
  if (which !== 'seaweedfs' && which !== 'versitygw') throw new Error(`S3_TEST_SERVER=${which}: expected seaweedfs or versitygw`)
  const server = which === 'versitygw' ? await startVersityGw() : await startLocalS3()
  return {
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    kind: server.kind,
    server,
    createdBuckets: [],
    stop: () => server.stop()
  }
}

/** Starts the server of this test file and stops it in `t.teardown`. */
export async function getS3 (t: HasTeardown): Promise<TestS3> {
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

/** A random, valid bucket name: `<prefix>-<12 hex chars>`. */
export function uniqueBucket (prefix = 'test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

/** Creates a bucket with a random name (or returns `S3_TEST_BUCKET`). */
export async function freshBucket (s3: TestS3, prefix = 'test'): Promise<string> {
  if (s3.fixedBucket) return s3.fixedBucket
  const bucket = uniqueBucket(prefix)
  const client = s3Client(s3)
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  } finally {
    client.destroy()
  }
  if (s3.kind === 'external') s3.createdBuckets.push(bucket)
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
