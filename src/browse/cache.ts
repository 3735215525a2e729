/**
 * The listing cache of a namespace. Behind a small interface so a shared store (Redis, …) can replace the
 * in-process LRU when several app instances serve one bucket.
 */
import { LRUCache } from 'lru-cache'

/** A listing cache: entries keyed by the listed prefix (plus page and sort), dropped by prefix. */
export interface ListingCache<V> {
  /** A cached page for a folder, or undefined. */
  get (folder: string, variant: string): V | undefined
  /** Caches a page of a folder. */
  set (folder: string, variant: string, value: V): void
  /** Drops every cached page of `folder` and of its ancestors (their folder rows may change too). */
  invalidate (changedKey: string): void
}

/** An in-process LRU with a TTL, bounded in entries. */
export class LruListingCache<V extends object> implements ListingCache<V> {
  private readonly lru: LRUCache<string, V>
  // folder → variants cached for it, so invalidation need not scan the whole cache.
  private readonly variants = new Map<string, Set<string>>()

  constructor ({ ttlSeconds, maxEntries }: { ttlSeconds: number, maxEntries: number }) {
    this.lru = new LRUCache<string, V>({
      max: maxEntries,
      ttl: ttlSeconds * 1000,
      dispose: (_value, key) => {
        const [folder, variant] = JSON.parse(key) as [string, string]
        const set = this.variants.get(folder)
        set?.delete(variant)
        if (set?.size === 0) this.variants.delete(folder)
      }
    })
  }

  get (folder: string, variant: string): V | undefined {
    return this.lru.get(JSON.stringify([folder, variant]))
  }

  set (folder: string, variant: string, value: V): void {
    this.lru.set(JSON.stringify([folder, variant]), value)
    let set = this.variants.get(folder)
    if (set === undefined) this.variants.set(folder, set = new Set())
    set.add(variant)
  }

  invalidate (changedKey: string): void {
    // The folder holding the key and every ancestor up to the root ('').
    const folders = ['']
    let at = changedKey.indexOf('/')
    while (at !== -1) {
      folders.push(changedKey.slice(0, at + 1))
      at = changedKey.indexOf('/', at + 1)
    }
    for (const folder of folders) {
      for (const variant of [...(this.variants.get(folder) ?? [])]) this.lru.delete(JSON.stringify([folder, variant]))
    }
  }
}
