// A browser-style multipart upload (the Companion routes of a browse namespace in presign mode: start, sign
// the parts in one batch, PUT them straight to S3 in parallel, list, complete) against one presigned PUT of
// the same bytes straight to S3 and against the stream route (a multipart/form-data POST through the app).
// A real local SeaweedFS; the app in a child process on 127.0.0.1:0; every body written from one reused
// random 1 MiB buffer with backpressure (bench/support/transfer.js), so the client costs the same for all.
//
// Printed as ratios of median MB/s in one run: multipart/put and multipart/route, with the 95% interval of
// the paired per-round ratios (info only: on a shared 2-core machine the local S3 server is the bottleneck
// of every side). The app's CPU ms per GiB for each variant and its RSS growth (peak over a gc'd baseline,
// sampled every 20 ms) while it only signs the multipart upload show what the app pays when bytes bypass it.
//
// Env knobs: BENCH_MULTIPART_MIB (1024), BENCH_MULTIPART_PART_MIB (16), BENCH_MULTIPART_PARALLEL (6),
// BENCH_MULTIPART_ROUNDS (else BENCH_ROUNDS, else 3).
import { fileURLToPath } from 'node:url'
import { ask, startChild, stopChild } from './support/child.js'
import { CpuTally, cpuNow, s3ServerPid } from './support/cpu.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, mbPerSecond, postFile, putObject } from './support/transfer.js'

const SIZE_MIB = Number(process.env.BENCH_MULTIPART_MIB ?? 1024)
const PART_MIB = Number(process.env.BENCH_MULTIPART_PART_MIB ?? 16)
const PARALLEL = Number(process.env.BENCH_MULTIPART_PARALLEL ?? 6)
const ROUNDS = Number(process.env.BENCH_MULTIPART_ROUNDS ?? process.env.BENCH_ROUNDS ?? 3)

const BUCKET = 'bench'
const STREAM_NS = 'stream'
const PRESIGN_NS = 'direct'
const FOLDER = 'mp/'
const SIZE = SIZE_MIB * MiB
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))

/** The page's JSON calls to the app (X-Requested-With + Accept, as CONTRACTS.md says). */
async function call (url, init = {}) {
  const res = await fetch(url, { ...init, headers: { 'x-requested-with': 'bench', accept: 'application/json', 'content-type': 'application/json', ...init.headers } })
  const body = await res.text()
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${body.slice(0, 300)}`)
  return JSON.parse(body)
}

/** One file through the Companion routes, parts PUT straight to S3, `PARALLEL` at a time. */
async function multipartUpload (nsUrl, path, size) {
  const start = performance.now()
  const { key, uploadId } = await call(`${nsUrl}/s3/multipart`, { method: 'POST', body: JSON.stringify({ filename: path, type: 'application/octet-stream', metadata: {}, size }) })
  const id = encodeURIComponent(uploadId)
  const q = `key=${encodeURIComponent(key)}`
  const count = Math.ceil(size / (PART_MIB * MiB))
  const numbers = Array.from({ length: count }, (_, i) => i + 1)
  const urls = {}
  for (let i = 0; i < count; i += 1000) {
    Object.assign(urls, (await call(`${nsUrl}/s3/multipart/${id}/batch?${q}&partNumbers=${numbers.slice(i, i + 1000).join(',')}`)).presignedUrls)
  }
  const queue = [...numbers]
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      await putObject(urls[n], Math.min(PART_MIB * MiB, size - (n - 1) * PART_MIB * MiB))
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker))
  // The ETags as S3 lists them (what a resumed upload does too).
  const parts = (await call(`${nsUrl}/s3/multipart/${id}?${q}`)).map(({ PartNumber, ETag }) => ({ PartNumber, ETag }))
  await call(`${nsUrl}/s3/multipart/${id}/complete?${q}`, { method: 'POST', body: JSON.stringify({ parts }) })
  return { ms: performance.now() - start }
}

async function main () {
  let s3
  let app
  let server
  try {
    s3 = await startBenchS3([BUCKET])
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()
    const browse = {
      namespaces: {
        [STREAM_NS]: { basePath: '' },
        [PRESIGN_NS]: { basePath: '', uploadMode: 'presign', maxUploadBytes: 64 * 1024 ** 3 }
      }
    }
    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, browse))], { execArgv: ['--expose-gc'] })

    let n = 0
    const rssGrowth = []
    const variants = {
      multipart: async () => {
        const key = `${FOLDER}multipart-${++n}.bin`
        const { ms } = await multipartUpload(`${server.origin}/${PRESIGN_NS}`, key, SIZE)
        return { ms, key }
      },
      put: async () => {
        const key = `${FOLDER}put-${++n}.bin`
        const { ms } = await putObject(await ops.getUploadLink(key, 10), SIZE)
        return { ms, key }
      },
      route: async () => {
        const name = `route-${++n}.bin`
        const { ms } = await postFile(`${server.origin}/${STREAM_NS}/files/${FOLDER}`, name, SIZE)
        return { ms, key: FOLDER + name }
      }
    }
    const s3Pid = s3ServerPid(s3)
    const cpu = new CpuTally(Object.keys(variants))
    const run = async (v) => {
      // The RSS sampler starts (after its gc) and stops outside the CPU window.
      if (v === 'multipart') await ask(server, 'memory-start')
      const before = await cpuNow(server, s3Pid)
      const { ms, key } = await variants[v]()
      const after = await cpuNow(server, s3Pid)
      cpu.add(v, before, after, SIZE)
      if (v === 'multipart') {
        const memory = await ask(server, 'memory-stop')
        rssGrowth.push((memory.peak.rss - memory.baseline.rss) / MiB)
      }
      const info = await ops.head(key)
      if (info.size !== SIZE) throw new Error(`${key}: stored ${info.size} bytes, sent ${SIZE}`)
      await ops.deleteFile(key)
      return mbPerSecond(SIZE, ms)
    }

    const names = Object.keys(variants)
    console.log(`multipart: ${SIZE_MIB} MiB file (${PART_MIB} MiB parts, ${PARALLEL} in parallel), ${ROUNDS} rounds x ${names.length} variants`)
    const rates = Object.fromEntries(names.map((v) => [v, []]))
    const vsPut = []
    const vsRoute = []
    for (const [i, order] of rotations(names, ROUNDS).entries()) {
      const row = {}
      for (const v of order) {
        row[v] = await run(v)
        rates[v].push(row[v])
      }
      vsPut.push(row.multipart / row.put)
      vsRoute.push(row.multipart / row.route)
      console.log(`  round ${i + 1}: multipart ${Math.round(row.multipart)} MB/s, put ${Math.round(row.put)} MB/s, route ${Math.round(row.route)} MB/s`)
    }

    const med = Object.fromEntries(names.map((v) => [v, median(rates[v])]))
    const medians = Object.fromEntries(names.map((v) => [v, Math.round(med[v])]))
    const cpuMsPerGiB = cpu.medians(median)
    const rssMiB = Math.round(median(rssGrowth))
    for (const line of cpu.lines(median)) console.log(`  ${line}`)
    console.log(`  app RSS growth while it only signs: median ${rssMiB} MiB (${rssGrowth.map((r) => Math.round(r)).join(', ')})`)
    for (const [name, other, perRound] of [['multipart-vs-put', 'put', vsPut], ['multipart-vs-route', 'route', vsRoute]]) {
      const ci = pairedInterval(perRound)
      console.log(`  multipart/${other} ${round(med.multipart / med[other])}; per round ${perRound.map((r) => round(r)).join(', ')}; 95% CI ${round(ci.low)}-${round(ci.high)}`)
      printResult({
        name,
        description: `${SIZE_MIB} MiB: browser-style multipart straight to S3 (${PART_MIB} MiB parts x ${PARALLEL}) / ${other === 'put' ? 'one presigned PUT' : 'the stream route (POST through the app)'}, MB/s`,
        ratio: round(med.multipart / med[other]),
        target: null,
        medians,
        ci: [round(ci.low), round(ci.high)],
        perRound: perRound.map((r) => round(r)),
        cpuMsPerGiB,
        appRssGrowthMiB: rssMiB,
        unit: 'MB/s',
        rounds: ROUNDS,
        sizeMiB: SIZE_MIB
      })
    }
  } finally {
    await stopChild(server)
    await app?.close()
    await s3?.stop()
  }
}

await main()
