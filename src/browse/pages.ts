/**
 * What the HTML pages are built from: the view model handed to the templates (rows with their icon, size
 * and date already written out, sort and page links), and the security headers every page carries.
 * The JSON API never goes through here.
 */
import type { NormalizedBrowseOptions } from './options.js'
import type { FastifyReply } from 'fastify'
import type { ProfileRegistry } from '../profiles/registry.js'
import type { FileEntry, FolderEntry, Listing, NamespaceContext } from './context.js'
import type { BrowseAssets } from './assets.js'
import { extensionOf } from '../keys.js'

/** Sort keys of the HTML listing. */
export type SortKey = 'name' | 'size' | 'date'
/** Sort order. */
export type SortOrder = 'asc' | 'desc'

/** How an entry is drawn: its icon, and how the page can preview it. */
export type Preview = 'image' | 'video' | 'audio' | 'pdf' | 'text' | ''

/** A folder row. */
export interface FolderRow extends FolderEntry {
  url: string
}

/** A file row. */
export interface FileRow extends FileEntry {
  /** Human size, e.g. `1.4 MB`. */
  sizeText: string
  /** `2025-01-31 14:05 UTC` (the script rewrites it in the reader's time zone). */
  dateText: string
  /** Icon id in the sprite (`i-image`, `i-pdf`, …). */
  icon: string
  /** Preview kind, `''` when the page cannot show it in place. */
  preview: Preview
  /** Search results: the folder the file is in (relative to the namespace), `''` at the root. */
  folder: string
  /** `url` with `?download=1` (the download route) or the plain CDN URL. */
  downloadUrl: string
}

/** Parses `?sort=` and `?order=`; anything else is name ascending. */
export function parseSort (query: Record<string, unknown>): { by: SortKey, order: SortOrder } {
  const by = query.sort === 'size' || query.sort === 'date' ? query.sort : 'name'
  const order = query.order === 'desc' ? 'desc' : 'asc'
  return { by, order }
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })

/** Sorts one page of a listing (folders stay first; S3 pages cannot be sorted across pages). */
export function sortRows<T extends { name: string, size?: number, lastModified?: string }> (rows: T[], by: SortKey, order: SortOrder): T[] {
  const sign = order === 'desc' ? -1 : 1
  const byName = (a: T, b: T): number => collator.compare(a.name, b.name)
  const compare = by === 'size'
    ? (a: T, b: T) => ((a.size ?? 0) - (b.size ?? 0)) || byName(a, b)
    : by === 'date'
      ? (a: T, b: T) => (a.lastModified ?? '').localeCompare(b.lastModified ?? '') || byName(a, b)
      : byName
  return [...rows].sort((a, b) => sign * compare(a, b))
}

/** `1.4 MB`: binary multiples, one decimal under 10. */
export function formatSize (bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, bytes | 0)} B`
  const units = ['KB', 'MB', 'GB', 'TB', 'PB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** `2025-01-31 14:05 UTC`, or `''`. */
export function formatDate (iso: string | undefined): string {
  if (iso === undefined) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

const EXTENSION_ICONS: Array<[RegExp, string]> = [
  [/^(zip|gz|tgz|bz2|xz|7z|rar|tar|zst)$/, 'i-archive'],
  [/^(csv|tsv|xls|xlsx|ods|numbers)$/, 'i-sheet'],
  [/^(doc|docx|odt|rtf|pages|ppt|pptx|odp|key|epub)$/, 'i-doc'],
  [/^(js|mjs|cjs|ts|tsx|jsx|json|py|rb|go|rs|java|kt|c|h|cc|cpp|hpp|cs|php|sh|sql|yml|yaml|toml|xml|html|htm|css|scss|vue|svelte|swift|lua|pl|r|ini|env)$/, 'i-code']
]

const TEXT_TYPES = /^(text\/|application\/(json|ld\+json|x-ndjson|yaml|x-yaml|toml|x-sh|sql|x-httpd-php|graphql))/
// Formats every current browser plays or shows without a plugin.
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)$/
const VIDEO_TYPES = /^video\/(mp4|webm|ogg|quicktime)$/
const AUDIO_TYPES = /^audio\/(mpeg|mp4|aac|ogg|wav|x-wav|wave|webm|flac|x-flac|opus)$/

/** The icon and preview kind of a file. */
export function describeFile (name: string, type: string): { icon: string, preview: Preview } {
  const ext = extensionOf(name).toLowerCase()
  // An SVG in <img> runs no script and loads nothing, whatever it contains.
  if (type === 'image/svg+xml') return { icon: 'i-image', preview: 'image' }
  if (IMAGE_TYPES.test(type)) return { icon: 'i-image', preview: 'image' }
  if (type.startsWith('image/')) return { icon: 'i-image', preview: '' }
  if (VIDEO_TYPES.test(type)) return { icon: 'i-video', preview: 'video' }
  if (type.startsWith('video/')) return { icon: 'i-video', preview: '' }
  if (AUDIO_TYPES.test(type)) return { icon: 'i-audio', preview: 'audio' }
  if (type.startsWith('audio/')) return { icon: 'i-audio', preview: '' }
  if (type === 'application/pdf') return { icon: 'i-pdf', preview: 'pdf' }
  const special = EXTENSION_ICONS.find(([re]) => re.test(ext))?.[1]
  // HTML, SVG and XML are shown as source text: the download route never serves them inline.
  if (TEXT_TYPES.test(type) || type === 'application/xml') return { icon: special ?? 'i-text', preview: 'text' }
  return { icon: special ?? 'i-file', preview: '' }
}

function withQuery (url: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value)
  const qs = search.toString()
  return qs === '' ? url : `${url}?${qs}`
}

/** Links of the pagination partial. Cursors only go forward, so earlier ones ride along in `trail`. */
export interface Pagination {
  /** 1-based page number. */
  page: number
  first?: string
  previous?: string
  next?: string
  /** Entries on this page. */
  count: number
}

// Earlier cursors kept in the URL; deeper than this, "Previous" gives way to "First".
const MAX_TRAIL = 40

/** Builds the pagination links of a listing page. */
export function paginate (folderUrl: string, query: Record<string, unknown>, listing: Listing, sort: { by: SortKey, order: SortOrder }): Pagination {
  const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? query.cursor : undefined
  const trail = typeof query.trail === 'string' && query.trail !== '' ? query.trail.split(',').filter((c) => /^[\w-]+$/.test(c)).slice(-MAX_TRAIL) : []
  const sortParams = { sort: sort.by === 'name' ? undefined : sort.by, order: sort.order === 'asc' ? undefined : sort.order }
  const count = listing.folders.length + listing.files.length
  if (cursor === undefined) {
    return {
      page: 1,
      count,
      next: listing.nextCursor === undefined ? undefined : withQuery(folderUrl, { cursor: listing.nextCursor, page: '2', ...sortParams })
    }
  }
  const asked = Number(query.page)
  const page = Number.isSafeInteger(asked) && asked >= 2 ? asked : trail.length + 2
  const first = withQuery(folderUrl, sortParams)
  let previous: string | undefined
  if (page === 2) previous = first
  else if (trail.length > 0) previous = withQuery(folderUrl, { cursor: trail[trail.length - 1], trail: trail.slice(0, -1).join(','), page: String(page - 1), ...sortParams })
  return {
    page,
    count,
    first,
    previous,
    next: listing.nextCursor === undefined
      ? undefined
      : withQuery(folderUrl, { cursor: listing.nextCursor, trail: [...trail, cursor].slice(-MAX_TRAIL).join(','), page: String(page + 1), ...sortParams })
  }
}

/** The sort links of the column headers: the active column flips its order, the others start ascending. */
export function sortLinks (folderUrl: string, query: string, sort: { by: SortKey, order: SortOrder }): Record<SortKey, string> {
  const link = (by: SortKey): string => {
    const order = sort.by === by && sort.order === 'asc' ? 'desc' : 'asc'
    return withQuery(folderUrl, { q: query, sort: by === 'name' ? undefined : by, order: order === 'asc' ? undefined : order })
  }
  return { name: link('name'), size: link('size'), date: link('date') }
}

/** Rows of the file-list partial. */
export function buildRows (ctx: NamespaceContext, listing: Listing, sort: { by: SortKey, order: SortOrder }, path: string): { folders: FolderRow[], files: FileRow[] } {
  const folders = sortRows(listing.folders, sort.by === 'size' ? 'name' : sort.by, sort.by === 'size' ? 'asc' : sort.order)
    .map((f) => ({ ...f, url: ctx.folderUrl(f.path) }))
  const files = sortRows(listing.files, sort.by, sort.order).map((f): FileRow => {
    const slash = f.path.lastIndexOf('/')
    const folder = slash === -1 ? '' : f.path.slice(0, slash + 1)
    return {
      ...f,
      ...describeFile(f.name, f.type),
      sizeText: formatSize(f.size),
      dateText: formatDate(f.lastModified),
      folder: folder === path ? '' : folder,
      downloadUrl: ctx.ns.objectHostname === undefined ? f.url + '?download=1' : f.url
    }
  })
  return { folders, files }
}

/** Path from the namespace root to `path`, one link per folder. */
export function breadcrumbs (ctx: NamespaceContext, path: string): Array<{ name: string, url: string }> {
  const crumbs = [{ name: ctx.ns.name, url: ctx.folderUrl('') }]
  let at = ''
  for (const segment of path.split('/').filter((s) => s !== '')) {
    at += segment + '/'
    crumbs.push({ name: segment, url: ctx.folderUrl(at) })
  }
  return crumbs
}

/** Origins the page must reach besides itself: the CDN, and the S3 endpoint in presign upload or redirect download mode. */
export function namespaceOrigins (ctx: NamespaceContext, registry: ProfileRegistry): { media: string[], connect: string[] } {
  const media: string[] = []
  const connect: string[] = []
  if (ctx.ns.objectHostname !== undefined) {
    const cdn = new URL(ctx.ns.objectHostname).origin
    media.push(cdn)
    connect.push(cdn)
  }
  const s3 = ctx.ns.uploadMode === 'presign' || ctx.ns.downloadMode === 'redirect' ? s3Origins(registry, ctx) : []
  connect.push(...s3)
  // Redirected downloads: previews (img, video, audio, the PDF frame) end up on S3's origin.
  if (ctx.ns.downloadMode === 'redirect') media.push(...s3)
  return { media, connect }
}

/** The origins presigned links of the namespace's profile point to. */
function s3Origins (registry: ProfileRegistry, ctx: NamespaceContext): string[] {
  const profile = registry.profile(ctx.ns.profile).options
  if (profile.endpoint === undefined) return ['https://*.amazonaws.com', 'https://*.amazonaws.com.cn']
  const endpoint = new URL(profile.endpoint)
  // Virtual-hosted addressing puts the bucket in front of the endpoint's host.
  return profile.forcePathStyle ? [endpoint.origin] : [endpoint.origin, `${endpoint.protocol}//*.${endpoint.host}`]
}

/**
 * The page's Content-Security-Policy: scripts and styles only from the page's own origin (the plugin's
 * hashed assets), no inline script or style at all, nothing embedded elsewhere.
 */
export function pageCsp ({ media = [], connect = [] }: { media?: string[], connect?: string[] } = {}): string {
  const list = (extra: string[]): string => ['\'self\'', ...extra].join(' ')
  return [
    'default-src \'none\'',
    'script-src \'self\'',
    'style-src \'self\'',
    `img-src ${list(['data:', 'blob:', ...media])}`,
    `media-src ${list(['blob:', ...media])}`,
    `frame-src ${list(media)}`,
    `connect-src ${list([...connect])}`,
    'font-src \'self\'',
    'manifest-src \'self\'',
    'form-action \'self\'',
    'base-uri \'none\'',
    'frame-ancestors \'self\''
  ].join('; ')
}

/** The policy a page sends: the default, or what the host's `contentSecurityPolicy` option makes of it (`''`: none). */
export function hostCsp (option: NormalizedBrowseOptions['contentSecurityPolicy'], defaultPolicy: string, namespace: string | undefined): string {
  if (option === undefined) return defaultPolicy
  if (option === false) return ''
  const policy = typeof option === 'string' ? option : option(defaultPolicy, namespace)
  return String(policy).replace(/[\r\n]+/g, ' ')
}

/** Headers of every HTML page (listing and error). */
export function pageHeaders (reply: FastifyReply, csp: string): void {
  if (csp !== '') reply.header('content-security-policy', csp)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'same-origin')
  reply.header('cache-control', 'no-store')
}

/** What the error page tells the reader to do, by status (and by code where one status means several things). */
export function errorHint (statusCode: number, code?: string): string {
  if (code === 'FST_S3S_VERSIONING_DISABLED') return 'This storage keeps no earlier versions of files, so there are none to show or restore. Whoever manages it can turn on versioning for the bucket.'
  if (code === 'FST_S3S_WRITE_CONFLICT') return 'Someone else was saving the same file at that moment. Wait a moment, look at the file again, then retry.'
  switch (statusCode) {
    case 400: return 'The address is not valid. Go back to the folder and open the file from the list.'
    case 401: return 'You are not signed in. Sign in, then open this page again.'
    case 403: return 'You do not have permission for this. Ask whoever manages these files for access.'
    case 404: return 'It may have been moved, renamed or deleted. Go back to the folder to see what is there now.'
    case 409: return 'Something with that name is already there. Pick another name, or remove the existing one first.'
    case 413: return 'The file is larger than this folder accepts. Compress it or split it, then try again.'
    case 416: return 'The requested part of the file does not exist. Download the whole file instead.'
    default: return statusCode >= 500
      ? 'The storage service did not answer as expected. Wait a moment and try again; if it keeps happening, tell the site\'s administrator.'
      : 'Go back to the folder and try again.'
  }
}

/** The usage bar of a namespace with a quota, as partials/quota.eta reads it. */
export interface QuotaView {
  /** `1.2 MB of 10 MB used · 3 of 100 files`. */
  summary: string
  /** The byte limit written out, or `''`. */
  maxText: string
  /** 0-100, by bytes when limited, else by files; undefined with neither limit for this user. */
  percent?: number
  /** Bytes still free, `''` without a byte limit (the page checks files against it before sending them). */
  freeBytes: number | ''
  /** Files still allowed, `''` without a file limit. */
  freeFiles: number | ''
  /** `ok`, `high` (80% or more) or `full` (95% or more). */
  level: 'ok' | 'high' | 'full'
}

/** The usage bar's view of a space's usage and limits. */
export function quotaView ({ used, maxBytes, maxFiles }: { used: { bytes: number, files: number }, maxBytes?: number, maxFiles?: number }): QuotaView {
  const share = (value: number, max: number): number => max === 0 ? 100 : Math.min(100, Math.floor((value / max) * 100))
  const percent = maxBytes !== undefined ? share(used.bytes, maxBytes) : maxFiles !== undefined ? share(used.files, maxFiles) : undefined
  const files = (n: number): string => `${n} ${n === 1 ? 'file' : 'files'}`
  const parts = [maxBytes === undefined ? `${formatSize(used.bytes)} used` : `${formatSize(used.bytes)} of ${formatSize(maxBytes)} used`]
  parts.push(maxFiles === undefined ? files(used.files) : `${used.files} of ${files(maxFiles)}`)
  return {
    summary: parts.join(' · '),
    maxText: maxBytes === undefined ? '' : formatSize(maxBytes),
    percent,
    freeBytes: maxBytes === undefined ? '' : Math.max(0, maxBytes - used.bytes),
    freeFiles: maxFiles === undefined ? '' : Math.max(0, maxFiles - used.files),
    level: percent === undefined || percent < 80 ? 'ok' : percent < 95 ? 'high' : 'full'
  }
}

/** The assets as the layout reads them. */
export function assetUrls (assets: BrowseAssets): { css: string, js: string, multipart: string, selection: string } {
  return { css: assets.urls['browse.css'], js: assets.urls['browse.js'], multipart: assets.urls['multipart.js'], selection: assets.urls['selection.js'] }
}

/** The bulk routes the page's selection bar posts to, `''` for a route the namespace does not have. */
export interface SelectionUrls {
  zip: string
  move: string
  copy: string
  delete: string
}

/** Where the selection bar's actions go; checkboxes show only when at least one of them exists. */
export function selectionUrls (ctx: NamespaceContext): SelectionUrls & { shown: boolean } {
  // `zip: false` leaves the zip route out (normalised to no limits); move, copy and delete are always registered.
  const zip = ctx.ns.zip === undefined ? '' : `${ctx.baseUrl}/zip`
  const urls = { zip, move: `${ctx.baseUrl}/move`, copy: `${ctx.baseUrl}/copy`, delete: `${ctx.baseUrl}/delete` }
  return { ...urls, shown: Object.values(urls).some((url) => url !== '') }
}
