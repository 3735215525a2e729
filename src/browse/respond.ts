/**
 * How browse routes answer: JSON for API clients, pages for browsers, and the one error page. Shared by
 * every route set of a namespace (files, and the feature route sets beside it).
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { BrowseAssets } from './assets.js'
import type { NamespaceContext } from './context.js'
import { assetUrls, errorHint, pageHeaders } from './pages.js'
import type { FileOutcome } from './upload.js'
import { render } from './views.js'

/** The cookie holding the browser's CSRF secret (@fastify/csrf-protection); page tokens are made from it. */
export const CSRF_COOKIE = 's3s_csrf'

/** Whether the client asked for JSON (`Accept: application/json` or `?format=json`). */
export function wantsJson (req: FastifyRequest): boolean {
  if ((req.query as Record<string, unknown> | undefined)?.format === 'json') return true
  const accept = req.headers.accept ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

/** What every page of a namespace shares: its assets and its Content-Security-Policy. */
export interface PageSetup {
  assets: BrowseAssets
  csp: string
}

/** What a namespace's route sets are registered with. */
export interface NamespaceRouteOptions {
  ctx: NamespaceContext
  page: PageSetup
}

/**
 * The part of the raw URL after `<prefix>/<namespace>/<route>/`, still percent-encoded (decoded once, by
 * decodeBrowsePath).
 */
export function rawPathAfter (req: FastifyRequest, ctx: NamespaceContext, route: string): string {
  const segments = `${ctx.options.prefix}/${ctx.ns.name}/${route}`.split('/').length - 1
  return req.url.split('?')[0].split('/').slice(segments + 1).join('/')
}

/** What an error page shows. */
export interface ErrorPage {
  statusCode: number
  code?: string
  message: string
  files: FileOutcome[]
  backUrl?: string
  /** The back link's text. Default "Back to the folder". */
  backLabel?: string
}

/** Renders the error page (HTML) with the pages' headers; the status is the caller's. */
export function renderErrorPage (reply: FastifyReply, csp: string, assets: BrowseAssets, error: ErrorPage): FastifyReply {
  pageHeaders(reply, csp)
  return render(reply.code(error.statusCode).type('text/html; charset=utf-8'), 'error', {
    ...error,
    title: httpReason(error.statusCode),
    hint: errorHint(error.statusCode, error.code),
    assets: assetUrls(assets)
  })
}

/** The reason phrase of a status (`Not Found`). */
export function httpReason (status: number): string {
  return STATUS_CODES[status] ?? 'Error'
}
