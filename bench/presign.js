// Presigned GET links per second: the plugin's StorageOperations.getDownloadLink(key, 60) against a raw SDK
// loop (one reused S3Client configured like the plugin's, getSignedUrl + GetObjectCommand, 3600 s).
// Both must produce the same URL up to date and signature; the bench refuses to run otherwise.
// No server and no S3: presigning is local work.
//
// Main figure: time-bounded loops, plugin and raw taking turns round after round (rotated order), ratio
// plugin/raw of the medians. Many short rounds rather than a few long ones, so that load from other
// processes lands on both sides alike; the 95% interval of the paired per-round ratios says how noisy the
// machine was. Second figure (informational): the two calls interleaved one by one, each timed, summed in
// batches; slow drift cancels out almost entirely, so its interval is the tighter one.
//
// Env knobs: BENCH_ROUNDS (40), BENCH_LOOP_MS (250), BENCH_WARMUP_MS (1000), BENCH_INTERLEAVED_MS (6000).
import { performance } from 'node:perf_hooks'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import Fastify from 'fastify'
import s3Storage from '../dist/index.js'
import { BUCKET, CREDENTIALS, ENDPOINT, REGION, pluginOptions } from './support/profile.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40)
const LOOP_MS = Number(process.env.BENCH_LOOP_MS ?? 250)
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000)
const INTERLEAVED_MS = Number(process.env.BENCH_INTERLEAVED_MS ?? 6000)
const BATCH_PAIRS = 100
const TARGET = 1.0

// Same key shape for both: a few folders and a name, different each call.
const keyFor = (i) => `reports/2024/${i}/invoice-${i}.pdf`

/** Calls `sign(i)` one after another for `ms` milliseconds; returns calls per second. */
async function loop (sign, ms) {
  let i = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end) {
    await sign(i++)
    now = performance.now()
  }
  return i / ((now - start) / 1000)
}

/**
 * Alternates the two calls one by one (a b, b a, a b, ...), timing each, for `ms` milliseconds; returns
 * one time(raw)/time(plugin) ratio per batch of BATCH_PAIRS pairs.
 */
async function interleaved (plugin, raw, ms) {
  const ratios = []
  let i = 0
  const end = performance.now() + ms
  while (performance.now() < end) {
    let tPlugin = 0
    let tRaw = 0
    for (let k = 0; k < BATCH_PAIRS; k++) {
      const pluginFirst = (k & 1) === 0
      for (const isPlugin of [pluginFirst, !pluginFirst]) {
        const start = performance.now()
        await (isPlugin ? plugin : raw)(i++)
        const took = performance.now() - start
        if (isPlugin) tPlugin += took
        else tRaw += took
      }
    }
    ratios.push(tRaw / tPlugin)
  }
  return ratios
}

// The URL without its time-dependent parts, to check both sides sign the same request.
function shape (url) {
  const u = new URL(url)
  for (const name of ['X-Amz-Date', 'X-Amz-Signature', 'X-Amz-Credential']) u.searchParams.delete(name)
  u.searchParams.sort()
  return u.toString()
}

async function main () {
  const app = Fastify({ logger: false })
  await app.register(s3Storage, pluginOptions())
  await app.ready()
  const ops = app.storage.operations()
  const raw = new S3Client({
    region: REGION,
    endpoint: ENDPOINT,
    credentials: { ...CREDENTIALS },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // As the plugin's client: without it the SDK adds x-amz-checksum-mode=ENABLED to the link, a
    // different (longer) request to sign. The check below makes sure both sides sign the same thing.
    responseChecksumValidation: 'WHEN_REQUIRED'
  })

  const variants = {
    plugin: (i) => ops.getDownloadLink(keyFor(i), 60),
    raw: (i) => getSignedUrl(raw, new GetObjectCommand({ Bucket: BUCKET, Key: keyFor(i) }), { expiresIn: 3600 })
  }

  try {
    const [a, b] = await Promise.all([variants.plugin(0), variants.raw(0)])
    if (shape(a) !== shape(b)) throw new Error(`the two sides sign different requests:\n  plugin ${a}\n  raw    ${b}`)

    console.log(`presign: ${ROUNDS} rounds x 2 variants, ${LOOP_MS} ms each after ${WARMUP_MS} ms warm-up each; then ${INTERLEAVED_MS} ms interleaved`)
    for (const sign of Object.values(variants)) await loop(sign, WARMUP_MS)
    const rates = { plugin: [], raw: [] }
    const perRound = []
    const lines = []
    for (const order of rotations(Object.keys(variants), ROUNDS)) {
      const row = {}
      for (const name of order) {
        row[name] = await loop(variants[name], LOOP_MS)
        rates[name].push(row[name])
      }
      perRound.push(row.plugin / row.raw)
      lines.push(`${Math.round(row.plugin)}/${Math.round(row.raw)}`)
    }
    // Printed after the loops, not between them, so the console is not part of any measurement.
    for (let i = 0; i < lines.length; i += 8) console.log(`  plugin/raw links/s by round: ${lines.slice(i, i + 8).join('  ')}`)

    const med = { plugin: median(rates.plugin), raw: median(rates.raw) }
    const ratio = med.plugin / med.raw
    const ci = pairedInterval(perRound)
    console.log(`  median links/s: plugin ${Math.round(med.plugin)}, raw ${Math.round(med.raw)}`)
    console.log(`  plugin/raw ${round(ratio)}, target >= ${TARGET}; paired rounds: geo-mean ${round(ci.geoMean)}, 95% CI ${round(ci.low)}-${round(ci.high)}`)

    const batches = await interleaved(variants.plugin, variants.raw, INTERLEAVED_MS)
    const inter = pairedInterval(batches)
    console.log(`  interleaved call by call (${batches.length} batches of ${BATCH_PAIRS} pairs): plugin/raw ${round(inter.geoMean)}, 95% CI ${round(inter.low)}-${round(inter.high)} (informational)`)

    printResult({
      name: 'presign',
      description: 'getDownloadLink / raw getSignedUrl, links per second',
      ratio: round(ratio),
      target: TARGET,
      medians: { plugin: Math.round(med.plugin), raw: Math.round(med.raw) },
      ci: [round(ci.low), round(ci.high)],
      unit: 'links/s',
      rounds: ROUNDS,
      loopMs: LOOP_MS
    })
    printResult({
      name: 'presign-interleaved',
      description: 'getDownloadLink / raw getSignedUrl, alternated call by call (time per call, batches of pairs)',
      ratio: round(inter.geoMean),
      target: null,
      ci: [round(inter.low), round(inter.high)],
      batches: batches.length,
      batchPairs: BATCH_PAIRS
    })
  } finally {
    raw.destroy()
    await app.close()
  }
}

await main()
