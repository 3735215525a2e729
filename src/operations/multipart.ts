/**
 * Multipart uploads driven part by part (by a browser, or by lib-storage inside transfer.ts): create, list
 * the parts S3 holds (every page), complete, abort. Plain functions over (client, bucket, key); errors are
 * mapped by the caller. Judging a completion (sizes, ETags) is the caller's: see `judgeParts`.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, type S3Client
} from '@aws-sdk/client-s3'

/** S3's limits on multipart uploads. */
export const MULTIPART_LIMITS = {
  maxParts: 10_000,
  /** Every part but the last is at least this big. */
  minPartBytes: 5 * 1024 ** 2,
  maxPartBytes: 5 * 1024 ** 3,
  /** The largest object S3 stores (5 TiB). */
  maxObjectBytes: 5 * 1024 ** 4
} as const

/** A part S3 holds. */
export interface StoredPart {
  PartNumber: number
  Size: number
  ETag: string
  LastModified?: Date
}

/** Starts a multipart upload; returns its id. */
export async function createMultipartUpload (client: S3Client, params: { bucket: string, key: string, contentType: string, metadata?: Record<string, string> }): Promise<string> {
  const created = await client.send(new CreateMultipartUploadCommand({
    Bucket: params.bucket, Key: params.key, ContentType: params.contentType, Metadata: params.metadata
  }))
  if (created.UploadId === undefined || created.UploadId === '') throw new Error('S3 answered CreateMultipartUpload without an UploadId')
  return created.UploadId
}

/** Every part S3 holds for the upload, in part-number order, page by page (1000 a page). */
export async function listParts (client: S3Client, bucket: string, key: string, uploadId: string): Promise<StoredPart[]> {
  const parts: StoredPart[] = []
  let marker: string | undefined
  // 10 pages cover 10,000 parts; the bound keeps a store that never stops paging from looping forever.
  for (let page = 0; page < 11; page++) {
    const answer = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }))
    for (const p of answer.Parts ?? []) {
      if (p.PartNumber === undefined) continue
      parts.push({ PartNumber: p.PartNumber, Size: p.Size ?? 0, ETag: p.ETag ?? '', LastModified: p.LastModified })
    }
    const next = answer.NextPartNumberMarker
    if (answer.IsTruncated !== true || next === undefined || next === marker) break
    marker = String(next)
  }
  return parts.sort((a, b) => a.PartNumber - b.PartNumber)
}

/** Completes the upload with exactly these parts (S3 checks each ETag against the part it holds). */
export async function completeMultipartUpload (client: S3Client, bucket: string, key: string, uploadId: string,
  parts: Array<{ PartNumber: number, ETag: string }>, ifNoneMatch = false): Promise<{ etag?: string, versionId?: string, location?: string }> {
  const done = await client.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: ifNoneMatch ? '*' : undefined
  }))
  return { etag: done.ETag, versionId: done.VersionId, location: done.Location }
}

/** Aborts a multipart upload: S3 drops its parts. */
export async function abortMultipartUpload (client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
}

/** ETags compared as S3 means them: quotes optional. */
export function sameETag (a: string, b: string): boolean {
  return a.replace(/^"|"$/g, '') === b.replace(/^"|"$/g, '')
}

/** Why a completion is refused: `size` (413) or `parts` (400, the message says which part). */
export type PartsVerdict = { ok: true, size: number } | { ok: false, kind: 'size' | 'parts', message: string, size?: number }

/**
 * The server's judgement of a completion: the parts the client names must be parts S3 holds (same number,
 * same ETag), in ascending order without repeats; every part but the last at least 5 MiB; the object, the
 * sum of S3's sizes (never the client's), at most `maxBytes`.
 */
export function judgeParts (given: Array<{ PartNumber: number, ETag: string }>, stored: StoredPart[], maxBytes: number): PartsVerdict {
  const byNumber = new Map(stored.map((p) => [p.PartNumber, p]))
  if (given.some((part, i) => i > 0 && part.PartNumber <= given[i - 1].PartNumber)) {
    return { ok: false, kind: 'parts', message: 'parts must be listed in ascending PartNumber order, each once' }
  }
  let size = 0
  for (const [i, part] of given.entries()) {
    const held = byNumber.get(part.PartNumber)
    if (held === undefined) return { ok: false, kind: 'parts', message: `part ${part.PartNumber} was never uploaded` }
    if (!sameETag(held.ETag, part.ETag)) return { ok: false, kind: 'parts', message: `part ${part.PartNumber} is not the part S3 holds (ETag differs)` }
    if (i < given.length - 1 && held.Size < MULTIPART_LIMITS.minPartBytes) return { ok: false, kind: 'parts', message: `part ${part.PartNumber} is smaller than 5 MiB and not the last` }
    if (held.Size > MULTIPART_LIMITS.maxPartBytes) return { ok: false, kind: 'parts', message: `part ${part.PartNumber} is larger than 5 GiB` }
    size += held.Size
  }
  if (size > maxBytes) return { ok: false, kind: 'size', message: `the upload is ${size} bytes, more than the ${maxBytes} allowed`, size }
  return { ok: true, size }
}
