/**
 * The file routes of a namespace under `<prefix>/<namespace>`: `files/*` (folder pages and JSON, downloads,
 * uploads, deletes), `mkdir`, `presign` and `link/*`. Every S3 call goes through StorageOperations.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FST_S3S_BAD_REQUEST, FST_S3S_NOT_FOUND } from '../errors.js'
import { MAX_LINK_TTL_SECONDS } from '../operations/links.js'
import { csrfGuard } from '../http/guards.js'
import { encodePath, type Listing, type NamespaceContext } from './context.js'
import { sendFile } from './download.js'
import { listFolder } from './listing.js'
import { assetUrls, breadcrumbs, buildRows, formatSize, pageHeaders, paginate, parseSort, quotaView, selectionUrls, sortLinks } from './pages.js'
import { checkBrowsePath, decodeBrowsePath } from './paths.js'
import { CSRF_COOKIE, rawPathAfter, renderErrorPage, wantsJson, type NamespaceRouteOptions, type PageSetup } from './respond.js'
import { sendPlainIndex, wantsIndex } from './plain-index.js'
import { search } from './search.js'
import { confirmUpload, makeFolder, presignUploads, receiveUpload, sendOutcomes, worstStatus } from './upload.js'
import { versionsView } from './version-routes.js'
import { renderToString } from './views.js'
import { matchesEtag, sendPage } from './page-cache.js'

async function renderListing (ctx: NamespaceContext, page: PageSetup, req: FastifyRequest, reply: FastifyReply, path: string, listing: Listing, query: string | undefined, user: string | null): Promise<FastifyReply> {
  if (wantsJson(req)) return reply.send(listing)
  const versions = await versionsView(ctx, req, user, path)
  const quota = ctx.quota === undefined ? undefined : quotaView(await ctx.quota.status(ctx.operations(req), ctx.space(req), user))
  const account = ctx.signIn?.account(req)
  const assets = assetUrls(page.assets)
  pageHeaders(reply, page.csp)
  // The page may be kept by the user's own browser, which must ask again (ETag) before showing it.
  reply.header('cache-control', 'private, no-cache')
  // The CSRF token in a page is made from the browser's secret cookie: without one yet, the page sets it and
  // is rendered for this request only.
  const secret = req.cookies?.[CSRF_COOKIE]
  const etag = secret === undefined ? undefined : ctx.pages.etagOf(listing, [req.url, user, account, quota, versions, assets, secret])
  if (etag !== undefined && matchesEtag(req, etag)) return reply.code(304).header('etag', etag).header('vary', 'Accept-Encoding').send()
  const cached = etag === undefined ? undefined : ctx.pages.get(etag)
  if (cached !== undefined) return await sendPage(req, reply, cached)
  const csrfToken = reply.generateCsrf()
  const params = req.query as Record<string, unknown>
  const sort = parseSort(params)
  const folderUrl = ctx.folderUrl(path)
  const { folders, files } = buildRows(ctx, listing, sort, path)
  const pagination = paginate(folderUrl, params, listing, sort)
  const crumbs = breadcrumbs(ctx, path)
  const allowed = ctx.ns.allowedExtensions === undefined ? [] : [...ctx.ns.allowedExtensions]
  const html = await renderToString(reply, 'files', {
    title: (path === '' ? ctx.ns.name : crumbs[crumbs.length - 1].name) + (query === undefined ? '' : ` — “${query}”`),
    namespace: ctx.ns.name,
    baseUrl: ctx.baseUrl,
    path,
    folderUrl,
    folderName: crumbs[crumbs.length - 1].name,
    breadcrumbs: crumbs,
    listing,
    folders,
    files,
    query: query ?? '',
    searching: query !== undefined,
    sort: { ...sort, links: sortLinks(folderUrl, query ?? '', sort) },
    pagination,
    next: pagination.next,
    csrfToken,
    uploadMode: ctx.ns.uploadMode,
    allowedExtensions: allowed,
    accept: allowed.map((ext) => '.' + ext).join(','),
    maxUploadBytes: ctx.ns.maxUploadBytes,
    maxUploadText: formatSize(ctx.ns.maxUploadBytes),
    multipartThreshold: ctx.ns.multipartThreshold,
    overwrite: ctx.ns.overwrite,
    account,
    quota,
    urls: {
      upload: folderUrl,
      mkdir: `${ctx.baseUrl}/mkdir`,
      presign: ctx.ns.uploadMode === 'presign' ? `${ctx.baseUrl}/presign` : '',
      confirm: ctx.ns.uploadMode === 'presign' ? `${ctx.baseUrl}/presign/confirm` : '',
      multipart: ctx.ns.uploadMode === 'presign' ? `${ctx.baseUrl}/s3/multipart` : '',
      link: `${ctx.baseUrl}/link/`
    },
    versions,
    selection: selectionUrls(ctx),
    assets,
    encodePath
  })
  if (etag === undefined) return reply.type('text/html; charset=utf-8').send(html)
  return await sendPage(req, reply, ctx.pages.set(etag, html))
}

// Links in the share dialog: an hour by default, a week at most (the SigV4 limit; the profile may cap it lower).
const DEFAULT_LINK_MINUTES = 60
const MAX_LINK_MINUTES = MAX_LINK_TTL_SECONDS / 60

/** The file routes of a namespace: folder pages and JSON, downloads, uploads, delete, mkdir, presign, links. */
export async function fileRoutes (app: FastifyInstance, { ctx, page }: NamespaceRouteOptions): Promise<void> {
  app.get('/', async (_req, reply) => reply.redirect(`${ctx.baseUrl}/files/`))
  app.get('/files', async (_req, reply) => reply.redirect(`${ctx.baseUrl}/files/`))

  // GET and HEAD share one handler. HEAD is a route of our own: Fastify's generated one would run the GET and
  // drain the whole object from S3 only to throw it away.
  async function filesHandler (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'files'))
    const user = await ctx.user(req)
    if (!folder) return await sendFile(ctx, req, reply, path, user)
    const query = req.query as Record<string, string | undefined>
    if (wantsIndex(req, wantsJson(req))) {
      return await ctx.audited(req, user, 'list', path, async () => {
        await ctx.authorize(user, 'list', path)
        return await sendPlainIndex(ctx, req, reply, path, page.csp)
      })
    }
    const q = typeof query.q === 'string' && query.q.trim() !== '' ? query.q.trim().slice(0, 256) : undefined
    const listing = await ctx.audited(req, user, 'list', path, async () => {
      await ctx.authorize(user, 'list', path)
      return q === undefined ? await listFolder(ctx, req, path, query.cursor) : await search(ctx, req, path, q)
    })
    return await renderListing(ctx, page, req, reply, path, listing, q, user)
  }
  app.get('/files/*', { exposeHeadRoute: false }, filesHandler)
  app.head('/files/*', filesHandler)

  app.post('/files/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'files'))
    if (!folder) throw new FST_S3S_BAD_REQUEST('upload to a folder URL (ending in "/")')
    const user = await ctx.user(req)
    const outcomes = await receiveUpload(ctx, req, path, user)
    // After a size or quota refusal the rest of the body is never read: close the connection rather than
    // leave the client writing into a socket nobody reads (and the server unable to close).
    if (worstStatus(outcomes) === 413) reply.header('connection', 'close')
    if (!wantsJson(req) && worstStatus(outcomes) < 400) return reply.redirect(ctx.folderUrl(path), 303)
    if (!wantsJson(req)) {
      return renderErrorPage(reply, page.csp, page.assets, {
        statusCode: worstStatus(outcomes), message: 'Some files were not uploaded', files: outcomes, backUrl: ctx.folderUrl(path)
      })
    }
    return sendOutcomes(reply, outcomes)
  })

  app.delete('/files/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'files'))
    if (path === '') throw new FST_S3S_BAD_REQUEST('the namespace root cannot be deleted')
    const user = await ctx.user(req)
    const ops = ctx.operations(req)
    if (!folder) {
      await ctx.audited(req, user, 'delete', path, async () => {
        await ctx.authorize(user, 'delete', path)
        if (!(await ops.exists(path))) throw new FST_S3S_NOT_FOUND(path)
        await ops.deleteFile(path)
      }, 204)
      ctx.invalidate(path, req)
      return reply.code(204).send()
    }
    const recursive = (req.query as Record<string, string | undefined>).recursive === '1'
    const result = await ctx.audited(req, user, 'delete', path, async () => {
      await ctx.authorize(user, 'delete', path)
      const deleted = await ops.deleteFolder(path, { recursive })
      if (deleted.deleted.length === 0 && deleted.failed.length === 0) throw new FST_S3S_NOT_FOUND(path)
      return deleted
    })
    ctx.invalidate(path, req)
    return reply.send({ deleted: result.deleted.length, failed: result.failed.map((f) => ({ key: f.key, code: f.code })) })
  })

  app.post('/mkdir', { preHandler: csrfGuard }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    const parent = checkBrowsePath(body.path ?? '', { folder: true })
    if (typeof body.name !== 'string') throw new FST_S3S_BAD_REQUEST('"name" is required')
    const user = await ctx.user(req)
    const outcome = await makeFolder(ctx, req, user, parent, body.name)
    if (!wantsJson(req)) return reply.redirect(ctx.folderUrl(outcome.path ?? parent), 303)
    return reply.code(201).send(outcome)
  })

  if (ctx.ns.uploadMode === 'presign') {
    app.post('/presign', { preHandler: csrfGuard }, async (req, reply) => {
      const user = await ctx.user(req)
      return sendOutcomes(reply, await presignUploads(ctx, req, user))
    })
    app.post('/presign/confirm', { preHandler: csrfGuard }, async (req, reply) => {
      const user = await ctx.user(req)
      return reply.send(await confirmUpload(ctx, req, user))
    })
  }

  // `GET /<ns>/link/<key>?minutes=`: a presigned GET to share, `{ url, expiresIn }` (the seconds it really
  // got, so a profile ceiling that shortened it is reported truthfully).
  app.get('/link/*', async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, ctx, 'link'))
    if (folder) throw new FST_S3S_BAD_REQUEST('links are made for files, not folders')
    const raw = (req.query as Record<string, string | undefined>).minutes
    const minutes = raw === undefined ? DEFAULT_LINK_MINUTES : Number(raw)
    if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > MAX_LINK_MINUTES) throw new FST_S3S_BAD_REQUEST(`"minutes" must be a whole number from 1 to ${MAX_LINK_MINUTES}`)
    const user = await ctx.user(req)
    const link = await ctx.audited(req, user, 'download', path, async () => {
      await ctx.authorize(user, 'download', path)
      const ops = ctx.operations(req)
      if (!(await ops.exists(path))) throw new FST_S3S_NOT_FOUND(path)
      return await ops.signDownloadLink(path, { expireSeconds: minutes * 60 })
    })
    reply.header('cache-control', 'no-store')
    return reply.send(link)
  })
}
