/**
 * The browse plugin: one encapsulated set of routes per namespace under `<prefix>/<namespace>`, with its own
 * view engine, multipart parser, CSRF protection and error handler (which only renders catalog errors).
 * Every S3 call goes through StorageOperations, like any user's code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyError } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyMultipart from '@fastify/multipart'
import fastifyView from '@fastify/view'
import { FST_S3S_BAD_REQUEST, FST_S3S_CSRF, FST_S3S_NOT_FOUND } from '../errors.js'
import type { ProfileRegistry } from '../profiles/registry.js'
import { AuditLog } from './audit.js'
import { LruListingCache } from './cache.js'
import { NamespaceContext, encodePath, type Listing } from './context.js'
import { sendFile } from './download.js'
import { listFolder } from './listing.js'
import type { NormalizedBrowseOptions } from './options.js'
import { decodeBrowsePath, checkBrowsePath } from './paths.js'
import { csrfGuard } from './permissions.js'
import { search } from './search.js'
import { makeFolder, presignUploads, receiveUpload, sendOutcomes, worstStatus } from './upload.js'
import { BUNDLED_VIEWS, createViewEngine } from './views.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a browse template (the browse plugin's own @fastify/view instance). */
    storageView(page: string, data?: object): FastifyReply
  }
}

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

function breadcrumbs (ctx: NamespaceContext, path: string): Array<{ name: string, url: string }> {
  const crumbs = [{ name: ctx.ns.name, url: ctx.folderUrl('') }]
  let at = ''
  for (const segment of path.split('/').filter((s) => s !== '')) {
    at += segment + '/'
    crumbs.push({ name: segment, url: ctx.folderUrl(at) })
  }
  return crumbs
}

async function renderListing (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, path: string, listing: Listing, query: string | undefined): Promise<FastifyReply> {
  if (wantsJson(req)) return reply.send(listing)
  const csrfToken = reply.generateCsrf()
  const next = listing.nextCursor === undefined ? undefined : `${ctx.folderUrl(path)}?cursor=${encodeURIComponent(listing.nextCursor)}`
  reply.header('cache-control', 'no-store')
  return reply.type('text/html; charset=utf-8').storageView('files', {
    namespace: ctx.ns.name,
    baseUrl: ctx.baseUrl,
    path,
    folderUrl: ctx.folderUrl(path),
    breadcrumbs: breadcrumbs(ctx, path),
    listing,
    query: query ?? '',
    next,
    csrfToken,
    uploadMode: ctx.ns.uploadMode,
    allowedExtensions: ctx.ns.allowedExtensions === undefined ? [] : [...ctx.ns.allowedExtensions],
    maxUploadBytes: ctx.ns.maxUploadBytes,
    encodePath
  })
}

async function namespaceRoutes (app: FastifyInstance, { ctx }: { ctx: NamespaceContext }): Promise<void> {
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
    return await renderListing(ctx, req, reply, path, listing, q)
  })

  app.post('/files/*', { preHandler: csrfGuard }, async (req, reply) => {
    const { path, folder } = decodeBrowsePath(rawPathAfter(req, segments))
    if (!folder) throw new FST_S3S_BAD_REQUEST('upload to a folder URL (ending in "/")')
    const user = await ctx.user(req)
    const outcomes = await receiveUpload(ctx, req, path, user)
    if (!wantsJson(req) && worstStatus(outcomes) < 400) return reply.redirect(ctx.folderUrl(path), 303)
    if (!wantsJson(req)) {
      return reply.code(worstStatus(outcomes)).type('text/html; charset=utf-8').storageView('error', {
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
}

/** Registers the browse routes of every namespace. Encapsulated: nothing here leaks into the host app. */
export async function browseRoutes (app: FastifyInstance, { browse, registry, audit }: BrowseRoutesOptions): Promise<void> {
  // @fastify/view re-applies `root` and `production` to the engine on every render: set both here, so the
  // views folder stays ours and compiled templates stay cached (host overrides are read once, too).
  app.register(fastifyView, { engine: { eta: createViewEngine(browse.templateFolder) }, root: BUNDLED_VIEWS, production: true, propertyName: 'storageView' })
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
    const message = statusCode >= 500 && err.code?.startsWith('FST_S3S_') !== true ? 'Internal Server Error' : err.message
    reply.code(statusCode)
    if (wantsJson(req) || req.method !== 'GET') {
      return reply.send({ statusCode, code: err.code, error: httpReason(statusCode), message })
    }
    return reply.type('text/html; charset=utf-8').storageView('error', { statusCode, code: err.code, message, files: [], backUrl: undefined })
  })

  for (const ns of browse.namespaces.values()) {
    const cache = ns.cache === undefined ? undefined : new LruListingCache<Listing>(ns.cache)
    const ctx = new NamespaceContext(ns, browse, registry, audit, cache)
    await app.register(namespaceRoutes, { prefix: `${browse.prefix}/${ns.name}`, ctx })
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
}

function httpReason (status: number): string {
  return REASONS[status] ?? 'Error'
}
