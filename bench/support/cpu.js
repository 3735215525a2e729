// CPU time of processes, to explain throughput figures on a small machine: which process burnt the cores.
// Linux only (/proc); elsewhere every figure is undefined and the benchmarks print none.
import { readdirSync, readFileSync } from 'node:fs'
import { ask } from './child.js'

const TICK_MS = 10 // USER_HZ is 100 on every Linux we run on

/** User + system CPU milliseconds a process has used so far, or undefined. */
export function processCpuMs (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

/** The pid of the first process whose command line contains `text`, or undefined. */
export function findPid (text) {
  let entries
  try {
    entries = readdirSync('/proc')
  } catch {
    return undefined
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text)) return Number(entry)
    } catch {}
  }
  return undefined
}

/**
 * CPU milliseconds used so far by the client (this process), a server child (see child.js, which answers
 * { type: 'cpu' }) and the S3 server's process (undefined off Linux).
 */
export async function cpuNow (server, s3Pid) {
  const { cpu } = await ask(server, 'cpu')
  const own = process.cpuUsage()
  return { client: (own.user + own.system) / 1000, app: (cpu.user + cpu.system) / 1000, s3: s3Pid === undefined ? undefined : processCpuMs(s3Pid) }
}

/** The S3 server's pid, found by its S3 port on the command line (`weed mini -s3.port=...`). */
export function s3ServerPid (s3) {
  // The trailing space: port 4329 must not match -s3.port=43295 (arguments are joined by spaces).
  return findPid(`-s3.port=${new URL(s3.endpoint).port} `)
}

/** Collects per-variant CPU milliseconds per GiB moved; `median()` gives { client, app, s3 } per variant. */
export class CpuTally {
  constructor (variants) {
    this.samples = Object.fromEntries(variants.map((v) => [v, { client: [], app: [], s3: [] }]))
  }

  add (variant, before, after, bytes) {
    for (const p of ['client', 'app', 's3']) {
      if (after[p] !== undefined && before[p] !== undefined) this.samples[variant][p].push((after[p] - before[p]) * (2 ** 30 / bytes))
    }
  }

  medians (median) {
    return Object.fromEntries(Object.entries(this.samples).map(([v, byProcess]) => [
      v,
      Object.fromEntries(Object.entries(byProcess).filter(([, list]) => list.length > 0).map(([p, list]) => [p, Math.round(median(list))]))
    ]))
  }

  /** Lines "CPU ms per GiB, <variant>: client a, app b, S3 server c; total" (none without S3 figures). */
  lines (median) {
    const med = this.medians(median)
    return Object.entries(med)
      .filter(([, c]) => c.s3 !== undefined)
      .map(([v, c]) => `CPU ms per GiB, ${v.padEnd(6)}: client ${c.client}, app ${c.app}, S3 server ${c.s3}; total ${c.client + c.app + c.s3}`)
  }
}
