/**
 * The version routes of a namespace (versioned buckets): a file's versions, restoring one, deleting one for
 * good, a folder's deleted files and undelete. JSON for scripts, pages for browsers (the folder page's
 * Versions panel and "Show deleted files" swap in these pages' lists). On a bucket without versioning
 * every route answers 409 `FST_S3S_VERSIONING_DISABLED`, from StorageOperations' own check.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import mime from 'mime'
import { mapBounded } from '../bounded.js'
import { FST_S3S_BAD_REQUEST, FST_S3S_NOT_FOUND } from '../errors.js'
import { csrfGuard } from '../http/guards.js'
import { baseName } from '../keys.js'
import type { FileVersion, StorageOperations } from '../operations/storage-operations.js'
import { encodePath, type NamespaceContext } from './context.js'
import { assetUrls, breadcrumbs, describeFile, formatDate, formatSize, pageHeaders } from './pages.js'
import { checkBrowsePath, decodeBrowsePath } from './paths.js'
import { rawPathAfter, wantsJson, type NamespaceRouteOptions } from './respond.js'
import { uploaderOf } from './uploader.js'
import { render } from './views.js'

/** A version as the JSON API and the page show it. */
export interface VersionEntry {
  versionId: string
  isLatest: boolean
  deleteMarker: boolean
  size: number
  etag?: string
  lastModified?: string
  /** Who uploaded it, when the upload recorded it (`recordUploader`). */
  uploadedBy?: string
  /** The download route for this version; none for a delete marker. */
  url?: string
}

/** A deleted file as the JSON API and the page show it. */
export interface DeletedEntry {
  name: string
  /** Path relative to the namespace. */
  path: string
  deletedAt?: string
  /** The version undelete brings back, when known. */
  size?: number
  versionId?: string
  /** The file's versions page. */
  versionsUrl: string
}

/** What the folder page needs to offer versions (nothing shows on unversioned buckets). */
export interface VersionsView {
  shown: boolean
  /** `<ns>/versions/`: a file's path follows. */
  url: string
  /** This folder's deleted files. */
  deletedUrl: string
  restoreUrl: string
  undeleteUrl: string
}

// Versions per page of the panel: each costs a HEAD (for who uploaded it).
const VERSIONS_PAGE_SIZE = 20
// HEADs in flight at once for one page.
const HEAD_CONCURRENCY = 4

/**
 * Whether the folder page offers versions: the bucket keeps them and the user may see them here. Never
 * fails the page: when S3 cannot say, the page shows what it always did.
 */
export async function versionsView (ctx: NamespaceContext, req: FastifyRequest, user: string | null, folder: string): Promise<VersionsView> {
  let shown = false
  try {
    shown = await ctx.versioning(req) !== 'Off'
    if (shown) await ctx.authorize(user, 'versions', folder)
  } catch {
    shown = false
  }
  return {
    shown,
    url: `${ctx.baseUrl}/versions/`,
    deletedUrl: `${ctx.baseUrl}/deleted/${encodePath(folder)}`,
    restoreUrl: `${ctx.baseUrl}/restore`,
    undeleteUrl: `${ctx.baseUrl}/undelete`
  }
}

function downloadUrl (ctx: NamespaceContext, path: string, versionId: string): string {
  return `${ctx.baseUrl}/files/${encodePath(path)}?versionId=${encodeURIComponent(versionId)}`
}

/** The page's entries, each stored version with its uploader (one HEAD each, a few at a time). */
async function entriesOf (ctx: NamespaceContext, ops: StorageOperations, path: string, versions: FileVersion[]): Promise<VersionEntry[]> {
  const entries: VersionEntry[] = versions.map((v) => ({
    versionId: v.versionId,
    isLatest: v.isLatest,
    deleteMarker: v.deleteMarker,
    size: v.size,
    etag: v.etag,
    lastModified: v.lastModified?.toISOString(),
    url: v.deleteMarker ? undefined : downloadUrl(ctx, path, v.versionId)
  }))
  await mapBounded(entries.filter((e) => !e.deleteMarker), HEAD_CONCURRENCY, async (entry) => {
    const info = await ops.head(path, { versionId: entry.versionId }).catch(() => undefined)
    if (info !== undefined) entry.uploadedBy = uploaderOf(info.metadata)
  })
  return entries
}

function queryOf (req: FastifyRequest): Record<string, string | undefined> {
  return req.query as Record<string, string | undefined>
}

function cursorOf (req: FastifyRequest): string | undefined {
  const cursor = queryOf(req).cursor
  return typeof cursor === 'string' && cursor !== '' ? cursor : undefined
}

function versionIdOf (value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new FST_S3S_BAD_REQUEST('"versionId" is required')
  return value
}

function bodyOf (req: FastifyRequest): Record<string, unknown> {
  const body = req.body
  return typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
}

/** Breadcrumbs to a file: its folders, then the file itself (not a link). */
function fileCrumbs (ctx: NamespaceContext, path: string): Array<{ name: string, url?: string }> {
  const slash = path.lastIndexOf('/')
  return [...breadcrumbs(ctx, slash === -1 ? '' : path.slice(0, slash + 1)), { name: baseName(path) }]
}

function folderOf (path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1)
}

/** The version routes of a namespace. */
export async function versionRoutes (app: FastifyInstance, { ctx, page }: NamespaceRouteOptions): Promise<void> {
  // `GET /<ns>/versions/<key>`: the file's versions and delete markers, newest first, `?cursor=` for older.
  app.get('/versions/*', async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'versions'))
    if (folder) throw new FST_S3S_BAD_REQUEST('versions are kept for files, not folders')
    const cursor = cursorOf(req)
    const user = await ctx.user(req)
    const ops = ctx.operations(req)
    const result = await ctx.audited(req, user, 'versions', path, async () => {
      await ctx.authorize(user, 'versions', path)
      const listed = await ops.listVersions(path, { cursor, limit: VERSIONS_PAGE_SIZE })
      if (listed.versions.length === 0 && cursor === undefined) throw new FST_S3S_NOT_FOUND(path)
      return { path, name: baseName(path), versions: await entriesOf(ctx, ops, path, listed.versions), nextCursor: listed.nextCursor }
    })
    reply.header('cache-control', 'no-store')
    if (wantsJson(req)) return reply.send(result)
    const self = `${ctx.baseUrl}/versions/${encodePath(path)}`
    return await renderPage(reply, page.csp, 'versions', {
      title: `Versions of ${result.name}`,
      namespace: ctx.ns.name,
      path,
      name: result.name,
      crumbs: fileCrumbs(ctx, path),
      folderUrl: ctx.folderUrl(folderOf(path)),
      versions: result.versions.map((v) => ({ ...v, sizeText: formatSize(v.size), dateText: formatDate(v.lastModified), downloadUrl: v.url === undefined ? undefined : v.url + '&download=1' })),
      deleted: result.versions[0]?.isLatest === true && result.versions[0].deleteMarker,
      next: result.nextCursor === undefined ? undefined : `${self}?cursor=${encodeURIComponent(result.nextCursor)}`,
      csrfToken: reply.generateCsrf(),
      urls: { restore: `${ctx.baseUrl}/restore`, undelete: `${ctx.baseUrl}/undelete`, self },
      assets: assetUrls(page.assets)
    })
  })

  // `POST /<ns>/restore` `{ path, versionId }`: a copy of that version on top (201), or back to the
  // versions page for a plain form.
  app.post('/restore', { preHandler: csrfGuard }, async (req, reply) => {
    const body = bodyOf(req)
    const path = checkBrowsePath(body.path, { folder: false })
    const versionId = versionIdOf(body.versionId)
    const user = await ctx.user(req)
    const restored = await ctx.audited(req, user, 'restore', path, async () => {
      await ctx.authorize(user, 'restore', path)
      return await ctx.operations(req).restoreVersion(path, versionId)
    }, 201, { versionId })
    ctx.invalidate(path, req)
    if (!wantsJson(req)) return reply.redirect(`${ctx.baseUrl}/versions/${encodePath(path)}`, 303)
    return reply.code(201).send({ path, restoredFrom: restored.restoredFrom, versionId: restored.versionId, size: restored.size, etag: restored.etag })
  })

  // `POST /<ns>/undelete` `{ path }`: removes the delete marker(s) on top; the newest version is current again.
  app.post('/undelete', { preHandler: csrfGuard }, async (req, reply) => {
    const path = checkBrowsePath(bodyOf(req).path, { folder: false })
    const user = await ctx.user(req)
    const back = await ctx.audited(req, user, 'restore', path, async () => {
      await ctx.authorize(user, 'restore', path)
      return await ctx.operations(req).undelete(path)
    })
    ctx.invalidate(path, req)
    if (!wantsJson(req)) return reply.redirect(ctx.folderUrl(folderOf(path)), 303)
    return reply.send({ path, versionId: back.versionId, size: back.size, removedMarkers: back.removedMarkers })
  })

  // `DELETE /<ns>/versions/<key>?versionId=`: that version (or delete marker) is deleted for good.
  app.delete('/versions/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'versions'))
    if (folder) throw new FST_S3S_BAD_REQUEST('versions are kept for files, not folders')
    const versionId = versionIdOf(queryOf(req).versionId)
    const user = await ctx.user(req)
    const deleted = await ctx.audited(req, user, 'delete-version', path, async () => {
      await ctx.authorize(user, 'delete-version', path)
      return await ctx.operations(req).deleteVersion(path, versionId)
    }, 200, { versionId })
    ctx.invalidate(path, req)
    return reply.send({ path, versionId, deleteMarker: deleted.deleteMarker, wasLatest: deleted.wasLatest })
  })

  // `GET /<ns>/deleted/<folder>/`: the folder's deleted files (not its sub-folders'), `?cursor=` for more.
  app.get('/deleted/*', async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'deleted'))
    if (!folder) throw new FST_S3S_BAD_REQUEST('deleted files are listed per folder (a URL ending in "/")')
    const cursor = cursorOf(req)
    const user = await ctx.user(req)
    const result = await ctx.audited(req, user, 'versions', path, async () => {
      await ctx.authorize(user, 'versions', path)
      const found = await ctx.operations(req).listDeleted({ prefix: path, cursor, limit: ctx.ns.pageSize })
      const files: DeletedEntry[] = found.files.map((f) => ({
        name: baseName(f.name),
        path: f.name,
        deletedAt: f.deletedAt?.toISOString(),
        size: f.lastVersion?.size,
        versionId: f.lastVersion?.versionId,
        versionsUrl: `${ctx.baseUrl}/versions/${encodePath(f.name)}`
      }))
      const folders = found.folders.map((f) => ({ name: baseName(f.name.replace(/\/$/, '')), path: f.name, deletedUrl: `${ctx.baseUrl}/deleted/${encodePath(f.name)}` }))
      return { path, files, folders, nextCursor: found.nextCursor }
    })
    reply.header('cache-control', 'no-store')
    if (wantsJson(req)) return reply.send(result)
    const self = `${ctx.baseUrl}/deleted/${encodePath(path)}`
    const crumbs = breadcrumbs(ctx, path)
    return await renderPage(reply, page.csp, 'deleted', {
      title: `Deleted files in ${crumbs[crumbs.length - 1].name}`,
      namespace: ctx.ns.name,
      path,
      folderName: crumbs[crumbs.length - 1].name,
      crumbs,
      folderUrl: ctx.folderUrl(path),
      folders: result.folders,
      files: result.files.map((f) => ({
        ...f,
        icon: describeFile(f.name, mime.getType(f.name) ?? 'application/octet-stream').icon,
        sizeText: f.size === undefined ? '' : formatSize(f.size),
        dateText: formatDate(f.deletedAt)
      })),
      next: result.nextCursor === undefined ? undefined : `${self}?cursor=${encodeURIComponent(result.nextCursor)}`,
      csrfToken: reply.generateCsrf(),
      urls: { undelete: `${ctx.baseUrl}/undelete`, self },
      assets: assetUrls(page.assets)
    })
  })
}

async function renderPage (reply: FastifyReply, csp: string, view: string, data: object): Promise<FastifyReply> {
  pageHeaders(reply, csp)
  return render(reply.type('text/html; charset=utf-8'), view, data)
}
