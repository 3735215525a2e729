/**
 * The browse plugin: one encapsulated set of routes per namespace under `<prefix>/<namespace>`, with its own
 * view engine, multipart parser, CSRF protection and error handler (which only renders catalog errors), and
 * the pages' hashed assets under `<prefix>/_s3s/assets/`. Every S3 call goes through StorageOperations, like
 * any user's code.
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyError } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyMultipart from '@fastify/multipart'
import fastifyView from '@fastify/view'
import { FST_S3S_BAD_REQUEST, FST_S3S_CSRF, FST_S3S_NOT_FOUND, isStorageError } from '../errors.js'
import { MAX_LINK_TTL_SECONDS } from '../operations/links.js'
import type { ProfileRegistry } from '../profiles/registry.js'
import { BrowseAssets } from './assets.js'
import type { AuditLog } from '../http/audit.js'
import { LruListingCache } from './cache.js'
import { NamespaceContext, encodePath, type Listing } from './context.js'
import { sendFile } from './download.js'
import { listFolder } from './listing.js'
import type { NormalizedBrowseOptions } from './options.js'
import {
  assetUrls, breadcrumbs, buildRows, errorHint, formatSize, hostCsp, namespaceOrigins, pageCsp, pageHeaders, paginate, parseSort, sortLinks
} from './pages.js'
import { decodeBrowsePath, checkBrowsePath } from './paths.js'
import { csrfGuard } from '../http/guards.js'
import { search } from './search.js'
import { makeFolder, presignUploads, receiveUpload, sendOutcomes, worstStatus, type FileOutcome } from './upload.js'
import { BUNDLED_VIEWS, VIEW_PROPERTY, createViewEngine, render } from './views.js'

/** Options the plugin entry hands to the browse routes. */
export interface BrowseRoutesOptions {
  browse: NormalizedBrowseOptions
  registry: ProfileRegistry
  audit: AuditLog
}

/** Whether the client asked for JSON (`Accept: application/json` or `?format=json`). */
export function wantsJson (req: FastifyRequest): boolean {
  if ((req.query as Record<string, unknown> | undefined)?.format === 'json') return true
  const accept = req.headers.accept ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

// The part of the raw URL after `<prefix>/<namespace>/files/`, still percent-encoded.
function rawPathAfter (req: FastifyRequest, segments: number): string {
  const pathname = req.url.split('?')[0]
  const parts = pathname.split('/')
  return parts.slice(segments + 1).join('/')
}

/** What every page of a namespace shares: its assets and its Content-Security-Policy. */
interface PageSetup {
  assets: BrowseAssets
  csp: string
}

async function renderListing (ctx: NamespaceContext, page: PageSetup, req: FastifyRequest, reply: FastifyReply, path: string, listing: Listing, query: string | undefined): Promise<FastifyReply> {
  if (wantsJson(req)) return reply.send(listing)
  const csrfToken = reply.generateCsrf()
  const params = req.query as Record<string, unknown>
  const sort = parseSort(params)
  const folderUrl = ctx.folderUrl(path)
  const { folders, files } = buildRows(ctx, listing, sort, path)
  const pagination = paginate(folderUrl, params, listing, sort)
  const crumbs = breadcrumbs(ctx, path)
  const allowed = ctx.ns.allowedExtensions === undefined ? [] : [...ctx.ns.allowedExtensions]
  pageHeaders(reply, page.csp)
  return render(reply.type('text/html; charset=utf-8'), 'files', {
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
    overwrite: ctx.ns.overwrite,
    urls: {
      upload: folderUrl,
      mkdir: `${ctx.baseUrl}/mkdir`,
      presign: ctx.ns.uploadMode === 'presign' ? `${ctx.baseUrl}/presign` : '',
      link: `${ctx.baseUrl}/link/`
    },
    assets: assetUrls(page.assets),
    encodePath
  })
}

/** What an error page shows. */
interface ErrorPage {
  statusCode: number
  code?: string
  message: string
  files: FileOutcome[]
  backUrl?: string
}

/** Renders the error page (HTML) with the pages' headers; the status is the caller's. */
function renderErrorPage (reply: FastifyReply, csp: string, assets: BrowseAssets, error: ErrorPage): FastifyReply {
  pageHeaders(reply, csp)
  return render(reply.code(error.statusCode).type('text/html; charset=utf-8'), 'error', {
    ...error,
    title: httpReason(error.statusCode),
    hint: errorHint(error.statusCode),
    assets: assetUrls(assets)
  })
}

// Links in the share dialog: an hour by default, a week at most (the SigV4 limit; the profile may cap it lower).
const DEFAULT_LINK_MINUTES = 60
const MAX_LINK_MINUTES = MAX_LINK_TTL_SECONDS / 60

async function namespaceRoutes (app: FastifyInstance, { ctx, page }: { ctx: NamespaceContext, page: PageSetup }): Promise<void> {
  // `<prefix>/<namespace>/files` has this many segments before the object path.
  const segments = `${ctx.options.prefix}/${ctx.ns.name}/files`.split('/').length - 1

  app.get('/', async (_req, reply) => reply.redirect(`${ctx.baseUrl}/files/`))
  app.get('/files', async (_req, reply) => reply.redirect(`${ctx.baseUrl}/files/`))

  app.get('/files/*', async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, segments))
    const user = await ctx.user(req)
    if (!folder) return await sendFile(ctx, req, reply, path, user)
    const query = req.query as Record<string, string | undefined>
    const q = typeof query.q === 'string' && query.q.trim() !== '' ? query.q.trim().slice(0, 256) : undefined
    const listing = await ctx.audited(req, user, 'list', path, async () => {
      await ctx.authorize(user, 'list', path)
      return q === undefined ? await listFolder(ctx, req, path, query.cursor) : await search(ctx, req, path, q)
    })
    return await renderListing(ctx, page, req, reply, path, listing, q)
  })

  app.post('/files/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, segments))
    if (!folder) throw new FST_S3S_BAD_REQUEST('upload to a folder URL (ending in "/")')
    const user = await ctx.user(req)
    const outcomes = await receiveUpload(ctx, req, path, user)
    if (!wantsJson(req) && worstStatus(outcomes) < 400) return reply.redirect(ctx.folderUrl(path), 303)
    if (!wantsJson(req)) {
      return renderErrorPage(reply, page.csp, page.assets, {
        statusCode: worstStatus(outcomes), message: 'Some files were not uploaded', files: outcomes, backUrl: ctx.folderUrl(path)
      })
    }
    return sendOutcomes(reply, outcomes)
  })

  app.delete('/files/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, segments))
    if (path === '') throw new FST_S3S_BAD_REQUEST('the namespace root cannot be deleted')
    const user = await ctx.user(req)
    const ops = ctx.operations(req)
    if (!folder) {
      await ctx.audited(req, user, 'delete', path, async () => {
        await ctx.authorize(user, 'delete', path)
        if (!(await ops.exists(path))) throw new FST_S3S_NOT_FOUND(path)
        await ops.deleteFile(path)
      }, 204)
      ctx.invalidate(path)
      return reply.code(204).send()
    }
    const recursive = (req.query as Record<string, string | undefined>).recursive === '1'
    const result = await ctx.audited(req, user, 'delete', path, async () => {
      await ctx.authorize(user, 'delete', path)
      const deleted = await ops.deleteFolder(path, { recursive })
      if (deleted.deleted.length === 0 && deleted.failed.length === 0) throw new FST_S3S_NOT_FOUND(path)
      return deleted
    })
    ctx.invalidate(path)
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
  }

  // `GET /<ns>/link/<key>?minutes=`: a presigned GET to share, `{ url, expiresIn }` (the seconds it really
  // got, so a profile ceiling that shortened it is reported truthfully).
  app.get('/link/*', async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, segments))
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

/** Registers the browse routes of every namespace. Encapsulated: nothing here leaks into the host app. */
export async function browseRoutes (app: FastifyInstance, { browse, registry, audit }: BrowseRoutesOptions): Promise<void> {
  // @fastify/view re-applies `root` and `production` to the engine on every render: set both here, so the
  // views folder stays ours and compiled templates stay cached (host overrides are read once, too).
  app.register(fastifyView, { engine: { eta: createViewEngine(browse.templateFolder) }, root: BUNDLED_VIEWS, production: true, propertyName: VIEW_PROPERTY })
  const assets = new BrowseAssets(browse.prefix, browse.templateFolder)
  app.get(`${assets.base}:file`, async (req, reply) => assets.send(req, reply, (req.params as { file: string }).file))
  const errorCsp = hostCsp(browse.contentSecurityPolicy, pageCsp(), undefined)
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 's3s_csrf',
    cookieOpts: { path: browse.prefix === '' ? '/' : browse.prefix, sameSite: 'strict', httpOnly: true },
    getToken: (req) => {
      const query = req.query as Record<string, string | undefined>
      const body = req.body as Record<string, unknown> | undefined
      return (req.headers['x-csrf-token'] as string | undefined) ?? query._csrf ?? (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? ''
    }
  })
  await app.register(fastifyMultipart)
  // Plain HTML forms (mkdir, delete) post urlencoded bodies.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.setErrorHandler(async function renderBrowseError (error: FastifyError, req, reply) {
    // The CSRF plugin's own codes become ours, so clients see one stable code.
    const err: FastifyError = error.code?.startsWith('FST_CSRF_') === true ? new FST_S3S_CSRF() as FastifyError : error
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
    if (statusCode >= 500) req.log.error({ err }, 'browse request failed')
    const message = statusCode >= 500 && !isStorageError(err) ? 'Internal Server Error' : err.message
    if (wantsJson(req) || req.method !== 'GET') {
      return reply.code(statusCode).send({ statusCode, code: err.code, error: httpReason(statusCode), message })
    }
    return renderErrorPage(reply, errorCsp, assets, { statusCode, code: err.code, message, files: [], backUrl: backUrlFor(browse, req, statusCode) })
  })

  for (const ns of browse.namespaces.values()) {
    const cache = ns.cache === undefined ? undefined : new LruListingCache<Listing>(ns.cache)
    const ctx = new NamespaceContext(ns, browse, registry, audit, cache)
    const page = { assets, csp: hostCsp(browse.contentSecurityPolicy, pageCsp(namespaceOrigins(ctx, registry)), ns.name) }
    await app.register(namespaceRoutes, { prefix: `${browse.prefix}/${ns.name}`, ctx, page })
  }
}

function httpReason (status: number): string {
  return STATUS_CODES[status] ?? 'Error'
}

/**
 * Where the error page's "Back" goes: the folder holding what was asked for (the namespace root after a
 * 400, whose path cannot be trusted to be a folder), or nothing outside the browse routes.
 */
function backUrlFor (browse: NormalizedBrowseOptions, req: FastifyRequest, statusCode: number): string | undefined {
  const pathname = req.url.split('?')[0]
  const rest = pathname.slice(browse.prefix.length).split('/')
  const ns = rest[1]
  if (ns === undefined || !browse.namespaces.has(ns)) return undefined
  const root = `${browse.prefix}/${ns}/files/`
  if (statusCode === 400 || rest[2] !== 'files') return root
  const segments = rest.slice(3)
  // ".../a/b/" → ".../a/", ".../a/file.txt" → ".../a/"
  segments.splice(segments[segments.length - 1] === '' ? -2 : -1)
  return root + segments.map((s) => s + '/').join('')
}
