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
  // A benchmark that judges itself (a ceiling such as "<= 64 MiB") says so with `met`.
  if (typeof result.met === 'boolean') return result.met ? 'met' : 'not met'
  if (result.ratio >= result.target) return 'met'
  // Below target, but the machine's noise (the paired rounds' 95% interval) reaches the target.
  if (Array.isArray(result.ci) && result.ci[1] >= result.target) return 'not met (within noise)'
  return 'not met'
}

function targetText (target) {
  if (target === null || target === undefined) return '-'
  return typeof target === 'number' ? `>= ${target}` : String(target)
}

// The paired 95% interval when there is one; else the range over rounds (min-max) some benchmarks give.
function spread (r) {
  if (Array.isArray(r.ci) && r.ci[0] !== null) return `${r.ci[0]}-${r.ci[1]}`
  if (Array.isArray(r.range)) return `${r.range[0]}-${r.range[1]} (range)`
  return '-'
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
        target: targetText(r.target),
        ci: spread(r),
        result: verdict(r),
        measured: r.medians === undefined ? '' : Object.entries(r.medians).map(([k, v]) => `${k} ${v}`).join(' / ') + (r.unit ? ` ${r.unit}` : '')
      })
    }
  }
  return out
}

const COLUMNS = [['benchmark', 'benchmark'], ['ratio', 'ratio'], ['target', 'target'], ['ci', '95% CI (paired) or range'], ['result', 'result'], ['measured', 'medians']]

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
drift on the machine hits both (upload-memory alone is a measured growth over a fixed ceiling, growth / 64
MiB, lower is better). Absolute rates depend on the machine and are shown only as context.
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

The I/O benchmarks below run against a real local SeaweedFS (\`startLocalS3\`, temporary data dir) with the
app in a child process on 127.0.0.1:0 and a node:http client in the parent. On a small machine the client,
the app and the S3 server share the cores, so anything the app does costs the other two CPU time; each
prints the CPU milliseconds per GiB of every process to show where it went.

- **download** (bench/download.js): MB/s of \`GET /<ns>/files/<key>\` through the app / the same object
  (\`BENCH_DOWNLOAD_MIB\`, 512 MiB) fetched straight from S3 with a presigned GET; by default 6 rounds,
  rotated order, after one warm-up download each.
- **download-route-vs-pipe**: the route / a plain node:http proxy of the presigned URL in the same server
  process (no Fastify reply, no SDK). Separates what the plugin adds from what any proxy hop costs
  (\`pipeVsDirect\` in the RESULT line). Informational.
- **upload** (bench/upload.js): MB/s of a multipart POST of one \`BENCH_UPLOAD_MIB\` (256 MiB) file to
  \`POST /<ns>/files/<folder>/\` / a presigned PUT of the same bytes straight to S3 (\`getUploadLink(name, 10)\`,
  Content-Length, \`content-type: application/octet-stream\`); time to the end of the answer; by default 6
  rounds after one warm-up upload each.
- **upload-memory** (bench/upload-memory.js): peak RSS growth of the app process while \`BENCH_MEMORY_MIB\`
  (1 GiB) goes through the upload route, sampled by the server itself every 20 ms against a baseline taken
  after a 16 MiB warm-up upload and \`global.gc()\` (\`--expose-gc\`); a fresh server per round, 3 rounds,
  the worst one counts. Ratio = growth / 64 MiB, target growth <= 64 MiB; "range" is min-max over rounds.
- **multipart-vs-put / multipart-vs-route** (bench/multipart.js): MB/s of a browser-style multipart upload of
  \`BENCH_MULTIPART_MIB\` (1 GiB) through a presign-mode namespace's Companion routes (parts signed in one batch,
  16 MiB parts PUT straight to S3, 6 in parallel, then list and complete) / one presigned PUT of the same bytes,
  and / the stream route (a POST through the app); info only. Also the app's CPU ms per GiB per variant and its
  RSS growth while it only signs.
- **listing** (bench/listing.js): requests/s of \`GET /<ns>/files/big/?format=json\` (first page, 100 of
  \`BENCH_LISTING_KEYS\`, 10,000 keys) on a namespace with \`cache: { ttlSeconds: 60 }\` (warm) / one on the
  same basePath without cache (cold: one ListObjectsV2 per request); autocannon, 4 connections, 4 rounds of
  0.5 s warm-up + 3 s. Informational.
- **listing-walk**: one walk of all the folder's cursor pages (100 pages), time cold / time warm (the warm
  namespace's cache filled by a first walk, \`fill\`); 3 walks each, "range" is min-max of the per-walk
  ratios. Informational.

## Why a target is missed (profiled)

- **download** (target 0.90): the route runs level with a plain \`node:http\` proxy of the same presigned URL
  in the same process (\`download-route-vs-pipe\` about 1.0), so the plugin adds nothing measurable; the gap is
  the extra hop itself. A proxied GiB costs the app process 1-3 CPU-seconds of socket reads and writes
  (\`--cpu-prof\`: no plugin frame in the top), and on a 2-core machine the client, the app and SeaweedFS
  share those cores, so the direct path (two processes) wins by what the third one burns. On a machine with
  spare cores the ratio approaches the pipe's. Where it matters, hand out \`getDownloadLink\` (or set
  \`objectHostname\`) so large files skip the app.
- **upload** (target 0.80): the route's result swings between about 0.64 and 1.0 from run to run (paired
  interval 0.47-0.86 on an idle machine). Against a presigned PUT, which S3 receives as one unsigned
  stream, the route parses multipart, signs every 5 MiB part with a SHA-256 of its bytes (SigV4 over plain
  http), and adds a hop; on 2 cores SeaweedFS (about 10 CPU-s/GiB) and the app (about 6) compete for the
  same CPU. The profile shows GC (~29% of the app's busy time), part hashing (~12%) and \`Buffer.concat\`
  (~7%); none of it is plugin logic.
- **upload-memory** (target 64 MiB): lib-storage holds queueSize × partSize bytes in flight plus the part
  being assembled, and V8 frees dead Buffers late. With 8 MiB parts a 1 GiB upload grew 75-95 MiB; parts are
  now 5 MiB when a size limit is known (the browse route always passes one), measured at 48-58 MiB.
- **overhead / presign** (targets 0.97 / 1.0): "within noise" misses on a loaded machine; the paired
  intervals reach the target. The plugin's own share of a presign is about 1% of the CPU profile (key
  checks); the rest is the SDK, which both sides pay.

## Reproduce

\`\`\`sh
npm ci
npm run bench                 # builds dist/ when stale, runs every benchmark (about 5 minutes)
npm run bench -- overhead     # only some: names of files in bench/
npm run bench -- presign
npm run bench -- download upload upload-memory listing
BENCH_DOWNLOAD_MIB=128 BENCH_UPLOAD_MIB=64 BENCH_MEMORY_MIB=256 BENCH_LISTING_KEYS=2000 npm run bench   # quicker
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
