// Zip downloads through the app: (1) throughput of `POST /<ns>/zip { folder }` against plain downloads of
// the same files one after another through `GET /<ns>/files/<key>` (the same bytes, the same S3 GETs, the
// same app), side by side in one run, rotated order; (2) the app's peak RSS growth while it zips 1 GiB in
// 5,000 files. A real local SeaweedFS; the app in a child process (bench/support/browse-server.js) on
// 127.0.0.1:0; the client here drains the answers with node:http and throws the bytes away.
//
// (1) ratio = zip MB/s / plain MB/s, both of the files' bytes (the zip's own headers are not counted as
// payload), target >= 0.8. (2) the server samples its own process.memoryUsage() every 20 ms (started with
// --expose-gc; baseline after a small warm-up zip and gc), a fresh server per round, the worst round
// counts; target growth <= 64 MiB.
//
// Env knobs: BENCH_ZIP_FILES (16) x BENCH_ZIP_FILE_MIB (32) for (1), BENCH_ZIP_ROUNDS (5);
// BENCH_ZIP_MEMORY_FILES (5000), BENCH_ZIP_MEMORY_MIB (1024), BENCH_ZIP_MEMORY_ROUNDS (3);
// BENCH_ZIP_ONLY=throughput|memory runs one half. (2) also measures, as a control in fresh servers taking turns
// with the zip, the growth while the same files are downloaded one after another through the GET route.
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { ask, startChild, stopChild } from './support/child.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, download, mbPerSecond, randomBlock } from './support/transfer.js'

const FILES = Number(process.env.BENCH_ZIP_FILES ?? 16)
const FILE_MIB = Number(process.env.BENCH_ZIP_FILE_MIB ?? 32)
const ROUNDS = Number(process.env.BENCH_ZIP_ROUNDS ?? process.env.BENCH_ROUNDS ?? 5)
const MEMORY_FILES = Number(process.env.BENCH_ZIP_MEMORY_FILES ?? 5000)
const MEMORY_MIB = Number(process.env.BENCH_ZIP_MEMORY_MIB ?? 1024)
const MEMORY_ROUNDS = Number(process.env.BENCH_ZIP_MEMORY_ROUNDS ?? 3)
const TARGET = 0.8
const TARGET_MIB = 64

const BUCKET = 'bench'
const NAMESPACE = 'bench'
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))
const agent = new http.Agent({ keepAlive: false })
const mib = (bytes) => bytes / MiB
const show = (usage) => `rss ${mib(usage.rss).toFixed(1)}, heapTotal ${mib(usage.heapTotal).toFixed(1)}, heapUsed ${mib(usage.heapUsed).toFixed(1)}, external ${mib(usage.external).toFixed(1)} (arrayBuffers ${mib(usage.arrayBuffers).toFixed(1)}) MiB`

/** POSTs a zip request and drains the archive; resolves with { bytes, ms }. */
function zipDownload (origin, folder) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.request(`${origin}/${NAMESPACE}/zip`, {
      method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-requested-with': 'bench' }
    }, (res) => {
      let bytes = 0
      res.on('data', (chunk) => { bytes += chunk.length })
      res.once('error', reject)
      res.once('end', () => {
        if (res.statusCode !== 200) reject(new Error(`zip answered ${res.statusCode}`))
        else resolve({ bytes, ms: performance.now() - start })
      })
    })
    req.once('error', reject)
    req.end(JSON.stringify({ folder }))
  })
}

/** Stores `count` objects of `size` bytes under `folder` (slices of one random block), `concurrency` at a time. */
async function fill (ops, folder, count, size, concurrency) {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      const body = Buffer.alloc(size)
      for (let at = 0; at < size; at += MiB) randomBlock.copy(body, at, 0, Math.min(MiB, size - at))
      body.writeUInt32LE(i, 0)
      await ops.uploadFile(body, `${folder}f${String(i).padStart(5, '0')}.bin`, { preserveFilename: true })
    }
  }))
}

async function throughput (s3, ops) {
  const folder = 'tput/'
  const size = FILE_MIB * MiB
  const total = FILES * size
  await fill(ops, folder, FILES, size, 4)
  const keys = Array.from({ length: FILES }, (_, i) => `${folder}f${String(i).padStart(5, '0')}.bin`)
  const server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: { zip: { maxBytes: 4 * 1024 * MiB } } } }))])
  try {
    const variants = {
      zip: async () => (await zipDownload(server.origin, folder)).ms,
      plain: async () => {
        let ms = 0
        for (const key of keys) ms += (await download(`${server.origin}/${NAMESPACE}/files/${key}`, size)).ms
        return ms
      }
    }
    console.log(`zip throughput: ${FILES} files x ${FILE_MIB} MiB, ${ROUNDS} rounds x 2 variants after one warm-up each`)
    for (const [name, run] of Object.entries(variants)) console.log(`  warm-up ${name.padEnd(5)} ${Math.round(mbPerSecond(total, await run()))} MB/s`)
    const rates = { zip: [], plain: [] }
    const perRound = []
    for (const [i, order] of rotations(Object.keys(variants), ROUNDS).entries()) {
      const row = {}
      for (const name of order) {
        row[name] = mbPerSecond(total, await variants[name]())
        rates[name].push(row[name])
      }
      perRound.push(row.zip / row.plain)
      console.log(`  round ${i + 1}: zip ${Math.round(row.zip)}, plain ${Math.round(row.plain)} MB/s; zip/plain ${round(row.zip / row.plain)}`)
    }
    const med = { zip: median(rates.zip), plain: median(rates.plain) }
    const ci = pairedInterval(perRound)
    console.log(`  median MB/s zip ${Math.round(med.zip)}, plain ${Math.round(med.plain)}; zip/plain ${round(med.zip / med.plain)}, target >= ${TARGET}`)
    printResult({
      name: 'zip',
      description: `POST /<ns>/zip of a folder / GET of its ${FILES} files one after another, ${FILES} x ${FILE_MIB} MiB, MB/s of the files' bytes`,
      ratio: round(med.zip / med.plain),
      target: TARGET,
      medians: { zip: Math.round(med.zip), plain: Math.round(med.plain) },
      ci: [round(ci.low), round(ci.high)],
      perRound: perRound.map((r) => round(r)),
      unit: 'MB/s',
      rounds: ROUNDS,
      sizeMiB: FILES * FILE_MIB
    })
  } finally {
    await stopChild(server)
  }
}

async function memory (s3, ops) {
  const folder = 'many/'
  const size = Math.floor(MEMORY_MIB * MiB / MEMORY_FILES)
  const started = performance.now()
  await fill(ops, folder, MEMORY_FILES, size, 16)
  await fill(ops, 'warm/', 50, size, 8)
  console.log(`zip memory: ${MEMORY_FILES} files of ${size} bytes (${MEMORY_MIB} MiB) stored in ${Math.round((performance.now() - started) / 1000)} s; ${MEMORY_ROUNDS} rounds, each in a fresh server`)
  const options = s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: { zip: { maxBytes: 4 * 1024 * MiB } } } })
  const keys = Array.from({ length: MEMORY_FILES }, (_, i) => `${folder}f${String(i).padStart(5, '0')}.bin`)
  // The control: the same 5,000 GETs through the app as plain downloads, one after another (no zip).
  const variants = {
    zip: async (origin) => (await zipDownload(origin, folder)).ms,
    plain: async (origin) => {
      let ms = 0
      for (const key of keys) ms += (await download(`${origin}/${NAMESPACE}/files/${key}`, size)).ms
      return ms
    }
  }
  const growths = []
  const plainGrowths = []
  const rates = []
  for (let i = 1; i <= MEMORY_ROUNDS; i++) {
    for (const name of i % 2 === 1 ? ['zip', 'plain'] : ['plain', 'zip']) {
      const server = await startChild(serverPath, [JSON.stringify(options)], { execArgv: ['--expose-gc'] })
      try {
        await zipDownload(server.origin, 'warm/')
        const { baseline } = await ask(server, 'memory-start')
        const ms = await variants[name](server.origin)
        const { peak, highest, end, afterGc } = await ask(server, 'memory-stop')
        const growth = mib(peak.rss - baseline.rss)
        if (name === 'zip') {
          growths.push(growth)
          rates.push(mbPerSecond(MEMORY_FILES * size, ms))
        } else {
          plainGrowths.push(growth)
        }
        console.log(`  round ${i} ${name}: growth ${growth.toFixed(1)} MiB; ${Math.round(ms / 1000)} s, ${Math.round(mbPerSecond(MEMORY_FILES * size, ms))} MB/s`)
        console.log(`    baseline ${show(baseline)}`)
        console.log(`    peak     ${show(peak)}`)
        console.log(`    highest  ${show(highest)} (each field's own maximum)`)
        console.log(`    end      ${show(end)}; after gc ${show(afterGc)}`)
      } finally {
        await stopChild(server)
      }
    }
  }
  console.log(`  plain downloads of the same files (control): growth ${plainGrowths.map((g) => g.toFixed(1)).join(', ')} MiB`)
  const worst = Math.max(...growths)
  const met = worst <= TARGET_MIB
  console.log(`  worst growth ${worst.toFixed(1)} MiB; target <= ${TARGET_MIB} MiB: ${met ? 'met' : 'NOT met'}`)
  printResult({
    name: 'zip-memory',
    description: `peak RSS growth of the app while it zips ${MEMORY_MIB} MiB in ${MEMORY_FILES} files (worst of ${MEMORY_ROUNDS} rounds) / ${TARGET_MIB} MiB`,
    ratio: round(worst / TARGET_MIB),
    target: `<= ${TARGET_MIB} MiB`,
    met,
    better: 'lower',
    range: [round(Math.min(...growths) / TARGET_MIB), round(worst / TARGET_MIB)],
    medians: { growth: round(median(growths), 1), worst: round(worst, 1), plainGrowth: round(median(plainGrowths), 1), plainWorst: round(Math.max(...plainGrowths), 1), zipMBps: Math.round(median(rates)) },
    unit: 'MiB',
    perRound: growths.map((g) => round(g, 1)),
    rounds: MEMORY_ROUNDS,
    sizeMiB: MEMORY_MIB,
    files: MEMORY_FILES
  })
}

async function main () {
  let s3
  let app
  try {
    s3 = await startBenchS3([BUCKET])
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()
    if (process.env.BENCH_ZIP_ONLY !== 'memory') await throughput(s3, ops)
    if (process.env.BENCH_ZIP_ONLY !== 'throughput') await memory(s3, ops)
  } finally {
    await app?.close()
    await s3?.stop()
  }
}

await main()
