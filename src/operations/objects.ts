/**
 * Calls about objects that move no bytes: HEAD, one listing page, single and batched deletes. Plain functions
 * over (client, bucket, key) like transfer.ts; keys are already built, errors are mapped by the caller.
 */
import {
  DeleteObjectCommand, DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client
} from '@aws-sdk/client-s3'
import type { DeleteFailure } from './types.js'

/** What a HEAD tells. */
export interface ObjectHead {
  size: number
  contentType?: string
  contentEncoding?: string
  contentDisposition?: string
  etag?: string
  lastModified?: Date
  /** Set on versioned buckets. */
  versionId?: string
  metadata: Record<string, string>
}

/** HeadObject: the object's headers (of one version of it, with `versionId`), no body. */
export async function headObject (client: S3Client, bucket: string, key: string, options: { signal?: AbortSignal, versionId?: string } = {}): Promise<ObjectHead> {
  const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: options.versionId }), { abortSignal: options.signal })
  return {
    size: result.ContentLength ?? 0,
    contentType: result.ContentType,
    contentEncoding: result.ContentEncoding,
    contentDisposition: result.ContentDisposition,
    etag: result.ETag,
    lastModified: result.LastModified,
    versionId: result.VersionId,
    metadata: result.Metadata ?? {}
  }
}

/** One page of ListObjectsV2, as S3 answers it. */
export interface ObjectsPage {
  objects: Array<{ key: string, size: number, lastModified?: Date, etag?: string }>
  prefixes: string[]
  /** S3's continuation token; undefined on the last page. */
  next?: string
}

/** Lists one page of keys under `prefix`, grouped into prefixes by `delimiter` when given. */
export async function listObjectsPage (
  client: S3Client, bucket: string, prefix: string, options: { delimiter?: string, limit?: number, token?: string } = {}
): Promise<ObjectsPage> {
  const page = await client.send(new ListObjectsV2Command({
    Bucket: bucket,
    Prefix: prefix,
    Delimiter: options.delimiter === '' ? undefined : options.delimiter,
    MaxKeys: options.limit ?? 1000,
    ContinuationToken: options.token
  }))
  return {
    objects: (page.Contents ?? []).flatMap((o) => o.Key === undefined ? [] : [{ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag }]),
    prefixes: (page.CommonPrefixes ?? []).flatMap((p) => p.Prefix === undefined ? [] : [p.Prefix]),
    next: page.IsTruncated === true ? page.NextContinuationToken : undefined
  }
}

/** Every key under `prefix`, page by page (1000 a page), as S3 lists them. */
export async function * listKeyPages (client: S3Client, bucket: string, prefix: string): AsyncGenerator<string[]> {
  let token: string | undefined
  do {
    const page = await listObjectsPage(client, bucket, prefix, { token })
    yield page.objects.map((o) => o.key)
    token = page.next
  } while (token !== undefined)
}

/** Deletes one key. Deleting a missing key succeeds, as in S3. */
export async function deleteObject (client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
}

/** S3's limit of keys in one DeleteObjects request. */
export const DELETE_BATCH_SIZE = 1000

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
