/**
 * Search: a case-insensitive substring match on each entry's own name, NFC on both sides (an NFD name from
 * macOS is found by an NFC query), recursive under the current folder, bounded by `searchMaxKeys` keys
 * scanned. Never cached: results must reflect the bucket now.
 */
import type { FastifyRequest } from 'fastify'
import type { NamespaceContext, Listing } from './context.js'

/** Folds a name for matching. */
export function foldName (name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** Searches under `path` (a folder) for names containing `query`. */
export async function search (ctx: NamespaceContext, req: FastifyRequest, path: string, query: string): Promise<Listing> {
  const needle = foldName(query)
  const listing: Listing = { folders: [], files: [], truncated: false }
  const seenFolders = new Set<string>()
  let scanned = 0
  for await (const file of ctx.operations(req).listAll({ prefix: path })) {
    if (scanned >= ctx.ns.searchMaxKeys) {
      listing.truncated = true
      break
    }
    scanned++
    const relative = file.name.slice(path.length)
    const segments = relative.split('/')
    // Folder rows: every folder below the search root whose own segment matches.
    let folder = path
    for (const segment of segments.slice(0, -1)) {
      folder += segment + '/'
      if (!seenFolders.has(folder) && foldName(segment).includes(needle)) {
        seenFolders.add(folder)
        listing.folders.push({ name: segment, path: folder })
      }
    }
    const name = segments[segments.length - 1]
    // A folder marker ("a/") has an empty last segment and is not a file.
    if (name !== '' && foldName(name).includes(needle)) listing.files.push(ctx.fileEntry(file))
  }
  return listing
}
