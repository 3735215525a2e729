/**
 * What every browse handler of a namespace shares: its options, its StorageOperations factory, the cache,
 * the audit log, and the permission checks that every route goes through.
 */
import type { FastifyRequest } from 'fastify'
import mime from 'mime'
import { FST_S3S_FORBIDDEN } from '../errors.js'
import { baseName, buildKey, normalizePrefix } from '../keys.js'
import { StorageOperations, type BucketVersioning, type ListedFile } from '../operations/storage-operations.js'
import type { ProfileRegistry } from '../profiles/registry.js'
import { statusOfError, type AuditAction, type AuditLog } from '../http/audit.js'
import type { ListingCache } from './cache.js'
import type { NormalizedBrowseOptions, NormalizedNamespace } from './options.js'
import { identify, requireAllowed, type Authenticate, type Authorize, type BrowseAction } from '../http/guards.js'
import type { QuotaTracker } from './quota.js'
import { SearchSnapshots } from './search-snapshot.js'
import { RenderedPages } from './page-cache.js'
import type { SignIn } from './login.js'

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

/** Who asks, and the folder of the namespace that is theirs: resolved once per request. */
interface RequestScope {
  user: string | null
  /** The namespace's basePath for this request: `''` or a folder ending in `/`. */
  space: string
}

/** The hooks a namespace checks every request with (the host's, combined with the sign-in's). */
export interface Guards {
  authenticate?: Authenticate
  authorize?: Authorize
}

/**
 * The folder a `basePath` function answered, checked by the key rules and never repaired: a value that is
 * not a safe folder refuses the request (403) instead of being trimmed into some other folder.
 */
export function checkSpace (value: unknown): string {
  if (typeof value !== 'string') throw new FST_S3S_FORBIDDEN('no folder for this user (basePath did not answer a string)')
  try {
    return normalizePrefix(value, 'location')
  } catch (err) {
    throw new FST_S3S_FORBIDDEN(`no safe folder for this user (${(err as Error).message})`)
  }
}

/** A namespace's handlers' shared state. */
export class NamespaceContext {
  readonly ns: NormalizedNamespace
  readonly options: NormalizedBrowseOptions
  readonly registry: ProfileRegistry
  readonly audit: AuditLog
  readonly cache?: ListingCache<Listing>
  /** Snapshots that repeat searches match against, when the namespace has `searchCache`. */
  readonly searchCache?: SearchSnapshots
  /** Rendered folder pages by ETag (content-addressed: nothing to invalidate). */
  readonly pages = new RenderedPages()
  /** The namespace's quota bookkeeping, when it has a `quota`. */
  readonly quota?: QuotaTracker
  /** The built-in sign-in, when `browse.login` is set (pages show who is signed in). */
  readonly signIn?: Pick<SignIn, 'account'>
  /** URL of the namespace: `<prefix>/<name>`. */
  readonly baseUrl: string
  private readonly guards: Guards
  private readonly scopes = new WeakMap<FastifyRequest, Promise<RequestScope>>()
  // The resolved folders, readable without await (operations() is synchronous).
  private readonly resolved = new WeakMap<FastifyRequest, string>()
  private versioningSeen?: { state: BucketVersioning, at: number }
  private versioningAsked?: Promise<BucketVersioning>

  constructor (ns: NormalizedNamespace, options: NormalizedBrowseOptions, registry: ProfileRegistry, audit: AuditLog,
    cache?: ListingCache<Listing>, { guards, quota, signIn }: { guards?: Guards, quota?: QuotaTracker, signIn?: Pick<SignIn, 'account'> } = {}) {
    this.ns = ns
    this.options = options
    this.registry = registry
    this.audit = audit
    this.cache = cache
    this.searchCache = ns.searchCache === undefined ? undefined : new SearchSnapshots(ns.searchCache)
    this.quota = quota
    this.signIn = signIn
    this.guards = guards ?? { authenticate: options.authenticate, authorize: options.authorize }
    this.baseUrl = `${options.prefix}/${encodeURIComponent(ns.name)}`
  }

  /**
   * Identifies the request's user and resolves their folder, once (every namespace route does this first,
   * in an onRequest hook): 401 without a user, 403 when `basePath` answers no safe folder.
   */
  async enter (req: FastifyRequest): Promise<RequestScope> {
    let scope = this.scopes.get(req)
    if (scope === undefined) {
      scope = this.resolveScope(req)
      this.scopes.set(req, scope)
    }
    return await scope
  }

  private async resolveScope (req: FastifyRequest): Promise<RequestScope> {
    const user = await identify(this.guards.authenticate, req)
    if (this.ns.basePathFor === undefined) return { user, space: this.ns.basePath }
    const space = checkSpace(await this.ns.basePathFor(user, req))
    this.resolved.set(req, space)
    return { user, space }
  }

  /** The namespace's folder for this request (its basePath, or what the per-user function answered). */
  space (req: FastifyRequest): string {
    if (this.ns.basePathFor === undefined) return this.ns.basePath
    const space = this.resolved.get(req)
    // Fail closed: a route that skipped enter() must not fall back to the whole namespace.
    if (space === undefined) throw new FST_S3S_FORBIDDEN('the request\'s folder was not resolved')
    return space
  }

  /** StorageOperations confined to the request's folder of the namespace: its profile, with that folder as the location. */
  operations (req: FastifyRequest): StorageOperations {
    const space = this.space(req)
    return new StorageOperations(this.registry, {
      profile: this.ns.profile,
      location: space === '' ? undefined : space,
      log: req.log
    })
  }

  /** The bucket and full S3 key of a namespace path for this request (for audit records and CDN links). */
  async locate (path: string, req: FastifyRequest): Promise<{ bucket: string, key: string }> {
    const profile = this.registry.profile(this.ns.profile)
    const target = await profile.target()
    const folder = path === '' || path.endsWith('/')
    return { bucket: target.bucket, key: buildKey(target.prefix, this.space(req), path, { folder }) }
  }

  /** The user, or 401 when `authenticate` (and the sign-in) answers null. Everyone is anonymous without them. */
  async user (req: FastifyRequest): Promise<string | null> {
    return (await this.enter(req)).user
  }

  /** Throws 403 unless `authorize` allows the action on the path. */
  async authorize (user: string | null, action: BrowseAction, path: string): Promise<void> {
    await requireAllowed(this.guards.authorize, user, action, this.ns.name, path)
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
  async audited<T> (req: FastifyRequest, user: string | null, action: AuditAction, path: string, fn: () => Promise<T>, okStatus: number | (() => number) = 200, extra: { versionId?: string } = {}): Promise<T> {
    let status = 500
    try {
      const result = await fn()
      status = typeof okStatus === 'number' ? okStatus : okStatus()
      return result
    } catch (err) {
      status = statusOfError(err)
      throw err
    } finally {
      await this.recordPath(req, user, action, path, status, extra)
    }
  }

  /** Writes the audit record of an action on a namespace path (its full key; the path itself if it cannot be located). */
  async recordPath (req: FastifyRequest, user: string | null, action: AuditAction, path: string, statusCode: number, extra: { versionId?: string } = {}): Promise<void> {
    const { bucket, key } = await this.locate(path, req).catch(() => ({ bucket: '', key: path }))
    this.audit.record(req, { action, namespace: this.ns.name, bucket, key, user, statusCode, versionId: extra.versionId })
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

  /**
   * The listing cache's folder for a namespace path of this request: keyed by the resolved folder too, so two
   * users with spaces of their own never share a cached listing.
   */
  cacheFolder (path: string, req: FastifyRequest): string {
    return this.space(req) + path
  }

  /**
   * Forgets cached listings and search snapshots that a change to `path` affects (not the quota's usage:
   * uploads account for their bytes themselves).
   */
  invalidateListing (path: string, req: FastifyRequest): void {
    this.cache?.invalidate(this.cacheFolder(path, req))
    this.searchCache?.invalidate(this.space(req), path)
  }

  /** Forgets what a change to `path` makes stale: cached listings, and the space's usage when it has a quota. */
  invalidate (path: string, req: FastifyRequest): void {
    this.invalidateListing(path, req)
    this.quota?.forget(this.space(req))
  }
}

/** Percent-encodes each segment of a path, keeping the slashes. */
export function encodePath (path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

const VERSIONING_TTL_MS = 30_000
