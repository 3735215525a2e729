// Presigned GET links per second on the fast path (src/operations/signer.ts) against the raw SDK loop that
// presign.js also measures (one reused S3Client configured like the plugin's, getSignedUrl +
// GetObjectCommand, 3600 s), which stays the denominator. No server and no S3: presigning is local work.
//
// Variants, taking turns round after round in a rotated order (time-bounded loops, as in presign.js):
// - raw:    getSignedUrl(client, new GetObjectCommand(...), { expiresIn: 3600 })
// - plugin: StorageOperations.getDownloadLink(key, 60): key checks, linkLifetime() (TTL ceiling,
//           credential expiry), then whichever presigner the build wires in (the RESULT says which)
// - signer: LinkSigner.presignGet(bucket, key, 3600) on the plugin's client: the signer alone
// - smithy: informational, SignatureV4.presign (@smithy/signature-v4, the SDK's signer) on a request built
//           once per profile and cloned per link, with Node's crypto as its hash: the other fast path the
//           issue names. Skipped when the package cannot be imported.
// Before measuring, the bench checks that raw, signer and smithy give the same URL for the same time, byte
// for byte, and that the plugin's has the same shape (it refuses to run otherwise).
//
// Rates are links per second of wall time in one thread (one core), and links per CPU-second of this
// process (process.cpuUsage over each loop): on a shared machine the second is the fairer "per core".
// The main figure is plugin/raw of the medians, with the 95% interval of the paired per-round ratios.
//
// HMAC share: a loop of just the signer's hashing (SHA-256 of a canonical request of the same length, then
// HMAC-SHA256 of the string to sign with a cached key: what every link must compute) runs in the same
// rounds; its time per link over the signer's (and the plugin's) time per link is the share of the time
// left in hashing.
//
// Second figure for the same share, from a CPU profile: a child process runs each of signer and
// getDownloadLink alone for BENCH_PROFILE_MS under `node --cpu-prof`, and the share is the samples whose
// innermost frame is Node's crypto (node:crypto, node:internal/crypto/*) over all samples from the first
// link on (garbage collection included, idle excluded). The loop figure counts the hashing's own string
// building and garbage as hashing, so it is the upper bound; the profile's is the lower one.
//
// Env knobs: BENCH_ROUNDS (30), BENCH_LOOP_MS (250), BENCH_WARMUP_MS (1000), BENCH_PROFILE_MS (2000, 0: no profile).
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import Fastify from 'fastify'
import s3Storage from '../dist/index.js'
import { linkSigner } from '../dist/operations/signer.js'
import { BUCKET, CREDENTIALS, ENDPOINT, REGION, pluginOptions } from './support/profile.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const LOOP_MS = Number(process.env.BENCH_LOOP_MS ?? 250)
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000)
const PROFILE_MS = Number(process.env.BENCH_PROFILE_MS ?? 2000)
const TARGET = 10

// Same key shape as presign.js: a few folders and a name, different each call.
const keyFor = (i) => `reports/2024/${i}/invoice-${i}.pdf`

/** Calls `sign(i)` one after another for `ms` milliseconds; returns { wall, cpu } calls per second. */
async function loop (sign, ms) {
  let i = 0
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end) {
    await sign(i++)
    now = performance.now()
  }
  const cpu = process.cpuUsage(cpu0)
  return { wall: i / ((now - start) / 1000), cpu: i / ((cpu.user + cpu.system) / 1e6) }
}

/** The SDK's own signer on a request built once, or undefined when @smithy/signature-v4 is not importable. */
async function smithyVariant (client) {
  let SignatureV4, HttpRequest
  try {
    ({ SignatureV4 } = await import('@smithy/signature-v4'));
    ({ HttpRequest } = await import('@smithy/core/protocols'))
  } catch {
    return undefined
  }
  // Node's crypto behind the SDK's hash interface (the client's own sha256 is the same, through more layers).
  class NodeHash {
    constructor (key) { this.h = key === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', key) }
    update (data) { this.h.update(data) }
    digest () { return Promise.resolve(this.h.digest()) }
  }
  const url = new URL(ENDPOINT)
  const signer = new SignatureV4({ credentials: client.config.credentials, region: REGION, service: 's3', sha256: NodeHash, uriEscapePath: false, applyChecksum: false })
  const base = new HttpRequest({
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    method: 'GET',
    path: '/',
    query: { 'x-id': 'GetObject' },
    headers: { host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }
  })
  const format = (r) => {
    const query = Object.keys(r.query).sort().map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(r.query[k]).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`).join('&')
    return `${r.protocol}//${r.hostname}:${r.port}${r.path}?${query}`
  }
  const path = (key) => `/${BUCKET}/${key.split('/').map((s) => encodeURIComponent(s)).join('/')}`
  return async (i, signingDate) => format(await signer.presign(new HttpRequest({ ...base, path: path(keyFor(i)), query: { ...base.query }, headers: { ...base.headers } }), { expiresIn: 3600, signingDate }))
}

/** What every link has to hash, at the signer's sizes: SHA-256 of the canonical request, HMAC of the string to sign. */
function hmacOnly (sampleUrl) {
  // A KeyObject, as the signer keeps its signing key.
  const key = crypto.createSecretKey(crypto.createHmac('sha256', 'k').update('d').digest())
  const sha256Hex = typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'hex') : (s) => crypto.createHash('sha256').update(s).digest('hex')
  const u = new URL(sampleUrl)
  // The canonical request of that link, with the key's number as a slot: the same text the signer hashes.
  const query = u.search.slice(1).replace(/&X-Amz-Signature=[0-9a-f]+/, '')
  const [before, middle, after] = u.pathname.split('123456')
  const suffix = `${after}\n${query}\nhost:${u.host}\n\nhost\nUNSIGNED-PAYLOAD`
  const scope = '20240101/us-east-1/s3/aws4_request'
  // Only the hashing is left: string building costs a fraction of a microsecond.
  return (i) => {
    const digest = sha256Hex(`GET\n${before}${i}${middle}${i}${suffix}`)
    return crypto.createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n20240101T000000Z\n${scope}\n${digest}`).digest('hex')
  }
}

// The URL without its time-dependent parts, to check two sides sign the same request.
function shape (url) {
  const u = new URL(url)
  for (const name of ['X-Amz-Date', 'X-Amz-Signature', 'X-Amz-Credential']) u.searchParams.delete(name)
  u.searchParams.sort()
  return u.toString()
}

async function main () {
  const app = Fastify({ logger: false })
  await app.register(s3Storage, pluginOptions())
  await app.ready()
  const ops = app.storage.operations()
  const signer = linkSigner(app.storage.profile().client)
  const raw = new S3Client({
    region: REGION,
    endpoint: ENDPOINT,
    credentials: { ...CREDENTIALS },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  })
  const smithy = await smithyVariant(raw)

  const variants = {
    raw: (i) => getSignedUrl(raw, new GetObjectCommand({ Bucket: BUCKET, Key: keyFor(i) }), { expiresIn: 3600 }),
    plugin: (i) => ops.getDownloadLink(keyFor(i), 60),
    signer: (i) => signer.presignGet(BUCKET, keyFor(i), 3600),
    ...(smithy === undefined ? {} : { smithy: (i) => smithy(i) }),
    hmac: hmacOnly(await signer.presignGet(BUCKET, keyFor(123456), 3600))
  }

  try {
    const at = new Date()
    const reference = await getSignedUrl(raw, new GetObjectCommand({ Bucket: BUCKET, Key: keyFor(7) }), { expiresIn: 3600, signingDate: at })
    const fromSigner = await signer.presignGet(BUCKET, keyFor(7), 3600, { signingDate: at })
    if (fromSigner !== reference) throw new Error(`the signer and the SDK sign differently:\n  signer ${fromSigner}\n  raw    ${reference}`)
    if (smithy !== undefined) {
      const fromSmithy = await smithy(7, at)
      if (fromSmithy !== reference) throw new Error(`smithy and the SDK sign differently:\n  smithy ${fromSmithy}\n  raw    ${reference}`)
    }
    const fromPlugin = await variants.plugin(7)
    if (shape(fromPlugin) !== shape(reference)) throw new Error(`the plugin signs a different request:\n  plugin ${fromPlugin}\n  raw    ${reference}`)
    // Both paths give the same URL, so the build's source says which one getDownloadLink takes.
    const fastPlugin = readFileSync(new URL('../dist/operations/links.js', import.meta.url), 'utf8').includes('linkSigner(client).presignGet(')
    console.log(`presign-fast: ${ROUNDS} rounds x ${Object.keys(variants).length} variants, ${LOOP_MS} ms each after ${WARMUP_MS} ms warm-up each; getDownloadLink on the ${fastPlugin ? 'fast path (LinkSigner)' : 'SDK path (getSignedUrl)'}`)

    for (const sign of Object.values(variants)) await loop(sign, WARMUP_MS)
    const names = Object.keys(variants)
    const rates = Object.fromEntries(names.map((n) => [n, { wall: [], cpu: [] }]))
    const pluginPerRound = []
    const signerPerRound = []
    for (const order of rotations(names, ROUNDS)) {
      const row = {}
      for (const name of order) {
        row[name] = await loop(variants[name], LOOP_MS)
        rates[name].wall.push(row[name].wall)
        rates[name].cpu.push(row[name].cpu)
      }
      pluginPerRound.push(row.plugin.wall / row.raw.wall)
      signerPerRound.push(row.signer.wall / row.raw.wall)
    }
    const med = Object.fromEntries(names.map((n) => [n, { wall: median(rates[n].wall), cpu: median(rates[n].cpu) }]))
    for (const n of names) {
      console.log(`  ${n.padEnd(6)} median links/s: ${String(Math.round(med[n].wall)).padStart(7)} wall (one thread), ${String(Math.round(med[n].cpu)).padStart(7)} per CPU-second`)
    }
    const ratio = med.plugin.wall / med.raw.wall
    const ci = pairedInterval(pluginPerRound)
    const signerRatio = med.signer.wall / med.raw.wall
    const signerCi = pairedInterval(signerPerRound)
    console.log(`  plugin/raw ${round(ratio)}, target >= ${TARGET}; paired rounds: geo-mean ${round(ci.geoMean)}, 95% CI ${round(ci.low)}-${round(ci.high)}`)
    console.log(`  signer/raw ${round(signerRatio)}; paired rounds: geo-mean ${round(signerCi.geoMean)}, 95% CI ${round(signerCi.low)}-${round(signerCi.high)}`)
    if (smithy !== undefined) console.log(`  smithy/raw ${round(med.smithy.wall / med.raw.wall)}, signer/smithy ${round(med.signer.wall / med.smithy.wall)} (SignatureV4.presign on a prebuilt request)`)
    const hmacShareSigner = med.signer.cpu / med.hmac.cpu
    const hmacSharePlugin = med.plugin.cpu / med.hmac.cpu
    console.log(`  hashing (SHA-256 + HMAC) alone: ${Math.round(med.hmac.cpu)} per CPU-second = ${round(100 * hmacShareSigner, 1)}% of the signer's time per link, ${round(100 * hmacSharePlugin, 1)}% of getDownloadLink's`)

    const profiled = PROFILE_MS > 0 ? { signer: profileShare('signer'), plugin: profileShare('plugin') } : undefined
    if (profiled !== undefined) {
      console.log(`  --cpu-prof, samples in Node's crypto: ${round(100 * profiled.signer, 1)}% of the signer's, ${round(100 * profiled.plugin, 1)}% of getDownloadLink's (${PROFILE_MS} ms each, in a child process)`)
    }

    printResult({
      name: 'presign-fast',
      description: 'getDownloadLink / raw getSignedUrl, links per second (fast path when wired)',
      ratio: round(ratio),
      target: TARGET,
      medians: { plugin: Math.round(med.plugin.wall), signer: Math.round(med.signer.wall), raw: Math.round(med.raw.wall) },
      perCpuSecond: Object.fromEntries(names.map((n) => [n, Math.round(med[n].cpu)])),
      ci: [round(ci.low), round(ci.high)],
      unit: 'links/s',
      pluginPath: fastPlugin ? 'signer' : 'sdk',
      rounds: ROUNDS,
      loopMs: LOOP_MS
    })
    printResult({
      name: 'presign-fast-signer',
      description: 'LinkSigner.presignGet / raw getSignedUrl, links per second',
      ratio: round(signerRatio),
      target: null,
      ci: [round(signerCi.low), round(signerCi.high)],
      ...(smithy === undefined ? {} : { smithyOverRaw: round(med.smithy.wall / med.raw.wall) })
    })
    printResult({
      name: 'presign-fast-hmac-share',
      description: 'CPU time per link spent in SHA-256 + HMAC, share of the signer / of getDownloadLink (hashing loop; cpu-prof)',
      ratio: round(hmacShareSigner),
      target: null,
      ofPlugin: round(hmacSharePlugin),
      ...(profiled === undefined ? {} : { cpuProf: { signer: round(profiled.signer), plugin: round(profiled.plugin) } })
    })
  } finally {
    raw.destroy()
    await app.close()
  }
}

/** Runs `variant` alone in a child under --cpu-prof; the share of its samples whose innermost frame is Node's crypto. */
function profileShare (variant) {
  const dir = mkdtempSync(join(tmpdir(), 'presign-fast-prof-'))
  try {
    const child = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, fileURLToPath(import.meta.url), '--profile-child', variant], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (child.status !== 0) throw new Error(`the profiling child (${variant}) exited with ${child.status}`)
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    const byId = new Map(profile.nodes.map((n) => [n.id, n]))
    const parent = new Map()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const inLink = (id) => {
      for (let n = id; n !== undefined; n = parent.get(n)) {
        const { functionName, url } = byId.get(n).callFrame
        if (url.endsWith('/signer.js') || (functionName === 'getDownloadLink' && url.endsWith('/storage-operations.js'))) return true
      }
      return false
    }
    let started = false
    let total = 0
    let inCrypto = 0
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]
      const dt = profile.timeDeltas[i + 1] ?? 0
      if (!started && !(started = inLink(id))) continue
      const { functionName, url } = byId.get(id).callFrame
      if (functionName === '(idle)') continue
      total += dt
      if (url === 'node:crypto' || url.startsWith('node:internal/crypto/')) inCrypto += dt
    }
    return inCrypto / total
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The child of profileShare(): one variant in a loop for PROFILE_MS, nothing else. */
async function profileChild (variant) {
  const app = Fastify({ logger: false })
  await app.register(s3Storage, pluginOptions())
  await app.ready()
  const ops = app.storage.operations()
  const signer = linkSigner(app.storage.profile().client)
  const sign = variant === 'plugin' ? (i) => ops.getDownloadLink(keyFor(i), 60) : (i) => signer.presignGet(BUCKET, keyFor(i), 3600)
  await sign(0)
  await loop(sign, PROFILE_MS)
  await app.close()
}

if (process.argv[2] === '--profile-child') await profileChild(process.argv[3])
else await main()
