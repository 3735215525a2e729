/**
 * Moving bytes: streamed uploads through lib-storage, downloads piped from S3, server-side and streamed
 * copies. Plain functions over (client, bucket, key); keys are already built, errors mapped by the caller.
 */
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCopyCommand,
  type CompletedPart, type CreateMultipartUploadCommandOutput, type S3Client
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { FST_S3S_TOO_LARGE } from '../errors.js'
import { abortMultipartUpload } from './multipart.js'
import { headObject } from './objects.js'
import { isS3OrNetworkError } from './s3-errors.js'
import type { DownloadedObject, UploadBody } from './types.js'

/** Parameters of {@link uploadObject}. */
export interface UploadObjectParams {
  bucket: string
  key: string
  body: UploadBody
  contentType: string
  contentEncoding?: string
  contentDisposition?: string
  metadata?: Record<string, string>
  /** Refuse bodies larger than this many bytes (`FST_S3S_TOO_LARGE`); the multipart upload is aborted. */
  maxBytes?: number
  /** Only create, never overwrite (`If-None-Match: *`); a lost race is `PreconditionFailed`. */
  ifNoneMatch?: boolean
  /** Only overwrite the object with this ETag (`If-Match`, quoted), on the PUT or the multipart Complete. */
  ifMatch?: string
  /** Multipart part size in bytes. Default: 5 MiB, or enough for `maxBytes` in 10,000 parts; 8 MiB without `maxBytes`. */
  partSize?: number
  /** Parts in flight at once. Default 4 (so at most partSize × queueSize bytes are held). */
  queueSize?: number
  /** Aborts the upload (and its multipart upload) when it fires. */
  signal?: AbortSignal
}

/** What {@link uploadObject} resolves to. */
export interface UploadObjectResult {
  size: number
  etag?: string
  /** The new version's id on a versioned bucket. */
  versionId?: string
}

const MiB = 1024 * 1024
const DEFAULT_PART_SIZE = 8 * MiB
const MIN_PART_SIZE = 5 * MiB
const MAX_PARTS = 10_000

/**
 * Part size for a stream: S3's 5 MiB minimum when a size limit is known (measured: 4 × 5 MiB in flight keeps
 * a 1 GiB upload's memory growth near 50 MiB, 4 × 8 MiB near 80), grown so that the limit fits in S3's 10,000
 * parts; 8 MiB (streams up to about 78 GiB) when nothing bounds the size.
 */
export function partSizeFor (limit: number): number {
  if (!Number.isFinite(limit)) return DEFAULT_PART_SIZE
  return Math.max(MIN_PART_SIZE, Math.ceil(limit / MAX_PARTS))
}

/** Counts bytes on their way to S3 and fails the stream once it exceeds a limit. */
class ByteCounter extends Transform {
  bytes = 0
  constructor (private readonly limit: number, private readonly what: string) { super() }
  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.limit) {
      callback(new FST_S3S_TOO_LARGE(`${this.what} is larger than ${this.limit} bytes`))
      return
    }
    callback(null, chunk)
  }
}

function byteLength (body: Exclude<UploadBody, Readable>): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
}

/**
 * Uploads through lib-storage: one PutObject for small bodies, multipart above `partSize`. A body that
 * fails, a size limit hit or an abort makes lib-storage abort its multipart upload, so nothing is left.
 */
export async function uploadObject (client: S3Client, params: UploadObjectParams): Promise<UploadObjectResult> {
  const limit = params.maxBytes ?? Number.POSITIVE_INFINITY
  let body: Buffer | Uint8Array | string | Readable = params.body
  let counter: ByteCounter | undefined
  let sourceError: Error | undefined
  if (params.body instanceof Readable) {
    counter = new ByteCounter(limit, params.key)
    // pipeline, not pipe: a source that already failed or was destroyed (a client gone before we got
    // here) must fail the upload too, instead of leaving lib-storage waiting for bytes that never come.
    pipeline(params.body, counter, (err) => {
      if (err != null) sourceError ??= err
    })
    body = counter
  } else if (byteLength(params.body) > limit) {
    throw new FST_S3S_TOO_LARGE(`${params.key} is larger than ${limit} bytes`)
  }
  // lib-storage keeps its multipart upload's id, and whether its own abort went through, to itself: watching
  // the commands it sends through our client tells us both without reaching into its private fields.
  let uploadId: string | undefined
  let aborted = false
  const conditional = params.ifMatch !== undefined || params.ifNoneMatch === true
  const watched = new Proxy(client, {
    get (target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver)
      return async (command: Parameters<S3Client['send']>[0], options?: Parameters<S3Client['send']>[1]) => {
        const send = async (): Promise<unknown> => await target.send(command, options)
        // The write that carries the condition is retried here, before lib-storage sees the conflict
        // (it would abort the multipart upload, parts and all).
        const writes = command instanceof PutObjectCommand || command instanceof CompleteMultipartUploadCommand
        const output = conditional && writes ? await retryConflicts(send) : await send()
        if (command instanceof CreateMultipartUploadCommand) uploadId = (output as CreateMultipartUploadCommandOutput).UploadId
        if (command instanceof AbortMultipartUploadCommand) aborted = true
        return output
      }
    }
  })
  const upload = new Upload({
    client: watched,
    partSize: params.partSize ?? partSizeFor(limit),
    queueSize: params.queueSize ?? 4,
    leavePartsOnError: false,
    params: {
      Bucket: params.bucket,
      Key: params.key,
      Body: body,
      ContentType: params.contentType,
      ContentEncoding: params.contentEncoding,
      ContentDisposition: params.contentDisposition,
      Metadata: params.metadata,
      // lib-storage spreads these into the PutObject, or into the CompleteMultipartUpload (where S3 checks them).
      IfNoneMatch: params.ifNoneMatch === true ? '*' : undefined,
      IfMatch: params.ifMatch
    }
  })
  const onAbort = (): void => { upload.abort().catch(() => {}) }
  params.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const result = await upload.done()
    const size = counter !== undefined ? counter.bytes : byteLength(params.body as Exclude<UploadBody, Readable>)
    return { size, etag: result.ETag, versionId: result.VersionId }
  } catch (err) {
    if (uploadId !== undefined && !aborted) await abortLeftover(client, params.bucket, params.key, uploadId)
    // Our size limit first; then whatever S3 or the network said; only then the body's own failure
    // (a client that went away). The pipeline also reports errors that are mere echoes of an S3 failure,
    // so it is trusted only when the body itself broke.
    if (counter?.errored instanceof FST_S3S_TOO_LARGE) throw counter.errored
    if (isS3OrNetworkError(err)) throw err
    const body = params.body instanceof Readable ? params.body : undefined
    if (body !== undefined && (body.errored != null || (body.destroyed && !body.readableEnded))) throw body.errored ?? sourceError ?? err
    throw err
  } finally {
    params.signal?.removeEventListener('abort', onAbort)
  }
}

// Waits before retrying a conditional write that raced another write: short, the other write is in flight.
const CONFLICT_RETRY_DELAYS_MS = [100, 400]

/**
 * S3 answers a conditional write that raced another write of the same key with 409
 * `ConditionalRequestConflict` and asks for a retry: the retry carries the same condition, so it either
 * succeeds or fails with 412 when the other write changed the object. After the last retry (or when a
 * retried Complete finds its multipart upload gone) the conflict is thrown, and maps to FST_S3S_WRITE_CONFLICT.
 */
async function retryConflicts<T> (send: () => Promise<T>): Promise<T> {
  let conflict: unknown
  for (let attempt = 0; attempt <= CONFLICT_RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await sleep(CONFLICT_RETRY_DELAYS_MS[attempt - 1])
    try {
      return await send()
    } catch (err) {
      const name = (err as Error)?.name
      if (conflict !== undefined && name === 'NoSuchUpload') throw conflict
      if (name !== 'ConditionalRequestConflict') throw err
      conflict = err
    }
  }
  throw conflict
}

// Backoff of the background abort, in seconds: about two minutes in all, enough to outlast a restart.
const ABORT_RETRY_DELAYS = [1, 2, 4, 8, 16, 32, 60]

/**
 * lib-storage aborts its multipart upload when an upload fails, but not when the failure came before it knew
 * the upload's id, and if S3 itself was unreachable its abort fails too: the parts would stay stored (and
 * billed) forever. Abort now; when that fails too, keep trying in the background until S3 is back.
 */
async function abortLeftover (client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  let attempt = 0
  const retry = async (): Promise<void> => {
    try {
      await abortMultipartUpload(client, bucket, key, uploadId)
    } catch (err) {
      if ((err as { name?: string })?.name === 'NoSuchUpload' || attempt >= ABORT_RETRY_DELAYS.length) return
      setTimeout(() => { retry().catch(() => {}) }, ABORT_RETRY_DELAYS[attempt++] * 1000).unref()
    }
  }
  await retry()
}

/** Parameters of {@link downloadObject}. */
export interface DownloadObjectParams {
  bucket: string
  key: string
  /** An S3 `Range` header value, already checked. */
  range?: string
  ifNoneMatch?: string
  ifModifiedSince?: Date
  /** A version of the object instead of the current one. */
  versionId?: string
  signal?: AbortSignal
}

/** Starts a GetObject and hands back the body stream without reading it. */
export async function downloadObject (client: S3Client, params: DownloadObjectParams): Promise<DownloadedObject> {
  const result = await client.send(new GetObjectCommand({
    Bucket: params.bucket,
    Key: params.key,
    Range: params.range,
    IfNoneMatch: params.ifNoneMatch,
    IfModifiedSince: params.ifModifiedSince,
    VersionId: params.versionId
  }), { abortSignal: params.signal })
  return {
    body: result.Body as Readable,
    contentType: result.ContentType,
    contentLength: result.ContentLength,
    contentRange: result.ContentRange,
    etag: result.ETag,
    lastModified: result.LastModified,
    contentEncoding: result.ContentEncoding,
    contentDisposition: result.ContentDisposition,
    versionId: result.VersionId,
    metadata: result.Metadata ?? {}
  }
}

/** S3's limit for a single CopyObject. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3

/** Parameters of {@link copyObject}. */
export interface CopyObjectParams {
  /** The source; with `versionId`, that version of it (a restore). */
  from: { bucket: string, key: string, versionId?: string }
  to: { bucket: string, key: string }
  /** Objects larger than this use multipart copy. Default 5 GiB, S3's CopyObject limit. */
  multipartThreshold?: number
  /** Part size of a multipart copy. Default 512 MiB. */
  partSize?: number
  /**
   * Only create, never overwrite (`If-None-Match: *` on the CopyObject, or on the multipart copy's Complete).
   * Stores that ignore it on CopyObject (versitygw 1.8.0) overwrite: callers HEAD the target first.
   */
  ifNoneMatch?: boolean
  /** The source's size when the caller knows it (a listing): a copy under the threshold then needs no HEAD. */
  size?: number
}

/** What {@link copyObject} made. */
export interface CopyObjectResult {
  /** The copy's version id on a versioned destination bucket. */
  versionId?: string
  etag?: string
  size: number
}

// CopySource is `bucket/key` with the key URL-encoded, slashes kept, and `?versionId=` for a version.
function copySource ({ bucket, key, versionId }: CopyObjectParams['from']): string {
  const source = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
  return versionId === undefined ? source : `${source}?versionId=${encodeURIComponent(versionId)}`
}

/** A server-side copy: no bytes pass through the app. Objects over the threshold go through UploadPartCopy. */
export async function copyObject (client: S3Client, params: CopyObjectParams): Promise<CopyObjectResult> {
  const threshold = params.multipartThreshold ?? MAX_SINGLE_COPY_BYTES
  const ifNoneMatch = params.ifNoneMatch === true ? '*' : undefined
  const send = async <T>(fn: () => Promise<T>): Promise<T> => ifNoneMatch === undefined ? await fn() : await retryConflicts(fn)
  // A size the caller knows to be under the threshold needs no HEAD; a multipart copy needs the head's headers.
  const head = params.size !== undefined && params.size <= threshold
    ? undefined
    : await headObject(client, params.from.bucket, params.from.key, { versionId: params.from.versionId })
  const size = head?.size ?? params.size!
  if (head === undefined || size <= threshold) {
    const copied = await send(async () => await client.send(new CopyObjectCommand({
      Bucket: params.to.bucket,
      Key: params.to.key,
      CopySource: copySource(params.from),
      IfNoneMatch: ifNoneMatch
    })))
    return { versionId: copied.VersionId, etag: copied.CopyObjectResult?.ETag, size }
  }
  const partSize = params.partSize ?? 512 * 1024 ** 2
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({
    Bucket: params.to.bucket,
    Key: params.to.key,
    ContentType: head.contentType,
    ContentEncoding: head.contentEncoding,
    ContentDisposition: head.contentDisposition,
    Metadata: head.metadata
  }))
  try {
    const parts: CompletedPart[] = []
    for (let start = 0, part = 1; start < size; start += partSize, part++) {
      const end = Math.min(start + partSize, size) - 1
      const result = await client.send(new UploadPartCopyCommand({
        Bucket: params.to.bucket,
        Key: params.to.key,
        UploadId,
        PartNumber: part,
        CopySource: copySource(params.from),
        CopySourceRange: `bytes=${start}-${end}`
      }))
      parts.push({ PartNumber: part, ETag: result.CopyPartResult?.ETag })
    }
    const completed = await send(async () => await client.send(new CompleteMultipartUploadCommand({
      Bucket: params.to.bucket, Key: params.to.key, UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: ifNoneMatch
    })))
    return { versionId: completed.VersionId, etag: completed.ETag, size }
  } catch (err) {
    await abortMultipartUpload(client, params.to.bucket, params.to.key, UploadId!).catch(() => {})
    throw err
  }
}

/**
 * Copies between two stores that cannot see each other (different endpoints or accounts): the bytes are
 * streamed from one client into the other, never held whole.
 */
export async function streamCopy (
  fromClient: S3Client, from: { bucket: string, key: string },
  toClient: S3Client, to: { bucket: string, key: string },
  { ifNoneMatch = false }: { ifNoneMatch?: boolean } = {}
): Promise<UploadObjectResult> {
  const source = await downloadObject(fromClient, from)
  try {
    return await uploadObject(toClient, {
      bucket: to.bucket,
      key: to.key,
      body: source.body,
      contentType: source.contentType ?? 'application/octet-stream',
      contentEncoding: source.contentEncoding,
      contentDisposition: source.contentDisposition,
      metadata: source.metadata,
      ifNoneMatch
    })
  } finally {
    source.body.destroy()
  }
}
