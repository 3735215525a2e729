// Proxy download throughput: MB/s of `GET /<ns>/files/<key>` through the app (the browse route streams the
// S3 object to the client) against the same object fetched straight from the S3 server with a presigned
// GET URL. A real local SeaweedFS holds the object; the app runs in a child process listening on
// 127.0.0.1:0; the client here reads with node:http and throws the bytes away, the same way on both sides.
//
// The two sides take turns, round after round (rotated order), after one warm-up download each; the ratio
// is app/direct of the median MB/s, with the 95% interval of the paired per-round ratios. On a 2-core
// machine S3 server, app and client compete for the cores: the proxy's extra copy is not free here, so
// the ratio is a lower bound of what a machine with spare cores would show.
//
// Env knobs: BENCH_DOWNLOAD_MIB (512), BENCH_DOWNLOAD_ROUNDS (else BENCH_ROUNDS, else 6).
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import s3Storage from '../dist/index.js'
import { startChild, stopChild } from './support/child.js'
import { startBenchS3, s3PluginOptions } from './support/local-s3.js'
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
    const options = s3PluginOptions(s3, BUCKET)
    app = Fastify({ logger: false })
    await app.register(s3Storage, options)
    await app.ready()
    const ops = app.storage.operations()

    const put = await putObject(await ops.getUploadLink(KEY, 60), SIZE)
    console.log(`  stored ${SIZE_MIB} MiB in ${Math.round(put.ms)} ms (${Math.round(mbPerSecond(SIZE, put.ms))} MB/s, presigned PUT)`)

    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: {} } }))])
    const urls = {
      app: `${server.origin}/${NAMESPACE}/files/${KEY}`,
      direct: await ops.getDownloadLink(KEY, 60)
    }
    const variants = Object.keys(urls)

    console.log(`download: ${SIZE_MIB} MiB object, ${ROUNDS} rounds x ${variants.length} variants after one warm-up download each`)
    for (const v of variants) {
      const { ms } = await download(urls[v], SIZE)
      console.log(`  warm-up ${v.padEnd(6)} ${Math.round(mbPerSecond(SIZE, ms)).toString().padStart(5)} MB/s`)
    }
    const rates = Object.fromEntries(variants.map((v) => [v, []]))
    const perRound = []
    for (const [i, order] of rotations(variants, ROUNDS).entries()) {
      const row = {}
      for (const v of order) {
        const { ms } = await download(urls[v], SIZE)
        row[v] = mbPerSecond(SIZE, ms)
        rates[v].push(row[v])
      }
      perRound.push(row.app / row.direct)
      console.log(`  round ${i + 1}: app ${Math.round(row.app)} MB/s, direct ${Math.round(row.direct)} MB/s, app/direct ${round(row.app / row.direct)}`)
    }

    const med = { app: median(rates.app), direct: median(rates.direct) }
    const ratio = med.app / med.direct
    const ci = pairedInterval(perRound)
    console.log(`  median MB/s: app ${Math.round(med.app)}, direct ${Math.round(med.direct)}; app/direct ${round(ratio)}, target >= ${TARGET}`)
    console.log(`  per round ${perRound.map((r) => round(r)).join(', ')}; 95% CI ${round(ci.low)}-${round(ci.high)}`)
    printResult({
      name: 'download',
      description: `GET through the browse route / presigned GET straight from S3, ${SIZE_MIB} MiB, MB/s`,
      ratio: round(ratio),
      target: TARGET,
      medians: { app: Math.round(med.app), direct: Math.round(med.direct) },
      ci: [round(ci.low), round(ci.high)],
      perRound: perRound.map((r) => round(r)),
      unit: 'MB/s',
      rounds: ROUNDS,
      sizeMiB: SIZE_MIB
    })
  } finally {
    await stopChild(server)
    await app?.close()
    await s3?.stop()
  }
}

await main()
