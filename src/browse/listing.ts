/**
 * Folder listings: folders then files, one page at a time with opaque cursors, cached per namespace when
 * the namespace asks for it.
 */
import type { FastifyRequest } from 'fastify'
import { baseName } from '../keys.js'
import type { NamespaceContext, Listing } from './context.js'

/** Lists one page of a folder (path `''` or ending in `/`). */
export async function listFolder (ctx: NamespaceContext, req: FastifyRequest, path: string, cursor: string | undefined): Promise<Listing> {
  const variant = cursor ?? ''
  // `Cache-Control: no-cache` (a hard reload, or the page after a change) asks for S3's answer, which
  // then refreshes the cache for everyone.
  const fresh = /no-cache/i.test(String(req.headers['cache-control'] ?? ''))
  // Keyed by the request's folder too: users with spaces of their own never see each other's listings.
  const folder = ctx.cacheFolder(path, req)
  const cached = fresh ? undefined : ctx.cache?.get(folder, variant)
  if (cached !== undefined) return cached
  const page = await ctx.operations(req).list({ prefix: path, cursor, limit: ctx.ns.pageSize })
  const listing: Listing = {
    folders: page.folders.map((f) => ({ name: baseName(f.name), path: f.name })),
    files: page.files.map((f) => ctx.fileEntry(f)),
    nextCursor: page.nextCursor
  }
  ctx.cache?.set(folder, variant, listing)
  return listing
}
