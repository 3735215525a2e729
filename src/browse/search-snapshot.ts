/**
 * Search snapshots: the recursive listing under a search root, kept for a short TTL so repeat searches of a
 * namespace match in memory instead of scanning S3 again. Keyed by the request's folder (a user's space)
 * plus the root, bounded by the entries held across all snapshots, dropped by our own writes like the
 * listing cache (NamespaceContext.invalidateListing). A search under a folder reuses a complete snapshot of
 * an ancestor. Concurrent searches of one root share one scan.
 */
import { LRUCache } from 'lru-cache'
import type { ListedFile } from '../operations/storage-operations.js'

/** One listed key, with its path split and folded once (search matches each segment by its own name). */
export interface SnapshotEntry {
  file: ListedFile
  /** The segments of `file.name` (relative to the namespace). */
  segments: string[]
  /** The same segments, folded for matching. */
  folded: string[]
}

/** The recursive listing under one root, as far as the scan went. */
export interface Snapshot {
  /** The folder listed (relative to the namespace, `''` or ending in `/`). */
  root: string
  entries: SnapshotEntry[]
  /** The scan stopped at `searchMaxKeys`: keys past it are not in the snapshot. */
  truncated: boolean
}

/** The snapshots of one namespace. */
export class SearchSnapshots {
  private readonly lru: LRUCache<string, Snapshot>
  private readonly building = new Map<string, Promise<Snapshot>>()
  // Bumped by every invalidation: a scan that began before a write must not be stored after it.
  private generation = 0

  constructor ({ ttlSeconds, maxEntries }: { ttlSeconds: number, maxEntries: number }) {
    this.lru = new LRUCache<string, Snapshot>({
      ttl: ttlSeconds * 1000,
      maxSize: maxEntries,
      // A snapshot larger than the whole budget is used once and not kept.
      maxEntrySize: maxEntries,
      sizeCalculation: (snapshot) => snapshot.entries.length + 1
    })
  }

  /**
   * A snapshot covering `root` in the folder `space`: the root's own, or a complete one of an ancestor,
   * else a new scan by `scan` (shared with any concurrent search of the same root). `fresh` skips the
   * cached ones and stores the new scan (`Cache-Control: no-cache`).
   */
  async get (space: string, root: string, scan: () => Promise<Snapshot>, fresh = false): Promise<Snapshot> {
    if (!fresh) {
      const cached = this.find(space, root)
      if (cached !== undefined) return cached
    }
    const id = space + '\0' + root
    let pending = fresh ? undefined : this.building.get(id)
    if (pending === undefined) {
      const generation = this.generation
      pending = scan().then((snapshot) => {
        if (generation === this.generation) this.lru.set(id, snapshot)
        return snapshot
      }).finally(() => {
        if (this.building.get(id) === pending) this.building.delete(id)
      })
      this.building.set(id, pending)
    }
    return await pending
  }

  private find (space: string, root: string): Snapshot | undefined {
    const own = this.lru.get(space + '\0' + root)
    if (own !== undefined) return own
    // Ancestors, nearest first: only a complete one holds every key under `root`.
    for (let at = root.lastIndexOf('/', root.length - 2); ; at = root.lastIndexOf('/', at - 1)) {
      const ancestor = at < 0 ? '' : root.slice(0, at + 1)
      const snapshot = this.lru.get(space + '\0' + ancestor)
      if (snapshot !== undefined && !snapshot.truncated) return snapshot
      if (at < 0) return undefined
    }
  }

  /** Drops every snapshot of `space` that holds `changed` (a file or a folder path), or lies under it. */
  invalidate (space: string, changed: string): void {
    this.generation++
    const prefix = space + '\0'
    for (const id of [...this.lru.keys()]) {
      if (!id.startsWith(prefix)) continue
      const root = id.slice(prefix.length)
      if (changed.startsWith(root) || root.startsWith(changed)) this.lru.delete(id)
    }
  }
}
