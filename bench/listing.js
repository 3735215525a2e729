// Listing a big folder through the browse route: requests/s of `GET /<ns>/files/big/?format=json` (the first
// page, pageSize 100 by default, so one ListObjectsV2 of 100 keys per uncached request) with the namespace's
// listing cache on (`cache: { ttlSeconds: 60 }`, warm) against a second namespace on the same basePath
// without a cache (cold: every request lists from S3). Informational, no target.
//
// Also one full walk of the folder through the cursor pages (first page, then `?cursor=` until there is no
// nextCursor), timed on the cold namespace and on the warm one once its cache holds every page (a first
// walk fills it). The warm walk only hits the cache if the S3 server hands out the same continuation
// tokens every time; the bench checks that and says so.
//
// A real local SeaweedFS holding BENCH_LISTING_KEYS keys (created once per run with parallel PutObject, 32
// at a time); the app in a child process; autocannon here, with few connections, warm and cold taking
// turns round after round (rotated order).
//
// Env knobs: BENCH_LISTING_KEYS (10000), BENCH_LISTING_ROUNDS (else BENCH_ROUNDS, else 4),
// BENCH_LISTING_DURATION (3 s), BENCH_LISTING_WARMUP (0.5 s), BENCH_LISTING_CONNECTIONS (4),
// BENCH_LISTING_WALKS (3).
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { startChild, stopChild } from './support/child.js'
import { startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { load } from './support/load.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'

const KEYS = Number(process.env.BENCH_LISTING_KEYS ?? 10_000)
const ROUNDS = Number(process.env.BENCH_LISTING_ROUNDS ?? process.env.BENCH_ROUNDS ?? 4)
const DURATION = Number(process.env.BENCH_LISTING_DURATION ?? 3)
const WARMUP = Number(process.env.BENCH_LISTING_WARMUP ?? 0.5)
const CONNECTIONS = Number(process.env.BENCH_LISTING_CONNECTIONS ?? 4)
const WALKS = Number(process.env.BENCH_LISTING_WALKS ?? 3)
const PUT_CONCURRENCY = 32
const PAGE_SIZE = 100 // the namespace default, stated here to check the pages

const BUCKET = 'bench'
const BASE = 'listing'
const FOLDER = 'big/'
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))

const keyOf = (i) => `${BASE}/${FOLDER}file-${String(i).padStart(6, '0')}.txt`

/** PutObject of every key, PUT_CONCURRENCY at a time. */
async function createKeys (s3) {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED'
  })
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < KEYS) {
      const i = next++
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: keyOf(i), Body: `file ${i}\n`, ContentType: 'text/plain' }))
    }
  }
  try {
    await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker))
  } finally {
    client.destroy()
  }
  const ms = performance.now() - started
  console.log(`  created ${KEYS} keys in ${(ms / 1000).toFixed(1)} s (${Math.round(KEYS / (ms / 1000))} PutObject/s, ${PUT_CONCURRENCY} concurrent)`)
}

async function getJson (url) {
  const res = await fetch(url)
  const body = await res.text()
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 300)}`)
  return JSON.parse(body)
}

/** Follows the cursor pages of the folder to the end; returns the time, the pages and their cursors. */
async function walk (folderUrl) {
  const started = performance.now()
  const cursors = []
  let files = 0
  let cursor
  do {
    const page = await getJson(`${folderUrl}?format=json${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    files += page.files.length
    cursor = page.nextCursor
    if (cursor !== undefined) cursors.push(cursor)
  } while (cursor !== undefined)
  const ms = performance.now() - started
  if (files !== KEYS) throw new Error(`walk of ${folderUrl}: ${files} files, expected ${KEYS}`)
  return { ms, pages: cursors.length + 1, cursors }
}

async function main () {
  let s3
  let server
  try {
    s3 = await startBenchS3([BUCKET])
    await createKeys(s3)
    const browse = {
      namespaces: {
        warm: { basePath: BASE, cache: { ttlSeconds: 60 } },
        cold: { basePath: BASE }
      }
    }
    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, browse))])
    const folderUrl = (ns) => `${server.origin}/${ns}/files/${FOLDER}`
    const urls = { warm: `${folderUrl('warm')}?format=json`, cold: `${folderUrl('cold')}?format=json` }
    const variants = Object.keys(urls)

    // Same page from both, so they are measuring the same answer.
    const first = { warm: await getJson(urls.warm), cold: await getJson(urls.cold) }
    if (JSON.stringify(first.warm.files.map((f) => f.path)) !== JSON.stringify(first.cold.files.map((f) => f.path))) {
      throw new Error('the warm and cold namespaces list different first pages')
    }
    if (first.cold.files.length !== Math.min(PAGE_SIZE, KEYS)) throw new Error(`first page has ${first.cold.files.length} files, expected ${PAGE_SIZE}`)

    console.log(`listing: ${KEYS} keys in ${BASE}/${FOLDER}, first page of ${PAGE_SIZE}; ${ROUNDS} rounds x ${variants.length} variants, ${WARMUP}s warm-up + ${DURATION}s each, ${CONNECTIONS} connections`)
    const rps = { warm: [], cold: [] }
    const perRound = []
    for (const [i, order] of rotations(variants, ROUNDS).entries()) {
      const row = {}
      const line = []
      for (const v of order) {
        if (WARMUP > 0) await load(urls[v], WARMUP, CONNECTIONS)
        const { rps: value, p99 } = await load(urls[v], DURATION, CONNECTIONS)
        rps[v].push(value)
        row[v] = value
        line.push(`${v} ${Math.round(value)} req/s (p99 ${p99} ms)`)
      }
      perRound.push(row.warm / row.cold)
      console.log(`  round ${i + 1}: ${line.join(', ')}`)
    }
    const med = { warm: median(rps.warm), cold: median(rps.cold) }
    const ratio = med.warm / med.cold
    const ci = pairedInterval(perRound)
    console.log(`  median req/s: warm ${Math.round(med.warm)}, cold ${Math.round(med.cold)}; warm/cold ${round(ratio)} (95% CI ${round(ci.low)}-${round(ci.high)}), informational`)

    // Full walks: the warm namespace's cache is filled by one walk first.
    const fill = await walk(folderUrl('warm'))
    console.log(`  walk: ${fill.pages} pages; filling the warm cache took ${Math.round(fill.ms)} ms`)
    const walks = { warm: [], cold: [] }
    let sameCursors = true
    for (const order of rotations(variants, WALKS)) {
      for (const v of order) {
        const result = await walk(folderUrl(v))
        walks[v].push(result.ms)
        if (v === 'warm' && result.cursors.join() !== fill.cursors.join()) sameCursors = false
      }
    }
    const walkMed = { cold: median(walks.cold), warm: median(walks.warm) }
    const walkRatio = walkMed.cold / walkMed.warm
    console.log(`  full walk ms: cold ${walks.cold.map(Math.round).join(', ')}; warm ${walks.warm.map(Math.round).join(', ')}; cold/warm ${round(walkRatio)}`)
    if (!sameCursors) console.log('  NOTE: the S3 server handed out different continuation tokens on later walks, so warm walks missed the cache past page 1')

    const common = { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS, keys: KEYS, pageSize: PAGE_SIZE }
    printResult({
      name: 'listing',
      description: `first page of a ${KEYS}-key folder, cached (warm) / uncached (cold) namespace, req/s`,
      ratio: round(ratio),
      target: null,
      medians: { warm: Math.round(med.warm), cold: Math.round(med.cold) },
      ci: [round(ci.low), round(ci.high)],
      perRound: perRound.map((r) => round(r)),
      unit: 'req/s',
      ...common
    })
    printResult({
      name: 'listing-walk',
      description: `all ${fill.pages} cursor pages of the folder, time cold / time warm`,
      ratio: round(walkRatio),
      target: null,
      medians: { cold: Math.round(walkMed.cold), warm: Math.round(walkMed.warm), fill: Math.round(fill.ms) },
      range: [round(Math.min(...walks.cold.map((c, i) => c / walks.warm[i])), 2), round(Math.max(...walks.cold.map((c, i) => c / walks.warm[i])), 2)],
      unit: 'ms',
      pages: fill.pages,
      walks: WALKS,
      cursorsStable: sameCursors,
      ...common
    })
  } finally {
    await stopChild(server)
    await s3?.stop()
  }
}

await main()
