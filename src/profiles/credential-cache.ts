/**
 * A cache for temporary credentials that one source fetches (a broker, STS): one fetch in flight shared by
 * every caller, a refresh before expiry, and failures never cached.
 *
 * The S3Client memoizes its provider too, but with a fixed five-minute window: credentials shorter-lived
 * than that would be fetched again on every request, and the margin could not be configured.
 */

/** Longest pause before trying again after a failed refresh, while the current credentials are still valid. */
export const STALE_RETRY_MS = 5000

/** What a fetch yields: the value to cache and when it expires (undefined: never). */
export interface Expiring {
  expiration?: Date
}

/**
 * When to fetch again: `marginMs` before expiry, but never before half the lifetime, so that credentials
 * shorter-lived than twice the margin are not fetched again on every call.
 */
export function refreshTime (expiration: Date | undefined, fetchedAt: number, marginMs: number): number {
  if (expiration === undefined) return Number.POSITIVE_INFINITY
  const expires = expiration.getTime()
  return Math.max(expires - marginMs, fetchedAt + (expires - fetchedAt) / 2)
}

/** Caches one source's credentials. */
export class CredentialCache<T extends Expiring> {
  private readonly fetch: () => Promise<T>
  private readonly marginMs: number
  private readonly onStale: (err: unknown) => void
  private current?: { value: T, refreshAt: number }
  private pending?: Promise<T>

  /**
   * @param fetch gets fresh credentials; a rejection is passed on to every waiting caller and not kept
   * @param marginSeconds fetch again this long before expiry
   * @param onStale called when a refresh failed but the current credentials are still valid and are kept
   */
  constructor (fetch: () => Promise<T>, marginSeconds: number, onStale: (err: unknown) => void) {
    this.fetch = fetch
    this.marginMs = marginSeconds * 1000
    this.onStale = onStale
  }

  /** The cached credentials while they are fresh, else the result of the (one shared) fetch. */
  async get (): Promise<T> {
    if (this.current !== undefined && Date.now() < this.current.refreshAt) return this.current.value
    // `.finally` runs after the assignment, even when fetch throws synchronously.
    this.pending ??= this.refresh().finally(() => { this.pending = undefined })
    return await this.pending
  }

  private async refresh (): Promise<T> {
    try {
      const value = await this.fetch()
      this.current = { value, refreshAt: refreshTime(value.expiration, Date.now(), this.marginMs) }
      return value
    } catch (err) {
      // A refresh inside the margin failed: credentials that have not expired yet still work, so keep
      // serving them rather than failing requests that would succeed. Try again after a pause (half the
      // time left, at most STALE_RETRY_MS): one S3 request asks for credentials more than once.
      const current = this.current
      const now = Date.now()
      const left = current?.value.expiration !== undefined ? current.value.expiration.getTime() - now : 0
      if (current !== undefined && left > 0) {
        current.refreshAt = now + Math.min(STALE_RETRY_MS, left / 2)
        this.onStale(err)
        return current.value
      }
      throw err
    }
  }
}
