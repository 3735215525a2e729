/**
 * The public option and result types of StorageOperations, in one place so the class itself stays a short
 * list of methods. Lifetimes are in seconds unless a name says minutes.
 */
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { ByteRange } from './range.js'

/** What an upload accepts: bytes in memory or a stream, which is never buffered whole. */
export type UploadBody = Buffer | Uint8Array | string | Readable

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
  /** The version read, on a versioned bucket. */
  versionId?: string
  metadata: Record<string, string>
}

/** A key S3 refused to delete. */
export interface DeleteFailure {
  key: string
  bucket: string
  code: string
  message: string
}

/** Options every operation takes. */
export interface CallOptions {
  /** A folder inside the profile's prefix (a value of your location enum). Default: the instance's. */
  location?: string
  /** The profile to use. Default: the instance's, else the registry's default. */
  profile?: string
}

/** Options of the constructor. */
export interface StorageOperationsOptions {
  /** Profile name. Default: the subclass's `storageProfile`, else the registry's default. */
  profile?: string
  /** Location. Default: the subclass's `storageLocation`, else none. */
  location?: string
  /** Logger. Default: the registry's (the app's) logger; `req.storage` passes `req.log`. */
  log?: FastifyBaseLogger
}

/** Options of {@link StorageOperations.uploadFile}. */
export interface UploadFileOptions extends CallOptions {
  /** Store under the given name instead of a fresh UUID name. Default false. */
  preserveFilename?: boolean
  /** Content-Type. Default: guessed from the extension, else `application/octet-stream`. */
  contentType?: string
  /** Content-Encoding, e.g. `gzip`. */
  contentEncoding?: string
  /** User metadata (`x-amz-meta-*`): ASCII keys and values, as S3 requires. */
  metadata?: Record<string, string>
  /** Refuse bodies larger than this many bytes with `FST_S3S_TOO_LARGE` (413), leaving nothing behind. */
  maxBytes?: number
  /**
   * `true` or `'*'`: only create, never overwrite an existing object (`If-None-Match: *`); an existing one,
   * or a lost race, is `FST_S3S_PRECONDITION_FAILED` (412). Default: overwrite.
   */
  ifNoneMatch?: boolean | '*'
  /**
   * Only overwrite the object if its ETag is still this one (`If-Match`, checked by S3 on the write itself,
   * the PUT or the multipart Complete): a file changed (or deleted) by someone else meanwhile is
   * `FST_S3S_PRECONDITION_FAILED` (412) and stays as it is. Quoted or not (`*` is not taken: stores differ).
   * A write racing another one is retried; if it keeps conflicting, `FST_S3S_WRITE_CONFLICT` (409).
   * Not together with `ifNoneMatch`. Default: none.
   */
  ifMatch?: string
  /** Aborts the upload, and its multipart upload, when it fires. */
  signal?: AbortSignal
}

/** What an upload stored. */
export interface UploadedFile {
  /** The full S3 key, profile prefix included. */
  key: string
  /** The stored name, relative to the location (a UUID name unless `preserveFilename`). */
  filename: string
  /** Bytes stored. */
  size: number
  /** The object's ETag. */
  etag?: string
  /** Content-Type it was stored with. */
  contentType: string
  /** The new version's id, on a versioned bucket. */
  versionId?: string
}

/** Options of {@link StorageOperations.downloadFile}. */
export interface DownloadFileOptions extends CallOptions {
  /** `{ start, end }` (inclusive) or a single `'bytes=a-b'` range. */
  range?: ByteRange | string
  /** An ETag the caller has; when it still matches, `FST_S3S_NOT_MODIFIED` (304) is thrown. */
  ifNoneMatch?: string
  /** When the object has not changed since this date, `FST_S3S_NOT_MODIFIED` (304) is thrown. */
  ifModifiedSince?: Date
  /** Reads this version instead of the current one (see {@link StorageOperations.listVersions}). Default: the current one. */
  versionId?: string
  /** Stops the S3 read when it fires. */
  signal?: AbortSignal
}

/** Options of {@link StorageOperations.copyFile}. */
export interface CopyFileOptions extends CallOptions {
  /** Destination profile. Default: the source's. */
  toProfile?: string
  /** Destination location. Default: the source's. */
  toLocation?: string
  /** Destination name. Default: the source's. */
  toFilename?: string
  /**
   * `true`: only create, never replace: an existing target is refused with `FST_S3S_EXISTS` (409), unless it
   * already holds the source's bytes (same size and ETag), which counts as copied. Default false (replace).
   */
  ifNoneMatch?: boolean
}

/** Result of {@link StorageOperations.copyFile}. */
export interface CopiedFile {
  /** Full destination key. */
  key: string
  /** Destination name, relative to its location. */
  filename: string
  /** `server-side` when S3 copied it; `streamed` when the bytes went through the app (different endpoints). */
  method: 'server-side' | 'streamed'
}

/** One item of {@link StorageOperations.deleteFiles}: a name, or a name with its own profile and location. */
export type DeleteItem = string | { filename: string, profile?: string, location?: string }

/** Result of {@link StorageOperations.deleteFiles}. */
export interface DeleteFilesResult {
  /** Full keys deleted. */
  deleted: string[]
  /** Keys S3 refused, with its error code. */
  failed: DeleteFailure[]
}

/** Options of {@link StorageOperations.getDownloadLink}. */
export interface DownloadLinkOptions extends CallOptions {
  /** The browser saves the file under this name (any Unicode; RFC 6266/5987 encoded). */
  downloadName?: string
  /** With `downloadName`: `inline` shows the file in the browser instead of saving it. Default `attachment`. */
  disposition?: 'inline' | 'attachment'
  /** Content-Type S3 answers with. */
  contentType?: string
  /** Cache-Control S3 answers with (instead of the one stored with the object). */
  cacheControl?: string
  /** A link to this version instead of the current one. Default: the current one. */
  versionId?: string
}

/** Options of {@link StorageOperations.getUploadLink}. */
export interface UploadLinkOptions extends CallOptions {
  /** The exact Content-Type the uploader must send. Default `application/octet-stream`. */
  contentType?: string
}

/** Options of {@link StorageOperations.createUploadPost}. */
export interface UploadPostOptions extends CallOptions {
  /** Largest file accepted, in bytes (the file itself, not the form). Default and maximum 5 GiB. */
  maxBytes?: number
  /** The exact Content-Type the form must send (the policy's `Content-Type` field). Default: the type its name suggests, else `application/octet-stream`. */
  contentType?: string
  /** Lifetime of the policy, in **seconds**. Default 3600, clamped to the profile ceiling. */
  expireSeconds?: number
  /** `x-amz-meta-*` values fixed by the policy. */
  metadata?: Record<string, string>
}

/** A presigned POST ready to hand to a browser. */
export interface UploadPost {
  /** Where to POST the multipart form. */
  url: string
  /** Form fields to send, in order, before the `file` field. */
  fields: Record<string, string>
  /** The full S3 key the file will get. */
  key: string
  /** Seconds the policy is valid for (after clamping). */
  expiresIn: number
  /** Largest file accepted, in bytes. */
  maxBytes: number
}

/** An object's headers. */
export interface FileInfo {
  /** Full S3 key. */
  key: string
  /** Bytes. */
  size: number
  contentType?: string
  etag?: string
  lastModified?: Date
  /** The version described, on a versioned bucket. */
  versionId?: string
  metadata: Record<string, string>
}

/** Options of {@link StorageOperations.head}. */
export interface HeadOptions extends CallOptions {
  /** Describes this version instead of the current one. Default: the current one. */
  versionId?: string
}

/** Options of {@link StorageOperations.list}. */
export interface ListOptions extends CallOptions {
  /** A folder under the location to list, e.g. `2024/`. Default: the location's root. */
  prefix?: string
  /** `/` groups keys into folders; `''` lists every key under the prefix flat. Default `/`. */
  delimiter?: '/' | ''
  /** The `nextCursor` of the previous page. */
  cursor?: string
  /** Keys per page, 1–1000. Default 1000. */
  limit?: number
}

/** A file in a listing. */
export interface ListedFile {
  /** Name relative to the location (what the other methods take). */
  name: string
  /** Full S3 key. */
  key: string
  size: number
  lastModified?: Date
  etag?: string
}

/** A folder (common prefix) in a listing. */
export interface ListedFolder {
  /** Folder path relative to the location, ending in `/`. */
  name: string
  /** Full S3 prefix. */
  prefix: string
}

/** One page of a listing. */
export interface ListPage {
  files: ListedFile[]
  folders: ListedFolder[]
  /** Pass to the next `list()` call; `undefined` on the last page. */
  nextCursor?: string
}

/** Options of {@link StorageOperations.signDownloadLink}. */
export interface SignDownloadLinkOptions extends DownloadLinkOptions {
  /** Lifetime in **seconds**. Default 3600; clamped to the profile ceiling and the signing credentials' life. */
  expireSeconds?: number
}

/** A presigned link and how long it really lives (after the profile's clamps). */
export interface SignedLink {
  url: string
  /** Seconds the link is valid for. */
  expiresIn: number
}

/** A multipart upload in progress, as {@link StorageOperations.listMultipartUploads} finds it. */
export interface MultipartUploadInfo {
  /** Full S3 key. */
  key: string
  /** Name relative to the location. */
  name: string
  uploadId: string
  /** When S3 says it was started. */
  initiated?: Date
}

// Versions (versioned buckets).

/** A bucket's versioning: `'Off'` for a bucket that never had it (S3 cannot turn it off again once enabled). */
export type BucketVersioning = 'Enabled' | 'Suspended' | 'Off'

/** One version of a file, or a delete marker, as {@link StorageOperations.listVersions} lists them. */
export interface FileVersion {
  /** S3's version id (`'null'` for what was written while versioning was off or suspended). */
  versionId: string
  /** Whether this is the current entry: the file's content, or (a delete marker) the file is deleted. */
  isLatest: boolean
  /** A delete marker: the file was deleted here; it has no bytes. */
  deleteMarker: boolean
  /** Bytes; 0 for a delete marker. */
  size: number
  /** The version's ETag; none for a delete marker. */
  etag?: string
  lastModified?: Date
}

/** Options of {@link StorageOperations.listVersions}. */
export interface ListVersionsOptions extends CallOptions {
  /** The `nextCursor` of the previous page. */
  cursor?: string
  /** Entries per page, 1–1000. Default 1000. */
  limit?: number
}

/** One page of a file's versions and delete markers, newest first. */
export interface VersionPage {
  versions: FileVersion[]
  /** Pass to the next `listVersions()` call; `undefined` on the last page. */
  nextCursor?: string
}

/** Result of {@link StorageOperations.restoreVersion}. */
export interface RestoredVersion {
  /** Full S3 key. */
  key: string
  /** Name relative to the location. */
  filename: string
  /** The version that was copied on top. */
  restoredFrom: string
  /** The new current version's id. */
  versionId?: string
  etag?: string
  size: number
}

/** Result of {@link StorageOperations.undelete}. */
export interface UndeletedFile {
  key: string
  filename: string
  /** The version that is current again. */
  versionId: string
  size: number
  etag?: string
  lastModified?: Date
  /** Delete markers removed (more than one when the file was deleted again while deleted). */
  removedMarkers: number
}

/** Result of {@link StorageOperations.deleteVersion}. */
export interface DeletedVersion {
  key: string
  filename: string
  versionId: string
  /** It was a delete marker (removing it undeletes the file when it was the latest). */
  deleteMarker: boolean
  /** It was the current entry: the file now shows its previous version (or is gone). */
  wasLatest: boolean
}

/** Options of {@link StorageOperations.listDeleted}. */
export interface ListDeletedOptions extends CallOptions {
  /** A folder under the location, e.g. `2024/`. Default: the location's root. Not recursive. */
  prefix?: string
  /** The `nextCursor` of the previous page. */
  cursor?: string
  /** Deleted files per page, 1–1000. Default 100. */
  limit?: number
}

/** A deleted file: its current entry is a delete marker, and older versions may bring it back. */
export interface DeletedFile {
  /** Name relative to the location. */
  name: string
  /** Full S3 key. */
  key: string
  /** When it was deleted (the delete marker's date). */
  deletedAt?: Date
  /** The delete marker's version id. */
  markerVersionId: string
  /** The newest stored version under the marker, when the listing page held it (`undelete` brings it back). */
  lastVersion?: { versionId: string, size: number, etag?: string, lastModified?: Date }
}

/** One page of deleted files. It may hold fewer than `limit` files and still have a `nextCursor` (each call scans a bounded part of the history). */
export interface DeletedPage {
  files: DeletedFile[]
  /**
   * Deleted folders: sub-folders with history but no file left (list their deleted files with `prefix`).
   * Each page checks at most 20 of the sub-folders it comes across.
   */
  folders: Array<{ name: string, prefix: string }>
  nextCursor?: string
}

// Multipart uploads driven part by part (a browser uploading straight to S3).

/** Options of {@link StorageOperations.createMultipartUpload}. */
export interface CreateMultipartUploadOptions extends CallOptions {
  /** Store under the given name instead of a fresh UUID name. Default false. */
  preserveFilename?: boolean
  /** Content-Type of the object. Default: guessed from the extension, else `application/octet-stream`. */
  contentType?: string
  /** User metadata (`x-amz-meta-*`), fixed now: parts cannot change it. */
  metadata?: Record<string, string>
  /** Largest object allowed, in bytes (checked again at completion). Default and maximum 5 TiB. */
  maxBytes?: number
  /** The size the client declares, in bytes: refused now (413) when over `maxBytes`. */
  size?: number
}

/** A multipart upload started: what the client sends back with every part, and at the end. */
export interface MultipartUpload {
  /** The full S3 key, profile prefix included. */
  key: string
  /** The stored name, relative to the location. */
  filename: string
  /** S3's id of the upload. */
  uploadId: string
}

/** Options of {@link StorageOperations.signUploadPart}. */
export interface SignUploadPartOptions extends CallOptions {
  /** Lifetime in **seconds**. Default 900; clamped to the profile ceiling and the signing credentials' life. */
  expireSeconds?: number
}

/** A part S3 holds for a multipart upload, as S3 lists it. */
export interface UploadedPart {
  /** 1 to 10,000. */
  PartNumber: number
  /** Bytes. */
  Size: number
  /** The part's ETag, quoted as S3 gives it. */
  ETag: string
  LastModified?: Date
}

/** A part the client says it uploaded: its number and the ETag S3 answered its PUT with. */
export interface CompletedPartInput {
  PartNumber: number
  ETag: string
}

/** Options of {@link StorageOperations.completeMultipartUpload}. */
export interface CompleteMultipartUploadOptions extends CallOptions {
  /** Largest object allowed, in bytes, judged from S3's own part sizes. Default and maximum 5 TiB. */
  maxBytes?: number
  /** `true` or `'*'`: only create, never overwrite (`If-None-Match: *` on the Complete, where the store has it). */
  ifNoneMatch?: boolean | '*'
}

/** A completed multipart upload. */
export interface CompletedUpload {
  /** The full S3 key. */
  key: string
  /** The name relative to the location. */
  filename: string
  /** Bytes stored (the sum of S3's part sizes). */
  size: number
  etag?: string
  versionId?: string
  /** The object's URL as S3 reports it, when it does. */
  location?: string
}

/** What {@link StorageOperations.zipStream} archives: a folder, or files and folders (paths ending in `/`). */
export type ZipSelection = { prefix: string } | { filenames: string[] }

/** A file of an archive. */
export interface ZipEntry {
  /** Its name in the archive: relative to the selection's common folder (for `{ prefix }`, to the prefix). */
  name: string
  /** Its path relative to the location (what the other methods take). */
  path: string
  /** Full S3 key. */
  key: string
  /** Bytes, as listed. */
  size: number
  lastModified?: Date
}

/** Options of {@link StorageOperations.zipStream}. */
export interface ZipStreamOptions extends CallOptions {
  /** Most files. Default 10,000 (at most 100,000). More: `FST_S3S_TOO_LARGE` (413), before the stream exists. */
  maxFiles?: number
  /** Most bytes of the files together. Default 10 GiB. More: `FST_S3S_TOO_LARGE` (413), before the stream exists. */
  maxBytes?: number
  /** `'store'` (default: most stored files are compressed already) or `'deflate'`. */
  compression?: 'store' | 'deflate'
  /** Aborting destroys the archive (with the signal's reason) and the S3 read in progress. */
  signal?: AbortSignal
  /**
   * Called for every file the selection holds, while it is listed and before the stream exists: throw to
   * refuse the whole archive (the browse route asks `authorize` for each file here).
   */
  checkFile?: (file: ZipEntry) => void | Promise<void>
  /**
   * Called once per entry, in order, after it is written whole, or with the error that cut it short (an S3
   * failure, or `statusCode: 499` when the archive was destroyed first). Entries never reached get no call.
   */
  onFile?: (file: ZipEntry, error?: Error) => void
}

/**
 * A zip archive streaming out: its bytes, plus what the listing found. Destroy it to stop the S3 reads; it
 * errors (never ends) when an S3 read fails mid-way.
 */
export type ZipArchive = Readable & {
  /** Entries in the archive. */
  files: number
  /** Bytes of the files together (before compression). */
  bytes: number
}

/** Options of {@link StorageOperations.moveFile}: where to (`toFilename`, `toLocation`, `toProfile`), as for a copy. */
export interface MoveFileOptions extends Omit<CopyFileOptions, 'ifNoneMatch'> {
  /** Replace a target that exists. Default false: an existing target is refused with `FST_S3S_EXISTS` (409). */
  overwrite?: boolean
}

/** Options of {@link StorageOperations.renameFile}. */
export interface RenameFileOptions extends CallOptions {
  /** Replace a file of the new name. Default false: `FST_S3S_EXISTS` (409). */
  overwrite?: boolean
}

/** Result of {@link StorageOperations.moveFile} and {@link StorageOperations.renameFile}. */
export interface MovedFile {
  /** Full key of the file at its new place. */
  key: string
  /** Its name relative to its (new) location. */
  filename: string
  /** `server-side` when S3 copied it; `streamed` when the bytes went through the app (different endpoints). */
  method: 'server-side' | 'streamed'
}

/** Options of {@link StorageOperations.moveFolder} and {@link StorageOperations.copyFolder}. */
export interface MoveFolderOptions extends CallOptions {
  /** Destination location. Default: the source's. */
  toLocation?: string
  /** Destination profile. Default: the source's. */
  toProfile?: string
  /** Replace targets that exist. Default false: each is a failure `FST_S3S_EXISTS` and its source stays. */
  overwrite?: boolean
  /** Copies in flight at once, 1 to 64. Default 8 (at most 2 when the bytes are streamed between endpoints). */
  concurrency?: number
  /** Called after each file, moved or failed, with the counts so far. */
  onProgress?: (done: number, failed: number) => void
  /** Called once per file (and folder marker) after it is moved or copied, with the error when it failed. */
  onFile?: (entry: { from: string, to: string }, error?: Error) => void
  /** Stops the walk between pages of 1000 keys (what is done stays done; run it again to finish). */
  signal?: AbortSignal
}

/** A file a folder move or copy could not move: its name, the catalog code and why. */
export interface FolderTransferFailure {
  from: string
  code: string
  message: string
}

/** Result of {@link StorageOperations.moveFolder}: names relative to each side's location. */
export interface MoveFolderResult {
  moved: Array<{ from: string, to: string }>
  failed: FolderTransferFailure[]
}

/** Result of {@link StorageOperations.copyFolder}. */
export interface CopyFolderResult {
  copied: Array<{ from: string, to: string }>
  failed: FolderTransferFailure[]
}
