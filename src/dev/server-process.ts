/**
 * A local S3 server's process, whichever server it is (SeaweedFS in ./local-s3.ts, versitygw in
 * ./versitygw.ts): spawned in a process group of its own, its log kept as a short tail for error messages,
 * stopped with a grace period, and never outliving this Node process, however that one ends.
 *
 * Development-only: nothing in the library imports this module.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'

const LOG_TAIL_LINES = 60

/** A spawned server. */
export interface ServerProcess {
  child: ChildProcess
  /** Resolves when the process is gone (or could not be spawned). */
  exited: Promise<void>
  hasExited(): boolean
  /** The last lines it printed, for error messages. */
  logTail(): string
  /** Signals the whole process group; SIGKILL after graceMs; resolves when gone. */
  kill(signal: NodeJS.Signals, graceMs: number): Promise<void>
}

/**
 * A detached `sh` blocked reading a pipe from this process: when this process dies for any reason (even
 * SIGKILL, where no 'exit' hook runs) the pipe closes, `read` returns and the script kills the server's
 * process group (`$1`) and cleans up after it. On a normal stop the watchdog itself is killed.
 */
export interface Watchdog {
  /** The shell script; `$1` is the process group, the rest are `args`. */
  script: string
  /** Its `$0`, as `ps` shows it. */
  name: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

export interface SpawnServerOptions {
  /** The environment it runs with (callers strip what the server would misread, such as AWS_*). */
  env: NodeJS.ProcessEnv
  cwd?: string
  watchdog?: Watchdog
}

/** Every live server process group, killed on process exit as a last resort. */
const liveGroups = new Set<number>()
const exitCleanups = new Set<() => void>()
let exitHookInstalled = false

/** Runs `cleanup` (synchronously) when this process exits, after every live server is killed. */
export function onProcessExit (cleanup: () => void): void {
  exitCleanups.add(cleanup)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const pgid of liveGroups) try { process.kill(-pgid, 'SIGKILL') } catch {}
    for (const fn of exitCleanups) try { fn() } catch {}
  })
}

/** A copy of this process's environment without the variables matching `drop`. */
export function envWithout (drop: RegExp, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (drop.test(key)) delete env[key]
  return { ...env, ...extra }
}

/** A free TCP port on `host`, by listening on port 0 and closing again. */
export async function freePort (host: string): Promise<number> {
  const [port] = await freePorts(host, 1)
  return port as number
}

/** `count` distinct free ports, all held at once so the kernel cannot hand out the same one twice. */
export async function freePorts (host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, host, () => resolve(server))
  })))
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

export function spawnServer (bin: string, args: string[], options: SpawnServerOptions): ServerProcess {
  const child = spawn(bin, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let partial = ''
  const debug = process.env.LOCAL_S3_DEBUG === '1'
  const onData = (chunk: Buffer): void => {
    if (debug) process.stderr.write(chunk)
    const parts = (partial + chunk.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) if (line.trim() !== '') lines.push(line)
    if (lines.length > LOG_TAIL_LINES * 2) lines.splice(0, lines.length - LOG_TAIL_LINES)
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  // Do not keep the event loop alive for the server: stop() or the exit hooks end it.
  child.unref()
  ;(child.stdout as net.Socket | null)?.unref?.()
  ;(child.stderr as net.Socket | null)?.unref?.()

  let exited = false
  let spawnError: Error | undefined
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; resolve() })
    child.once('error', (err) => { spawnError = err; exited = true; resolve() })
  })
  const pgid = child.pid
  if (pgid !== undefined) {
    liveGroups.add(pgid)
    const watchdog = options.watchdog === undefined ? undefined : startWatchdog(pgid, options.watchdog)
    child.once('exit', () => {
      liveGroups.delete(pgid)
      watchdog?.kill('SIGKILL') // not needed any more (and must not clean up after a normal stop)
    })
  }

  return {
    child,
    exited: exitedPromise,
    hasExited: () => exited,
    logTail: () => [
      ...(spawnError ? [`spawn error: ${spawnError.message}`] : []),
      ...lines.slice(-LOG_TAIL_LINES),
      ...(partial ? [partial] : [])
    ].join('\n'),
    async kill (signal, graceMs) {
      if (exited || pgid === undefined) return exitedPromise
      child.ref() // keep the event loop alive until the 'exit' event
      try { process.kill(-pgid, signal) } catch {}
      if (signal !== 'SIGKILL') {
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, graceMs, 'timeout') })
        const winner = await Promise.race([exitedPromise, timeout])
        clearTimeout(timer) // a pending timer would keep this process alive
        if (winner === 'timeout' && !exited) {
          try { process.kill(-pgid, 'SIGKILL') } catch {}
        }
      }
      return exitedPromise
    }
  }
}

function startWatchdog (pgid: number, watchdog: Watchdog): ChildProcess | undefined {
  try {
    const wd = spawn('sh', ['-c', watchdog.script, watchdog.name, String(pgid), ...watchdog.args], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH, ...watchdog.env }
    })
    wd.on('error', () => {}) // no sh: the exit hook still covers normal exits
    wd.stdin?.on('error', () => {})
    wd.unref()
    ;(wd.stdin as net.Socket | null)?.unref?.()
    return wd
  } catch {
    return undefined
  }
}
