/**
 * Direct-to-S3 uploads: the browser posts straight to S3 with a presigned POST whose policy S3 enforces, and
 * the app confirms afterwards. Unconfirmed uploads live under `<uploadPrefix>pending/`; confirming moves them
 * to their final key (a server-side copy), so cleanup can find orphans by listing one prefix.
 *
 * Why a pending prefix and not tags or a metadata flag: object tags sent in a POST form are ignored by
 * SeaweedFS (and other S3-compatible stores), and a metadata flag can only be read with one HEAD per object.
 * A prefix works the same on AWS and every store, and a listing is all cleanup needs. Times are in seconds.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import {
  FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_INVALID_OPTION, FST_S3S_TOO_LARGE, FST_S3S_TYPE_NOT_ALLOWED, isNotFound
} from '../errors.js'
import { buildKey, checkPath, extensionOf, hashKey, normalizePrefix } from '../keys.js'
import { normalizeMetadata } from '../operations/metadata.js'
import { MAX_SINGLE_UPLOAD_BYTES } from '../operations/links.js'
import { MULTIPART_LIMITS } from '../operations/multipart.js'
import { StorageOperations, type CompletedPartInput, type SignedLink, type UploadedPart } from '../operations/storage-operations.js'
import type { ProfileRegistry } from '../profiles/registry.js'

/** Options of an upload service (`app.storage.uploads(options)`). */
export interface UploadServiceOptions {
  /** The profile. Default: the default profile. */
  profile?: string
  /** Largest file, in bytes. Required. */
  maxFileSize: number
  /** Content types accepted (exact, case-insensitive). Default: any. */
  allowedContentTypes?: string[]
  /** Folder inside the profile for uploads. Default `uploads/`. */
  uploadPrefix?: string
  /** Lifetime of a ticket, in seconds. Default 600; clamped to the profile ceiling with a warning. */
  expirationSeconds?: number
  /** Builds the key (relative to `uploadPrefix`) from the user's filename. Default `YYYY/MM/DD/<uuid><ext>`. */
  keyGenerator?: (filename: string) => string
}

/** What `createUpload` needs to know. */
export interface CreateUploadInput {
  /** The user's filename (any Unicode); kept URL-encoded in the object's metadata. */
  filename: string
  /** The file's Content-Type; pinned by the policy. Required when `allowedContentTypes` is set. */
  contentType?: string
  /** The size the client declares, in bytes; refused early when over the limit. */
  size?: number
  /**
   * Extra metadata, fixed by the policy. Names as S3 takes them (ASCII letters, digits, `-`, `_` and the
   * other HTTP token characters, any case; S3 stores them lower-cased); values any Unicode (stored
   * URL-encoded, decoded again in the record). `original-filename` and `uploaded-by` are the service's own.
   */
  metadata?: Record<string, string>
  /** Who uploads: kept as `uploaded-by` so only they (or an admin) may confirm or link it. */
  owner?: string
}

/** A presigned POST for one upload. */
export interface UploadTicket {
  /** Where the browser posts the form. */
  url: string
  /** Fields to send before the file. */
  fields: Record<string, string>
  /** The full S3 key of the pending object (profile prefix included); pass it to `confirmUpload`. */
  key: string
  /** Seconds the ticket is valid. */
  expiresIn: number
  /** Largest file accepted, in bytes. */
  maxSize: number
}

/** A confirmed upload. */
export interface UploadRecord {
  /** The final full S3 key. */
  key: string
  /** The user's original filename. */
  filename: string
  size: number
  contentType?: string
  etag?: string
  /** The caller's metadata, decoded. */
  metadata: Record<string, string>
  /** Who uploaded it, when the ticket named an owner. */
  owner?: string
  uploadedAt?: Date
}

const PENDING = 'pending/'
const META_FILENAME = 'original-filename'
const META_OWNER = 'uploaded-by'

function defaultKey (filename: string): string {
  const now = new Date()
  const ext = extensionOf(filename).toLowerCase()
  const date = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`
  return `${date}/${randomUUID()}${ext === '' ? '' : '.' + ext}`
}

function baseType (contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase()
}

/** Presigned-POST uploads with limits, a confirm step and orphan cleanup. */
export class UploadService {
  private readonly registry: ProfileRegistry
  private readonly log: FastifyBaseLogger
  private readonly profile: string
  private readonly maxFileSize: number
  private readonly allowedTypes?: Set<string>
  private readonly uploadPrefix: string
  private readonly expirationSeconds: number
  private readonly keyGenerator: (filename: string) => string

  constructor (registry: ProfileRegistry, options: UploadServiceOptions, log: FastifyBaseLogger = registry.log) {
    if (!Number.isSafeInteger(options?.maxFileSize) || options.maxFileSize < 1) throw new FST_S3S_INVALID_OPTION('uploads: "maxFileSize" must be a positive whole number of bytes')
    if (options.allowedContentTypes !== undefined && (!Array.isArray(options.allowedContentTypes) || options.allowedContentTypes.length === 0)) {
      throw new FST_S3S_INVALID_OPTION('uploads: "allowedContentTypes" must list at least one type')
    }
    const expiration = options.expirationSeconds ?? 600
    if (!Number.isFinite(expiration) || expiration < 1) throw new FST_S3S_INVALID_OPTION('uploads: "expirationSeconds" must be positive')
    if (options.keyGenerator !== undefined && typeof options.keyGenerator !== 'function') throw new FST_S3S_INVALID_OPTION('uploads: "keyGenerator" must be a function')
    this.registry = registry
    this.log = log
    if (options.profile !== undefined && !registry.names.includes(options.profile)) throw new FST_S3S_INVALID_OPTION(`uploads: profile "${options.profile}" is not one of the profiles (${registry.names.join(', ')})`)
    this.profile = registry.profile(options.profile).name
    this.maxFileSize = options.maxFileSize
    this.allowedTypes = options.allowedContentTypes === undefined ? undefined : new Set(options.allowedContentTypes.map(baseType))
    this.uploadPrefix = normalizePrefix(options.uploadPrefix ?? 'uploads/', 'location')
    this.expirationSeconds = expiration
    this.keyGenerator = options.keyGenerator ?? defaultKey
  }

  private operations (): StorageOperations {
    return new StorageOperations(this.registry, { profile: this.profile, location: this.uploadPrefix === '' ? undefined : this.uploadPrefix, log: this.log })
  }

  /** The full prefix every key of this service lives under. */
  private async root (): Promise<string> {
    const target = await this.registry.profile(this.profile).target()
    return buildKey(target.prefix, this.uploadPrefix, '', { folder: true })
  }

  /** Splits a full key into its path relative to the upload prefix, refusing keys outside it. */
  private async relative (key: string): Promise<{ pending: string, final: string }> {
    if (typeof key !== 'string') throw new FST_S3S_INVALID_KEY('key must be a string')
    const root = await this.root()
    if (!key.startsWith(root)) throw new FST_S3S_INVALID_KEY('not a key of this upload service')
    const rel = checkPath(key.slice(root.length), 'key')
    const final = rel.startsWith(PENDING) ? rel.slice(PENDING.length) : rel
    if (final === '') throw new FST_S3S_INVALID_KEY('not a key of this upload service')
    return { pending: PENDING + final, final }
  }

  /** The checks and metadata every upload of this service starts with: name, type, declared size, key. */
  private prepare (input: CreateUploadInput): { rel: string, contentType?: string, metadata: Record<string, string> } {
    const filename = typeof input?.filename === 'string' ? input.filename.trim() : ''
    if (filename === '' || filename.length > 1024) throw new FST_S3S_INVALID_ARGUMENT('a filename of 1 to 1024 characters is required')
    const contentType = input.contentType === undefined ? undefined : baseType(input.contentType)
    if (this.allowedTypes !== undefined && (contentType === undefined || !this.allowedTypes.has(contentType))) {
      throw new FST_S3S_TYPE_NOT_ALLOWED(`content type "${contentType ?? '(none)'}" is not one of ${[...this.allowedTypes].join(', ')}`)
    }
    if (input.size !== undefined && (!Number.isSafeInteger(input.size) || input.size < 0)) throw new FST_S3S_INVALID_ARGUMENT('"size" must be a whole number of bytes')
    if (input.size !== undefined && input.size > this.maxFileSize) throw new FST_S3S_TOO_LARGE(`a file of ${input.size} bytes is over the limit of ${this.maxFileSize}`)
    const generated = this.keyGenerator(filename)
    const rel = checkPath(generated, 'key')
    if (rel.startsWith(PENDING)) throw new FST_S3S_INVALID_KEY(`generated keys must not start with "${PENDING}"`)
    const encoded: Record<string, string> = {}
    for (const [name, value] of Object.entries(input.metadata ?? {})) encoded[name] = encodeURIComponent(String(value))
    // The shared rule (names as S3 takes them, lower-cased), then the service's own two names on top.
    const metadata = normalizeMetadata(encoded) ?? {}
    for (const reserved of [META_FILENAME, META_OWNER]) {
      if (reserved in metadata) throw new FST_S3S_INVALID_ARGUMENT(`metadata name "${reserved}" is the upload service's own (it records the ${reserved === META_FILENAME ? 'original filename' : 'uploader'})`)
    }
    metadata[META_FILENAME] = encodeURIComponent(filename)
    if (input.owner !== undefined) metadata[META_OWNER] = encodeURIComponent(input.owner)
    return { rel, contentType, metadata }
  }

  /** Signs a presigned POST for one file, after checking its declared type and size. */
  async createUpload (input: CreateUploadInput): Promise<UploadTicket> {
    const { rel, contentType, metadata } = this.prepare(input)
    // One POST carries at most 5 GiB; larger files go multipart.
    const maxSize = Math.min(this.maxFileSize, MAX_SINGLE_UPLOAD_BYTES)
    if (input.size !== undefined && input.size > maxSize) throw new FST_S3S_TOO_LARGE(`a file of ${input.size} bytes is larger than one POST carries (5 GiB): upload it as a multipart upload`)
    const post = await this.operations().createUploadPost(PENDING + rel, {
      maxBytes: maxSize, contentType, expireSeconds: this.expirationSeconds, metadata
    })
    this.log.debug({ keyHash: hashKey(post.key) }, 'upload ticket signed')
    return { url: post.url, fields: post.fields, key: post.key, expiresIn: post.expiresIn, maxSize }
  }

  /**
   * Starts a multipart upload (a browser sends the parts straight to S3), with the same checks as a
   * ticket. It goes to its final key at once: completing it is the server's judgement (sizes from S3's own
   * list of parts), so there is no confirm step; unfinished ones are aborted by `cleanupOrphans`.
   */
  async createMultipartUpload (input: CreateUploadInput): Promise<{ key: string, uploadId: string }> {
    const { rel, contentType, metadata } = this.prepare(input)
    const created = await this.operations().createMultipartUpload(rel, {
      preserveFilename: true, contentType, metadata, maxBytes: Math.min(this.maxFileSize, MULTIPART_LIMITS.maxObjectBytes), size: input.size
    })
    this.log.debug({ keyHash: hashKey(created.key) }, 'multipart upload started')
    return { key: created.key, uploadId: created.uploadId }
  }

  /** A presigned URL for one part of a multipart upload of this service (lifetime: `expirationSeconds`). */
  async signUploadPart (key: string, uploadId: string, partNumber: number): Promise<SignedLink> {
    return await this.operations().signUploadPart(await this.multipartKey(key), uploadId, partNumber, { expireSeconds: this.expirationSeconds })
  }

  /** The parts S3 holds for a multipart upload of this service. */
  async listUploadParts (key: string, uploadId: string): Promise<UploadedPart[]> {
    return await this.operations().listUploadParts(await this.multipartKey(key), uploadId)
  }

  /**
   * Completes a multipart upload of this service: S3's part sizes must stay within `maxFileSize`, or it is
   * aborted (413) and nothing is left. Returns the record, as `confirmUpload` does for tickets.
   */
  async completeMultipartUpload (key: string, uploadId: string, parts: CompletedPartInput[]): Promise<UploadRecord> {
    const ops = this.operations()
    const done = await ops.completeMultipartUpload(await this.multipartKey(key), uploadId, parts, { maxBytes: Math.min(this.maxFileSize, MULTIPART_LIMITS.maxObjectBytes) })
    return this.record(await ops.head(done.filename))
  }

  /** Aborts a multipart upload of this service: S3 drops its parts. */
  async abortMultipartUpload (key: string, uploadId: string): Promise<void> {
    await this.operations().abortMultipartUpload(await this.multipartKey(key), uploadId)
  }

  /** A multipart upload's key: under the service's prefix, never a pending one. */
  private async multipartKey (key: string): Promise<string> {
    const { final } = await this.relative(key)
    if ((await this.root()) + final !== key) throw new FST_S3S_INVALID_KEY('not a multipart upload key of this upload service')
    return key
  }

  /**
   * Confirms an upload: re-checks its size and type (not every S3-compatible store enforces POST policies),
   * moves it to its final key and returns its record; `null` when nothing was uploaded. An object that breaks
   * the limits is deleted and refused (`FST_S3S_TOO_LARGE` 413, `FST_S3S_TYPE_NOT_ALLOWED` 415). Confirming
   * twice returns the record.
   */
  async confirmUpload (key: string): Promise<UploadRecord | null> {
    const { pending, final } = await this.relative(key)
    const ops = this.operations()
    let info
    try {
      info = await ops.head(pending)
    } catch (err) {
      if (!isNotFound(err)) throw err
      // Already confirmed (a second call), or never uploaded.
      return await ops.head(final).then((done) => this.record(done), (e: unknown) => {
        if (isNotFound(e)) return null
        throw e
      })
    }
    const type = info.contentType === undefined ? undefined : baseType(info.contentType)
    const tooBig = info.size > this.maxFileSize
    const badType = this.allowedTypes !== undefined && (type === undefined || !this.allowedTypes.has(type))
    if (tooBig || badType) {
      await ops.deleteFile(pending)
      this.log.warn({ keyHash: hashKey(info.key), size: info.size, contentType: type }, 'upload refused at confirm and deleted')
      if (tooBig) throw new FST_S3S_TOO_LARGE(`${info.size} bytes is over the limit of ${this.maxFileSize}`)
      throw new FST_S3S_TYPE_NOT_ALLOWED(`content type "${type ?? '(none)'}" is not allowed`)
    }
    await ops.copyFile(pending, { toFilename: final })
    await ops.deleteFile(pending)
    return this.record(await ops.head(final))
  }

  private record (info: Awaited<ReturnType<StorageOperations['head']>>): UploadRecord {
    const metadata: Record<string, string> = {}
    let filename = ''
    let owner: string | undefined
    for (const [name, value] of Object.entries(info.metadata)) {
      const decoded = safeDecode(value)
      if (name === META_FILENAME) filename = decoded
      else if (name === META_OWNER) owner = decoded
      else metadata[name] = decoded
    }
    return { key: info.key, filename, size: info.size, contentType: info.contentType, etag: info.etag, metadata, owner, uploadedAt: info.lastModified }
  }

  /** The record of an upload, pending or confirmed (for ownership checks); `null` when there is none. */
  async getRecord (key: string): Promise<UploadRecord | null> {
    const { pending, final } = await this.relative(key)
    for (const path of [final, pending]) {
      try {
        return this.record(await this.operations().head(path))
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
    }
    return null
  }

  /** A presigned GET of a confirmed upload, saved under `downloadName` (default: the original filename). `expiresIn` in seconds (default 3600). */
  async getDownloadLink (key: string, options: { downloadName?: string, expiresIn?: number } = {}): Promise<string> {
    return (await this.signDownloadLink(key, options)).url
  }

  /** Like {@link getDownloadLink}, with the lifetime the link really got (after the profile's clamps). */
  async signDownloadLink (key: string, options: { downloadName?: string, expiresIn?: number } = {}): Promise<SignedLink> {
    const { final } = await this.relative(key)
    const ops = this.operations()
    let downloadName = options.downloadName
    if (downloadName === undefined) {
      // Confirmed uploads only: a pending object has not passed confirmUpload's checks.
      const info = await ops.head(final)
      downloadName = this.record(info).filename
    }
    return await ops.signDownloadLink(final, { expireSeconds: options.expiresIn ?? 3600, downloadName: downloadName === '' ? undefined : downloadName })
  }

  /**
   * Deletes pending (never confirmed) objects older than `olderThan` seconds, in batches, and aborts multipart
   * uploads under the prefix started before then. Confirmed files are never touched.
   */
  async cleanupOrphans ({ olderThan }: { olderThan: number }): Promise<{ deleted: number, aborted: number }> {
    if (!Number.isFinite(olderThan) || olderThan < 0) throw new FST_S3S_INVALID_ARGUMENT('"olderThan" must be a number of seconds >= 0')
    const cutoff = Date.now() - olderThan * 1000
    const ops = this.operations()
    const stale: string[] = []
    let deleted = 0
    for await (const file of ops.listAll({ prefix: PENDING })) {
      if (file.lastModified !== undefined && file.lastModified.getTime() < cutoff) stale.push(file.name)
      if (stale.length === 1000) deleted += (await ops.deleteFiles(stale.splice(0))).deleted.length
    }
    if (stale.length > 0) deleted += (await ops.deleteFiles(stale)).deleted.length
    const { aborted } = await ops.abortStaleMultipartUploads({ olderThan })
    this.log.info({ deleted, aborted, olderThan }, 'upload orphans cleaned up')
    return { deleted, aborted }
  }
}

function safeDecode (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
