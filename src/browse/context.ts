/**
 * What every browse handler of a namespace shares: its options, its StorageOperations factory, the cache,
 * the audit log, and the permission checks that every route goes through.
 */
import type { FastifyRequest } from 'fastify'
import mime from 'mime'
import { baseName, buildKey } from '../keys.js'
import { StorageOperations, type BucketVersioning, type ListedFile } from '../operations/storage-operations.js'
import type { ProfileRegistry } from '../profiles/registry.js'
import type { AuditLog } from '../http/audit.js'
import type { ListingCache } from './cache.js'
import type { NormalizedBrowseOptions, NormalizedNamespace } from './options.js'
import { identify, requireAllowed, type BrowseAction } from '../http/guards.js'

/** A folder entry as pages and JSON show it. */
export interface FolderEntry {
  /** Last segment. */
  name: string
  /** Path relative to the namespace, ending in `/`. */
  path: string
}

/** A file entry as pages and JSON show it. */
export interface FileEntry {
  name: string
  /** Path relative to the namespace. */
  path: string
  size: number
  lastModified?: string
  /** Content type guessed from the extension. */
  type: string
  /** The download route, or `<objectHostname>/<key>`. */
  url: string
  /** The ETag S3 listed: send it back as `ifMatch` to replace exactly this content. */
  etag?: string
}

/** A listing page (or search result). */
export interface Listing {
  folders: FolderEntry[]
  files: FileEntry[]
  nextCursor?: string
  /** Search only: the scan stopped at `searchMaxKeys`. */
  truncated?: boolean
}

/** A namespace's handlers' shared state. */
export class NamespaceContext {
  readonly ns: NormalizedNamespace
  readonly options: NormalizedBrowseOptions
  readonly registry: ProfileRegistry
  readonly audit: AuditLog
  readonly cache?: ListingCache<Listing>
  /** URL of the namespace: `<prefix>/<name>`. */
  readonly baseUrl: string
  private versioningSeen?: { state: BucketVersioning, at: number }
  private versioningAsked?: Promise<BucketVersioning>

  constructor (ns: NormalizedNamespace, options: NormalizedBrowseOptions, registry: ProfileRegistry, audit: AuditLog, cache?: ListingCache<Listing>) {
    this.ns = ns
    this.options = options
    this.registry = registry
    this.audit = audit
    this.cache = cache
    this.baseUrl = `${options.prefix}/${encodeURIComponent(ns.name)}`
  }

  /** StorageOperations confined to the namespace: its profile, with basePath as the location. */
  operations (req: FastifyRequest): StorageOperations {
    return new StorageOperations(this.registry, {
      profile: this.ns.profile,
      location: this.ns.basePath === '' ? undefined : this.ns.basePath,
      log: req.log
    })
  }

  /** The bucket and full S3 key of a namespace path (for audit records and CDN links). */
  async locate (path: string): Promise<{ bucket: string, key: string }> {
    const profile = this.registry.profile(this.ns.profile)
    const target = await profile.target()
    const folder = path === '' || path.endsWith('/')
    return { bucket: target.bucket, key: buildKey(target.prefix, this.ns.basePath, path, { folder }) }
  }

  /** The user, or 401 when `authenticate` answers null. Everyone is anonymous without the hook. */
  async user (req: FastifyRequest): Promise<string | null> {
    return await identify(this.options.authenticate, req)
  }

  /** Throws 403 unless `authorize` allows the action on the path. */
  async authorize (user: string | null, action: BrowseAction, path: string): Promise<void> {
    await requireAllowed(this.options.authorize, user, action, this.ns.name, path)
  }

  /**
   * The bucket's versioning, for what pages show (remembered for 30 s; every version call still checks it
   * itself). Once enabled, S3 never turns versioning off again, so only an `'Off'` can be out of date.
   */
  async versioning (req: FastifyRequest): Promise<BucketVersioning> {
    const seen = this.versioningSeen
    if (seen !== undefined && Date.now() - seen.at < VERSIONING_TTL_MS) return seen.state
    this.versioningAsked ??= this.operations(req).bucketVersioning()
      .then((state) => { this.versioningSeen = { state, at: Date.now() }; return state })
      .finally(() => { this.versioningAsked = undefined })
    return await this.versioningAsked
  }

  /** Runs an action on one path and writes its audit record, whatever the outcome. */
  async audited<T> (req: FastifyRequest, user: string | null, action: BrowseAction, path: string, fn: () => Promise<T>, okStatus: number | (() => number) = 200, extra: { versionId?: string } = {}): Promise<T> {
    let status = 500
    try {
      const result = await fn()
      status = typeof okStatus === 'number' ? okStatus : okStatus()
      return result
    } catch (err) {
      status = (err as { statusCode?: number }).statusCode ?? 500
      throw err
    } finally {
      const { bucket, key } = await this.locate(path).catch(() => ({ bucket: '', key: path }))
      this.audit.record(req, { action, namespace: this.ns.name, bucket, key, user, statusCode: status, versionId: extra.versionId })
    }
  }

  /** URL of a file: the CDN when `objectHostname` is set, else the download route. */
  fileUrl (path: string, fullKey: string): string {
    if (this.ns.objectHostname !== undefined) return `${this.ns.objectHostname}/${encodePath(fullKey)}`
    return `${this.baseUrl}/files/${encodePath(path)}`
  }

  /** The entry of a listed file (its path relative to the namespace): listing and search rows alike. */
  fileEntry (file: ListedFile): FileEntry {
    return {
      name: baseName(file.name),
      path: file.name,
      size: file.size,
      lastModified: file.lastModified?.toISOString(),
      type: mime.getType(file.name) ?? 'application/octet-stream',
      url: this.fileUrl(file.name, file.key),
      etag: file.etag
    }
  }

  /** URL of a folder listing. */
  folderUrl (path: string): string {
    return `${this.baseUrl}/files/${encodePath(path)}`
  }

  /** Forgets cached listings that a change to `path` affects. */
  invalidate (path: string): void {
    this.cache?.invalidate(path)
  }
}

const VERSIONING_TTL_MS = 30_000

/** Percent-encodes each segment of a path, keeping the slashes. */
export function encodePath (path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
