/**
 * The plain index of a folder, for clients that mirror a tree by following links (wget --mirror, rclone's
 * http backend, scripts) and cannot follow the page's cursors: every entry on one page, relative links, no
 * script, bounded by the namespace's `indexMaxEntries`. Clients whose Accept has no `text/html` get it, and
 * anyone with `?format=index`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { NamespaceContext } from './context.js'
import { formatDate, pageHeaders } from './pages.js'
import { render } from './views.js'

/** Whether a folder request should get the plain index rather than the page or JSON. */
export function wantsIndex (req: FastifyRequest, json: boolean): boolean {
  const query = req.query as Record<string, unknown>
  if (query.format === 'index') return true
  if (json || query.q !== undefined || query.format !== undefined) return false
  return !String(req.headers.accept ?? '').includes('text/html')
}

/** Lists every entry of `path` (all pages, up to `indexMaxEntries`) and renders the plain index. */
export async function sendPlainIndex (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, path: string, csp: string): Promise<FastifyReply> {
  const max = ctx.ns.indexMaxEntries
  const entries: Array<{ href: string, name: string, date: string, size: string }> = []
  let cursor: string | undefined
  let truncated = false
  const ops = ctx.operations(req)
  do {
    const page = await ops.list({ prefix: path, cursor, limit: 1000 })
    for (const folder of page.folders) {
      const name = folder.name.slice(path.length).replace(/\/$/, '')
      entries.push({ href: encodeURIComponent(name) + '/', name: name + '/', date: '', size: '-' })
    }
    for (const file of page.files) {
      const name = file.name.slice(path.length)
      entries.push({ href: encodeURIComponent(name), name, date: formatDate(file.lastModified?.toISOString()), size: String(file.size) })
    }
    cursor = page.nextCursor
    if (entries.length >= max) {
      truncated = entries.length > max || cursor !== undefined
      entries.length = Math.min(entries.length, max)
      break
    }
  } while (cursor !== undefined)
  pageHeaders(reply, csp)
  if (truncated) reply.header('x-index-truncated', String(max))
  return render(reply.type('text/html; charset=utf-8'), 'index', {
    title: `/${ctx.ns.name}/${path}`,
    parent: path !== '',
    entries,
    truncated,
    maxEntries: max
  })
}
