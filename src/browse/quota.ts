/**
 * Quotas of a namespace's spaces (one per user with a per-user basePath, else the namespace's one folder):
 * usage counted from the listing and kept for a short TTL, plus holds for uploads in flight, so several
 * uploads at once cannot each take the same free space. Every upload path asks `reserve()` before a byte is
 * stored; streamed bytes are metered as they flow; a presigned upload holds its declared size until it is
 * confirmed (which checks again) or its POST expires.
 *
 * The bookkeeping is per process: app instances behind a load balancer each see the bucket's usage as of
 * their last count (at most `usageTtlSeconds` old) plus their own uploads.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { LRUCache } from 'lru-cache'
import { FST_S3S_QUOTA_EXCEEDED } from '../errors.js'
import type { StorageOperations } from '../operations/storage-operations.js'
import type { NormalizedQuota, QuotaLimit } from './options.js'
import { formatSize } from './pages.js'

/** What a space holds. */
export interface Usage {
  bytes: number
  files: number
}

/** A space's usage against its limits, as the page shows it. */
export interface QuotaStatus {
  used: Usage
  /** `undefined`: no byte limit for this user. */
  maxBytes?: number
  /** `undefined`: no file limit for this user. */
  maxFiles?: number
}

interface Limits {
  maxBytes?: number
  maxFiles?: number
}

interface Snapshot extends Usage {
  /** Date.now() when the count started. */
  startedAt: number
}

/** An upload in flight (or presigned and not yet confirmed), counted on top of the last count. */
export class QuotaHold {
  /** Bytes this upload stores (grows while a stream flows). */
  bytes: number
  /** Bytes of the file it replaces (an overwrite frees them). */
  readonly replaced: number
  /** Whether the file it replaces existed (then the file count does not grow). */
  readonly replaces: boolean
  /** When it was taken. */
  readonly since = Date.now()
  /** Seen stored by a count (so the count holds its bytes already). */
  counted = false
  /** The counted usage when the hold was taken: what the meter compares with when no newer count is at hand. */
  baseline: Usage = { bytes: 0, files: 0 }

  constructor (readonly tracker: QuotaTracker, readonly space: string, readonly path: string, readonly limits: Limits,
    { bytes, replaced }: { bytes: number, replaced?: number }, readonly expiresAt: number) {
    this.bytes = bytes
    this.replaced = replaced ?? 0
    this.replaces = replaced !== undefined
  }

  /**
   * A pass-through that counts the bytes of a stream as they go to S3 and fails it (413) the moment the
   * space would pass its byte quota, so the upload is aborted and nothing stays stored.
   */
  meter (name: string): Transform {
    const hold = this
    return new Transform({
      transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        hold.bytes += chunk.length
        const over = hold.tracker.overBytes(hold)
        if (over !== undefined) {
          callback(new FST_S3S_QUOTA_EXCEEDED(`"${name}" does not fit: ${over}`))
          return
        }
        callback(null, chunk)
      }
    })
  }

  /** The upload is stored with `size` bytes: its bytes move from the hold into the space's usage. */
  commit (size: number): void {
    this.tracker.commit(this, size)
  }

  /** The upload did not happen: its hold is dropped. */
  release (): void {
    this.tracker.release(this)
  }
}

/** The quota bookkeeping of one namespace. */
export class QuotaTracker {
  private readonly options: NormalizedQuota
  private readonly snapshots: LRUCache<string, Snapshot>
  // A count in flight per space, shared by everyone asking meanwhile.
  private readonly counting = new Map<string, Promise<Snapshot>>()
  // Bumped by every change we do not account for ourselves: a count started before it is not kept.
  private readonly generations = new Map<string, number>()
  private readonly holds = new Map<string, Set<QuotaHold>>()

  constructor (options: NormalizedQuota) {
    this.options = options
    this.snapshots = new LRUCache({ max: 10_000, ttl: options.usageTtlSeconds * 1000 })
  }

  /** This user's limits (the functions of `quota` asked now). */
  async limits (user: string | null): Promise<Limits> {
    return { maxBytes: await limitOf(this.options.maxBytes, user), maxFiles: await limitOf(this.options.maxFiles, user) }
  }

  /** The space's usage: the last count (at most `usageTtlSeconds` old) plus uploads in flight. */
  async usage (ops: StorageOperations, space: string): Promise<Usage> {
    const counted = await this.counted(ops, space)
    const pending = this.pending(space)
    return { bytes: counted.bytes + pending.bytes, files: counted.files + pending.files }
  }

  /** Usage and limits, for the page's usage bar. */
  async status (ops: StorageOperations, space: string, user: string | null): Promise<QuotaStatus> {
    const [used, limits] = await Promise.all([this.usage(ops, space), this.limits(user)])
    return { used, ...limits }
  }

  /**
   * Takes a hold for an upload of `bytes` (unknown for a stream: 0, metered as it flows) onto `path`,
   * replacing a file of `replaced` bytes when one is there; refuses with 413 when it would pass a limit.
   * `ttlSeconds`: how long the hold lasts if nobody commits or releases it (a presigned POST's lifetime).
   */
  async reserve (ops: StorageOperations, space: string, user: string | null, path: string,
    { bytes = 0, replaced, ttlSeconds = 3600 }: { bytes?: number, replaced?: number, ttlSeconds?: number }): Promise<QuotaHold> {
    const limits = await this.limits(user)
    const counted = await this.counted(ops, space)
    const pending = this.pending(space)
    const used = { bytes: counted.bytes + pending.bytes, files: counted.files + pending.files }
    const hold = new QuotaHold(this, space, path, limits, { bytes, replaced }, Date.now() + ttlSeconds * 1000)
    hold.baseline = { bytes: counted.bytes, files: counted.files }
    const name = `"${path}"`
    if (limits.maxFiles !== undefined && !hold.replaces && used.files + 1 > limits.maxFiles) {
      throw new FST_S3S_QUOTA_EXCEEDED(`${name} would be file ${used.files + 1} of at most ${limits.maxFiles}`)
    }
    if (limits.maxBytes !== undefined) {
      const before = used.bytes - hold.replaced
      // A stream's size is not known yet: with no byte left, it is refused before a byte of it is read.
      if (before + bytes > limits.maxBytes || (bytes === 0 && before >= limits.maxBytes)) {
        throw new FST_S3S_QUOTA_EXCEEDED(`${name}${bytes > 0 ? ` (${formatSize(bytes)})` : ''} does not fit: ${describeBytes(before, limits.maxBytes)}`)
      }
    }
    this.holdsOf(space).add(hold)
    return hold
  }

  /** Why the space would pass its byte quota with the hold's bytes so far, or undefined when it fits. */
  overBytes (hold: QuotaHold): string | undefined {
    const max = hold.limits.maxBytes
    if (max === undefined) return undefined
    // The newest count, or (when it expired or was dropped mid-upload) the one the hold was admitted on.
    const counted = this.snapshots.get(hold.space) ?? hold.baseline
    const used = counted.bytes + this.pending(hold.space).bytes
    return used > max ? describeBytes(used - hold.bytes, max) : undefined
  }

  /**
   * Settles a presigned upload that landed (its confirm step) and checks the space again with the file's real
   * size. `false` when no hold was waiting for `path` (never presigned here, expired, or confirmed twice):
   * then the space is simply counted again. Throws 413 when the stored file takes the space past its quota;
   * the caller deletes it, since the hold proves it is the upload just made.
   */
  async confirm (ops: StorageOperations, space: string, user: string | null, path: string, size: number): Promise<boolean> {
    const hold = [...this.holds.get(space) ?? []].find((h) => h.path === path)
    if (hold === undefined) {
      this.forget(space)
      return false
    }
    this.holdsOf(space).delete(hold)
    // Asked again: the limit that counts is the one in force now.
    const limits = await this.limits(user)
    let used: Usage
    if (!hold.counted) {
      // The last count was taken without this file: add it (less what it overwrote).
      const counted = await this.counted(ops, space)
      const pending = this.pending(space)
      used = { bytes: counted.bytes + pending.bytes - hold.replaced + size, files: counted.files + pending.files + (hold.replaces ? 0 : 1) }
      this.bump(space, size - hold.replaced, hold.replaces ? 0 : 1)
    } else {
      used = await this.usage(ops, space)
    }
    if (limits.maxBytes !== undefined && used.bytes > limits.maxBytes) {
      this.forget(space)
      throw new FST_S3S_QUOTA_EXCEEDED(`"${path}" (${formatSize(size)}) does not fit: ${describeBytes(used.bytes - size, limits.maxBytes)}`)
    }
    if (limits.maxFiles !== undefined && used.files > limits.maxFiles) {
      this.forget(space)
      throw new FST_S3S_QUOTA_EXCEEDED(`"${path}" would be file ${used.files} of at most ${limits.maxFiles}`)
    }
    return true
  }

  /** A change made outside our bookkeeping (a delete, a new folder, a move): the next check counts again. */
  forget (space: string): void {
    this.snapshots.delete(space)
    this.generations.set(space, (this.generations.get(space) ?? 0) + 1)
  }

  /** @internal see {@link QuotaHold.commit}. */
  commit (hold: QuotaHold, size: number): void {
    if (!this.holdsOf(hold.space).delete(hold)) return
    if (!hold.counted) this.bump(hold.space, size - hold.replaced, hold.replaces ? 0 : 1)
  }

  /** @internal see {@link QuotaHold.release}. */
  release (hold: QuotaHold): void {
    this.holdsOf(hold.space).delete(hold)
  }

  private bump (space: string, bytes: number, files: number): void {
    const last = this.snapshots.get(space)
    // A count still running may have started before this upload landed: it must not replace what we know.
    this.generations.set(space, (this.generations.get(space) ?? 0) + 1)
    if (last !== undefined) this.snapshots.set(space, { ...last, bytes: last.bytes + bytes, files: last.files + files })
  }

  private holdsOf (space: string): Set<QuotaHold> {
    let set = this.holds.get(space)
    if (set === undefined) this.holds.set(space, set = new Set())
    return set
  }

  private pending (space: string): Usage {
    const set = this.holds.get(space)
    const usage = { bytes: 0, files: 0 }
    if (set === undefined) return usage
    const now = Date.now()
    for (const hold of set) {
      if (hold.expiresAt <= now) {
        set.delete(hold)
        continue
      }
      if (hold.counted) continue
      usage.bytes += hold.bytes - hold.replaced
      if (!hold.replaces) usage.files++
    }
    if (set.size === 0) this.holds.delete(space)
    return usage
  }

  private async counted (ops: StorageOperations, space: string): Promise<Usage> {
    const last = this.snapshots.get(space)
    if (last !== undefined) return last
    let count = this.counting.get(space)
    if (count === undefined) {
      count = this.count(ops, space).finally(() => this.counting.delete(space))
      this.counting.set(space, count)
    }
    return await count
  }

  // One recursive listing of the space, page by page (never all keys in memory): bytes and files.
  private async count (ops: StorageOperations, space: string): Promise<Snapshot> {
    const generation = this.generations.get(space) ?? 0
    const snapshot: Snapshot = { bytes: 0, files: 0, startedAt: Date.now() }
    const waiting = new Map<string, QuotaHold[]>()
    for (const hold of this.holds.get(space) ?? []) {
      if (!hold.counted) waiting.set(hold.path, [...(waiting.get(hold.path) ?? []), hold])
    }
    for await (const file of ops.listAll()) {
      // Folder markers are not files.
      if (file.name.endsWith('/')) continue
      snapshot.bytes += file.size
      snapshot.files++
      // A presigned upload that landed without being confirmed yet: the count holds it now.
      for (const hold of waiting.get(file.name) ?? []) {
        if (file.lastModified !== undefined && file.lastModified.getTime() >= hold.since - 1000) hold.counted = true
      }
    }
    if ((this.generations.get(space) ?? 0) === generation) this.snapshots.set(space, snapshot)
    return snapshot
  }
}

async function limitOf (limit: QuotaLimit | undefined, user: string | null): Promise<number | undefined> {
  if (limit === undefined) return undefined
  const value = typeof limit === 'function' ? await limit(user) : limit
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined
  // A host function answering nonsense must not open the space: treat it as "nothing left".
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

function describeBytes (used: number, max: number): string {
  return `${formatSize(Math.max(0, used))} of the ${formatSize(max)} quota used, ${formatSize(Math.max(0, max - used))} left`
}
