/**
 * Browse options: the namespaces a host mounts as web file browsers, validated once at register time.
 */
import { FST_S3S_INVALID_OPTION } from '../errors.js'
import { isExtension, normalizePrefix } from '../keys.js'
import { MAX_LINK_TTL_SECONDS, MAX_SINGLE_UPLOAD_BYTES } from '../operations/links.js'
import { ZIP_DEFAULT_MAX_BYTES, ZIP_DEFAULT_MAX_FILES, ZIP_MAX_FILES } from '../operations/zip.js'
import type { FastifyRequest } from 'fastify'
import type { Authenticate, Authorize } from '../http/guards.js'
import { uploadSecrets } from '../uploads/companion.js'
import { validateLoginOptions, type LoginOptions, type NormalizedLogin } from './login-options.js'

export type { Authenticate, Authorize, LoginOptions }

/**
 * A namespace's folder for one request: `(user) => \`users/${user}/\`` gives every user a space of their
 * own. Sync or async; `''` gives the whole namespace. The result is checked by the key rules, never
 * repaired: a user whose id would build an unsafe path (`..`, control characters, a leading `/`) is refused
 * with 403.
 */
export type BasePathFunction = (user: string | null, req: FastifyRequest) => string | Promise<string>

/** A quota limit: a number, or a function of the user (`undefined` or `Infinity`: no limit for them). */
export type QuotaLimit = number | ((user: string | null) => number | undefined | Promise<number | undefined>)

/** How much a namespace's space (each user's, with a per-user `basePath`) may hold. */
export interface QuotaOptions {
  /** Most bytes stored. Default: no limit. */
  maxBytes?: QuotaLimit
  /** Most files stored (folder markers do not count). Default: no limit. */
  maxFiles?: QuotaLimit
  /** How long a computed usage is reused, in seconds (writes through the browser update it at once). Default 30. */
  usageTtlSeconds?: number
}

/** How the page uploads files. */
export type UploadMode = 'stream' | 'presign'

/** How downloads reach the browser: through the app (`proxy`), or by a 302 to a presigned GET (`redirect`). */
export type DownloadMode = 'proxy' | 'redirect'

/** One mounted namespace: a profile (and optionally a folder of it) shown under `/<namespace>/files`. */
export interface NamespaceOptions {
  /** The storage profile. Default: the plugin's default profile. */
  profile?: string
  /**
   * A folder of the profile the namespace is confined to, or a function of the user that returns one (a
   * space per user or tenant). Default: the whole profile.
   */
  basePath?: string | BasePathFunction
  /** Limits on what the namespace's space holds; uploads that would pass them are refused with 413. Default: none. */
  quota?: QuotaOptions
  /** Extensions allowed for uploads (case-insensitive, without the dot). Default: any. */
  allowedExtensions?: string[]
  /** `stream` (through the app, default) or `presign` (the browser posts straight to S3). */
  uploadMode?: UploadMode
  /** Whether an upload may replace an existing file. Default `false` (409). */
  overwrite?: boolean
  /**
   * `proxy` (default): the app streams every download from S3. `redirect`: after the same checks and audit
   * record, a 302 to a short-lived presigned GET, so the bytes (and Range, conditional requests) go
   * between the browser and S3. Needs a store the browser can reach; the text preview then needs the
   * bucket's CORS (README, "Downloads by redirect").
   */
  downloadMode?: DownloadMode
  /** Lifetime of the presigned GET a `redirect` download answers, in seconds (1-3600). Default 300. */
  redirectExpireSeconds?: number
  /** Entries per listing page, 1-1000. Default 100. */
  pageSize?: number
  /** Largest upload, in bytes. Default 5 GiB. */
  maxUploadBytes?: number
  /** Listing cache; off unless set. `ttlSeconds` default 60, `maxEntries` default 1000. */
  cache?: { ttlSeconds?: number, maxEntries?: number }
  /** Links in pages and JSON point to `<objectHostname>/<key>` (a CDN) instead of the download route. */
  objectHostname?: string
  /** Most keys a search scans. Default 10,000. */
  searchMaxKeys?: number
  /**
   * Repeat searches match against a snapshot of the recursive listing instead of scanning S3 again; off
   * unless set. Writes through the browser drop the snapshots they affect; `Cache-Control: no-cache` scans
   * anew. `ttlSeconds` default 30, `maxEntries` (keys held across all snapshots) default 100,000.
   */
  searchCache?: { ttlSeconds?: number, maxEntries?: number }
  /** Most entries of the plain index mirroring clients get (wget --mirror, rclone's http backend). Default 10,000. */
  indexMaxEntries?: number
  /** Lifetime of presigned POSTs in `presign` mode, in seconds. Default 900. */
  presignExpireSeconds?: number
  /** `presign` mode: files above this many bytes go as multipart uploads straight to S3 (the page's uploader). Default 64 MiB. */
  multipartThreshold?: number
  /**
   * Uploads store the user `authenticate` named in the object's metadata (`x-amz-meta-uploaded-by`,
   * percent-encoded), which the Versions panel shows. Default true; nothing is stored for anonymous users.
   */
  recordUploader?: boolean
  /**
   * `POST <ns>/zip` (a folder or a selection as one streamed zip): its limits, checked from the listing
   * before any byte is sent (413). `false` turns the route off (404). Default
   * `{ maxFiles: 10_000, maxBytes: 10 GiB, compression: 'store' }`.
   */
  zip?: ZipRouteOptions | false
}

/** Limits of a namespace's zip downloads. */
export interface ZipRouteOptions {
  /** Most files in one archive, 1-100,000. Default 10,000. */
  maxFiles?: number
  /** Most bytes of the files of one archive. Default 10 GiB. */
  maxBytes?: number
  /** `'store'` (default: most stored files are compressed already) or `'deflate'`. */
  compression?: 'store' | 'deflate'
}

/** Options of the browse routes. */
export interface BrowseOptions {
  /** The namespaces, by name (letters, digits, `-`, `_`; names differing only in case are refused). */
  namespaces: Record<string, NamespaceOptions>
  /** URL prefix for every browse route. Default `''` (routes at `/<namespace>/files`). */
  prefix?: string
  /** Identifies the user; null answers 401. Default: everyone is anonymous (`null` user, allowed). With `login`, it is asked first and the sign-in is the fallback. */
  authenticate?: Authenticate
  /** Built-in OpenID Connect sign-in (`<prefix>/auth/login`, `/auth/callback`, `/auth/logout`). Default: off. */
  login?: LoginOptions
  /** Allows or denies (403) each action. Default: everything allowed. */
  authorize?: Authorize
  /** Audit records carry only `keyHash`, not the key. Default false. */
  auditKeyHashOnly?: boolean
  /** Host templates that override the bundled ones, file by file. */
  templateFolder?: string
  /**
   * The pages' Content-Security-Policy: a string replaces it, a function edits the default one (it gets the
   * default policy and the namespace, `undefined` for pages outside one), `false` sends none. Default: scripts,
   * styles and fonts from the page's own origin only, media also from `objectHostname`.
   */
  contentSecurityPolicy?: string | false | ((defaultPolicy: string, namespace: string | undefined) => string)
  /**
   * Secret the multipart upload routes bind each upload id to its user with (an HMAC), so nobody else can
   * sign, list, complete or abort it: at least 32 characters; an array rotates (newest first). Set it when
   * several app instances serve the routes, or uploads should resume across restarts. Default: the
   * `login.cookie.secret`, else a random secret per process.
   */
  uploadSecret?: string | string[]
}

/** A namespace after validation. */
export interface NormalizedNamespace {
  name: string
  profile?: string
  /** `''` or a folder ending in `/` (`''` when `basePathFor` is set). */
  basePath: string
  /** The per-request folder, when `basePath` is a function. */
  basePathFor?: BasePathFunction
  quota?: NormalizedQuota
  allowedExtensions?: Set<string>
  uploadMode: UploadMode
  overwrite: boolean
  downloadMode: DownloadMode
  redirectExpireSeconds: number
  pageSize: number
  maxUploadBytes: number
  cache?: { ttlSeconds: number, maxEntries: number }
  objectHostname?: string
  searchMaxKeys: number
  searchCache?: { ttlSeconds: number, maxEntries: number }
  indexMaxEntries: number
  presignExpireSeconds: number
  multipartThreshold: number
  recordUploader: boolean
  /** The zip route's limits; undefined when `zip: false`. */
  zip?: Required<ZipRouteOptions>
}

/** A quota after validation. */
export interface NormalizedQuota {
  maxBytes?: QuotaLimit
  maxFiles?: QuotaLimit
  usageTtlSeconds: number
}

/** Browse options after validation. */
export interface NormalizedBrowseOptions {
  namespaces: Map<string, NormalizedNamespace>
  prefix: string
  authenticate?: Authenticate
  login?: NormalizedLogin
  authorize?: Authorize
  auditKeyHashOnly: boolean
  templateFolder?: string
  contentSecurityPolicy?: BrowseOptions['contentSecurityPolicy']
  /** The multipart routes' HMAC secrets, newest first (never empty). */
  uploadSecrets: string[]
}

const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/
const MAX_UPLOAD = 5 * 1024 ** 4

function fail (message: string): never {
  throw new FST_S3S_INVALID_OPTION(message)
}

function positiveInt (ns: string, field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) fail(`browse namespace "${ns}": "${field}" must be a whole number from 1 to ${max}`)
  return value
}

/** An optional `{ ttlSeconds, maxEntries }` option (the listing cache, the search snapshots): each field's [default, max]. */
function ttlCacheOption (
  ns: string,
  field: string,
  value: { ttlSeconds?: number, maxEntries?: number } | undefined,
  bounds: { ttlSeconds: [number, number], maxEntries: [number, number] }
): { ttlSeconds: number, maxEntries: number } | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) fail(`browse namespace "${ns}": "${field}" must be an object`)
  return {
    ttlSeconds: positiveInt(ns, `${field}.ttlSeconds`, value.ttlSeconds, ...bounds.ttlSeconds),
    maxEntries: positiveInt(ns, `${field}.maxEntries`, value.maxEntries, ...bounds.maxEntries)
  }
}

function normalizeNamespace (name: string, raw: NamespaceOptions, profiles: string[]): NormalizedNamespace {
  if (!NAMESPACE_NAME.test(name)) fail(`browse namespace "${name}" must be 1-63 letters, digits, "-" or "_"`)
  if (typeof raw !== 'object' || raw === null) fail(`browse namespace "${name}" must be an object`)
  if (raw.profile !== undefined && !profiles.includes(raw.profile)) fail(`browse namespace "${name}": profile "${raw.profile}" is not one of the profiles (${profiles.join(', ')})`)
  let basePath = ''
  const basePathFor = typeof raw.basePath === 'function' ? raw.basePath : undefined
  if (basePathFor === undefined) {
    if (raw.basePath !== undefined && typeof raw.basePath !== 'string') fail(`browse namespace "${name}": "basePath" must be a folder or a function of the user`)
    try {
      basePath = normalizePrefix(raw.basePath?.normalize('NFC'), 'location')
    } catch (err) {
      fail(`browse namespace "${name}": "basePath" ${(err as Error).message}`)
    }
  }
  let allowedExtensions: Set<string> | undefined
  if (raw.allowedExtensions !== undefined) {
    if (!Array.isArray(raw.allowedExtensions)) fail(`browse namespace "${name}": "allowedExtensions" must be an array`)
    allowedExtensions = new Set()
    for (const ext of raw.allowedExtensions) {
      const bare = typeof ext === 'string' ? ext.replace(/^\./, '') : ''
      if (!isExtension(bare)) fail(`browse namespace "${name}": "allowedExtensions" has an invalid extension ${JSON.stringify(ext)}`)
      allowedExtensions.add(bare.toLowerCase())
    }
  }
  const uploadMode = raw.uploadMode ?? 'stream'
  if (uploadMode !== 'stream' && uploadMode !== 'presign') fail(`browse namespace "${name}": "uploadMode" must be "stream" or "presign"`)
  const downloadMode = raw.downloadMode ?? 'proxy'
  if (downloadMode !== 'proxy' && downloadMode !== 'redirect') fail(`browse namespace "${name}": "downloadMode" must be "proxy" or "redirect"`)
  if (raw.overwrite !== undefined && typeof raw.overwrite !== 'boolean') fail(`browse namespace "${name}": "overwrite" must be a boolean`)
  if (raw.recordUploader !== undefined && typeof raw.recordUploader !== 'boolean') fail(`browse namespace "${name}": "recordUploader" must be a boolean`)
  const cache = ttlCacheOption(name, 'cache', raw.cache, { ttlSeconds: [60, 86400], maxEntries: [1000, 1_000_000] })
  const searchCache = ttlCacheOption(name, 'searchCache', raw.searchCache, { ttlSeconds: [30, 3600], maxEntries: [100_000, 10_000_000] })
  let objectHostname: string | undefined
  if (raw.objectHostname !== undefined) {
    if (typeof raw.objectHostname !== 'string' || !URL.canParse(raw.objectHostname) || !/^https?:$/.test(new URL(raw.objectHostname).protocol)) {
      fail(`browse namespace "${name}": "objectHostname" must be an http(s) URL`)
    }
    objectHostname = raw.objectHostname.replace(/\/+$/, '')
  }
  // In presign mode files above 5 GiB (one presigned POST) go as multipart uploads, so up to S3's 5 TiB.
  const maxUploadBytes = positiveInt(name, 'maxUploadBytes', raw.maxUploadBytes, MAX_SINGLE_UPLOAD_BYTES, MAX_UPLOAD)
  return {
    name,
    profile: raw.profile,
    basePath,
    basePathFor,
    quota: normalizeQuota(name, raw.quota),
    allowedExtensions,
    uploadMode,
    overwrite: raw.overwrite ?? false,
    downloadMode,
    redirectExpireSeconds: positiveInt(name, 'redirectExpireSeconds', raw.redirectExpireSeconds, 300, 3600),
    pageSize: positiveInt(name, 'pageSize', raw.pageSize, 100, 1000),
    maxUploadBytes,
    cache,
    objectHostname,
    searchMaxKeys: positiveInt(name, 'searchMaxKeys', raw.searchMaxKeys, 10_000, 10_000_000),
    searchCache,
    indexMaxEntries: positiveInt(name, 'indexMaxEntries', raw.indexMaxEntries, 10_000, 1_000_000),
    presignExpireSeconds: positiveInt(name, 'presignExpireSeconds', raw.presignExpireSeconds, 900, MAX_LINK_TTL_SECONDS),
    multipartThreshold: positiveInt(name, 'multipartThreshold', raw.multipartThreshold, 64 * 1024 ** 2, MAX_SINGLE_UPLOAD_BYTES),
    recordUploader: raw.recordUploader ?? true,
    zip: normalizeZip(name, raw.zip)
  }
}

function normalizeZip (ns: string, raw: ZipRouteOptions | false | undefined): Required<ZipRouteOptions> | undefined {
  if (raw === false) return undefined
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) fail(`browse namespace "${ns}": "zip" must be an object ({ maxFiles, maxBytes, compression }) or false`)
  const maxBytes = raw?.maxBytes ?? ZIP_DEFAULT_MAX_BYTES
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) fail(`browse namespace "${ns}": "zip.maxBytes" must be a whole number of bytes >= 1`)
  const compression = raw?.compression ?? 'store'
  if (compression !== 'store' && compression !== 'deflate') fail(`browse namespace "${ns}": "zip.compression" must be "store" or "deflate"`)
  return { maxFiles: positiveInt(ns, 'zip.maxFiles', raw?.maxFiles, ZIP_DEFAULT_MAX_FILES, ZIP_MAX_FILES), maxBytes, compression }
}

function quotaLimit (ns: string, field: string, value: unknown): QuotaLimit | undefined {
  if (value === undefined || typeof value === 'function') return value as QuotaLimit | undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`browse namespace "${ns}": "quota.${field}" must be a whole number >= 0 or a function of the user`)
  return value
}

function normalizeQuota (ns: string, raw: QuotaOptions | undefined): NormalizedQuota | undefined {
  if (raw === undefined) return undefined
  if (typeof raw !== 'object' || raw === null) fail(`browse namespace "${ns}": "quota" must be an object`)
  const maxBytes = quotaLimit(ns, 'maxBytes', raw.maxBytes)
  const maxFiles = quotaLimit(ns, 'maxFiles', raw.maxFiles)
  if (maxBytes === undefined && maxFiles === undefined) fail(`browse namespace "${ns}": "quota" needs "maxBytes" or "maxFiles"`)
  return { maxBytes, maxFiles, usageTtlSeconds: positiveInt(ns, 'quota.usageTtlSeconds', raw.usageTtlSeconds, 30, 3600) }
}

/** Validates the browse options against the configured profile names. Throws `FST_S3S_INVALID_OPTION`. */
export function validateBrowseOptions (raw: unknown, profiles: string[]): NormalizedBrowseOptions {
  if (typeof raw !== 'object' || raw === null) fail('"browse" must be an object')
  const opts = raw as BrowseOptions
  if (typeof opts.namespaces !== 'object' || opts.namespaces === null || Object.keys(opts.namespaces).length === 0) {
    fail('"browse.namespaces" must name at least one namespace')
  }
  const namespaces = new Map<string, NormalizedNamespace>()
  const lower = new Map<string, string>()
  for (const [name, ns] of Object.entries(opts.namespaces)) {
    const clash = lower.get(name.toLowerCase())
    if (clash !== undefined) fail(`browse namespaces "${clash}" and "${name}" differ only in case`)
    lower.set(name.toLowerCase(), name)
    namespaces.set(name, normalizeNamespace(name, ns, profiles))
  }
  if (opts.authenticate !== undefined && typeof opts.authenticate !== 'function') fail('"browse.authenticate" must be a function')
  if (opts.authorize !== undefined && typeof opts.authorize !== 'function') fail('"browse.authorize" must be a function')
  let prefix = opts.prefix ?? ''
  if (typeof prefix !== 'string' || (prefix !== '' && !/^\/[A-Za-z0-9/_-]*$/.test(prefix))) fail('"browse.prefix" must be a URL path such as "/storage"')
  prefix = prefix.replace(/\/+$/, '')
  if (opts.templateFolder !== undefined && typeof opts.templateFolder !== 'string') fail('"browse.templateFolder" must be a path')
  const csp = opts.contentSecurityPolicy
  if (csp !== undefined && csp !== false && typeof csp !== 'string' && typeof csp !== 'function') fail('"browse.contentSecurityPolicy" must be a string, a function or false')
  // A header value must stay one line: a policy with a line break would split the response.
  if (typeof csp === 'string' && /[\r\n]/.test(csp)) fail('"browse.contentSecurityPolicy" must not contain line breaks')
  const login = opts.login === undefined ? undefined : validateLoginOptions(opts.login, { hasAuthorize: opts.authorize !== undefined })
  // `<prefix>/auth/*` are the sign-in's routes: a namespace of that name would sit on top of them.
  if (login !== undefined && [...namespaces.keys()].some((n) => n.toLowerCase() === 'auth')) fail('a browse namespace cannot be named "auth" when "browse.login" is set (its routes are <prefix>/auth/...)')
  return {
    uploadSecrets: uploadSecrets(opts.uploadSecret, login?.cookie.secrets),
    namespaces,
    prefix,
    authenticate: opts.authenticate,
    login,
    authorize: opts.authorize,
    auditKeyHashOnly: opts.auditKeyHashOnly === true,
    templateFolder: opts.templateFolder,
    contentSecurityPolicy: csp
  }
}
