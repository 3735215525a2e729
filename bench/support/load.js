// One autocannon run on a URL: requests per second and p99 latency. Any error, timeout or non-2xx answer
// fails the benchmark, so a ratio is never computed over failing requests.
import autocannon from 'autocannon'

/** Loads `url` with `connections` for `duration` seconds. */
export async function load (url, duration, connections) {
  const result = await autocannon({ url, connections, duration })
  const failures = result.errors + result.timeouts + result.non2xx
  if (failures > 0) throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  return { rps: result.requests.total / result.duration, p99: result.latency.p99 }
}
