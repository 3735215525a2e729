// Plugin overhead: requests/s of `GET /` → { hello: 'world' } on bare Fastify vs the same app with the
// plugin registered (route never touches req.storage), plus an informational third variant whose route
// reads `req.storage.profile`, i.e. builds the lazy per-request StorageOperations.
//
// Each server runs in its own child process; autocannon runs here. The variants take turns, round after
// round, in a rotated order, so drift on a small machine hits all of them; the ratios are of medians.
// Several short rounds rather than three long ones: on a shared 2-core machine the rate swings by a factor
// of two over seconds, and more pairs give the median (and the 95% interval) something to work with.
//
// Env knobs: BENCH_ROUNDS (7), BENCH_DURATION (2 s), BENCH_WARMUP (0.5 s), BENCH_CONNECTIONS (50).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { load } from './support/load.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0.5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const TARGET = 0.97

const VARIANTS = ['bare', 'plugin', 'req-storage']
const serverPath = fileURLToPath(new URL('./support/server.js', import.meta.url))

async function startServer (variant) {
  const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env }
  const child = fork(serverPath, [variant], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => { throw new Error(`server "${variant}" exited with code ${code} before listening`) })
  ])
  return { variant, child, url: `http://127.0.0.1:${message.port}/` }
}

async function stopServer ({ child }) {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.send('close')
  const timer = setTimeout(() => child.kill(), 5000)
  await exited
  clearTimeout(timer)
}

async function main () {
  const servers = {}
  try {
    for (const variant of VARIANTS) servers[variant] = await startServer(variant)
    // Same answer from every variant, so they are measuring the same work.
    for (const { variant, url } of Object.values(servers)) {
      const body = await (await fetch(url)).text()
      if (body !== '{"hello":"world"}') throw new Error(`server "${variant}" answered ${body}`)
    }

    console.log(`overhead: ${ROUNDS} rounds x ${VARIANTS.length} variants, ${WARMUP}s warm-up + ${DURATION}s each, ${CONNECTIONS} connections`)
    const rps = Object.fromEntries(VARIANTS.map((v) => [v, []]))
    const perRound = []
    for (const [i, order] of rotations(VARIANTS, ROUNDS).entries()) {
      const row = {}
      for (const variant of order) {
        if (WARMUP > 0) await load(servers[variant].url, WARMUP, CONNECTIONS)
        const { rps: value, p99 } = await load(servers[variant].url, DURATION, CONNECTIONS)
        rps[variant].push(value)
        row[variant] = value
        console.log(`  round ${i + 1} ${variant.padEnd(11)} ${Math.round(value).toString().padStart(7)} req/s  p99 ${p99} ms`)
      }
      perRound.push(row)
    }

    const med = Object.fromEntries(VARIANTS.map((v) => [v, median(rps[v])]))
    const ratio = med.plugin / med.bare
    const storageRatio = med['req-storage'] / med.bare
    const roundRatios = (v) => perRound.map((row) => row[v] / row.bare)
    const ci = { plugin: pairedInterval(roundRatios('plugin')), 'req-storage': pairedInterval(roundRatios('req-storage')) }
    const show = (v) => `per round ${roundRatios(v).map((r) => round(r)).join(', ')}; 95% CI ${round(ci[v].low)}-${round(ci[v].high)}`
    console.log(`  median req/s: ${VARIANTS.map((v) => `${v} ${Math.round(med[v])}`).join(', ')}`)
    console.log(`  plugin/bare ${round(ratio)} (${show('plugin')}), target >= ${TARGET}`)
    console.log(`  req-storage/bare ${round(storageRatio)} (${show('req-storage')}), informational`)

    const common = { unit: 'req/s', rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS }
    printResult({
      name: 'overhead',
      description: 'plugin registered / bare Fastify, trivial route',
      ratio: round(ratio),
      target: TARGET,
      medians: { plugin: Math.round(med.plugin), bare: Math.round(med.bare) },
      ci: [round(ci.plugin.low), round(ci.plugin.high)],
      perRound: roundRatios('plugin').map((r) => round(r)),
      ...common
    })
    printResult({
      name: 'overhead-req-storage',
      description: 'route reads req.storage.profile / bare Fastify',
      ratio: round(storageRatio),
      target: null,
      medians: { 'req-storage': Math.round(med['req-storage']), bare: Math.round(med.bare) },
      ci: [round(ci['req-storage'].low), round(ci['req-storage'].high)],
      perRound: roundRatios('req-storage').map((r) => round(r)),
      ...common
    })
  } finally {
    await Promise.all(Object.values(servers).map(stopServer))
  }
}

await main()
