// Proxy download throughput: MB/s of `GET /<ns>/files/<key>` through the app (the browse route streams the
// S3 object to the client) against the same object fetched straight from the S3 server with a presigned
// GET URL. A real local SeaweedFS holds the object; the app runs in a child process listening on
// 127.0.0.1:0; the client here reads with node:http and throws the bytes away, the same way every time.
//
// A third, informational variant, `pipe`, fetches the presigned URL through a plain node:http proxy in the
// same server process (no Fastify reply, no SDK): the cost of the extra hop itself. route/pipe is what the
// plugin adds on top of any proxy; pipe/direct is what proxying costs on this machine. CPU time of the
// client, the app process and the S3 server is measured per variant (Linux), because on a 2-core machine
// the three compete for the cores and the extra copy through the app is not free.
//
// The variants take turns, round after round (rotated order), after one warm-up download each; ratios are
// of the median MB/s, with the 95% interval of the paired per-round ratios.
//
// Env knobs: BENCH_DOWNLOAD_MIB (512), BENCH_DOWNLOAD_ROUNDS (else BENCH_ROUNDS, else 6).
import { fileURLToPath } from 'node:url'
import { startChild, stopChild } from './support/child.js'
import { CpuTally, cpuNow, s3ServerPid } from './support/cpu.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, download, mbPerSecond, putObject } from './support/transfer.js'

const SIZE_MIB = Number(process.env.BENCH_DOWNLOAD_MIB ?? 512)
const ROUNDS = Number(process.env.BENCH_DOWNLOAD_ROUNDS ?? process.env.BENCH_ROUNDS ?? 6)
const TARGET = 0.9

const BUCKET = 'bench'
const NAMESPACE = 'bench'
const KEY = 'download/object.bin'
const SIZE = SIZE_MIB * MiB
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))

async function main () {
  let s3
  let app
  let server
  try {
    s3 = await startBenchS3([BUCKET])
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()

    const put = await putObject(await ops.getUploadLink(KEY, 60), SIZE)
    console.log(`  stored ${SIZE_MIB} MiB in ${Math.round(put.ms)} ms (${Math.round(mbPerSecond(SIZE, put.ms))} MB/s, presigned PUT)`)

    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: {} } })), 'pipe'])
    const signed = await ops.getDownloadLink(KEY, 60)
    const urls = {
      route: `${server.origin}/${NAMESPACE}/files/${KEY}`,
      direct: signed,
      pipe: `${server.origin}/_bench/pipe?url=${encodeURIComponent(signed)}`
    }
    const variants = Object.keys(urls)
    const s3Pid = s3ServerPid(s3)

    console.log(`download: ${SIZE_MIB} MiB object, ${ROUNDS} rounds x ${variants.length} variants after one warm-up download each`)
    for (const v of variants) {
      const { ms } = await download(urls[v], SIZE)
      console.log(`  warm-up ${v.padEnd(6)} ${Math.round(mbPerSecond(SIZE, ms)).toString().padStart(5)} MB/s`)
    }
    const rates = Object.fromEntries(variants.map((v) => [v, []]))
    const cpu = new CpuTally(variants)
    const perRound = { route: [], pipe: [], routeVsPipe: [] }
    for (const [i, order] of rotations(variants, ROUNDS).entries()) {
      const row = {}
      for (const v of order) {
        const before = await cpuNow(server, s3Pid)
        const { ms } = await download(urls[v], SIZE)
        const after = await cpuNow(server, s3Pid)
        row[v] = mbPerSecond(SIZE, ms)
        rates[v].push(row[v])
        cpu.add(v, before, after, SIZE)
      }
      perRound.route.push(row.route / row.direct)
      perRound.pipe.push(row.pipe / row.direct)
      perRound.routeVsPipe.push(row.route / row.pipe)
      console.log(`  round ${i + 1}: ${variants.map((v) => `${v} ${Math.round(row[v])}`).join(', ')} MB/s; route/direct ${round(row.route / row.direct)}`)
    }

    const med = Object.fromEntries(variants.map((v) => [v, median(rates[v])]))
    const ci = Object.fromEntries(Object.entries(perRound).map(([k, list]) => [k, pairedInterval(list)]))
    const ratio = med.route / med.direct
    console.log(`  median MB/s: ${variants.map((v) => `${v} ${Math.round(med[v])}`).join(', ')}`)
    console.log(`  route/direct ${round(ratio)}, target >= ${TARGET}; per round ${perRound.route.map((r) => round(r)).join(', ')}; 95% CI ${round(ci.route.low)}-${round(ci.route.high)}`)
    console.log(`  pipe/direct ${round(med.pipe / med.direct)} (95% CI ${round(ci.pipe.low)}-${round(ci.pipe.high)}): the hop alone; route/pipe ${round(med.route / med.pipe)} (95% CI ${round(ci.routeVsPipe.low)}-${round(ci.routeVsPipe.high)}): the plugin on top`)
    for (const line of cpu.lines(median)) console.log(`  ${line}`)

    const common = { unit: 'MB/s', rounds: ROUNDS, sizeMiB: SIZE_MIB }
    printResult({
      name: 'download',
      description: `GET through the browse route / presigned GET straight from S3, ${SIZE_MIB} MiB, MB/s`,
      ratio: round(ratio),
      target: TARGET,
      medians: { route: Math.round(med.route), direct: Math.round(med.direct) },
      ci: [round(ci.route.low), round(ci.route.high)],
      perRound: perRound.route.map((r) => round(r)),
      cpuMsPerGiB: cpu.medians(median),
      ...common
    })
    printResult({
      name: 'download-route-vs-pipe',
      description: 'GET through the browse route / a plain node:http proxy in the same process (what the plugin adds to the hop)',
      ratio: round(med.route / med.pipe),
      target: null,
      medians: { route: Math.round(med.route), pipe: Math.round(med.pipe) },
      ci: [round(ci.routeVsPipe.low), round(ci.routeVsPipe.high)],
      perRound: perRound.routeVsPipe.map((r) => round(r)),
      pipeVsDirect: round(med.pipe / med.direct),
      ...common
    })
  } finally {
    await stopChild(server)
    await app?.close()
    await s3?.stop()
  }
}

await main()
