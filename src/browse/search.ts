/**
 * Search: a case-insensitive substring match on each entry's own name, NFC on both sides (an NFD name from
 * macOS is found by an NFC query), recursive under the current folder, bounded by `searchMaxKeys` keys
 * scanned. With `searchCache`, repeat searches match against a snapshot of the recursive listing
 * (search-snapshot.ts: TTL'd, bounded, dropped by our own writes); without it every search scans S3.
 * `Cache-Control: no-cache` always scans (and refreshes the snapshot).
 */
import type { FastifyRequest } from 'fastify'
import type { NamespaceContext, Listing } from './context.js'
import type { Snapshot } from './search-snapshot.js'

/** Folds a name for matching. */
export function foldName (name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** Lists every key under `path` (up to `searchMaxKeys`), split and folded for matching. */
async function scan (ctx: NamespaceContext, req: FastifyRequest, path: string): Promise<Snapshot> {
  const snapshot: Snapshot = { root: path, entries: [], truncated: false }
  for await (const file of ctx.operations(req).listAll({ prefix: path })) {
    if (snapshot.entries.length >= ctx.ns.searchMaxKeys) {
      snapshot.truncated = true
      break
    }
    const segments = file.name.split('/')
    snapshot.entries.push({ file, segments, folded: segments.map(foldName) })
  }
  return snapshot
}

/** Searches under `path` (a folder) for names containing `query`. */
export async function search (ctx: NamespaceContext, req: FastifyRequest, path: string, query: string): Promise<Listing> {
  const fresh = /no-cache/i.test(String(req.headers['cache-control'] ?? ''))
  const snapshot = ctx.searchCache === undefined
    ? await scan(ctx, req, path)
    : await ctx.searchCache.get(ctx.space(req), path, async () => await scan(ctx, req, path), fresh)
  const needle = foldName(query)
  const listing: Listing = { folders: [], files: [], truncated: snapshot.truncated }
  const seenFolders = new Set<string>()
  // Segments of the search root itself are not matched (an ancestor's snapshot holds other folders too).
  const depth = path === '' ? 0 : path.split('/').length - 1
  for (const { file, segments, folded } of snapshot.entries) {
    if (!file.name.startsWith(path)) continue
    // Folder rows: every folder below the search root whose own segment matches.
    const last = segments.length - 1
    for (let i = depth; i < last; i++) {
      if (!folded[i].includes(needle)) continue
      const folder = segments.slice(0, i + 1).join('/') + '/'
      if (seenFolders.has(folder)) continue
      seenFolders.add(folder)
      listing.folders.push({ name: segments[i], path: folder })
    }
    // A folder marker ("a/") has an empty last segment and is not a file.
    if (segments[last] !== '' && folded[last].includes(needle)) listing.files.push(ctx.fileEntry(file))
  }
  return listing
}
