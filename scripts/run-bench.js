// Runs the benchmarks in bench/ (all, or those named: `npm run bench -- overhead presign`), collects each
// one's `RESULT {...}` lines, prints a summary table and writes bench/RESULTS.md.
// Benchmarks report ratios measured side by side; the exit code never depends on the numbers, only on
// whether the build and every benchmark ran.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const benchDir = join(root, 'bench')

function newestMtime (path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = 0
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

// Benchmarks import the built plugin: rebuild when dist/ is missing or older than its sources.
function buildIfStale () {
  const built = join(root, 'dist', 'index.js')
  const sources = [join(root, 'src'), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')]
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newestMtime))) return
  console.log('building: tsc -p tsconfig.build.json')
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error('build failed: not running the benchmarks against a stale dist/')
    process.exit(1)
  }
}

function listBenchmarks () {
  return readdirSync(benchDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort()
}

function selectBenchmarks (args) {
  const all = listBenchmarks()
  if (args.length === 0) return all
  const wanted = args.map((a) => a.replace(/^bench\//, '').replace(/\.js$/, ''))
  const unknown = wanted.filter((name) => !all.includes(name))
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`)
    process.exit(1)
  }
  return wanted
}

// Runs one benchmark file, passing its output through, and resolves with its RESULT objects.
function runBenchmark (name) {
  return new Promise((resolve) => {
    const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env }
    const child = spawn(process.execPath, [join(benchDir, `${name}.js`)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
    const results = []
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      console.log(line)
      if (!line.startsWith('RESULT ')) return
      try {
        results.push(JSON.parse(line.slice('RESULT '.length)))
      } catch {
        console.error(`${name}: unreadable RESULT line`)
      }
    })
    child.on('close', (code) => resolve({ name, code, results }))
  })
}

function verdict (result) {
  if (typeof result.ratio !== 'number') return 'no result'
  if (result.target === null || result.target === undefined) return 'info'
  if (result.ratio >= result.target) return 'met'
  // Below target, but the machine's noise (the paired rounds' 95% interval) reaches the target.
  if (Array.isArray(result.ci) && result.ci[1] >= result.target) return 'not met (within noise)'
  return 'not met'
}

function machine (loadAtStart) {
  const loadAtEnd = os.loadavg()
  const cpus = os.cpus()
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    load: loadAtStart.map((l) => l.toFixed(2)).join(' '),
    loadAtEnd: loadAtEnd.map((l) => l.toFixed(2)).join(' ')
  }
}

function rows (outcomes) {
  const out = []
  for (const { name, code, results } of outcomes) {
    if (results.length === 0) {
      out.push({ benchmark: name, ratio: '-', target: '-', ci: '-', result: `failed (exit ${code})`, measured: '' })
      continue
    }
    for (const r of results) {
      out.push({
        benchmark: r.name,
        ratio: String(r.ratio),
        target: r.target === null || r.target === undefined ? '-' : `>= ${r.target}`,
        ci: Array.isArray(r.ci) && r.ci[0] !== null ? `${r.ci[0]}-${r.ci[1]}` : '-',
        result: verdict(r),
        measured: r.medians === undefined ? '' : Object.entries(r.medians).map(([k, v]) => `${k} ${v}`).join(' / ') + (r.unit ? ` ${r.unit}` : '')
      })
    }
  }
  return out
}

const COLUMNS = [['benchmark', 'benchmark'], ['ratio', 'ratio'], ['target', 'target'], ['ci', '95% CI (paired)'], ['result', 'result'], ['measured', 'medians']]

function textTable (table) {
  const widths = COLUMNS.map(([key, title]) => Math.max(title.length, ...table.map((row) => row[key].length)))
  const line = (cells) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()
  return [line(COLUMNS.map(([, title]) => title)), line(widths.map((w) => '-'.repeat(w))), ...table.map((row) => line(COLUMNS.map(([key]) => row[key])))].join('\n')
}

function markdownTable (table) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(COLUMNS.map(([, title]) => title)), line(COLUMNS.map(() => '---')), ...table.map((row) => line(COLUMNS.map(([key]) => row[key] || ' ')))].join('\n')
}

function writeReport (table, info, selected, all, seconds) {
  const subset = selected.length === all.length ? '' : `\nOnly ${selected.join(', ')} ran this time (\`npm run bench -- ${selected.join(' ')}\`).\n`
  const text = `# Benchmark results

Written by \`npm run bench\` (scripts/run-bench.js); rerunning it replaces this file.

Every figure is a **ratio** of two variants measured side by side in the same run, taking turns, so that
drift on the machine hits both. Absolute rates depend on the machine and are shown only as context.
"met" compares the ratio with its target; "not met (within noise)" means the ratio is below the target but
the 95% interval of the paired per-round ratios still reaches it, i.e. this run cannot tell the difference
from noise. Benchmarks never fail the build.

Date: ${new Date().toISOString()} (whole run ${Math.round(seconds)} s)
${subset}
${markdownTable(table)}

## Machine

- OS: ${info.os}
- CPUs: ${info.cpus}
- Memory: ${info.memory}
- Node: ${info.node}
- Load average (1/5/15 min): ${info.load} at start, ${info.loadAtEnd} at the end. On this many cores the
  benchmarks alone keep about 1-2 busy; more than that means other processes competed with them.

## Benchmarks

- **overhead** (bench/overhead.js): requests/s of \`GET /\` → \`{ hello: 'world' }\` with the plugin registered
  (route does not touch \`req.storage\`) / bare Fastify. Each server in its own child process, autocannon
  (50 connections) in the parent; by default 7 rounds of 0.5 s warm-up + 2 s per variant,
  rotated order.
- **overhead-req-storage**: same, the route reads \`req.storage.profile\` (builds the lazy per-request
  StorageOperations) / bare Fastify. Informational.
- **presign** (bench/presign.js): presigned GET links per second, \`StorageOperations.getDownloadLink(key, 60)\`
  / raw \`getSignedUrl(client, new GetObjectCommand(...), { expiresIn: 3600 })\` on one reused S3Client with
  the same settings (both produce the same URL up to date and signature); by default 40 alternating rounds
  of 250 ms.
- **presign-interleaved**: the same two calls alternated one by one, each timed (time raw / time plugin,
  per batch of 100 pairs). Slow drift cancels out, so its interval is the tighter one. Informational.

## Reproduce

\`\`\`sh
npm ci
npm run bench                 # builds dist/ when stale, runs every benchmark (about 1.5 minutes)
npm run bench -- overhead     # only some: names of files in bench/
npm run bench -- presign
\`\`\`

Run on an otherwise idle machine: other processes (a test suite, a local S3) widen the intervals.
`
  const file = join(benchDir, 'RESULTS.md')
  writeFileSync(file, text)
  console.log(`wrote ${relative(root, file)}`)
}

async function main () {
  const started = Date.now()
  const loadAtStart = os.loadavg()
  const all = listBenchmarks()
  const selected = selectBenchmarks(process.argv.slice(2))
  buildIfStale()
  const outcomes = []
  for (const name of selected) {
    console.log(`\n== ${name}`)
    outcomes.push(await runBenchmark(name))
  }
  const table = rows(outcomes)
  const info = machine(loadAtStart)
  console.log(`\n${textTable(table)}\n`)
  console.log(`machine: ${info.os}; ${info.cpus}; ${info.memory}; node ${info.node}; load ${info.load} at start, ${info.loadAtEnd} at end`)
  writeReport(table, info, selected, all, (Date.now() - started) / 1000)
  const broken = outcomes.filter((o) => o.code !== 0 || o.results.length === 0)
  if (broken.length > 0) {
    console.error(`did not complete: ${broken.map((o) => o.name).join(', ')}`)
    process.exitCode = 1
  }
}

await main()
