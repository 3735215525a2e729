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
  // A ratio over a wrong answer of ours counts for nothing.
  if (typeof result.correct?.ours === 'string' && !result.correct.ours.startsWith('ok')) return 'not met (our answer wrong)'
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

const percent = (share) => `${Math.round(1000 * share) / 10}%`

// The medians, plus what some benchmarks add: rates per CPU-second (presign-fast) and hashing shares.
function measured (r) {
  const parts = []
  if (r.medians !== undefined) parts.push(Object.entries(r.medians).map(([k, v]) => `${k} ${v}`).join(' / ') + (r.unit ? ` ${r.unit}` : ''))
  if (r.perCpuSecond !== undefined) parts.push('per CPU-second: ' + Object.entries(r.perCpuSecond).map(([k, v]) => `${k} ${v}`).join(' / '))
  if (r.ofPlugin !== undefined) parts.push(`hashing loop: ${percent(r.ratio)} of the signer, ${percent(r.ofPlugin)} of getDownloadLink`)
  if (r.cpuProf !== undefined) parts.push(`cpu-prof: ${percent(r.cpuProf.signer)} / ${percent(r.cpuProf.plugin)}`)
  return parts.join('; ')
}

function rows (outcomes) {
  const out = []
  for (const { name, code, results } of outcomes) {
    if (results.length === 0) {
      out.push({ benchmark: name, ratio: '-', target: '-', ci: '-', result: `failed (exit ${code})`, measured: '', checked: '' })
      continue
    }
    for (const r of results) {
      out.push({
        benchmark: r.name,
        ratio: String(r.ratio),
        target: targetText(r.target),
        ci: spread(r),
        result: verdict(r),
        measured: measured(r),
        // What each side answered, for benchmarks that check it (peer).
        checked: r.correct === undefined ? '' : Object.entries(r.correct).map(([k, v]) => `${k} ${v}`).join('; ')
      })
    }
  }
  return out
}

const COLUMNS = [['benchmark', 'benchmark'], ['ratio', 'ratio'], ['target', 'target'], ['ci', '95% CI (paired) or range'], ['result', 'result'], ['measured', 'medians'], ['checked', 'answers checked']]

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
  benchmarks alone keep about 1-2 busy; more than that means other processes competed with them.${process.env.BENCH_NOTE ? `\n- Note: ${process.env.BENCH_NOTE}` : ''}

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
- **presign-fast** (bench/presign-fast.js): links per second of \`getDownloadLink\` / the raw SDK
  \`getSignedUrl\` loop (the denominator), 30 rotated rounds of 250 ms, one thread (= one core); the medians
  column also gives links per CPU-second of the process. The URLs are checked byte for byte first.
  **presign-fast-signer**: the signer alone (\`LinkSigner.presignGet\`) / raw. **presign-fast-hmac-share**:
  the share of a link's CPU time left in SHA-256 + HMAC, from a loop of just that hashing (upper bound) and
  from a \`--cpu-prof\` of each variant alone (samples in Node's crypto, lower bound).

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
- **zip** (bench/zip.js): MB/s (of the files' bytes) of \`POST /<ns>/zip { folder }\` for a folder of
  \`BENCH_ZIP_FILES\` x \`BENCH_ZIP_FILE_MIB\` (16 x 32 MiB) / GETs of the same files one after another through
  \`GET /<ns>/files/<key>\`; 5 rounds, rotated order, after one warm-up each. Target >= 0.8.
- **zip-memory**: peak RSS growth of the app while it zips 1 GiB in 5,000 files (sampled as for upload-memory,
  a fresh server per round, 3 rounds, the worst counts; ratio = growth / 64 MiB). \`plainGrowth\` in its
  medians: the control, the same 5,000 files downloaded one after another through the GET route in fresh
  servers taking turns with the zip.
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

- **proxy-cpu** (bench/proxy-cpu.js): one \`BENCH_PROXY_MIB\` (256 MiB) object five ways, taking turns: straight
  from S3 (presigned GET), a \`downloadMode: 'redirect'\` download (302, then S3), the proxying browse route,
  a bare node:http pipe of the presigned URL in the app process, and Debian's nginx (one worker,
  \`proxy_pass\`, \`proxy_buffering off\`, generated config in a temp dir) on the same URL; 4 rounds.
  **proxy-cpu-route-vs-pipe**: the app's CPU ms per GiB proxied, route / pipe (lower is better, target <=
  1.1); **proxy-rate-route-vs-pipe**: MB/s route / pipe (>= 0.95); **redirect-vs-direct**: MB/s (>= 0.95);
  **proxy-cpu-route-vs-nginx**: CPU per GiB, the app's / nginx's (informational).
- **peer** (bench/peer.js): ours / flask-s3-viewer 1.3.0 (PyPI, gunicorn 1 worker x 8 threads, a venv made
  once in .cache/flask-s3-viewer-venv when python3 is present) on the same SeaweedFS and keys,
  interleaved, 3 rounds: **peer-page-cold** and **peer-page-warm** (req/s of the first page of a 10,000-key
  folder without / with each side's listing cache; ours shows 100 rows, theirs 50 of the 500 it lists; both
  clients send a cookie and \`Accept-Encoding: gzip, deflate, br\` as a browser does, no If-None-Match),
  **peer-search** (a search whose only matches are keys 9,990-9,999; correct means all 10 found),
  **peer-download** (256 MiB, MB/s) and **peer-upload** (64 MiB multipart POST, MB/s, stored size
  checked). Each row's description says what each side answered (rows, matches, bytes).

## Why a target is missed (profiled)

- **download** (target 0.90): the route runs level with a plain \`node:http\` proxy of the same presigned URL
  in the same process (\`download-route-vs-pipe\` about 1.0), so the plugin adds nothing measurable; the gap is
  the extra hop itself. A proxied GiB costs the app process 1-3 CPU-seconds of socket reads and writes
  (\`--cpu-prof\`: no plugin frame in the top), and on a 2-core machine the client, the app and SeaweedFS
  share those cores, so the direct path (two processes) wins by what the third one burns. On a machine with
  spare cores the ratio approaches the pipe's. Where it matters, hand out \`getDownloadLink\` (or set
  \`objectHostname\`) so large files skip the app.
- **peer-download** (target 4): ours streams 256 MiB at 2-3x the peer's MB/s; the run shared the 2 cores
  with other work (load 4 at the end), and every proxied GiB costs the app about 2.4 CPU-seconds, level with
  a bare Node pipe (proxy-cpu-route-vs-pipe about 0.97) and 1.5x nginx's: the gap to the target is the hop on
  busy cores, not plugin code. \`downloadMode: 'redirect'\` removes the hop (redirect-vs-direct about 0.98).
- **upload** (target 0.80): the route's result swings between about 0.64 and 1.0 from run to run (paired
  interval 0.47-0.86 on an idle machine). Against a presigned PUT, which S3 receives as one unsigned
  stream, the route parses multipart, signs every 5 MiB part with a SHA-256 of its bytes (SigV4 over plain
  http), and adds a hop; on 2 cores SeaweedFS (about 10 CPU-s/GiB) and the app (about 6) compete for the
  same CPU. The profile shows GC (~29% of the app's busy time), part hashing (~12%) and \`Buffer.concat\`
  (~7%); none of it is plugin logic.
- **upload-memory** (target 64 MiB): lib-storage holds queueSize × partSize bytes in flight plus the part
  being assembled, and V8 frees dead Buffers late. With 8 MiB parts a 1 GiB upload grew 75-95 MiB; parts are
  now 5 MiB when a size limit is known (the browse route always passes one), measured at 48-58 MiB.
- **zip-memory** (target 64 MiB): nothing is retained (after a gc the heap is back at its baseline,
  20.8 vs 23.3 MiB used); the peak is garbage awaiting collection. 5,000 GetObjects leave SDK objects that
  V8 answers by growing the heap (heapTotal 58 → 158 MiB in the zip and in the control alike), and socket
  Buffers of 1 GiB pile up to V8's 64 MiB external-memory trigger before a GC frees them (arrayBuffers up to
  68 MiB). The control, plain downloads of the same files through the GET route, grew 32-88 MiB; the zip,
  which moves the bytes about twice as fast, 103-135 MiB.
- **overhead** (target 0.97): when it misses, it misses within noise on a loaded machine (the paired
  interval reaches the target).

## Reproduce

\`\`\`sh
npm ci
npm run bench                 # builds dist/ when stale, runs every benchmark (about 7 minutes)
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
