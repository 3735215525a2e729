// Side by side with a peer: flask-s3-viewer 1.3.0 (PyPI) under gunicorn (1 worker x 8 threads), on the
// same local SeaweedFS, bucket and keys, in the same run, interleaved round after round (rotated order).
// Each figure is ours / theirs, and each answer is checked: the table shows what each side got right.
//
// - page-cold: the first page of a 10,000-key folder, listed from S3 on every request (ours: no listing
//   cache, 100 rows a page; theirs: no use_cache, it lists 500 keys and shows 50)
// - page-warm: the same page with each side's listing cache on (ours: `cache`, and the rendered-page
//   cache; theirs: use_cache, its disk cache). Both clients send what a browser sends (a cookie,
//   `Accept-Encoding: gzip, deflate, br`), no If-None-Match (a 304 would not be a page).
// - search: a search of that folder whose only matches are keys 9,990-9,999 (past the first 1,000); ours
//   with `searchCache`. Correct = all 10 found.
// - download: a BENCH_PEER_DOWNLOAD_MIB (256) MiB object through each app, MB/s
// - upload: a BENCH_PEER_UPLOAD_MIB (64) MiB multipart POST through each app, MB/s, the stored size checked
//
// Without python3 (or when the venv cannot be made) the peer is skipped and said so. The venv is made once
// in .cache/flask-s3-viewer-venv (pip install flask-s3-viewer==1.3.0 gunicorn).
//
// Env knobs: BENCH_PEER_ROUNDS (else BENCH_ROUNDS, else 3), BENCH_PEER_DURATION (3 s of load per page
// variant), BENCH_PEER_CONNECTIONS (8), BENCH_PEER_KEYS (10000).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { startChild, stopChild } from './support/child.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, download, mbPerSecond, postFile, putObject, randomBlock } from './support/transfer.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const VENV = join(root, '.cache', 'flask-s3-viewer-venv')
const PEER_VERSION = '1.3.0'
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_PEER_DURATION ?? 3)
const CONNECTIONS = Number(process.env.BENCH_PEER_CONNECTIONS ?? 8)
const KEYS = Number(process.env.BENCH_PEER_KEYS ?? 10_000)
const DOWNLOAD_MIB = Number(process.env.BENCH_PEER_DOWNLOAD_MIB ?? 256)
const UPLOAD_MIB = Number(process.env.BENCH_PEER_UPLOAD_MIB ?? 64)
const BUCKET = 'bench'
const FOLDER = 'big/'
const DL_KEY = 'dl/object.bin'
const TARGETS = { 'page-cold': 10, 'page-warm': 5, search: 2, download: 4, upload: 1 }
const keyOf = (i) => `${FOLDER}file-${String(i).padStart(6, '0')}.txt`
// The last ten keys (9,990-9,999 of 10,000): past the first 1,000, and past the 500 the peer lists.
const SEARCH = `file-${String(KEYS - 10).padStart(6, '0').slice(0, 5)}`
const SEARCH_MATCHES = 10
const BROWSER = { accept: 'text/html', 'accept-encoding': 'gzip, deflate, br' }

/** The venv with the peer, made once; undefined (and why) when Python is missing or pip fails. */
function ensurePeer () {
  const gunicorn = join(VENV, 'bin', 'gunicorn')
  if (existsSync(gunicorn)) return { gunicorn }
  if (spawnSync('python3', ['--version']).status !== 0) return { why: 'python3 not found' }
  console.log(`  making ${VENV} (flask-s3-viewer==${PEER_VERSION}, gunicorn)`)
  if (spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' }).status !== 0) return { why: 'python3 -m venv failed' }
  const pip = spawnSync(join(VENV, 'bin', 'pip'), ['install', '-q', `flask-s3-viewer==${PEER_VERSION}`, 'gunicorn'], { stdio: 'inherit' })
  if (pip.status !== 0 || !existsSync(gunicorn)) return { why: 'pip install failed' }
  return { gunicorn }
}

function get (url, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const parts = []
      res.on('data', (c) => parts.push(c))
      res.once('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }))
    }).once('error', reject)
  })
}

async function startPeer (gunicorn, s3) {
  const port = await new Promise((resolve) => { const s = http.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })
  const cacheDir = mkdtempSync(join(tmpdir(), 's3s-peer-cache-'))
  const child = spawn(gunicorn, ['-w', '1', '--threads', '8', '-b', `127.0.0.1:${port}`, '--chdir', join(root, 'bench', 'support'), '--log-level', 'warning', 'peer_app:app'], {
    env: { ...process.env, PEER_ENDPOINT: s3.endpoint, PEER_REGION: s3.region, PEER_BUCKET: BUCKET, PEER_ACCESS_KEY: s3.accessKeyId, PEER_SECRET_KEY: s3.secretAccessKey, PEER_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const origin = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    try {
      if ((await get(`${origin}/cold/files?prefix=${encodeURIComponent(FOLDER)}`)).status === 200) return { child, origin, cacheDir }
    } catch {}
  }
  child.kill()
  throw new Error('flask-s3-viewer did not start')
}

/** Distinct key names of the folder in a page (gunzipped when it came compressed). */
async function namesIn (res) {
  const { gunzipSync } = await import('node:zlib')
  const html = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8')
  return new Set(html.match(/file-\d{6}\.txt/g) ?? [])
}

/** A multipart POST of `size` bytes to flask-s3-viewer's upload route (files[], prefix, overwrite=1). */
function postPeer (url, prefix, filename, size) {
  const boundary = `----bench${randomBytes(12).toString('hex')}`
  const field = (name, value) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const head = Buffer.from(field('prefix', prefix) + field('overwrite', '1') + `--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.request(url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length } }, (res) => {
      res.resume()
      res.once('end', () => resolve({ status: res.statusCode, ms: performance.now() - start }))
    })
    req.once('error', reject)
    req.write(head)
    let sent = 0
    const write = () => {
      while (sent < size) {
        const piece = sent + MiB <= size ? randomBlock : randomBlock.subarray(0, size - sent)
        sent += piece.length
        if (!req.write(piece)) return req.once('drain', write)
      }
      req.end(tail)
    }
    write()
  })
}

async function loadRps (url, headers) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers })
  const failures = result.errors + result.timeouts + result.non2xx
  if (failures > 0) throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  return { rps: result.requests.total / result.duration, p50: result.latency.p50, bytes: result.throughput.total / Math.max(1, result.requests.total) }
}

async function createKeys (s3) {
  const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED' })
  let next = 0
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < KEYS) {
      const i = next++
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: keyOf(i), Body: `file ${i}\n`, ContentType: 'text/plain' }))
    }
  }))
  return client
}

function skip (why) {
  console.log(`  peer skipped: ${why}`)
  for (const name of Object.keys(TARGETS)) printResult({ name: `peer-${name}`, description: `ours / flask-s3-viewer ${PEER_VERSION}: skipped (${why})`, ratio: null, target: TARGETS[name] })
}

async function main () {
  const peer = ensurePeer()
  if (peer.gunicorn === undefined) return skip(peer.why)
  let s3, app, ours, theirs
  try {
    s3 = await startBenchS3([BUCKET])
    const started = performance.now()
    const client = await createKeys(s3)
    console.log(`  ${KEYS} keys in ${FOLDER} in ${Math.round(performance.now() - started)} ms`)
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()
    await putObject(await ops.getUploadLink(DL_KEY, 60), DOWNLOAD_MIB * MiB)
    ours = await startChild(fileURLToPath(new URL('./support/browse-server.js', import.meta.url)), [JSON.stringify(s3PluginOptions(s3, BUCKET, {
      namespaces: { cold: {}, warm: { cache: { ttlSeconds: 600 }, searchCache: { ttlSeconds: 600 } } }
    }))])
    theirs = await startPeer(peer.gunicorn, s3)
    // A browser has our CSRF cookie after its first page.
    const first = await get(`${ours.origin}/warm/files/${FOLDER}`, BROWSER)
    const cookie = String(first.headers['set-cookie']).split(';')[0]
    const OURS = { ...BROWSER, cookie }
    const f = encodeURIComponent(FOLDER)
    const pages = {
      'page-cold': { ours: [`${ours.origin}/cold/files/${FOLDER}`, OURS], theirs: [`${theirs.origin}/cold/files?prefix=${f}`, BROWSER], expect: (n) => n.has(keyOf(0).slice(FOLDER.length)) },
      'page-warm': { ours: [`${ours.origin}/warm/files/${FOLDER}`, OURS], theirs: [`${theirs.origin}/warm/files?prefix=${f}`, BROWSER], expect: (n) => n.has(keyOf(0).slice(FOLDER.length)) },
      search: { ours: [`${ours.origin}/warm/files/${FOLDER}?q=${SEARCH}`, OURS], theirs: [`${theirs.origin}/warm/files?prefix=${f}&search=${SEARCH}`, BROWSER], expect: (n) => [...n].filter((k) => k.startsWith(SEARCH)).length === SEARCH_MATCHES }
    }
    // Correctness, once each (also warms both caches).
    const checks = {}
    for (const [name, p] of Object.entries(pages)) {
      checks[name] = {}
      for (const side of ['ours', 'theirs']) {
        const res = await get(...p[side])
        const names = await namesIn(res)
        const found = name === 'search' ? `${[...names].filter((k) => k.startsWith(SEARCH)).length}/${SEARCH_MATCHES} matches` : `${names.size} rows`
        checks[name][side] = `${res.status === 200 && p.expect(names) ? 'ok' : 'WRONG'} (${found}, ${Math.round(res.body.length / 1024)} KiB${res.headers['content-encoding'] === 'gzip' ? ' gzip' : ''})`
      }
      console.log(`  ${name}: ours ${checks[name].ours}; theirs ${checks[name].theirs}`)
    }
    const transfers = {
      download: {
        ours: async () => await download(`${ours.origin}/cold/files/${DL_KEY}`, DOWNLOAD_MIB * MiB),
        theirs: async () => await download(`${theirs.origin}/cold/files/${DL_KEY}`, DOWNLOAD_MIB * MiB),
        size: DOWNLOAD_MIB * MiB
      },
      upload: {
        ours: async (i) => await postFile(`${ours.origin}/cold/files/up/`, `ours-${i}-${randomBytes(4).toString('hex')}.bin`, UPLOAD_MIB * MiB),
        theirs: async (i) => {
          const name = `theirs-${i}-${randomBytes(4).toString('hex')}.bin`
          const res = await postPeer(`${theirs.origin}/cold/files`, 'up/', name, UPLOAD_MIB * MiB)
          const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `up/${name}` })).catch(() => undefined)
          if (res.status !== 201 || head?.ContentLength !== UPLOAD_MIB * MiB) throw new Error(`flask-s3-viewer upload answered ${res.status}, stored ${head?.ContentLength} bytes`)
          return res
        },
        size: UPLOAD_MIB * MiB
      }
    }
    checks.download = { ours: `ok (${DOWNLOAD_MIB} MiB, length checked)`, theirs: `ok (${DOWNLOAD_MIB} MiB, length checked)` }
    checks.upload = { ours: `ok (${UPLOAD_MIB} MiB stored, size checked)`, theirs: `ok (${UPLOAD_MIB} MiB stored, size checked)` }

    const names = [...Object.keys(pages), ...Object.keys(transfers)]
    const rates = Object.fromEntries(names.map((n) => [n, { ours: [], theirs: [] }]))
    const extra = Object.fromEntries(names.map((n) => [n, { ours: [], theirs: [] }]))
    console.log(`peer: ${ROUNDS} rounds; pages ${DURATION} s at ${CONNECTIONS} connections; download ${DOWNLOAD_MIB} MiB, upload ${UPLOAD_MIB} MiB`)
    const orders = rotations(['ours', 'theirs'], ROUNDS)
    for (let r = 0; r < ROUNDS; r++) {
      const line = []
      for (const name of names) {
        for (const side of orders[r]) {
          if (pages[name] !== undefined) {
            const r = await loadRps(...pages[name][side])
            rates[name][side].push(r.rps)
            extra[name][side].push(r.p50)
          } else {
            try {
              const { ms } = await transfers[name][side](r)
              rates[name][side].push(mbPerSecond(transfers[name].size, ms))
            } catch (err) {
              checks[name][side] = `WRONG (${err.message.slice(0, 120)})`
              rates[name][side].push(NaN)
            }
          }
        }
        line.push(`${name} ${round2(rates[name].ours.at(-1))}/${round2(rates[name].theirs.at(-1))}`)
      }
      console.log(`  round ${r + 1}: ${line.join(', ')} (ours/theirs, req/s or MB/s)`)
    }
    for (const name of names) {
      const mine = median(rates[name].ours)
      const peers = median(rates[name].theirs)
      const paired = rates[name].ours.map((o, i) => o / rates[name].theirs[i]).filter(Number.isFinite)
      const ci = pairedInterval(paired)
      const unit = pages[name] === undefined ? 'MB/s' : 'req/s'
      printResult({
        name: `peer-${name}`,
        description: `ours / flask-s3-viewer ${PEER_VERSION} (gunicorn 1x8), ${unit}; ours ${checks[name].ours}; theirs ${checks[name].theirs}`,
        ratio: round(mine / peers),
        target: TARGETS[name],
        medians: { ours: round2(mine), theirs: round2(peers) },
        unit,
        ci: [round(ci.low), round(ci.high)],
        correct: checks[name],
        ...(pages[name] === undefined ? {} : { p50ms: { ours: median(extra[name].ours), theirs: median(extra[name].theirs) } }),
        rounds: ROUNDS
      })
    }
  } finally {
    if (theirs !== undefined) {
      theirs.child.kill('SIGTERM')
      await new Promise((resolve) => theirs.child.exitCode === null ? theirs.child.once('exit', resolve) : resolve())
      rmSync(theirs.cacheDir, { recursive: true, force: true })
    }
    await stopChild(ours)
    await app?.close()
    await s3?.stop()
  }
}

function round2 (value) {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : value
}

await main()
