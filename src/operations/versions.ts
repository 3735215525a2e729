/**
 * Calls about the versions of objects on versioned buckets: ListObjectVersions (page by page, merged into
 * one newest-first order per key), DeleteObject of one version, removing delete markers, and a server-side
 * copy of a version on top. Plain functions over (client, bucket, key) like objects.ts; keys are already
 * built and the bucket's versioning already checked by the caller, errors are mapped by the caller.
 */
import { DeleteObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3'
import { FST_S3S_EXISTS, FST_S3S_NOT_FOUND } from '../errors.js'
import { copyObject, type CopyObjectResult } from './transfer.js'
import type { FileVersion } from './types.js'

/** One entry of ListObjectVersions: a stored version, or a delete marker, with the key it belongs to. */
export interface VersionEntry extends FileVersion {
  key: string
}

/** Where a ListObjectVersions page starts (S3's key and version-id markers). */
export interface VersionMarker {
  keyMarker: string
  versionIdMarker?: string
}

/** One page of ListObjectVersions, entries grouped by key, each key's newest first. */
export interface VersionsPage {
  entries: VersionEntry[]
  /** Common prefixes (sub-folders) under the delimiter. */
  prefixes: string[]
  /** Where the next page starts; undefined on the last page. */
  next?: VersionMarker
}

/** Entries per ListObjectVersions call: S3's maximum, and the only size both test servers page correctly. */
const PAGE_SIZE = 1000

/**
 * Lists one page of versions and delete markers under `prefix`. S3 answers versions and markers in two
 * separate lists, so the order between them is rebuilt here (see {@link newestFirst}).
 */
export async function listVersionsPage (client: S3Client, bucket: string, prefix: string, options: { from?: VersionMarker, delimiter?: string } = {}): Promise<VersionsPage> {
  const page = await client.send(new ListObjectVersionsCommand({
    Bucket: bucket,
    Prefix: prefix,
    Delimiter: options.delimiter === '' ? undefined : (options.delimiter ?? '/'),
    MaxKeys: PAGE_SIZE,
    KeyMarker: options.from?.keyMarker,
    VersionIdMarker: options.from?.versionIdMarker
  }))
  const byKey = new Map<string, { versions: VersionEntry[], markers: VersionEntry[] }>()
  const group = (key: string): { versions: VersionEntry[], markers: VersionEntry[] } => {
    let found = byKey.get(key)
    if (found === undefined) byKey.set(key, found = { versions: [], markers: [] })
    return found
  }
  for (const v of page.Versions ?? []) {
    if (v.Key === undefined || v.VersionId === undefined) continue
    group(v.Key).versions.push({ key: v.Key, versionId: v.VersionId, isLatest: v.IsLatest === true, deleteMarker: false, size: v.Size ?? 0, etag: v.ETag, lastModified: v.LastModified })
  }
  for (const m of page.DeleteMarkers ?? []) {
    if (m.Key === undefined || m.VersionId === undefined) continue
    group(m.Key).markers.push({ key: m.Key, versionId: m.VersionId, isLatest: m.IsLatest === true, deleteMarker: true, size: 0, lastModified: m.LastModified })
  }
  // Keys in UTF-8 byte order (as AWS lists them), whatever order the store used.
  const keys = [...byKey.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const truncated = page.IsTruncated === true && page.NextKeyMarker !== undefined && page.NextKeyMarker !== ''
  return {
    entries: keys.flatMap((key) => newestFirst(byKey.get(key)!.versions, byKey.get(key)!.markers)),
    prefixes: (page.CommonPrefixes ?? []).flatMap((p) => p.Prefix === undefined ? [] : [p.Prefix]),
    next: truncated ? { keyMarker: page.NextKeyMarker!, versionIdMarker: page.NextVersionIdMarker === '' ? undefined : page.NextVersionIdMarker } : undefined
  }
}

const second = (entry: VersionEntry): number => Math.floor((entry.lastModified?.getTime() ?? 0) / 1000)

/**
 * One key's versions and delete markers, newest first. S3 lists the two apart, each newest first, and
 * stores differ in what else can be trusted: SeaweedFS lists a "null" version by its id, not its age, and
 * gives whole seconds; versitygw gives markers milliseconds that do not follow their order. So: the entry
 * S3 marks latest first, then each list sorted by the second it was written (stable, keeping S3's order
 * within a second), merged by that second, a delete marker first when both fall in the same second
 * (deleting usually follows writing). Only entries written within the same second can come out of order.
 */
export function newestFirst (versions: VersionEntry[], markers: VersionEntry[]): VersionEntry[] {
  const all = [...versions, ...markers]
  const latest = all.find((e) => e.isLatest)
  const byAge = (list: VersionEntry[]): VersionEntry[] => list.filter((e) => e !== latest).sort((a, b) => second(b) - second(a))
  const vs = byAge(versions)
  const ms = byAge(markers)
  const out: VersionEntry[] = latest === undefined ? [] : [latest]
  let i = 0
  let j = 0
  while (i < vs.length || j < ms.length) {
    if (j < ms.length && (i >= vs.length || second(ms[j]) >= second(vs[i]))) out.push(ms[j++])
    else out.push(vs[i++])
  }
  return out
}

/** Every version and delete marker of exactly `key`, newest first, across as many pages as it takes. */
export async function * keyVersions (client: S3Client, bucket: string, key: string): AsyncGenerator<VersionEntry> {
  let from: VersionMarker | undefined
  do {
    const page = await listVersionsPage(client, bucket, key, { from })
    for (const entry of page.entries) if (entry.key === key) yield entry
    // S3 lists in key order: once its next page starts at another key, this key is done.
    from = page.next?.keyMarker === key ? page.next : undefined
  } while (from !== undefined)
}

/**
 * The top of a key's history: its current entry and, if any, the newest stored version (the first one that
 * is not a delete marker). Stops reading as soon as it has both.
 */
async function historyTop (client: S3Client, bucket: string, key: string): Promise<{ current?: VersionEntry, stored?: VersionEntry }> {
  let current: VersionEntry | undefined
  for await (const entry of keyVersions(client, bucket, key)) {
    current ??= entry
    if (!entry.deleteMarker) return { current, stored: entry }
  }
  return { current }
}

/**
 * Permanently deletes one version (or delete marker) of a key, after checking it is one of the key's:
 * S3 answers success for a version id it does not have, and on an unversioned bucket SeaweedFS and
 * versitygw both delete the current object for any id (measured in s3-server-features.test.ts).
 * Throws `FST_S3S_NOT_FOUND` when the key has no such version.
 */
export async function deleteObjectVersion (client: S3Client, bucket: string, key: string, versionId: string): Promise<VersionEntry> {
  let entry: VersionEntry | undefined
  for await (const e of keyVersions(client, bucket, key)) {
    if (e.versionId !== versionId) continue
    entry = e
    break
  }
  if (entry === undefined) throw new FST_S3S_NOT_FOUND(`version ${versionId} of ${key}`)
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))
  return entry
}

// A key deleted more often than this in a row is left alone: undelete is for mistakes, not for loops.
const MAX_MARKERS_REMOVED = 100

/**
 * Brings back a deleted key: removes the delete markers on top of it (each by its id, so no stored version
 * is ever touched) until a stored version is current again, and returns that version. Throws
 * `FST_S3S_NOT_FOUND` when the key has no history or no stored version left to bring back, and
 * `FST_S3S_EXISTS` when it is not deleted; in both cases nothing is removed.
 */
export async function removeDeleteMarkers (client: S3Client, bucket: string, key: string): Promise<{ current: VersionEntry, removed: number }> {
  let top = await historyTop(client, bucket, key)
  if (top.current === undefined) throw new FST_S3S_NOT_FOUND(key)
  if (!top.current.deleteMarker) throw new FST_S3S_EXISTS(`${key} is not deleted`)
  if (top.stored === undefined) throw new FST_S3S_NOT_FOUND(`${key}: no stored version is left to bring back`)
  let removed = 0
  // S3 says which entry is current; asking again after each removal needs no guess about their order.
  while (top.current?.deleteMarker === true && removed < MAX_MARKERS_REMOVED) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: top.current.versionId }))
    removed++
    top = await historyTop(client, bucket, key)
  }
  const current = top.current
  if (current === undefined || current.deleteMarker) throw new FST_S3S_NOT_FOUND(`${key}: no stored version is left to bring back`)
  return { current, removed }
}

/** Puts a copy of an old version on top of its key (server-side; multipart copy over 5 GiB). */
export async function copyVersionOnTop (client: S3Client, bucket: string, key: string, versionId: string): Promise<CopyObjectResult> {
  return await copyObject(client, { from: { bucket, key, versionId }, to: { bucket, key } })
}

/** A deleted file: a key whose current entry is a delete marker. */
export interface DeletedKey {
  key: string
  /** The delete marker on top. */
  marker: VersionEntry
  /** The newest stored version under it, when this page of the listing holds it. */
  lastVersion?: VersionEntry
}

/** Where a listing of deleted keys resumes: an S3 page, and how many deleted keys of it were returned. */
export interface DeletedCursor {
  from?: VersionMarker
  skip: number
}

/**
 * Deleted keys directly under `prefix` (the folder's own marker excluded), up to `limit`, scanning at
 * most `maxPages` S3 pages. `next` is undefined once the folder's history is exhausted; it may be set
 * with fewer than `limit` keys found (the scan stopped at `maxPages`). `prefixes` are the sub-folders with
 * any history in the pages read (each reported once over a walk of cursors).
 */
export async function deletedKeys (client: S3Client, bucket: string, prefix: string, options: { cursor?: DeletedCursor, limit: number, maxPages: number }): Promise<{ keys: DeletedKey[], prefixes: string[], next?: DeletedCursor }> {
  const keys: DeletedKey[] = []
  const prefixes: string[] = []
  let from = options.cursor?.from
  let skip = options.cursor?.skip ?? 0
  for (let pages = 0; pages < options.maxPages; pages++) {
    const page = await listVersionsPage(client, bucket, prefix, { from })
    // A page resumed part-way reported its sub-folders the first time it was read.
    if (skip === 0) prefixes.push(...page.prefixes)
    const deleted: DeletedKey[] = []
    for (const entry of page.entries) {
      // A key's latest entry is its first: one straddling from the previous page was judged there.
      if (!entry.isLatest || !entry.deleteMarker || entry.key === prefix) continue
      deleted.push({ key: entry.key, marker: entry, lastVersion: page.entries.find((e) => e.key === entry.key && !e.deleteMarker) })
    }
    const wanted = deleted.slice(skip, skip + options.limit - keys.length)
    keys.push(...wanted)
    const used = skip + wanted.length
    if (used < deleted.length) return { keys, prefixes, next: { from, skip: used } }
    if (page.next === undefined) return { keys, prefixes }
    from = page.next
    skip = 0
    if (keys.length >= options.limit) return { keys, prefixes, next: { from, skip: 0 } }
  }
  return { keys, prefixes, next: { from, skip: 0 } }
}
