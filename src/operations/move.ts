/**
 * Moves and copies of objects and whole folders: copy, then delete the source only once its copy is
 * stored. S3 has no rename, so a folder is walked page by page (1000 keys), each page copied in batches of
 * 200, a few objects at a time, each batch's copied sources then deleted in one DeleteObjects. A run that stopped half-way (a
 * crash, S3 gone) is finished by running it again: a target that already holds the source's bytes (same
 * size and ETag) counts as done, and its source is deleted.
 *
 * Overwrites: without `overwrite` a target that exists is refused (FST_S3S_EXISTS). The target is HEADed
 * first (which also finds the finished copies of an earlier run), and the copy itself carries
 * `If-None-Match: *`, so on stores that honour it on CopyObject (AWS, SeaweedFS) a target created between
 * the HEAD and the copy is not overwritten; stores that ignore it (versitygw 1.8.0) leave that window open.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { mapBounded } from '../bounded.js'
import { FST_S3S_EXISTS, FST_S3S_INVALID_KEY, isNotFound } from '../errors.js'
import { MAX_KEY_BYTES } from '../keys.js'
import { sameETag } from './multipart.js'
import { deleteObject, deleteObjects, headObject, listObjectsPage, type ObjectHead } from './objects.js'
import { mapKeyFailure, mapS3Error } from './s3-errors.js'
import { copyObject, streamCopy, uploadObject } from './transfer.js'
import type { FolderTransferFailure } from './types.js'

/** One side of a transfer: the client that reaches it, its bucket, and the location's root (names are relative to it). */
export interface TransferSide {
  client: S3Client
  bucket: string
  root: string
}

/** An object to transfer: its key, and its size and ETag when a listing told them. */
export interface SourceObject {
  key: string
  size?: number
  etag?: string
}

/** What {@link transferObject} did: copied the bytes, or found them at the target already (an earlier run's copy). */
export type TransferOutcome = 'copied' | 'present'

/** Default copies in flight at once. */
export const MOVE_CONCURRENCY = 8
/**
 * Keys copied before their sources are deleted in one DeleteObjects: small enough that progress and a stop
 * come often and few copies wait for their delete, large enough that the deletes stay few.
 */
export const TRANSFER_BATCH = 200
// Streamed copies (between endpoints) hold lib-storage's parts in memory (4 × 8 MiB each): fewer at once.
const STREAMED_CONCURRENCY = 2

/** Whether two objects hold the same bytes, as S3 describes them (size and ETag). */
function sameBytes (a: { size?: number, etag?: string }, b: ObjectHead): boolean {
  return a.size !== undefined && a.etag !== undefined && b.etag !== undefined && a.size === b.size && sameETag(a.etag, b.etag)
}

async function headIfExists (client: S3Client, bucket: string, key: string): Promise<ObjectHead | undefined> {
  try {
    return await headObject(client, bucket, key)
  } catch (err) {
    if (isNotFound(mapS3Error(err, key))) return undefined
    throw err
  }
}

/** A `PreconditionFailed` (412) from a conditional copy: the target was created meanwhile. */
function lostCreateRace (err: unknown): boolean {
  const e = err as { name?: string, $metadata?: { httpStatusCode?: number } }
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412
}

/**
 * Copies one object to `toKey` (server-side when `serverSide`, else streamed), refusing an existing target
 * unless `overwrite`. A folder marker (key ending in `/`) is recreated empty at the target instead of copied.
 * Throws S3's errors unmapped, FST_S3S_EXISTS for a target in the way.
 */
export async function transferObject (from: TransferSide, source: SourceObject, to: TransferSide, toKey: string,
  { serverSide, overwrite }: { serverSide: boolean, overwrite: boolean }): Promise<TransferOutcome> {
  const name = toKey.slice(to.root.length)
  // An empty folder marker is written again, empty, whatever is there: a HEAD of a folder answers 200 on
  // stores with real directories (SeaweedFS) with no marker object stored. A "marker" with bytes (SeaweedFS
  // keeps them) is copied like any object.
  if (source.key.endsWith('/') && source.size === 0) {
    await uploadObject(to.client, { bucket: to.bucket, key: toKey, body: Buffer.alloc(0), contentType: 'application/x-directory' })
    return 'copied'
  }
  const existing = await headIfExists(to.client, to.bucket, toKey)
  if (existing !== undefined) {
    if (sameBytes(source, existing)) return 'present'
    if (!overwrite) throw new FST_S3S_EXISTS(name)
  }
  const ifNoneMatch = !overwrite
  try {
    if (serverSide) await copyObject(to.client, { from: { bucket: from.bucket, key: source.key }, to: { bucket: to.bucket, key: toKey }, ifNoneMatch, size: source.size })
    else await streamCopy(from.client, { bucket: from.bucket, key: source.key }, to.client, { bucket: to.bucket, key: toKey }, { ifNoneMatch })
  } catch (err) {
    if (ifNoneMatch && lostCreateRace(err)) throw Object.assign(new FST_S3S_EXISTS(name), { cause: err })
    throw err
  }
  return 'copied'
}

/** Moves one object: {@link transferObject}, then the source is deleted. */
export async function moveObject (from: TransferSide, source: SourceObject, to: TransferSide, toKey: string,
  options: { serverSide: boolean, overwrite: boolean }): Promise<TransferOutcome> {
  const outcome = await transferObject(from, source, to, toKey, options)
  await deleteObject(from.client, from.bucket, source.key)
  return outcome
}

/** Parameters of {@link transferFolder}. */
export interface FolderTransferParams {
  from: TransferSide & { prefix: string }
  to: TransferSide & { prefix: string }
  /** `move` deletes each source whose copy is stored; `copy` keeps them. */
  mode: 'move' | 'copy'
  serverSide: boolean
  overwrite: boolean
  concurrency: number
  signal?: AbortSignal
  onProgress?: (done: number, failed: number) => void
  onFile?: (entry: { from: string, to: string }, error?: Error) => void
}

/** What {@link transferFolder} did: names relative to each side's location. */
export interface FolderTransferResult {
  done: Array<{ from: string, to: string }>
  failed: FolderTransferFailure[]
}

/**
 * Walks `from.prefix` page by page and transfers every key to the same relative key under `to.prefix`.
 * Nothing but one page is held at once (plus the results). Folder markers are handled last, deepest first,
 * so that stores keeping keys as files (versitygw) never see a folder deleted before its contents.
 * `signal` is checked between batches.
 */
export async function transferFolder (params: FolderTransferParams): Promise<FolderTransferResult> {
  const { from, to, mode } = params
  const result: FolderTransferResult = { done: [], failed: [] }
  const concurrency = params.serverSide ? params.concurrency : Math.min(params.concurrency, STREAMED_CONCURRENCY)
  const markers: SourceObject[] = []
  const names = (key: string): { from: string, to: string, toKey: string } => {
    const toKey = to.prefix + key.slice(from.prefix.length)
    return { from: key.slice(from.root.length), to: toKey.slice(to.root.length), toKey }
  }
  const fail = (key: string, err: unknown): void => {
    const { from: name, to: toName } = names(key)
    const mapped = mapS3Error(err, name) as Error & { code?: string }
    result.failed.push({ from: name, code: mapped.code ?? 'FST_S3S_S3_ERROR', message: mapped.message })
    params.onFile?.({ from: name, to: toName }, mapped)
    params.onProgress?.(result.done.length, result.failed.length)
  }
  const succeed = (key: string): void => {
    const { from: name, to: toName } = names(key)
    result.done.push({ from: name, to: toName })
    params.onFile?.({ from: name, to: toName })
    params.onProgress?.(result.done.length, result.failed.length)
  }
  // Copies one batch; for a move, deletes the sources whose copy is stored in one DeleteObjects.
  const transferBatch = async (objects: SourceObject[], deleteOneByOne: boolean): Promise<void> => {
    const copied: string[] = []
    await mapBounded(objects, deleteOneByOne ? 1 : concurrency, async (source) => {
      const { toKey } = names(source.key)
      try {
        if (Buffer.byteLength(toKey, 'utf8') > MAX_KEY_BYTES) throw new FST_S3S_INVALID_KEY(`the target key would be longer than ${MAX_KEY_BYTES} bytes`)
        await transferObject(from, source, to, toKey, params)
        if (mode === 'copy') succeed(source.key)
        else if (deleteOneByOne) {
          await deleteObject(from.client, from.bucket, source.key)
          succeed(source.key)
        } else copied.push(source.key)
      } catch (err) {
        fail(source.key, err)
      }
    })
    if (copied.length === 0) return
    let outcome: Awaited<ReturnType<typeof deleteObjects>>
    try {
      outcome = await deleteObjects(from.client, from.bucket, copied)
    } catch (err) {
      // The copies are stored; the sources stay. A second run finds the copies and deletes the sources.
      for (const key of copied) fail(key, err)
      return
    }
    for (const key of outcome.deleted) succeed(key)
    for (const f of outcome.failed) fail(f.key, mapKeyFailure(f.code, f.message, names(f.key).from))
  }

  let token: string | undefined
  do {
    params.signal?.throwIfAborted()
    const page = await listObjectsPage(from.client, from.bucket, from.prefix, { token })
    const files: SourceObject[] = []
    for (const o of page.objects) (o.key.endsWith('/') ? markers : files).push(o)
    for (let i = 0; i < files.length; i += TRANSFER_BATCH) {
      if (i > 0) params.signal?.throwIfAborted()
      await transferBatch(files.slice(i, i + TRANSFER_BATCH), false)
    }
    token = page.next
  } while (token !== undefined)
  params.signal?.throwIfAborted()
  // Deepest first, one at a time: a folder is deleted only after what was in it.
  markers.sort((a, b) => b.key.length - a.key.length)
  await transferBatch(markers, true)
  return result
}
