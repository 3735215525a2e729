/**
 * StorageOperations: the public API over one registry. Thin by design: it builds keys (src/keys.ts), hands
 * the work to transfer/links, and maps S3 errors onto the catalog. Browse routes use this same class.
 */
import { extname } from 'node:path'
import { HeadObjectCommand, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import mime from 'mime'
import { v4 as uuidv4 } from 'uuid'
import { FST_S3S_FOLDER_NOT_EMPTY, FST_S3S_INVALID_ARGUMENT } from '../errors.js'
import { baseName, buildKey, hashKey, parseS3Url, prefixPath } from '../keys.js'
import type { ProfileRegistry, StorageProfile } from '../profiles/registry.js'
import { linkLifetime, MAX_SINGLE_UPLOAD_BYTES } from './links.js'
import { presignGet, presignPost, presignPut } from './fast-links.js'
import { toRangeHeader, type ByteRange } from './range.js'
import { mapS3Error } from './s3-errors.js'
import {
  copyObject, deleteObjects, downloadObject, streamCopy, uploadObject,
  type DeleteFailure, type DownloadedObject, type UploadBody
} from './transfer.js'

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
  /** Refuse to overwrite an existing object (`FST_S3S_PRECONDITION_FAILED`, 412). Default false. */
  ifNoneMatch?: boolean
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
}

/** Options of {@link StorageOperations.downloadFile}. */
export interface DownloadFileOptions extends CallOptions {
  /** `{ start, end }` (inclusive) or a single `'bytes=a-b'` range. */
  range?: ByteRange | string
  /** An ETag the caller has; when it still matches, `FST_S3S_NOT_MODIFIED` (304) is thrown. */
  ifNoneMatch?: string
  /** When the object has not changed since this date, `FST_S3S_NOT_MODIFIED` (304) is thrown. */
  ifModifiedSince?: Date
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
  /** Content-Type S3 answers with. */
  contentType?: string
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
  /** The exact Content-Type the form must send. Default: any. */
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
  metadata: Record<string, string>
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

interface Resolved {
  profile: StorageProfile
  bucket: string
  key: string
}

const METADATA_KEY = /^[A-Za-z0-9-_]{1,128}$/
// S3 metadata travels as HTTP headers: printable ASCII only.
const METADATA_VALUE = /^[\x20-\x7e]*$/

function checkMetadata (metadata: Record<string, string> | undefined): void {
  if (metadata === undefined) return
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(name)) throw new FST_S3S_INVALID_ARGUMENT(`metadata key "${name.slice(0, 64)}" must be letters, digits, "-" or "_"`)
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw new FST_S3S_INVALID_ARGUMENT(`metadata "${name}" must be printable ASCII (encode other text, e.g. with encodeURIComponent)`)
    }
  }
}

/**
 * Storage operations on one profile and location. Get one from `req.storage`, `app.storage.operations()`,
 * or subclass it to fix defaults:
 *
 * @example
 * class Invoices extends StorageOperations {
 *   static storageLocation = Location.Invoices
 *   static storageProfile = 'archive'
 * }
 * const invoices = app.storage.use(Invoices)
 * const { filename } = await invoices.uploadFile(stream, 'march.pdf')
 */
export class StorageOperations {
  /** Default location of every call on instances of this class. */
  static storageLocation?: string
  /** Default profile of every call on instances of this class. */
  static storageProfile?: string

  /** The registry this instance works on. */
  protected readonly registry: ProfileRegistry
  /** The profile calls use unless they name one. */
  readonly profile: string
  /** The location calls use unless they name one. */
  readonly location?: string
  /** Where operations log (with `keyHash`, never the secret). */
  readonly log: FastifyBaseLogger

  constructor (registry: ProfileRegistry, options: StorageOperationsOptions = {}) {
    const ctor = this.constructor as typeof StorageOperations
    this.registry = registry
    this.profile = options.profile ?? ctor.storageProfile ?? registry.defaultProfile
    this.location = options.location ?? ctor.storageLocation
    this.log = options.log ?? registry.log
    // Fail now, not at the first call, when a subclass names a profile that does not exist.
    registry.profile(this.profile)
  }

  /**
   * A fresh UUID v4 name keeping the original extension.
   *
   * @example
   * StorageOperations.generateFilename('Report.PDF') // '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed.PDF'
   */
  static generateFilename (filename: string): string {
    const ext = extname(baseName(filename))
    // Keep only a plausible extension; anything odd would end up in every generated key.
    return uuidv4() + (/^\.[\p{L}\p{N}_-]{1,32}$/u.test(ext) ? ext : '')
  }

  /** `location/filename`, checked by the key rules. */
  static prefixPath = prefixPath
  /** Splits `s3://bucket/key`. */
  static parseS3Url = parseS3Url
  /** A short SHA-256 prefix of a key, for logs. */
  static hashKey = hashKey

  private async resolve (filename: string, options: CallOptions): Promise<Resolved> {
    const profile = this.registry.profile(options.profile ?? this.profile)
    const location = options.location ?? this.location
    // The common case builds the key once, with no await (this runs on every presign).
    const fixed = profile.fixedTarget
    if (fixed !== undefined) return { profile, bucket: fixed.bucket, key: buildKey(fixed.prefix, location, filename) }
    // Check the key before any network call: a broker target may have to fetch credentials first.
    buildKey('', location, filename)
    const target = await profile.target()
    return { profile, bucket: target.bucket, key: buildKey(target.prefix, location, filename) }
  }

  /** Like resolve(), for a folder: its full prefix (ending in `/`) and the location's root prefix. */
  private async resolveFolder (path: string, options: CallOptions): Promise<{ profile: StorageProfile, bucket: string, prefix: string, root: string }> {
    const profile = this.registry.profile(options.profile ?? this.profile)
    const location = options.location ?? this.location
    // Checked before the target, as in resolve().
    buildKey('', location, path, { folder: true })
    const target = profile.fixedTarget ?? await profile.target()
    return {
      profile,
      bucket: target.bucket,
      prefix: buildKey(target.prefix, location, path, { folder: true }),
      root: buildKey(target.prefix, location, '', { folder: true })
    }
  }

  /** Uploads a Buffer, string or stream. Streams go multipart through lib-storage, never buffered whole. */
  async uploadFile (body: UploadBody, filename: string, options: UploadFileOptions = {}): Promise<UploadedFile> {
    const name = options.preserveFilename === true ? filename : StorageOperations.generateFilename(filename)
    checkMetadata(options.metadata)
    const { profile, bucket, key } = await this.resolve(name, options)
    const contentType = options.contentType ?? mime.getType(baseName(filename)) ?? 'application/octet-stream'
    try {
      const result = await uploadObject(profile.client, {
        bucket,
        key,
        body,
        contentType,
        contentEncoding: options.contentEncoding,
        metadata: options.metadata,
        maxBytes: options.maxBytes,
        ifNoneMatch: options.ifNoneMatch,
        signal: options.signal
      })
      this.log.debug({ profile: profile.name, keyHash: hashKey(key), size: result.size }, 'storage upload')
      return { key, filename: name, size: result.size, etag: result.etag, contentType }
    } catch (err) {
      throw mapS3Error(err, name)
    }
  }

  /** Starts a download and returns the body stream with its headers. Destroy `body` to stop early. */
  async downloadFile (filename: string, options: DownloadFileOptions = {}): Promise<DownloadedObject> {
    const range = options.range === undefined ? undefined : toRangeHeader(options.range)
    const { profile, bucket, key } = await this.resolve(filename, options)
    try {
      return await downloadObject(profile.client, {
        bucket, key, range, ifNoneMatch: options.ifNoneMatch, ifModifiedSince: options.ifModifiedSince, signal: options.signal
      })
    } catch (err) {
      throw mapS3Error(err, filename)
    }
  }

  /** Copies a file to a fresh UUID name beside it (server-side) and returns the new name. */
  async duplicateFile (filename: string, options: CallOptions = {}): Promise<string> {
    const slash = filename.lastIndexOf('/')
    const newName = filename.slice(0, slash + 1) + StorageOperations.generateFilename(filename)
    await this.copyFile(filename, { ...options, toFilename: newName })
    return newName
  }

  /**
   * Copies a file to another name, location, profile or bucket. Same endpoint: a server-side copy with the
   * destination profile's client (which needs read access to the source); multipart copy above 5 GiB.
   * Different endpoints: the bytes are streamed through the app, and the result says so.
   */
  async copyFile (filename: string, options: CopyFileOptions = {}): Promise<CopiedFile> {
    const from = await this.resolve(filename, options)
    const toFilename = options.toFilename ?? filename
    const to = await this.resolve(toFilename, {
      profile: options.toProfile ?? from.profile.name,
      location: options.toLocation ?? options.location ?? this.location
    })
    if (from.bucket === to.bucket && from.key === to.key && from.profile.sameEndpointAs(to.profile)) {
      throw new FST_S3S_INVALID_ARGUMENT('source and destination are the same object')
    }
    try {
      if (from.profile.sameEndpointAs(to.profile)) {
        await copyObject(to.profile.client, { from, to })
        return { key: to.key, filename: toFilename, method: 'server-side' }
      }
      await streamCopy(from.profile.client, from, to.profile.client, to)
      return { key: to.key, filename: toFilename, method: 'streamed' }
    } catch (err) {
      throw mapS3Error(err, filename)
    } finally {
      this.log.debug({ from: hashKey(from.key), to: hashKey(to.key) }, 'storage copy')
    }
  }

  /** Deletes a file. Deleting a missing file succeeds, as in S3. */
  async deleteFile (filename: string, options: CallOptions = {}): Promise<void> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    try {
      await profile.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
      this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage delete')
    } catch (err) {
      throw mapS3Error(err, filename)
    }
  }

  /**
   * Deletes many files, in batches of at most 1000 keys per bucket. Every key is checked before anything is
   * sent. Keys S3 refuses are reported in `failed`, not thrown.
   */
  async deleteFiles (items: DeleteItem[], options: CallOptions = {}): Promise<DeleteFilesResult> {
    const groups = new Map<string, { profile: StorageProfile, bucket: string, keys: string[] }>()
    const resolved: Resolved[] = []
    for (const item of items) {
      const filename = typeof item === 'string' ? item : item.filename
      const itemOptions = typeof item === 'string' ? options : { profile: item.profile ?? options.profile, location: item.location ?? options.location }
      resolved.push(await this.resolve(filename, itemOptions))
    }
    for (const { profile, bucket, key } of resolved) {
      const id = `${profile.name}\u0000${bucket}`
      let group = groups.get(id)
      if (group === undefined) groups.set(id, group = { profile, bucket, keys: [] })
      group.keys.push(key)
    }
    const result: DeleteFilesResult = { deleted: [], failed: [] }
    for (const { profile, bucket, keys } of groups.values()) {
      try {
        const { deleted, failed } = await deleteObjects(profile.client, bucket, keys)
        result.deleted.push(...deleted)
        result.failed.push(...failed)
      } catch (err) {
        throw mapS3Error(err, `${keys.length} keys in ${bucket}`)
      }
    }
    return result
  }

  /**
   * A presigned GET URL. **`expireMinutes` is in minutes** (as in keg_storage); every other lifetime in this
   * API is in seconds. Longer than the profile ceiling is clamped, with a warning; longer than the life of
   * temporary credentials follows the profile's `linkTtlPolicy`.
   */
  async getDownloadLink (filename: string, expireMinutes: number, options: DownloadLinkOptions = {}): Promise<string> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    const expiresIn = await linkLifetime(profile, minutesToSeconds(expireMinutes), this.log, key)
    return await presignGet(profile.client, bucket, key, expiresIn, options)
  }

  /**
   * A presigned PUT URL. **`expireMinutes` is in minutes.** Content-Type is signed: the uploader must send
   * exactly `Content-Type: <contentType>` (default `application/octet-stream`).
   */
  async getUploadLink (filename: string, expireMinutes: number, options: UploadLinkOptions = {}): Promise<string> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    const expiresIn = await linkLifetime(profile, minutesToSeconds(expireMinutes), this.log, key)
    return await presignPut(profile.client, bucket, key, expiresIn, options.contentType ?? 'application/octet-stream')
  }

  /**
   * A presigned POST policy for a browser form: `content-length-range` of `0..maxBytes` (the file's size),
   * an exact Content-Type when given, and fixed metadata. `expireSeconds` is in **seconds**.
   */
  async createUploadPost (filename: string, options: UploadPostOptions = {}): Promise<UploadPost> {
    const maxBytes = options.maxBytes ?? MAX_SINGLE_UPLOAD_BYTES
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_SINGLE_UPLOAD_BYTES) {
      throw new FST_S3S_INVALID_ARGUMENT(`maxBytes must be a whole number from 1 to ${MAX_SINGLE_UPLOAD_BYTES}`)
    }
    checkMetadata(options.metadata)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const expiresIn = await linkLifetime(profile, options.expireSeconds ?? 3600, this.log, key)
    const post = await presignPost(profile.client, bucket, key, { maxBytes, contentType: options.contentType, expiresIn, metadata: options.metadata })
    return { ...post, key, expiresIn, maxBytes }
  }

  /** The object's headers. Throws `FST_S3S_NOT_FOUND` when it does not exist. */
  async head (filename: string, options: CallOptions = {}): Promise<FileInfo> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    try {
      const result = await profile.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      return {
        key,
        size: result.ContentLength ?? 0,
        contentType: result.ContentType,
        etag: result.ETag,
        lastModified: result.LastModified,
        metadata: result.Metadata ?? {}
      }
    } catch (err) {
      throw mapS3Error(err, filename)
    }
  }

  /** Whether the file exists: false only for a 404; any other S3 error is thrown. */
  async exists (filename: string, options: CallOptions = {}): Promise<boolean> {
    try {
      await this.head(filename, options)
      return true
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_S3S_NOT_FOUND') return false
      throw err
    }
  }

  /** One page of files and folders under the location (and `prefix`). */
  async list (options: ListOptions = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FST_S3S_INVALID_ARGUMENT('limit must be a whole number from 1 to 1000')
    const delimiter = options.delimiter ?? '/'
    if (delimiter !== '/' && delimiter !== '') throw new FST_S3S_INVALID_ARGUMENT('delimiter must be "/" or ""')
    const location = options.location ?? this.location
    const { profile, bucket, prefix, root } = await this.resolveFolder(options.prefix ?? '', options)
    try {
      const page = await profile.client.send(new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter === '' ? undefined : delimiter,
        MaxKeys: limit,
        ContinuationToken: options.cursor === undefined ? undefined : decodeCursor(options.cursor)
      }))
      return {
        files: (page.Contents ?? [])
          // A folder marker (`a/` with no bytes) is shown as its folder, not as a file.
          .filter((o) => o.Key !== undefined && o.Key !== prefix)
          .map((o) => ({ name: o.Key!.slice(root.length), key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag })),
        folders: (page.CommonPrefixes ?? [])
          .filter((p) => p.Prefix !== undefined)
          .map((p) => ({ name: p.Prefix!.slice(root.length), prefix: p.Prefix! })),
        nextCursor: page.IsTruncated === true && page.NextContinuationToken !== undefined ? encodeCursor(page.NextContinuationToken) : undefined
      }
    } catch (err) {
      throw mapS3Error(err, options.prefix ?? (location ?? '/'))
    }
  }

  /** Creates a folder marker (an empty object whose key ends in `/`), as the S3 console does. */
  async createFolder (path: string, options: CallOptions = {}): Promise<{ key: string }> {
    const { profile, bucket, prefix: key, root } = await this.resolveFolder(path, options)
    if (key === root) throw new FST_S3S_INVALID_ARGUMENT('a folder needs a name')
    try {
      await uploadObject(profile.client, { bucket, key, body: Buffer.alloc(0), contentType: 'application/x-directory' })
      return { key }
    } catch (err) {
      throw mapS3Error(err, path)
    }
  }

  /**
   * Deletes a folder: its marker, and with `recursive` every key under it (in batches of 1000). Without
   * `recursive`, a folder that holds anything is refused with `FST_S3S_FOLDER_NOT_EMPTY` (409).
   */
  async deleteFolder (path: string, options: CallOptions & { recursive?: boolean } = {}): Promise<DeleteFilesResult> {
    const { profile, bucket, prefix, root } = await this.resolveFolder(path, options)
    if (prefix === root) throw new FST_S3S_INVALID_ARGUMENT('refusing to delete the root folder')
    const folder = prefix.slice(root.length)
    const result: DeleteFilesResult = { deleted: [], failed: [] }
    let cursor: string | undefined
    let first = true
    try {
      do {
        const page = await profile.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: cursor, MaxKeys: 1000 }))
        const keys = (page.Contents ?? []).flatMap((o) => o.Key === undefined ? [] : [o.Key])
        if (first && options.recursive !== true && keys.some((k) => k !== prefix)) throw new FST_S3S_FOLDER_NOT_EMPTY(folder)
        first = false
        const { deleted, failed } = await deleteObjects(profile.client, bucket, keys)
        result.deleted.push(...deleted)
        result.failed.push(...failed)
        cursor = page.IsTruncated === true ? page.NextContinuationToken : undefined
      } while (cursor !== undefined)
      return result
    } catch (err) {
      throw mapS3Error(err, folder)
    }
  }

  /** Every file under the location (and `prefix`), recursively, page by page. */
  async * listAll (options: Omit<ListOptions, 'cursor' | 'delimiter'> = {}): AsyncGenerator<ListedFile> {
    let cursor: string | undefined
    do {
      const page = await this.list({ ...options, delimiter: '', cursor })
      yield * page.files
      cursor = page.nextCursor
    } while (cursor !== undefined)
  }
}

// Link lifetimes come in minutes; a string or NaN must not slip through JavaScript's coercion.
function minutesToSeconds (minutes: number): number {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) throw new FST_S3S_INVALID_ARGUMENT('a link lifetime must be a positive number of minutes')
  return minutes * 60
}

// Cursors are S3 continuation tokens wrapped so callers treat them as opaque and cannot smuggle raw bytes.
function encodeCursor (token: string): string {
  return Buffer.from(token, 'utf8').toString('base64url')
}

function decodeCursor (cursor: string): string {
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,4096}$/.test(cursor)) throw new FST_S3S_INVALID_ARGUMENT('cursor is not one this API returned')
  return Buffer.from(cursor, 'base64url').toString('utf8')
}
