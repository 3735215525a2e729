/**
 * Moving bytes: streamed uploads through lib-storage, downloads piped from S3, server-side and streamed
 * copies, and batched deletes. Plain functions over (client, bucket, key); keys are already built.
 */
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream'
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, UploadPartCopyCommand,
  type CompletedPart, type S3Client
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { FST_S3S_TOO_LARGE } from '../errors.js'
import { isS3OrNetworkError } from './s3-errors.js'

/** What an upload accepts: bytes in memory or a stream, which is never buffered whole. */
export type UploadBody = Buffer | Uint8Array | string | Readable

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
  const upload = new Upload({
    client,
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
      IfNoneMatch: params.ifNoneMatch === true ? '*' : undefined
    }
  })
  const onAbort = (): void => { upload.abort().catch(() => {}) }
  params.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const result = await upload.done()
    const size = counter !== undefined ? counter.bytes : byteLength(params.body as Exclude<UploadBody, Readable>)
    return { size, etag: result.ETag }
  } catch (err) {
    abortLeftover(client, params.bucket, params.key, upload)
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

// Backoff of the background abort, in seconds: about two minutes in all, enough to outlast a restart.
const ABORT_RETRY_DELAYS = [1, 2, 4, 8, 16, 32, 60]

/**
 * lib-storage aborts its multipart upload when an upload fails, but if S3 itself was unreachable the abort
 * fails too and the parts stay stored (and billed) forever. Keep trying in the background until S3 is back.
 */
function abortLeftover (client: S3Client, bucket: string, key: string, upload: Upload): void {
  const state = upload as unknown as { uploadId?: string, abortMultipartUploadCommand?: unknown }
  const uploadId = state.uploadId
  if (uploadId === undefined) return
  let attempt = 0
  const retry = (): void => {
    // lib-storage clears its abort command once its own abort went through.
    if (state.abortMultipartUploadCommand === null) return
    client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).then(() => {}, (err: { name?: string }) => {
      if (err?.name === 'NoSuchUpload' || attempt >= ABORT_RETRY_DELAYS.length) return
      setTimeout(retry, ABORT_RETRY_DELAYS[attempt++] * 1000).unref()
    })
  }
  setTimeout(retry, ABORT_RETRY_DELAYS[attempt++] * 1000).unref()
}

/** Parameters of {@link downloadObject}. */
export interface DownloadObjectParams {
  bucket: string
  key: string
  /** An S3 `Range` header value, already checked. */
  range?: string
  ifNoneMatch?: string
  ifModifiedSince?: Date
  signal?: AbortSignal
}

/** A downloaded object: a stream and its headers. */
export interface DownloadedObject {
  /** The bytes, piped from S3. Destroy it to stop the read early. */
  body: Readable
  contentType?: string
  contentLength?: number
  /** Set for ranged reads: `bytes a-b/size`. */
  contentRange?: string
  etag?: string
  lastModified?: Date
  contentEncoding?: string
  contentDisposition?: string
  metadata: Record<string, string>
}

/** Starts a GetObject and hands back the body stream without reading it. */
export async function downloadObject (client: S3Client, params: DownloadObjectParams): Promise<DownloadedObject> {
  const result = await client.send(new GetObjectCommand({
    Bucket: params.bucket,
    Key: params.key,
    Range: params.range,
    IfNoneMatch: params.ifNoneMatch,
    IfModifiedSince: params.ifModifiedSince
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
    metadata: result.Metadata ?? {}
  }
}

/** S3's limit for a single CopyObject. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3

/** Parameters of {@link copyObject}. */
export interface CopyObjectParams {
  from: { bucket: string, key: string }
  to: { bucket: string, key: string }
  /** Objects larger than this use multipart copy. Default 5 GiB, S3's CopyObject limit. */
  multipartThreshold?: number
  /** Part size of a multipart copy. Default 512 MiB. */
  partSize?: number
}

// CopySource is `bucket/key` with the key URL-encoded, slashes kept.
function copySource (bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
}

/** A server-side copy: no bytes pass through the app. Objects over the threshold go through UploadPartCopy. */
export async function copyObject (client: S3Client, params: CopyObjectParams): Promise<void> {
  const threshold = params.multipartThreshold ?? MAX_SINGLE_COPY_BYTES
  const head = await client.send(new HeadObjectCommand({ Bucket: params.from.bucket, Key: params.from.key }))
  const size = head.ContentLength ?? 0
  if (size <= threshold) {
    await client.send(new CopyObjectCommand({
      Bucket: params.to.bucket,
      Key: params.to.key,
      CopySource: copySource(params.from.bucket, params.from.key)
    }))
    return
  }
  const partSize = params.partSize ?? 512 * 1024 ** 2
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({
    Bucket: params.to.bucket,
    Key: params.to.key,
    ContentType: head.ContentType,
    ContentEncoding: head.ContentEncoding,
    ContentDisposition: head.ContentDisposition,
    Metadata: head.Metadata
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
        CopySource: copySource(params.from.bucket, params.from.key),
        CopySourceRange: `bytes=${start}-${end}`
      }))
      parts.push({ PartNumber: part, ETag: result.CopyPartResult?.ETag })
    }
    await client.send(new CompleteMultipartUploadCommand({
      Bucket: params.to.bucket, Key: params.to.key, UploadId, MultipartUpload: { Parts: parts }
    }))
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: params.to.bucket, Key: params.to.key, UploadId })).catch(() => {})
    throw err
  }
}

/** S3's limit of keys in one DeleteObjects request. */
export const DELETE_BATCH_SIZE = 1000

/** A key S3 refused to delete. */
export interface DeleteFailure {
  key: string
  bucket: string
  code: string
  message: string
}

/** Deletes keys of one bucket in batches of at most 1000; reports per-key failures instead of throwing. */
export async function deleteObjects (client: S3Client, bucket: string, keys: string[]): Promise<{ deleted: string[], failed: DeleteFailure[] }> {
  const deleted: string[] = []
  const failed: DeleteFailure[] = []
  for (let i = 0; i < keys.length; i += DELETE_BATCH_SIZE) {
    const batch = keys.slice(i, i + DELETE_BATCH_SIZE)
    // Quiet mode: S3 answers only with the failures, so a 1000-key batch costs a short reply.
    const result = await client.send(new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true }
    }))
    const errors = new Map<string, DeleteFailure>()
    for (const e of result.Errors ?? []) {
      if (e.Key === undefined) continue
      errors.set(e.Key, { key: e.Key, bucket, code: e.Code ?? 'Unknown', message: e.Message ?? '' })
    }
    for (const key of batch) {
      const failure = errors.get(key)
      if (failure === undefined) deleted.push(key)
      else failed.push(failure)
    }
  }
  return { deleted, failed }
}

/**
 * Copies between two stores that cannot see each other (different endpoints or accounts): the bytes are
 * streamed from one client into the other, never held whole.
 */
export async function streamCopy (
  fromClient: S3Client, from: { bucket: string, key: string },
  toClient: S3Client, to: { bucket: string, key: string }
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
      metadata: source.metadata
    })
  } finally {
    source.body.destroy()
  }
}
