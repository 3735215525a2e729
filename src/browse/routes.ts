/**
 * The browse plugin: one encapsulated set of routes per namespace under `<prefix>/<namespace>`, with its own
 * view engine, multipart parser, CSRF protection and error handler (which only renders catalog errors), and
 * the pages' hashed assets under `<prefix>/_s3s/assets/`. Each feature's routes are a route set of their own
 * (NAMESPACE_ROUTES); every S3 call goes through StorageOperations, like any user's code.
 */
import type { FastifyInstance, FastifyRequest, FastifyError } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyMultipart from '@fastify/multipart'
import fastifyView from '@fastify/view'
import { FST_S3S_CSRF, isStorageError } from '../errors.js'
import type { AuditLog } from '../http/audit.js'
import type { ProfileRegistry } from '../profiles/registry.js'
import { BrowseAssets } from './assets.js'
import { bulkRoutes } from './bulk-routes.js'
import { LruListingCache } from './cache.js'
import { NamespaceContext, type Guards, type Listing } from './context.js'
import { fileRoutes } from './file-routes.js'
import { multipartRoutes } from './multipart-routes.js'
import type { SignIn } from './login.js'
import type { NormalizedBrowseOptions } from './options.js'
import { QuotaTracker } from './quota.js'
import { hostCsp, namespaceOrigins, pageCsp } from './pages.js'
import { CSRF_COOKIE, httpReason, renderErrorPage, wantsJson, type NamespaceRouteOptions } from './respond.js'
import { versionRoutes } from './version-routes.js'
import { BUNDLED_VIEWS, VIEW_PROPERTY, createViewEngine } from './views.js'
import { zipRoutes } from './zip-routes.js'

/** Options the plugin entry hands to the browse routes. */
export interface BrowseRoutesOptions {
  browse: NormalizedBrowseOptions
  registry: ProfileRegistry
  audit: AuditLog
}

/** A route set of a namespace: registered under `<prefix>/<namespace>`, with the namespace's context. */
type NamespaceRouteSet = (app: FastifyInstance, options: NamespaceRouteOptions) => Promise<void>

/** Every namespace's route sets, one module per feature. */
const NAMESPACE_ROUTES: NamespaceRouteSet[] = [
  fileRoutes,
  versionRoutes,
  multipartRoutes,
  zipRoutes,
  bulkRoutes
]

async function namespaceRoutes (app: FastifyInstance, options: NamespaceRouteOptions): Promise<void> {
  // Every route of a namespace knows its user and their folder before anything else runs: 401 (or the
  // sign-in) before a body is read, and StorageOperations confined to the user's space.
  app.addHook('onRequest', async function enterNamespace (req) {
    await options.ctx.enter(req)
  })
  for (const routes of NAMESPACE_ROUTES) await routes(app, options)
}

/**
 * The hooks every namespace checks: the host's `authenticate` first, the sign-in's session when it answers
 * nothing; the host's `authorize`, else the sign-in's allow-lists.
 */
function guardsOf (browse: NormalizedBrowseOptions, signIn: SignIn | undefined): Guards {
  if (signIn === undefined) return { authenticate: browse.authenticate, authorize: browse.authorize }
  const host = browse.authenticate
  return {
    authenticate: async (req) => {
      const user = host === undefined ? null : await host(req)
      return user === null || user === undefined || user === '' ? signIn.userOf(req) : user
    },
    authorize: browse.authorize ?? signIn.authorize
  }
}

/** A browser's page load (not a script, an image or an API client): where a missing session means "sign in". */
function isPageLoad (req: FastifyRequest): boolean {
  const mode = req.headers['sec-fetch-mode']
  return req.method === 'GET' && !wantsJson(req) && req.headers['x-requested-with'] === undefined && (mode === undefined || mode === 'navigate')
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
    cookieKey: CSRF_COOKIE,
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

  let signIn: SignIn | undefined
  app.setErrorHandler(async function renderBrowseError (error: FastifyError, req, reply) {
    // The CSRF plugin's own codes become ours, so clients see one stable code.
    const err: FastifyError = error.code?.startsWith('FST_CSRF_') === true ? new FST_S3S_CSRF() as FastifyError : error
    if (signIn !== undefined && err.code === 'FST_S3S_UNAUTHENTICATED' && isPageLoad(req)) {
      reply.header('cache-control', 'no-store')
      return reply.redirect(signIn.loginUrl(req.url))
    }
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
    if (statusCode >= 500) req.log.error({ err }, 'browse request failed')
    const message = statusCode >= 500 && !isStorageError(err) ? 'Internal Server Error' : err.message
    if (wantsJson(req) || req.method !== 'GET') {
      return reply.code(statusCode).send({ statusCode, code: err.code, error: httpReason(statusCode), message })
    }
    const signInPage = signIn !== undefined && req.url.startsWith(`${browse.prefix}/auth/`)
    const back = signInPage ? { backUrl: `${browse.prefix}/auth/login`, backLabel: 'Sign in again' } : { backUrl: backUrlFor(browse, req, statusCode) }
    return renderErrorPage(reply, errorCsp, assets, { statusCode, code: err.code, message, files: [], ...back })
  })

  // The sign-in and its libraries load only when it is configured (after the error handler: its routes use it).
  if (browse.login !== undefined) {
    signIn = await (await import('./login.js')).loginRoutes(app, { browse, login: browse.login, assets, csp: errorCsp })
  }

  const guards = guardsOf(browse, signIn)
  for (const ns of browse.namespaces.values()) {
    const cache = ns.cache === undefined ? undefined : new LruListingCache<Listing>(ns.cache)
    const quota = ns.quota === undefined ? undefined : new QuotaTracker(ns.quota)
    const ctx = new NamespaceContext(ns, browse, registry, audit, cache, { guards, quota, signIn })
    const page = { assets, csp: hostCsp(browse.contentSecurityPolicy, pageCsp(namespaceOrigins(ctx, registry)), ns.name) }
    await app.register(namespaceRoutes, { prefix: `${browse.prefix}/${ns.name}`, ctx, page })
  }
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
