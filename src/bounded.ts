/** Bounded concurrency for fan-outs over S3 (HEADs of a page of versions, checks of sub-folders). */

/** Runs `fn` over `items` with at most `limit` calls in flight; the results keep the items' order. */
export async function mapBounded<T, R> (items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
