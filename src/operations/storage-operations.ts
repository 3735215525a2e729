/**
 * StorageOperations: the public API over one registry. Thin by design: it builds keys (src/keys.ts), hands
 * the work to the calls of objects/transfer/links/bucket/multipart, and maps S3 errors onto the catalog in
 * one wrapper (`run`). Browse and upload routes use this same class, like any user's code.
 */
import { randomUUID } from 'node:crypto'
import type { CORSRule } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import mime from 'mime'
import {
  FST_S3S_FOLDER_NOT_EMPTY, FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_NOT_FOUND, FST_S3S_PRECONDITION_FAILED, FST_S3S_TOO_LARGE,
  FST_S3S_VERSIONING_DISABLED,
  isNotFound
} from '../errors.js'
import { mapBounded } from '../bounded.js'
import { baseName, buildKey, checkPath, extensionOf, hashKey, parseS3Url, prefixPath } from '../keys.js'
import type { ProfileRegistry, StorageProfile } from '../profiles/registry.js'
import { getBucketCors, getBucketVersioning, listMultipartUploads, putBucketCors, putBucketVersioning } from './bucket.js'
import { linkLifetime, MAX_SINGLE_UPLOAD_BYTES, presignGet, presignPost, presignPut, presignUploadPart } from './links.js'
import { normalizeMetadata } from './metadata.js'
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, judgeParts, listParts, MULTIPART_LIMITS } from './multipart.js'
import { deleteObject, deleteObjects, headObject, listKeyPages, listObjectsPage } from './objects.js'
import { toRangeHeader } from './range.js'
import { mapS3Error } from './s3-errors.js'
import { MOVE_CONCURRENCY, moveObject, transferFolder, transferObject, type FolderTransferResult } from './move.js'
import { copyObject, downloadObject, streamCopy, uploadObject } from './transfer.js'
import { copyVersionOnTop, deletedKeys, deleteObjectVersion, listVersionsPage, removeDeleteMarkers, type VersionEntry, type VersionMarker } from './versions.js'
import type {
  BucketVersioning, CallOptions, CompletedPartInput, CompletedUpload, CompleteMultipartUploadOptions, CopiedFile, CreateMultipartUploadOptions,
  MultipartUpload, SignUploadPartOptions, UploadedPart, CopyFileOptions, DeletedPage, DeletedVersion, DeleteFilesResult, DeleteItem, DownloadedObject,
  DownloadFileOptions, DownloadLinkOptions, FileInfo, FileVersion, HeadOptions, ListDeletedOptions, ListedFile, ListOptions, ListPage,
  ListVersionsOptions, MultipartUploadInfo, RestoredVersion, SignDownloadLinkOptions, SignedLink, StorageOperationsOptions, UndeletedFile,
  UploadBody, UploadedFile, UploadFileOptions, UploadLinkOptions, UploadPost, UploadPostOptions, VersionPage,
  ZipArchive, ZipSelection, ZipStreamOptions,
  CopyFolderResult, MovedFile, MoveFileOptions, MoveFolderOptions, MoveFolderResult, RenameFileOptions
} from './types.js'
import { listSelection, streamZip, zipLimits } from './zip.js'

export type * from './types.js'

/** Where a call's key lives. */
interface Resolved {
  profile: StorageProfile
  bucket: string
  key: string
}

/** Where a call's folder lives: its full prefix (ending in `/`) and the location's root prefix. */
interface ResolvedFolder {
  profile: StorageProfile
  bucket: string
  prefix: string
  root: string
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
    // Only a plausible extension is kept: anything odd would end up in every generated key.
    const ext = extensionOf(filename)
    return randomUUID() + (ext === '' ? '' : '.' + ext)
  }

  /** `location/filename`, checked by the key rules. */
  static prefixPath = prefixPath
  /** Splits `s3://bucket/key`. */
  static parseS3Url = parseS3Url
  /** A short SHA-256 prefix of a key, for logs. */
  static hashKey = hashKey

  /** Runs S3 calls, mapping whatever they throw onto the catalog (`what` names the object in messages). */
  private async run<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw mapS3Error(err, what)
    }
  }

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

  private async resolveFolder (path: string, options: CallOptions): Promise<ResolvedFolder> {
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

  /**
   * A full key handed back by the caller (one this API returned): it must lie under the location, by the
   * key rules, or it is refused with `FST_S3S_INVALID_KEY` (400) before anything is sent.
   */
  protected async resolveKey (key: string, options: CallOptions = {}): Promise<Resolved & { name: string }> {
    const { profile, bucket, root } = await this.resolveFolder('', options)
    if (typeof key !== 'string' || !key.startsWith(root) || key.length === root.length) throw new FST_S3S_INVALID_KEY('not a key of this location')
    const name = checkPath(key.slice(root.length), 'key')
    return { profile, bucket, key, name }
  }

  /** Uploads a Buffer, string or stream. Streams go multipart through lib-storage, never buffered whole. */
  async uploadFile (body: UploadBody, filename: string, options: UploadFileOptions = {}): Promise<UploadedFile> {
    const name = options.preserveFilename === true ? filename : StorageOperations.generateFilename(filename)
    const metadata = normalizeMetadata(options.metadata)
    const { ifMatch, ifNoneMatch } = writeConditions(options)
    const { profile, bucket, key } = await this.resolve(name, options)
    const contentType = options.contentType ?? mime.getType(baseName(filename)) ?? 'application/octet-stream'
    const result = await this.run(name, async () => await uploadObject(profile.client, {
      bucket,
      key,
      body,
      contentType,
      contentEncoding: options.contentEncoding,
      metadata,
      maxBytes: options.maxBytes,
      ifNoneMatch,
      ifMatch,
      signal: options.signal
    })).catch((err: unknown) => {
      // If-Match on a missing object: AWS and versitygw answer 404 NoSuchKey, SeaweedFS 412. The condition
      // failed either way, and one rule is easier to handle than two.
      if (ifMatch !== undefined && isNotFound(err)) throw Object.assign(new FST_S3S_PRECONDITION_FAILED(`${name} no longer exists`), { cause: err })
      throw err
    })
    this.log.debug({ profile: profile.name, keyHash: hashKey(key), size: result.size }, 'storage upload')
    return { key, filename: name, size: result.size, etag: result.etag, contentType, versionId: result.versionId }
  }

  /** Starts a download and returns the body stream with its headers. Destroy `body` to stop early. */
  async downloadFile (filename: string, options: DownloadFileOptions = {}): Promise<DownloadedObject> {
    const range = options.range === undefined ? undefined : toRangeHeader(options.range)
    const versionId = options.versionId === undefined ? undefined : checkVersionId(options.versionId)
    const { profile, bucket, key } = await this.resolve(filename, options)
    return await this.run(filename, async () => await versionRead(filename, versionId, async () => await downloadObject(profile.client, {
      bucket, key, range, ifNoneMatch: options.ifNoneMatch, ifModifiedSince: options.ifModifiedSince, versionId, signal: options.signal
    })))
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
    const serverSide = from.profile.sameEndpointAs(to.profile)
    if (from.bucket === to.bucket && from.key === to.key && serverSide) {
      throw new FST_S3S_INVALID_ARGUMENT('source and destination are the same object')
    }
    if (options.ifNoneMatch !== undefined && typeof options.ifNoneMatch !== 'boolean') throw new FST_S3S_INVALID_ARGUMENT('ifNoneMatch must be a boolean')
    try {
      return await this.run(filename, async () => {
        if (options.ifNoneMatch === true) {
          const head = await headObject(from.profile.client, from.bucket, from.key)
          const toRoot = (await this.resolveFolder('', { profile: to.profile.name, location: options.toLocation ?? options.location ?? this.location })).root
          await transferObject({ client: from.profile.client, bucket: from.bucket, root: '' }, { key: from.key, size: head.size, etag: head.etag },
            { client: to.profile.client, bucket: to.bucket, root: toRoot }, to.key, { serverSide, overwrite: false })
        } else if (serverSide) await copyObject(to.profile.client, { from, to })
        else await streamCopy(from.profile.client, from, to.profile.client, to)
        return { key: to.key, filename: toFilename, method: serverSide ? 'server-side' : 'streamed' }
      })
    } finally {
      this.log.debug({ from: hashKey(from.key), to: hashKey(to.key) }, 'storage copy')
    }
  }

  /** Deletes a file. Deleting a missing file succeeds, as in S3. */
  async deleteFile (filename: string, options: CallOptions = {}): Promise<void> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    await this.run(filename, async () => await deleteObject(profile.client, bucket, key))
    this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage delete')
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
      const { deleted, failed } = await this.run(`${keys.length} keys in ${bucket}`, async () => await deleteObjects(profile.client, bucket, keys))
      result.deleted.push(...deleted)
      result.failed.push(...failed)
    }
    return result
  }

  /**
   * A presigned GET URL. **`expireMinutes` is in minutes** (as in keg_storage); every other lifetime in this
   * API is in seconds. Longer than the profile ceiling is clamped, with a warning; longer than the life of
   * temporary credentials follows the profile's `linkTtlPolicy`.
   */
  async getDownloadLink (filename: string, expireMinutes: number, options: DownloadLinkOptions = {}): Promise<string> {
    return (await this.signDownloadLink(filename, { ...options, expireSeconds: minutesToSeconds(expireMinutes) })).url
  }

  /**
   * A presigned GET URL with the lifetime it really got (in seconds, after the profile ceiling and the
   * credentials' expiry): what an API handing links to clients should report.
   */
  async signDownloadLink (filename: string, options: SignDownloadLinkOptions = {}): Promise<SignedLink> {
    if (options.versionId !== undefined) checkVersionId(options.versionId)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const expiresIn = await linkLifetime(profile, options.expireSeconds ?? 3600, this.log, key)
    return { url: await presignGet(profile.client, bucket, key, expiresIn, options), expiresIn }
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
   * an exact Content-Type (the one given, else the one the name suggests), and fixed metadata.
   * `expireSeconds` is in **seconds**.
   */
  async createUploadPost (filename: string, options: UploadPostOptions = {}): Promise<UploadPost> {
    const maxBytes = options.maxBytes ?? MAX_SINGLE_UPLOAD_BYTES
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_SINGLE_UPLOAD_BYTES) {
      throw new FST_S3S_INVALID_ARGUMENT(`maxBytes must be a whole number from 1 to ${MAX_SINGLE_UPLOAD_BYTES}`)
    }
    const metadata = normalizeMetadata(options.metadata)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const expiresIn = await linkLifetime(profile, options.expireSeconds ?? 3600, this.log, key)
    // Always pinned: a form without a Content-Type field is stored as binary/octet-stream by some stores, and
    // one that adds the field outside the policy is refused (by AWS and versitygw).
    const contentType = options.contentType ?? mime.getType(baseName(filename)) ?? 'application/octet-stream'
    const post = await presignPost(profile.client, bucket, key, { maxBytes, contentType, expiresIn, metadata })
    return { ...post, key, expiresIn, maxBytes }
  }

  /** The object's headers (of one version with `versionId`). Throws `FST_S3S_NOT_FOUND` when it does not exist. */
  async head (filename: string, options: HeadOptions = {}): Promise<FileInfo> {
    const versionId = options.versionId === undefined ? undefined : checkVersionId(options.versionId)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const head = await this.run(filename, async () => await versionRead(filename, versionId, async () => await headObject(profile.client, bucket, key, { versionId })))
    return { key, size: head.size, contentType: head.contentType, etag: head.etag, lastModified: head.lastModified, versionId: head.versionId, metadata: head.metadata }
  }

  /** Whether the file exists: false only for a 404; any other S3 error is thrown. */
  async exists (filename: string, options: CallOptions = {}): Promise<boolean> {
    try {
      await this.head(filename, options)
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  /** One page of files and folders under the location (and `prefix`). */
  async list (options: ListOptions = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FST_S3S_INVALID_ARGUMENT('limit must be a whole number from 1 to 1000')
    const delimiter = options.delimiter ?? '/'
    if (delimiter !== '/' && delimiter !== '') throw new FST_S3S_INVALID_ARGUMENT('delimiter must be "/" or ""')
    const token = options.cursor === undefined ? undefined : decodeCursor(options.cursor)
    const { profile, bucket, prefix, root } = await this.resolveFolder(options.prefix ?? '', options)
    const page = await this.run(options.prefix ?? (options.location ?? this.location ?? '/'), async () =>
      await listObjectsPage(profile.client, bucket, prefix, { delimiter, limit, token }))
    return {
      files: page.objects
        // A folder marker (`a/` with no bytes) is shown as its folder, not as a file.
        .filter((o) => o.key !== prefix)
        .map((o) => ({ name: o.key.slice(root.length), key: o.key, size: o.size, lastModified: o.lastModified, etag: o.etag })),
      folders: page.prefixes.map((p) => ({ name: p.slice(root.length), prefix: p })),
      nextCursor: page.next === undefined ? undefined : encodeCursor(page.next)
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

  /** Creates a folder marker (an empty object whose key ends in `/`), as the S3 console does. */
  async createFolder (path: string, options: CallOptions = {}): Promise<{ key: string }> {
    const { profile, bucket, prefix: key, root } = await this.resolveFolder(path, options)
    if (key === root) throw new FST_S3S_INVALID_ARGUMENT('a folder needs a name')
    await this.run(path, async () => await uploadObject(profile.client, { bucket, key, body: Buffer.alloc(0), contentType: 'application/x-directory' }))
    return { key }
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
    return await this.run(folder, async () => {
      let first = true
      for await (const keys of listKeyPages(profile.client, bucket, prefix)) {
        if (first && options.recursive !== true && keys.some((k) => k !== prefix)) throw new FST_S3S_FOLDER_NOT_EMPTY(folder)
        first = false
        const { deleted, failed } = await deleteObjects(profile.client, bucket, keys)
        result.deleted.push(...deleted)
        result.failed.push(...failed)
      }
      return result
    })
  }

  // Bucket-level calls.

  /** The CORS rules of the profile's bucket (`[]` when it has none). */
  async bucketCors (options: Pick<CallOptions, 'profile'> = {}): Promise<CORSRule[]> {
    const { profile, bucket } = await this.resolveFolder('', options)
    return await this.run(`CORS of ${bucket}`, async () => await getBucketCors(profile.client, bucket))
  }

  /** Replaces the CORS rules of the profile's bucket. */
  async setBucketCors (rules: CORSRule[], options: Pick<CallOptions, 'profile'> = {}): Promise<void> {
    const { profile, bucket } = await this.resolveFolder('', options)
    await this.run(`CORS of ${bucket}`, async () => await putBucketCors(profile.client, bucket, rules))
  }

  // Multipart uploads.

  /** Multipart uploads in progress under the location (and `prefix`), with their full keys. */
  async * listMultipartUploads (options: CallOptions & { prefix?: string } = {}): AsyncGenerator<MultipartUploadInfo> {
    const { profile, bucket, prefix, root } = await this.resolveFolder(options.prefix ?? '', options)
    const uploads = listMultipartUploads(profile.client, bucket, prefix)
    while (true) {
      const next = await this.run('multipart uploads', async () => await uploads.next())
      if (next.done === true) return
      yield { key: next.value.key, name: next.value.key.slice(root.length), uploadId: next.value.uploadId, initiated: next.value.initiated }
    }
  }

  /**
   * Aborts the multipart uploads under the location (and `prefix`) started more than `olderThan` seconds ago:
   * unfinished browser uploads (browse namespaces keep theirs under the namespace's folder) stop costing storage.
   */
  async abortStaleMultipartUploads ({ olderThan, ...options }: CallOptions & { olderThan: number, prefix?: string }): Promise<{ aborted: number }> {
    if (!Number.isFinite(olderThan) || olderThan < 0) throw new FST_S3S_INVALID_ARGUMENT('"olderThan" must be a number of seconds >= 0')
    const cutoff = Date.now() - olderThan * 1000
    let aborted = 0
    for await (const upload of this.listMultipartUploads(options)) {
      if (upload.initiated !== undefined && upload.initiated.getTime() <= cutoff) {
        await this.abortMultipartUpload(upload.key, upload.uploadId, options)
        aborted++
      }
    }
    return { aborted }
  }

  /** Aborts a multipart upload of a key under the location: S3 drops its parts. */
  async abortMultipartUpload (key: string, uploadId: string, options: CallOptions = {}): Promise<void> {
    const { profile, bucket, name } = await this.resolveKey(key, options)
    checkUploadId(uploadId)
    await this.run(name, async () => await abortMultipartUpload(profile.client, bucket, key, uploadId))
    this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage multipart abort')
  }

  /**
   * Starts a multipart upload for a browser (or any client) to send part by part to presigned URLs. The name
   * is a fresh UUID name unless `preserveFilename`; Content-Type and metadata are fixed now. A declared
   * `size` over `maxBytes` is refused (413) before anything is created.
   *
   * @example
   * const { key, uploadId } = await req.storage.createMultipartUpload('video.mp4', { maxBytes: 50 * 1024 ** 3 })
   */
  async createMultipartUpload (filename: string, options: CreateMultipartUploadOptions = {}): Promise<MultipartUpload> {
    const maxBytes = checkMaxObjectBytes(options.maxBytes)
    if (options.size !== undefined) {
      if (!Number.isSafeInteger(options.size) || options.size < 0) throw new FST_S3S_INVALID_ARGUMENT('size must be a whole number of bytes')
      if (options.size > maxBytes) throw new FST_S3S_TOO_LARGE(`${filename} is ${options.size} bytes, more than the ${maxBytes} allowed`)
    }
    const name = options.preserveFilename === true ? filename : StorageOperations.generateFilename(filename)
    const metadata = normalizeMetadata(options.metadata)
    const { profile, bucket, key } = await this.resolve(name, options)
    const contentType = options.contentType ?? mime.getType(baseName(filename)) ?? 'application/octet-stream'
    const uploadId = await this.run(name, async () => await createMultipartUpload(profile.client, { bucket, key, contentType, metadata }))
    this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage multipart create')
    return { key, filename: name, uploadId }
  }

  /**
   * A presigned UploadPart URL for part `partNumber` (1-10,000) of a multipart upload of a key under the
   * location, signed on demand: a client whose URL expired asks again. The lifetime is clamped to the profile
   * ceiling and to the signing credentials' life, like every link; no checksum is signed into it.
   */
  async signUploadPart (key: string, uploadId: string, partNumber: number, options: SignUploadPartOptions = {}): Promise<SignedLink> {
    checkUploadId(uploadId)
    checkPartNumber(partNumber)
    const { profile, bucket } = await this.resolveKey(key, options)
    const expiresIn = await linkLifetime(profile, options.expireSeconds ?? 900, this.log, key)
    return { url: await presignUploadPart(profile.client, bucket, key, uploadId, partNumber, expiresIn), expiresIn }
  }

  /** Every part S3 holds for a multipart upload (all pages), in part-number order. Unknown upload: 404. */
  async listUploadParts (key: string, uploadId: string, options: CallOptions = {}): Promise<UploadedPart[]> {
    checkUploadId(uploadId)
    const { profile, bucket, name } = await this.resolveKey(key, options)
    return await this.run(name, async () => await listParts(profile.client, bucket, key, uploadId))
  }

  /**
   * Completes a multipart upload. The server is the judge, not the client: S3's own list of parts is read,
   * the parts given must be parts it holds (number and ETag), every part but the last at least 5 MiB, and
   * the sum of S3's sizes at most `maxBytes`. Otherwise the upload is aborted, nothing is left behind, and
   * the call throws `FST_S3S_TOO_LARGE` (413) or `FST_S3S_INVALID_ARGUMENT` (400).
   */
  async completeMultipartUpload (key: string, uploadId: string, parts: CompletedPartInput[], options: CompleteMultipartUploadOptions = {}): Promise<CompletedUpload> {
    checkUploadId(uploadId)
    const given = checkCompletedParts(parts)
    const maxBytes = checkMaxObjectBytes(options.maxBytes)
    const ifNoneMatch = options.ifNoneMatch === true || options.ifNoneMatch === '*'
    const { profile, bucket, name } = await this.resolveKey(key, options)
    const abort = async (): Promise<void> => { await abortMultipartUpload(profile.client, bucket, key, uploadId).catch(() => {}) }
    return await this.run(name, async () => {
      const verdict = judgeParts(given, await listParts(profile.client, bucket, key, uploadId), maxBytes)
      if (!verdict.ok) {
        await abort()
        throw verdict.kind === 'size' ? new FST_S3S_TOO_LARGE(`${name}: ${verdict.message}`) : new FST_S3S_INVALID_ARGUMENT(`${name}: ${verdict.message}`)
      }
      const done = await completeMultipartUpload(profile.client, bucket, key, uploadId, given, ifNoneMatch).catch(async (err: unknown) => {
        // S3 refused the parts themselves (replaced since the listing): nothing of this upload may stay.
        const mapped = mapS3Error(err, name)
        if ((mapped as { code?: string }).code === 'FST_S3S_INVALID_ARGUMENT') await abort()
        throw mapped
      })
      // A part replaced between the listing and the Complete with one of the same ETag has the same bytes;
      // the stored size is read once more all the same, for stores that do not check ETags on Complete.
      const head = await headObject(profile.client, bucket, key, { versionId: done.versionId })
      if (head.size > maxBytes) {
        await deleteObject(profile.client, bucket, key)
        throw new FST_S3S_TOO_LARGE(`${name} is ${head.size} bytes, more than the ${maxBytes} allowed`)
      }
      this.log.debug({ profile: profile.name, keyHash: hashKey(key), size: head.size, parts: given.length }, 'storage multipart complete')
      return { key, filename: name, size: head.size, etag: done.etag ?? head.etag, versionId: done.versionId, location: done.location }
    })
  }

  // Many files at once: zip, move, rename.

  /**
   * A zip of a folder (`{ prefix }`) or of files and folders (`{ filenames }`, folders ending in `/`),
   * streamed as it is built: objects are read one after another straight into the archive, entry names
   * relative to the selection's common folder. The selection is listed first: over `maxFiles` or `maxBytes`
   * it throws `FST_S3S_TOO_LARGE` (413) before any stream exists. Destroy the archive to stop the reads.
   *
   * @example
   * const archive = await req.storage.zipStream({ prefix: 'reports/2026/' }, { maxFiles: 5000 })
   * reply.type('application/zip').send(archive)
   */
  async zipStream (selection: ZipSelection, options: ZipStreamOptions = {}): Promise<ZipArchive> {
    const limits = zipLimits(options)
    options.signal?.throwIfAborted()
    const { profile, bucket } = await this.resolveFolder('', options)
    const entries = await listSelection({
      listAll: (prefix) => this.listAll({ prefix, location: options.location, profile: options.profile }),
      head: async (path) => await this.head(path, { location: options.location, profile: options.profile })
    }, selection, limits, options.checkFile)
    options.signal?.throwIfAborted()
    this.log.debug({ profile: profile.name, files: entries.length }, 'storage zip')
    return streamZip({
      entries,
      compress: limits.compress,
      signal: options.signal,
      onFile: options.onFile,
      open: async (entry, signal) => await this.run(entry.path, async () => (await downloadObject(profile.client, { bucket, key: entry.key, signal })).body)
    })
  }

  /**
   * Moves a file: a copy (the rules of {@link copyFile}: server-side on one endpoint, multipart copy over
   * 5 GiB, streamed between endpoints), then the source is deleted, only once the copy is stored. Without
   * `overwrite`, an existing target is refused with `FST_S3S_EXISTS` (409), unless it already holds the
   * source's bytes (same size and ETag: an earlier move that stopped before its delete), which finishes
   * that move. Onto itself: `FST_S3S_INVALID_ARGUMENT` (400).
   *
   * @example
   * await ops.moveFile('inbox/a.pdf', { toFilename: 'archive/2026/a.pdf' })
   */
  async moveFile (filename: string, options: MoveFileOptions): Promise<MovedFile> {
    const from = await this.resolve(filename, options)
    const fromRoot = (await this.resolveFolder('', options)).root
    const toFilename = options.toFilename ?? filename
    const toOptions = { profile: options.toProfile ?? from.profile.name, location: options.toLocation ?? options.location ?? this.location }
    const to = await this.resolve(toFilename, toOptions)
    const toRoot = (await this.resolveFolder('', toOptions)).root
    const serverSide = from.profile.sameEndpointAs(to.profile)
    if (from.bucket === to.bucket && from.key === to.key && serverSide) throw new FST_S3S_INVALID_ARGUMENT('a file cannot be moved onto itself')
    await this.run(filename, async () => {
      const head = await headObject(from.profile.client, from.bucket, from.key)
      await moveObject({ client: from.profile.client, bucket: from.bucket, root: fromRoot }, { key: from.key, size: head.size, etag: head.etag },
        { client: to.profile.client, bucket: to.bucket, root: toRoot }, to.key, { serverSide, overwrite: options.overwrite === true })
    })
    this.log.debug({ from: hashKey(from.key), to: hashKey(to.key) }, 'storage move')
    return { key: to.key, filename: toFilename, method: serverSide ? 'server-side' : 'streamed' }
  }

  /**
   * Gives a file a new name in its folder (`toName` is one segment: use {@link moveFile} to move it
   * elsewhere). A move on the same bucket, so a server-side copy and a delete.
   *
   * @example
   * await ops.renameFile('reports/draft.txt', 'final.txt') // → reports/final.txt
   */
  async renameFile (filename: string, toName: string, options: RenameFileOptions = {}): Promise<MovedFile> {
    if (typeof toName !== 'string' || toName === '' || toName.includes('/')) throw new FST_S3S_INVALID_ARGUMENT('the new name must be one path segment (moveFile moves to another folder)')
    const slash = filename.lastIndexOf('/')
    return await this.moveFile(filename, { ...options, toFilename: filename.slice(0, slash + 1) + toName })
  }

  /**
   * Moves every file under folder `prefix` to the same relative name under `toPrefix` (another location or
   * profile with `toLocation`/`toProfile`): page by page (1000 keys), `concurrency` copies at a time, each
   * page's copied sources deleted in one batch. A source whose copy failed is never deleted; failures are
   * reported, not thrown. Safe to run again after a crash: finished copies are recognised (same size and
   * ETag) and their sources deleted. A folder into or onto itself: `FST_S3S_INVALID_ARGUMENT` (400).
   *
   * @example
   * const { moved, failed } = await ops.moveFolder('2025/', 'archive/2025/')
   */
  async moveFolder (prefix: string, toPrefix: string, options: MoveFolderOptions = {}): Promise<MoveFolderResult> {
    const { done, failed } = await this.transferFolder('move', prefix, toPrefix, options)
    return { moved: done, failed }
  }

  /** Copies every file under folder `prefix` to `toPrefix`, as {@link moveFolder} moves them, keeping the sources. */
  async copyFolder (prefix: string, toPrefix: string, options: MoveFolderOptions = {}): Promise<CopyFolderResult> {
    const { done, failed } = await this.transferFolder('copy', prefix, toPrefix, options)
    return { copied: done, failed }
  }

  private async transferFolder (mode: 'move' | 'copy', prefix: string, toPrefix: string, options: MoveFolderOptions): Promise<FolderTransferResult> {
    const concurrency = options.concurrency ?? MOVE_CONCURRENCY
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new FST_S3S_INVALID_ARGUMENT('concurrency must be a whole number from 1 to 64')
    const from = await this.resolveFolder(prefix, options)
    const to = await this.resolveFolder(toPrefix, { profile: options.toProfile ?? from.profile.name, location: options.toLocation ?? options.location ?? this.location })
    const serverSide = from.profile.sameEndpointAs(to.profile)
    if (serverSide && from.bucket === to.bucket) {
      if (to.prefix === from.prefix) throw new FST_S3S_INVALID_ARGUMENT(`a folder cannot be ${mode === 'move' ? 'moved' : 'copied'} onto itself`)
      if (to.prefix.startsWith(from.prefix)) throw new FST_S3S_INVALID_ARGUMENT(`a folder cannot be ${mode === 'move' ? 'moved' : 'copied'} into itself`)
    }
    const result = await this.run(prefix === '' ? '/' : prefix, async () => await transferFolder({
      from: { client: from.profile.client, bucket: from.bucket, prefix: from.prefix, root: from.root },
      to: { client: to.profile.client, bucket: to.bucket, prefix: to.prefix, root: to.root },
      mode,
      serverSide,
      overwrite: options.overwrite === true,
      concurrency,
      signal: options.signal,
      onProgress: options.onProgress,
      onFile: options.onFile
    }))
    this.log.debug({ from: hashKey(from.prefix), to: hashKey(to.prefix), done: result.done.length, failed: result.failed.length }, `storage ${mode} folder`)
    return result
  }

  // Versions.

  /**
   * The versioning state of the profile's bucket: `'Enabled'`, `'Suspended'` (old versions are kept, new
   * writes replace the `null` version) or `'Off'` (never enabled: the version calls refuse).
   *
   * @example
   * if (await req.storage.bucketVersioning() !== 'Off') { ... } // or bucketVersioning('archive')
   */
  async bucketVersioning (profile?: string | Pick<CallOptions, 'profile'>): Promise<BucketVersioning> {
    const options = typeof profile === 'string' ? { profile } : (profile ?? {})
    const { profile: resolved, bucket } = await this.resolveFolder('', options)
    return await this.run(`versioning of ${bucket}`, async () => await getBucketVersioning(resolved.client, bucket))
  }

  /**
   * Turns versioning on for the profile's bucket (`'Enabled'`), or suspends it (`'Suspended'`). S3 cannot
   * turn it off again once enabled, so there is no `'Off'`. Needs `s3:PutBucketVersioning`.
   */
  async setBucketVersioning (status: 'Enabled' | 'Suspended', options: Pick<CallOptions, 'profile'> = {}): Promise<void> {
    if (status !== 'Enabled' && status !== 'Suspended') throw new FST_S3S_INVALID_ARGUMENT('versioning can be "Enabled" or "Suspended" (S3 cannot turn it off again)')
    const { profile, bucket } = await this.resolveFolder('', options)
    await this.run(`versioning of ${bucket}`, async () => await putBucketVersioning(profile.client, bucket, status))
  }

  /**
   * A file's versions and delete markers, newest first (`isLatest` marks the current entry; a delete
   * marker on top means the file is deleted). On a bucket without versioning: `FST_S3S_VERSIONING_DISABLED` (409).
   */
  async listVersions (filename: string, options: ListVersionsOptions = {}): Promise<VersionPage> {
    const limit = options.limit ?? 1000
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FST_S3S_INVALID_ARGUMENT('limit must be a whole number from 1 to 1000')
    let { from, skip } = options.cursor === undefined ? { from: undefined, skip: 0 } : decodeVersionCursor(options.cursor)
    const { profile, bucket, key } = await this.resolve(filename, options)
    return await this.run(filename, async () => {
      await this.requireVersioning(profile, bucket, filename, 'versions')
      const versions: FileVersion[] = []
      // Each S3 page (1000 entries) is ordered as a whole, so a cursor is the page plus how far into it.
      while (true) {
        const page = await listVersionsPage(profile.client, bucket, key, { from })
        const mine = page.entries.filter((e) => e.key === key)
        const taken = mine.slice(skip, skip + limit - versions.length)
        versions.push(...taken.map(fileVersion))
        const used = skip + taken.length
        const next = page.next?.keyMarker === key ? page.next : undefined
        if (used < mine.length) return { versions, nextCursor: encodeVersionCursor(from, used) }
        if (next === undefined) return { versions }
        from = next
        skip = 0
        if (versions.length >= limit) return { versions, nextCursor: encodeVersionCursor(from, 0) }
      }
    })
  }

  /**
   * Puts a copy of an old version on top (a server-side copy; multipart copy over 5 GiB): the file's
   * content is that version's again, and every version stays. Restoring a version of a deleted file
   * brings the file back. `FST_S3S_NOT_FOUND` for a version the file does not have (or a delete marker).
   */
  async restoreVersion (filename: string, versionId: string, options: CallOptions = {}): Promise<RestoredVersion> {
    checkVersionId(versionId)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const copied = await this.run(filename, async () => {
      await this.requireVersioning(profile, bucket, filename, 'restore')
      return await versionRead(filename, versionId, async () => await copyVersionOnTop(profile.client, bucket, key, versionId))
    })
    this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage restore version')
    return { key, filename, restoredFrom: versionId, versionId: copied.versionId, etag: copied.etag, size: copied.size }
  }

  /**
   * Brings back a deleted file by removing the delete marker(s) on top of it: its newest stored version is
   * current again. `FST_S3S_EXISTS` (409) when the file is not deleted, `FST_S3S_NOT_FOUND` when nothing
   * is left to bring back; neither removes anything.
   */
  async undelete (filename: string, options: CallOptions = {}): Promise<UndeletedFile> {
    const { profile, bucket, key } = await this.resolve(filename, options)
    const { current, removed } = await this.run(filename, async () => {
      await this.requireVersioning(profile, bucket, filename, 'undelete')
      return await removeDeleteMarkers(profile.client, bucket, key)
    })
    this.log.debug({ profile: profile.name, keyHash: hashKey(key), removed }, 'storage undelete')
    return { key, filename, versionId: current.versionId, size: current.size, etag: current.etag, lastModified: current.lastModified, removedMarkers: removed }
  }

  /**
   * Permanently deletes one version of a file (or one delete marker). This cannot be undone: give it its own
   * permission. `FST_S3S_NOT_FOUND` when the file has no such version; on a bucket without versioning
   * `FST_S3S_VERSIONING_DISABLED` (409), and nothing is sent that could delete the current object.
   */
  async deleteVersion (filename: string, versionId: string, options: CallOptions = {}): Promise<DeletedVersion> {
    checkVersionId(versionId)
    const { profile, bucket, key } = await this.resolve(filename, options)
    const entry = await this.run(filename, async () => {
      await this.requireVersioning(profile, bucket, filename, 'deleting a version')
      return await deleteObjectVersion(profile.client, bucket, key, versionId)
    })
    this.log.debug({ profile: profile.name, keyHash: hashKey(key) }, 'storage delete version')
    return { key, filename, versionId, deleteMarker: entry.deleteMarker, wasLatest: entry.isLatest }
  }

  /**
   * Deleted files in a folder (not its sub-folders): files whose current entry is a delete marker, with the
   * newest version `undelete` would bring back. Each call scans a bounded part of the folder's history, so a
   * page may hold fewer than `limit` files and still have a `nextCursor`.
   */
  async listDeleted (options: ListDeletedOptions = {}): Promise<DeletedPage> {
    const limit = options.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FST_S3S_INVALID_ARGUMENT('limit must be a whole number from 1 to 1000')
    const cursor = options.cursor === undefined ? undefined : decodeVersionCursor(options.cursor)
    const { profile, bucket, prefix, root } = await this.resolveFolder(options.prefix ?? '', options)
    const what = options.prefix ?? (options.location ?? this.location ?? '/')
    const { found, gone } = await this.run(what, async () => {
      await this.requireVersioning(profile, bucket, what, 'deleted files')
      const found = await deletedKeys(profile.client, bucket, prefix, { cursor, limit, maxPages: DELETED_SCAN_PAGES })
      // A sub-folder is deleted when nothing is left under it: one single-key listing each, a few at a time.
      const candidates = found.prefixes.slice(0, DELETED_FOLDER_CHECKS)
      const live = await mapBounded(candidates, 4, async (p) => (await listObjectsPage(profile.client, bucket, p, { limit: 1 })).objects.length > 0)
      return { found, gone: candidates.filter((_, i) => !live[i]) }
    })
    return {
      files: found.keys.map(({ key, marker, lastVersion }) => ({
        name: key.slice(root.length),
        key,
        deletedAt: marker.lastModified,
        markerVersionId: marker.versionId,
        lastVersion: lastVersion === undefined ? undefined : { versionId: lastVersion.versionId, size: lastVersion.size, etag: lastVersion.etag, lastModified: lastVersion.lastModified }
      })),
      folders: gone.map((p) => ({ name: p.slice(root.length), prefix: p })),
      nextCursor: found.next === undefined ? undefined : encodeVersionCursor(found.next.from, found.next.skip)
    }
  }

  /** Refuses (409) before anything else is sent when the bucket has never had versioning. */
  private async requireVersioning (profile: StorageProfile, bucket: string, what: string, action: string): Promise<void> {
    if (await getBucketVersioning(profile.client, bucket) === 'Off') throw new FST_S3S_VERSIONING_DISABLED(`${what} (${action} needs a versioned bucket)`)
  }
}

/** S3 upload ids: opaque printable ASCII. */
function checkUploadId (uploadId: unknown): string {
  if (typeof uploadId !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(uploadId)) throw new FST_S3S_INVALID_ARGUMENT('uploadId must be an upload id S3 returned')
  return uploadId
}

function checkPartNumber (partNumber: unknown): number {
  if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxParts) {
    throw new FST_S3S_INVALID_ARGUMENT(`partNumber must be a whole number from 1 to ${MULTIPART_LIMITS.maxParts}`)
  }
  return partNumber
}

function checkMaxObjectBytes (maxBytes: unknown): number {
  if (maxBytes === undefined) return MULTIPART_LIMITS.maxObjectBytes
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MULTIPART_LIMITS.maxObjectBytes) {
    throw new FST_S3S_INVALID_ARGUMENT(`maxBytes must be a whole number from 1 to ${MULTIPART_LIMITS.maxObjectBytes}`)
  }
  return maxBytes
}

/** The parts a completion names: 1 to 10,000 of `{ PartNumber, ETag }`, each checked. */
function checkCompletedParts (parts: unknown): CompletedPartInput[] {
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MULTIPART_LIMITS.maxParts) {
    throw new FST_S3S_INVALID_ARGUMENT(`parts must list 1 to ${MULTIPART_LIMITS.maxParts} parts`)
  }
  return parts.map((p: unknown) => {
    const part = p as Partial<CompletedPartInput> | null
    if (typeof part?.ETag !== 'string' || !/^"?[\x21\x23-\x7e]{1,1024}"?$/.test(part.ETag)) throw new FST_S3S_INVALID_ARGUMENT('each part needs the ETag S3 answered its upload with')
    return { PartNumber: checkPartNumber(part.PartNumber), ETag: part.ETag }
  })
}

// S3 pages of history one listDeleted() call reads at most (1000 entries each), and sub-folders it checks.
const DELETED_SCAN_PAGES = 5
const DELETED_FOLDER_CHECKS = 20

/** S3 version ids: opaque, printable ASCII (hex on SeaweedFS, ULIDs on versitygw, `null` for unversioned writes). */
function checkVersionId (versionId: unknown): string {
  if (typeof versionId !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(versionId)) throw new FST_S3S_INVALID_ARGUMENT('versionId must be a version id S3 returned')
  return versionId
}

/**
 * Reads of one version: a version id the store does not know is answered 400 InvalidArgument by AWS and
 * versitygw, a delete marker 405 MethodNotAllowed (a HEAD carries only the status). Both mean "no such
 * version of this file": 404.
 */
async function versionRead<T> (filename: string, versionId: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const e = err as { name?: string, $metadata?: { httpStatusCode?: number } }
    const status = e.$metadata?.httpStatusCode
    const miss = e.name === 'InvalidArgument' || e.name === 'MethodNotAllowed' || ((e.name === 'Unknown' || e.name === 'UnknownError') && (status === 400 || status === 405))
    if (versionId === undefined || !miss) throw err
    throw Object.assign(new FST_S3S_NOT_FOUND(`version ${versionId} of ${filename}`), { cause: err })
  }
}

/** The write conditions of an upload, checked: `If-Match` quoted as S3 compares it, `If-None-Match` only `*`. */
function writeConditions (options: UploadFileOptions): { ifMatch?: string, ifNoneMatch: boolean } {
  const { ifMatch, ifNoneMatch } = options
  if (ifNoneMatch !== undefined && ifNoneMatch !== true && ifNoneMatch !== false && ifNoneMatch !== '*') throw new FST_S3S_INVALID_ARGUMENT('ifNoneMatch must be true or "*"')
  const create = ifNoneMatch === true || ifNoneMatch === '*'
  if (ifMatch === undefined) return { ifNoneMatch: create }
  // `*` ("if it exists") is left out: versitygw compares it as an ETag, and AWS does not document it.
  if (typeof ifMatch !== 'string' || !/^"?[\x21\x23-\x29\x2b-\x7e][\x21\x23-\x7e]{0,1023}"?$/.test(ifMatch)) throw new FST_S3S_INVALID_ARGUMENT('ifMatch must be an ETag the store returned')
  if (create) throw new FST_S3S_INVALID_ARGUMENT('ifMatch and ifNoneMatch cannot be used together')
  return { ifMatch: `"${ifMatch.replace(/^"|"$/g, '')}"`, ifNoneMatch: false }
}

function fileVersion (entry: VersionEntry): FileVersion {
  return { versionId: entry.versionId, isLatest: entry.isLatest, deleteMarker: entry.deleteMarker, size: entry.size, etag: entry.etag, lastModified: entry.lastModified }
}

// A version listing's cursor: the S3 page it is in and how far into it, wrapped like list() cursors.
function encodeVersionCursor (from: VersionMarker | undefined, skip: number): string {
  return encodeCursor(JSON.stringify([from?.keyMarker ?? null, from?.versionIdMarker ?? null, skip]))
}

function decodeVersionCursor (cursor: string): { from?: VersionMarker, skip: number } {
  let state: unknown
  try {
    state = JSON.parse(decodeCursor(cursor))
  } catch {
    throw new FST_S3S_INVALID_ARGUMENT('cursor is not one this API returned')
  }
  const [keyMarker, versionIdMarker, skip] = Array.isArray(state) ? state : []
  const optional = (v: unknown): boolean => v === null || typeof v === 'string'
  if (!Array.isArray(state) || state.length !== 3 || !optional(keyMarker) || !optional(versionIdMarker) || !Number.isSafeInteger(skip) || skip < 0) {
    throw new FST_S3S_INVALID_ARGUMENT('cursor is not one this API returned')
  }
  return { from: keyMarker === null ? undefined : { keyMarker, versionIdMarker: versionIdMarker ?? undefined }, skip }
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
