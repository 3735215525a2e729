// Upload throughput through the app: a multipart POST of one file to the browse route (`POST
// /<ns>/files/<folder>/`, streamed by the plugin into S3 with a multipart upload) against a presigned PUT of
// the same bytes straight to S3 (`getUploadLink(name, 10)`, one request with Content-Length). A real local
// SeaweedFS; the app in a child process on 127.0.0.1:0; the client here writes both bodies from one reused
// random 1 MiB buffer with backpressure, with node:http.
//
// Time runs from the request to the end of the answer (the route answers after CompleteMultipartUpload,
// the PUT after S3 stored the object). Each round uploads new names and deletes them afterwards. The sides
// take turns (rotated order) after one warm-up upload each; the ratio is route/direct of the median MB/s,
// with the 95% interval of the paired per-round ratios. CPU milliseconds per GiB of the client, the app
// process and the S3 server are printed per variant (Linux): on a 2-core machine the app's share (multipart
// parsing, part buffers and their garbage collection, SigV4 hashing of every part) is taken from the S3
// server, which is itself the bottleneck of both sides.
//
// Env knobs: BENCH_UPLOAD_MIB (256), BENCH_UPLOAD_ROUNDS (else BENCH_ROUNDS, else 6).
import { fileURLToPath } from 'node:url'
import { startChild, stopChild } from './support/child.js'
import { CpuTally, cpuNow, s3ServerPid } from './support/cpu.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, mbPerSecond, postFile, putObject } from './support/transfer.js'

const SIZE_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 256)
const ROUNDS = Number(process.env.BENCH_UPLOAD_ROUNDS ?? process.env.BENCH_ROUNDS ?? 6)
const TARGET = 0.8

const BUCKET = 'bench'
const NAMESPACE = 'bench'
const FOLDER = 'upload/'
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
    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: {} } }))])
    const folderUrl = `${server.origin}/${NAMESPACE}/files/${FOLDER}`

    let n = 0
    const variants = {
      route: async () => {
        const name = `route-${++n}.bin`
        const { ms } = await postFile(folderUrl, name, SIZE)
        return { ms, key: FOLDER + name }
      },
      direct: async () => {
        const key = `${FOLDER}direct-${++n}.bin`
        const { ms } = await putObject(await ops.getUploadLink(key, 10), SIZE)
        return { ms, key }
      }
    }
    const s3Pid = s3ServerPid(s3)
    const cpu = new CpuTally(Object.keys(variants))
    const run = async (v, measure = true) => {
      const before = await cpuNow(server, s3Pid)
      const { ms, key } = await variants[v]()
      const after = await cpuNow(server, s3Pid)
      if (measure) cpu.add(v, before, after, SIZE)
      const info = await ops.head(key)
      if (info.size !== SIZE) throw new Error(`${key}: stored ${info.size} bytes, sent ${SIZE}`)
      await ops.deleteFile(key)
      return mbPerSecond(SIZE, ms)
    }

    const names = Object.keys(variants)
    console.log(`upload: ${SIZE_MIB} MiB file, ${ROUNDS} rounds x ${names.length} variants after one warm-up upload each`)
    for (const v of names) console.log(`  warm-up ${v.padEnd(6)} ${Math.round(await run(v, false)).toString().padStart(5)} MB/s`)
    const rates = Object.fromEntries(names.map((v) => [v, []]))
    const perRound = []
    for (const [i, order] of rotations(names, ROUNDS).entries()) {
      const row = {}
      for (const v of order) {
        row[v] = await run(v)
        rates[v].push(row[v])
      }
      perRound.push(row.route / row.direct)
      console.log(`  round ${i + 1}: route ${Math.round(row.route)} MB/s, direct ${Math.round(row.direct)} MB/s, route/direct ${round(row.route / row.direct)}`)
    }

    const med = { route: median(rates.route), direct: median(rates.direct) }
    const ratio = med.route / med.direct
    const ci = pairedInterval(perRound)
    console.log(`  median MB/s: route ${Math.round(med.route)}, direct ${Math.round(med.direct)}; route/direct ${round(ratio)}, target >= ${TARGET}`)
    console.log(`  per round ${perRound.map((r) => round(r)).join(', ')}; geo-mean ${round(ci.geoMean)}, 95% CI ${round(ci.low)}-${round(ci.high)}`)
    for (const line of cpu.lines(median)) console.log(`  ${line}`)
    printResult({
      name: 'upload',
      description: `multipart POST through the browse route / presigned PUT straight to S3, ${SIZE_MIB} MiB, MB/s`,
      ratio: round(ratio),
      target: TARGET,
      medians: { route: Math.round(med.route), direct: Math.round(med.direct) },
      ci: [round(ci.low), round(ci.high)],
      perRound: perRound.map((r) => round(r)),
      cpuMsPerGiB: cpu.medians(median),
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
