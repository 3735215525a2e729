/**
 * versitygw (Versity S3 Gateway, Apache-2.0, Go) on 127.0.0.1 as a second
 * real S3 server for the tests: `versitygw posix` over a temporary directory,
 * with real keys (every SigV4 signature is verified) and bucket versioning.
 *
 * Binary: env `VERSITYGW_BIN`, else `.cache/go-bin/versitygw` in the package
 * root, else `versitygw` on PATH. Install it with
 *   GOBIN="$PWD/.cache/go-bin" go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
 *
 * Layout of `dataDir`: `buckets/` (the posix gateway root: one directory per
 * bucket, one file per object, metadata in xattrs), `versions/`
 * (`--versioning-dir`, old versions of versioned buckets) and `iam/`
 * (`--iam-dir`, only with `extraIdentities`).
 *
 * Development-only: nothing in the library imports this module.
 */
import { accessSync, constants, rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { createBucketIfMissing, type LocalS3, type LocalS3Options } from './local-s3.js'
import { envWithout, freePort, onProcessExit, spawnServer, type ServerProcess } from './server-process.js'

export const VERSITYGW_VERSION = '1.8.0'

/** Options of {@link startVersityGw}: those of `startLocalS3` that apply, plus `versioning`. */
export interface VersityGwOptions extends Omit<LocalS3Options, 'allowFallback'> {
  /** Pass `--versioning-dir` so that PutBucketVersioning works. Default: `true`. */
  versioning?: boolean
}

const REGION = 'us-east-1'
const HOST = '127.0.0.1'
const READY_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 5_000

/** Temporary data dirs to remove on process exit if `stop()` was never called. */
const tempDirs = new Set<string>()

/** Where the binary is: `VERSITYGW_BIN`, `.cache/go-bin/versitygw`, or PATH; throws how to install it. */
export function findVersityGwBinary (): string {
  const candidates = [
    process.env.VERSITYGW_BIN,
    path.join(fileURLToPath(new URL('../../', import.meta.url)), '.cache', 'go-bin', 'versitygw'),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'versitygw'))
  ].filter((c): c is string => c !== undefined && c !== '')
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  if (process.env.VERSITYGW_BIN) throw new Error(`VERSITYGW_BIN=${process.env.VERSITYGW_BIN} is not an executable file`)
  throw new Error('versitygw not found (tried $VERSITYGW_BIN, .cache/go-bin/versitygw, PATH). Install it from the package root with:\n' +
    `  GOBIN="$PWD/.cache/go-bin" go install github.com/versity/versitygw/cmd/versitygw@v${VERSITYGW_VERSION}`)
}

/**
 * Starts versitygw and resolves once a signed ListBuckets succeeds and the
 * requested buckets exist. Same shape as `startLocalS3`, `kind: 'versitygw'`.
 */
export async function startVersityGw (options: VersityGwOptions = {}): Promise<LocalS3> {
  const log = options.log ?? (() => {})
  const bin = findVersityGwBinary()
  const accessKeyId = options.accessKeyId ?? 'local-s3-admin'
  const secretAccessKey = options.secretAccessKey ?? 'local-s3-admin-secret'
  installExitHook()

  const tempDataDir = options.dataDir === undefined
  const dataDir = tempDataDir ? await mkdtemp(path.join(os.tmpdir(), 'versitygw-')) : path.resolve(options.dataDir as string)
  if (tempDataDir) tempDirs.add(dataDir)
  const globalArgs = ['--keep-alive'] // like AWS; versitygw's default is `Connection: close` on every response
  const posixArgs: string[] = []
  const rootDir = path.join(dataDir, 'buckets')
  await mkdir(rootDir, { recursive: true })
  if (options.versioning !== false) {
    await mkdir(path.join(dataDir, 'versions'), { recursive: true })
    posixArgs.push('--versioning-dir', path.join(dataDir, 'versions'))
  }
  posixArgs.push(rootDir)
  if (options.extraIdentities?.length) {
    // The internal IAM service reads users.json; role admin = access to every bucket.
    const iamDir = path.join(dataDir, 'iam')
    await mkdir(iamDir, { recursive: true })
    const accessAccounts = Object.fromEntries(options.extraIdentities.map((id) =>
      [id.accessKeyId, { access: id.accessKeyId, secret: id.secretAccessKey, role: 'admin', userID: 0, groupID: 0, projectID: 0 }]))
    await writeFile(path.join(iamDir, 'users.json'), JSON.stringify({ accessAccounts }))
    globalArgs.push('--iam-dir', iamDir)
  }
  const argsFor = (port: number): string[] => ['--port', `${HOST}:${port}`, ...globalArgs, 'posix', ...posixArgs]

  let port = 0
  let proc: GwProcess | undefined
  let lastError: Error | undefined
  for (let attempt = 1; attempt <= 3 && !proc; attempt++) { // the free port may be taken before versitygw binds it
    port = await freePort(HOST)
    const candidate = spawnGw(bin, argsFor(port), accessKeyId, secretAccessKey, tempDataDir ? dataDir : undefined)
    try {
      await waitReady(candidate, `http://${HOST}:${port}`, accessKeyId, secretAccessKey)
      proc = candidate
    } catch (err) {
      lastError = err as Error
      await candidate.kill('SIGKILL', 0)
      if (!/address already in use/i.test(candidate.logTail())) break
    }
  }
  if (!proc) {
    if (tempDataDir) await removeTemp(dataDir)
    throw lastError ?? new Error('versitygw did not start')
  }
  const endpoint = `http://${HOST}:${port}`
  log(`versitygw ready at ${endpoint} (data: ${dataDir})`)
  const admin = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })
  let current: GwProcess | undefined = proc
  let stopped = false

  const local: LocalS3 = {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    kind: 'versitygw',
    dataDir,
    createBucket: async (name) => await createBucketIfMissing(admin, name),
    async stop () {
      if (stopped) return
      stopped = true
      const p = current
      current = undefined
      if (p) await p.kill(tempDataDir ? 'SIGKILL' : 'SIGTERM', STOP_GRACE_MS)
      admin.destroy()
      if (tempDataDir) await removeTemp(dataDir)
      log(`versitygw at ${endpoint} stopped`)
    },
    async restart ({ crash = false } = {}) {
      if (stopped) throw new Error('restart() after stop()')
      const p = current
      current = undefined
      if (p) await p.kill(crash ? 'SIGKILL' : 'SIGTERM', crash ? 0 : STOP_GRACE_MS)
      // Same port: it was ours a moment ago, but the kernel may still hold it briefly.
      for (let attempt = 1; ; attempt++) {
        const next = spawnGw(bin, argsFor(port), accessKeyId, secretAccessKey, tempDataDir ? dataDir : undefined)
        try {
          await waitReady(next, endpoint, accessKeyId, secretAccessKey)
        } catch (err) {
          await next.kill('SIGKILL', 0)
          if (attempt < 20 && /address already in use/i.test(next.logTail())) { await sleep(100); continue }
          throw err
        }
        if (stopped) { await next.kill('SIGKILL', 0); return }
        current = next
        return
      }
    }
  }
  try {
    for (const bucket of options.buckets ?? []) await local.createBucket(bucket)
  } catch (err) {
    await local.stop()
    throw err
  }
  return local
}

function installExitHook (): void {
  onProcessExit(() => {
    for (const dir of tempDirs) try { rmSync(dir, { recursive: true, force: true }) } catch {}
  })
}

async function removeTemp (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

type GwProcess = ServerProcess

// Reads stdin until EOF (this Node process is gone, even by SIGKILL), then kills versitygw and removes the temp dir.
const WATCHDOG = 'pg=$1; shift; read -r _ || :; kill -KILL "-$pg" 2>/dev/null; sleep 0.3; [ $# -eq 0 ] || rm -rf -- "$@"'

function spawnGw (bin: string, args: string[], accessKeyId: string, secretAccessKey: string, tempDir: string | undefined): GwProcess {
  // versitygw reads its settings from VGW_* / ROOT_* variables: only ours apply.
  const env = envWithout(/^(VGW_|ROOT_|AWS_|S3_)/, { ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey })
  return spawnServer(bin, args, { env, watchdog: { script: WATCHDOG, name: 'versitygw-watchdog', args: tempDir ? [tempDir] : [] } })
}

async function waitReady (proc: GwProcess, endpoint: string, accessKeyId: string, secretAccessKey: string): Promise<void> {
  const client = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 })
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError: unknown
  try {
    for (;;) {
      if (proc.hasExited()) {
        throw new Error(`versitygw exited before it was ready (exit code ${proc.child.exitCode}, signal ${proc.child.signalCode}). Last lines of its log:\n${proc.logTail()}`)
      }
      try {
        await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2000) })
        return
      } catch (err) {
        lastError = err
      }
      if (Date.now() > deadline) {
        throw new Error(`versitygw at ${endpoint} not ready within ${READY_TIMEOUT_MS / 1000}s (last error: ${(lastError as Error)?.message}). Last lines of its log:\n${proc.logTail()}`)
      }
      await sleep(50)
    }
  } finally {
    client.destroy()
  }
}
