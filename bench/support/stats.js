// Small helpers shared by the benchmarks: medians, ratios and the RESULT line run-bench.js collects.

/** The median of a list of numbers. */
export function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Rounds to `digits` decimals (null stays null). */
export function round (value, digits = 3) {
  if (value === null) return null
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/**
 * Prints the one-line JSON result run-bench.js reads: `RESULT {"name":...,"ratio":...,"target":...}`.
 * `target` is null for informational ratios.
 */
export function printResult (result) {
  console.log('RESULT ' + JSON.stringify(result))
}

/** Rounds in which every variant runs once, rotated so no variant always goes first or last. */
export function rotations (variants, rounds) {
  const order = []
  for (let r = 0; r < rounds; r++) {
    const shift = r % variants.length
    order.push([...variants.slice(shift), ...variants.slice(0, shift)])
  }
  return order
}

// Two-sided 95% Student t quantiles by degrees of freedom (normal beyond 30).
const T95 = [NaN, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.09]
function t95 (df) {
  if (df < T95.length) return T95[df]
  return df <= 30 ? 2.05 : 1.96
}

/**
 * The noise around paired per-round ratios (each round's A/B, run back to back): their geometric mean and
 * a 95% interval, on log ratios. A wide interval means the machine was too noisy to tell the sides apart.
 */
export function pairedInterval (ratios) {
  const logs = ratios.map(Math.log)
  const n = logs.length
  const mean = logs.reduce((a, b) => a + b, 0) / n
  if (n < 2) return { geoMean: Math.exp(mean), low: null, high: null }
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1))
  const half = t95(n - 1) * sd / Math.sqrt(n)
  return { geoMean: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) }
}
