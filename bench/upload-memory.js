// Memory of the app while it streams a large upload into S3: peak RSS growth of the SERVER process while
// 1 GiB is posted to the browse route (`POST /<ns>/files/<folder>/`, multipart, one file). The server runs
// in a child process started with --expose-gc and samples its own process.memoryUsage() every 20 ms; the
// client here writes the body from one reused random 1 MiB buffer. A real local SeaweedFS.
//
// Each round uses a fresh server process: a small warm-up upload (so code, sockets and the SDK's lazily
// loaded parts are in place), then global.gc() a few times and the baseline RSS, then the big upload; the
// growth is the highest sampled RSS minus that baseline. A fresh process per round keeps one round's
// freed-but-retained memory from lowering the next one's growth. The figure is the WORST round (memory is
// a ceiling, not an average); ratio = growth / 64 MiB, target growth <= 64 MiB (ratio <= 1).
//
// The plugin streams with lib-storage, which holds queueSize x partSize = 4 x 8 MiB = 32 MiB of parts in
// flight by design. On top of that (measured with forced GCs while profiling this bench): lib-storage's
// part builder keeps the raw chunks of the part it just handed out (one more partSize) and copies the next
// part out of its chunks (up to one more), so about 40-48 MiB of Buffers are live; dead part Buffers then
// wait for a major GC (V8 collects external memory lazily) and malloc keeps some freed memory. The lines
// "peak" (the sample of highest RSS) and "highest" (each field's own maximum) show heap vs Buffers.
//
// Env knobs: BENCH_MEMORY_MIB (1024), BENCH_MEMORY_ROUNDS (3), BENCH_MEMORY_WARMUP_MIB (16),
// BENCH_MEMORY_SAMPLE_MS (20), BENCH_MEMORY_TARGET_MIB (64).
import { fileURLToPath } from 'node:url'
import { ask, startChild, stopChild } from './support/child.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, printResult, round } from './support/stats.js'
import { MiB, mbPerSecond, postFile } from './support/transfer.js'

const SIZE_MIB = Number(process.env.BENCH_MEMORY_MIB ?? 1024)
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 3)
const WARMUP_MIB = Number(process.env.BENCH_MEMORY_WARMUP_MIB ?? 16)
const TARGET_MIB = Number(process.env.BENCH_MEMORY_TARGET_MIB ?? 64)

const BUCKET = 'bench'
const NAMESPACE = 'bench'
const FOLDER = 'memory/'
const SIZE = SIZE_MIB * MiB
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))

const mib = (bytes) => bytes / MiB
const show = (usage) => `rss ${mib(usage.rss).toFixed(1)}, heapUsed ${mib(usage.heapUsed).toFixed(1)}, external ${mib(usage.external).toFixed(1)} (arrayBuffers ${mib(usage.arrayBuffers).toFixed(1)}) MiB`

async function oneRound (i, s3, ops) {
  const options = s3PluginOptions(s3, BUCKET, { namespaces: { [NAMESPACE]: { overwrite: true } } })
  const server = await startChild(serverPath, [JSON.stringify(options)], { execArgv: ['--expose-gc'] })
  try {
    const folderUrl = `${server.origin}/${NAMESPACE}/files/${FOLDER}`
    await postFile(folderUrl, 'warm-up.bin', WARMUP_MIB * MiB)
    const { baseline } = await ask(server, 'memory-start')
    const { ms } = await postFile(folderUrl, `round-${i}.bin`, SIZE)
    const { peak, highest, end, afterGc, samples } = await ask(server, 'memory-stop')
    const stored = await ops.head(`${FOLDER}round-${i}.bin`)
    if (stored.size !== SIZE) throw new Error(`stored ${stored.size} bytes, sent ${SIZE}`)
    await ops.deleteFiles([`${FOLDER}round-${i}.bin`, `${FOLDER}warm-up.bin`])
    const growth = mib(peak.rss - baseline.rss)
    console.log(`  round ${i}: growth ${growth.toFixed(1)} MiB at ${Math.round(mbPerSecond(SIZE, ms))} MB/s (${samples} samples)`)
    console.log(`    baseline ${show(baseline)}`)
    console.log(`    peak     ${show(peak)}`)
    console.log(`    highest  ${show(highest)} (each field's own maximum)`)
    console.log(`    end      ${show(end)}; after gc rss ${mib(afterGc.rss).toFixed(1)} MiB`)
    return { growth, baseline: mib(baseline.rss), peak, highest, mbps: mbPerSecond(SIZE, ms) }
  } finally {
    await stopChild(server)
  }
}

async function main () {
  let s3
  let app
  try {
    s3 = await startBenchS3([BUCKET])
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()

    console.log(`upload-memory: ${SIZE_MIB} MiB through the route, ${ROUNDS} rounds, each in a fresh server after a ${WARMUP_MIB} MiB warm-up`)
    const rounds = []
    for (let i = 1; i <= ROUNDS; i++) rounds.push(await oneRound(i, s3, ops))

    const growths = rounds.map((r) => r.growth)
    const worst = Math.max(...growths)
    const met = worst <= TARGET_MIB
    console.log(`  growth per round ${growths.map((g) => g.toFixed(1)).join(', ')} MiB; worst ${worst.toFixed(1)}, median ${median(growths).toFixed(1)}; target <= ${TARGET_MIB} MiB: ${met ? 'met' : 'NOT met'}`)
    printResult({
      name: 'upload-memory',
      description: `peak RSS growth of the app process while ${SIZE_MIB} MiB go through the upload route (worst of ${ROUNDS} rounds) / ${TARGET_MIB} MiB`,
      ratio: round(worst / TARGET_MIB),
      target: `<= ${TARGET_MIB} MiB`,
      met,
      better: 'lower',
      range: [round(Math.min(...growths) / TARGET_MIB), round(worst / TARGET_MIB)],
      medians: { growth: round(median(growths), 1), worst: round(worst, 1), baseline: round(median(rounds.map((r) => r.baseline)), 1) },
      unit: 'MiB',
      perRound: growths.map((g) => round(g, 1)),
      peakBreakdownMiB: rounds.map(({ peak }) => ({ rss: round(mib(peak.rss), 1), heapUsed: round(mib(peak.heapUsed), 1), external: round(mib(peak.external), 1), arrayBuffers: round(mib(peak.arrayBuffers), 1) })),
      uploadMBps: rounds.map((r) => Math.round(r.mbps)),
      rounds: ROUNDS,
      sizeMiB: SIZE_MIB
    })
  } finally {
    await app?.close()
    await s3?.stop()
  }
}

await main()
