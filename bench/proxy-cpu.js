// What a proxied download costs the proxy, and what the redirect mode gives back: CPU milliseconds per GiB
// of the process in the middle, and MB/s at the client, for the same object on a real local SeaweedFS.
//
// Variants, taking turns round after round (rotated order), after one warm-up download each:
// - direct:   the presigned GET straight from S3 (no process in the middle)
// - redirect: `GET /<ns>/files/<key>` on a `downloadMode: 'redirect'` namespace, then its Location
//             (authorize, audit, one HeadObject and a signature in the app; the bytes from S3)
// - route:    `GET /<ns>/files/<key>` on a proxying namespace (the default): the app streams from S3
// - pipe:     a bare node:http proxy of the presigned URL in the same app process (no Fastify reply, no
//             SDK): what any Node proxy pays
// - nginx:    Debian's nginx (when installed), one worker, `proxy_pass` of the same presigned URL with
//             `proxy_buffering off`: what a native proxy pays
//
// Ratios: route/pipe of the app's CPU ms per GiB (target <= 1.1), route/pipe MB/s (>= 0.95), redirect/direct
// MB/s (>= 0.95), and route/nginx CPU (informational). Medians of the rounds; the 95% interval of the
// paired per-round ratios.
//
// Env knobs: BENCH_PROXY_MIB (256), BENCH_PROXY_ROUNDS (else BENCH_ROUNDS, else 4).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild, stopChild } from './support/child.js'
import { cpuNow, processCpuMs, s3ServerPid } from './support/cpu.js'
import { pluginApp, startBenchS3, s3PluginOptions } from './support/local-s3.js'
import { median, pairedInterval, printResult, rotations, round } from './support/stats.js'
import { MiB, download, mbPerSecond, putObject } from './support/transfer.js'

const SIZE_MIB = Number(process.env.BENCH_PROXY_MIB ?? 256)
const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? process.env.BENCH_ROUNDS ?? 4)
const BUCKET = 'bench'
const KEY = 'proxy/object.bin'
const SIZE = SIZE_MIB * MiB
const serverPath = fileURLToPath(new URL('./support/browse-server.js', import.meta.url))

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for nginx to take). */
async function freePort () {
  const server = http.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Starts nginx with a generated config in a temp dir, proxying everything to `upstream`; or undefined. */
async function startNginx (upstream) {
  if (spawnSync('nginx', ['-v']).error !== undefined) return undefined
  const dir = mkdtempSync(join(tmpdir(), 's3s-nginx-'))
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream s3 { server ${new URL(upstream).host}; keepalive 4; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://s3;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The signature covers the Host header: S3's own.
      proxy_set_header Host ${new URL(upstream).host};
      proxy_buffering off;
    }
  }
}
`)
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' })
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    try {
      const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8'))
      if (master > 0) return { child, dir, port, master, origin: `http://127.0.0.1:${port}` }
    } catch {}
  }
  child.kill()
  return undefined
}

/** CPU ms of nginx's master and workers (its children). */
function nginxCpuMs (nginx) {
  let total = processCpuMs(nginx.master) ?? 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === nginx.master) total += processCpuMs(Number(entry)) ?? 0
    } catch {}
  }
  return total
}

/** GETs a URL that answers 302, then its Location; the time covers both. */
async function followRedirect (url) {
  const start = performance.now()
  const location = await new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume()
      if (res.statusCode !== 302) reject(new Error(`GET ${url} answered ${res.statusCode}, not 302`))
      else resolve(res.headers.location)
    }).once('error', reject)
  })
  const { bytes } = await download(location, SIZE)
  return { bytes, ms: performance.now() - start }
}

async function main () {
  let s3
  let app
  let server
  let nginx
  try {
    s3 = await startBenchS3([BUCKET])
    app = await pluginApp(s3, BUCKET)
    const ops = app.storage.operations()
    await putObject(await ops.getUploadLink(KEY, 60), SIZE)
    server = await startChild(serverPath, [JSON.stringify(s3PluginOptions(s3, BUCKET, { namespaces: { proxy: {}, redirect: { downloadMode: 'redirect' } } })), 'pipe'])
    const signed = await ops.getDownloadLink(KEY, 60)
    nginx = await startNginx(s3.endpoint)
    const s3Pid = s3ServerPid(s3)
    const signedUrl = new URL(signed)
    const runs = {
      direct: async () => await download(signed, SIZE),
      redirect: async () => await followRedirect(`${server.origin}/redirect/files/${KEY}`),
      route: async () => await download(`${server.origin}/proxy/files/${KEY}`, SIZE),
      pipe: async () => await download(`${server.origin}/_bench/pipe?url=${encodeURIComponent(signed)}`, SIZE)
    }
    if (nginx !== undefined) runs.nginx = async () => await download(nginx.origin + signedUrl.pathname + signedUrl.search, SIZE)
    else console.log('  nginx not installed: its variant is skipped')
    const variants = Object.keys(runs)
    console.log(`proxy-cpu: ${SIZE_MIB} MiB object, ${ROUNDS} rounds x ${variants.length} variants (${variants.join(', ')}) after one warm-up each`)
    for (const v of variants) await runs[v]()

    const rate = Object.fromEntries(variants.map((v) => [v, []]))
    // CPU ms per GiB of the process in the middle (the app for redirect/route/pipe, nginx for nginx), and S3's.
    const middle = Object.fromEntries(variants.map((v) => [v, []]))
    const s3Cpu = Object.fromEntries(variants.map((v) => [v, []]))
    const paired = { cpu: [], rate: [], redirect: [], nginx: [] }
    const perGiB = 2 ** 30 / SIZE
    for (const [i, order] of rotations(variants, ROUNDS).entries()) {
      const row = {}
      const cpuRow = {}
      for (const v of order) {
        const before = await cpuNow(server, s3Pid)
        const nginxBefore = nginx === undefined ? 0 : nginxCpuMs(nginx)
        const { ms } = await runs[v]()
        const after = await cpuNow(server, s3Pid)
        const nginxAfter = nginx === undefined ? 0 : nginxCpuMs(nginx)
        row[v] = mbPerSecond(SIZE, ms)
        rate[v].push(row[v])
        cpuRow[v] = (v === 'nginx' ? nginxAfter - nginxBefore : after.app - before.app) * perGiB
        middle[v].push(cpuRow[v])
        if (after.s3 !== undefined) s3Cpu[v].push((after.s3 - before.s3) * perGiB)
      }
      paired.cpu.push(cpuRow.route / cpuRow.pipe)
      paired.rate.push(row.route / row.pipe)
      paired.redirect.push(row.redirect / row.direct)
      if (nginx !== undefined) paired.nginx.push(cpuRow.route / cpuRow.nginx)
      console.log(`  round ${i + 1}: ${variants.map((v) => `${v} ${Math.round(row[v])} MB/s ${Math.round(cpuRow[v])} ms/GiB`).join(', ')}`)
    }
    const med = (table) => Object.fromEntries(Object.entries(table).filter(([, l]) => l.length > 0).map(([v, l]) => [v, median(l)]))
    const mbs = med(rate)
    const cpu = med(middle)
    const s3Med = med(s3Cpu)
    for (const v of variants) console.log(`  ${v.padEnd(8)} ${Math.round(mbs[v])} MB/s; CPU ms per GiB: middle ${Math.round(cpu[v])}, S3 server ${Math.round(s3Med[v] ?? NaN)}`)
    const ci = (list) => { const c = pairedInterval(list); return [round(c.low), round(c.high)] }
    const common = { rounds: ROUNDS, sizeMiB: SIZE_MIB }
    const cpuRatio = cpu.route / cpu.pipe
    printResult({
      name: 'proxy-cpu-route-vs-pipe',
      description: `app CPU ms per GiB proxied, browse route / bare node:http pipe, ${SIZE_MIB} MiB (lower is better)`,
      ratio: round(cpuRatio),
      target: '<= 1.1',
      met: cpuRatio <= 1.1,
      medians: { route: Math.round(cpu.route), pipe: Math.round(cpu.pipe), ...(cpu.nginx === undefined ? {} : { nginx: Math.round(cpu.nginx) }) },
      unit: 'CPU ms/GiB',
      ci: ci(paired.cpu),
      ...common
    })
    printResult({
      name: 'proxy-rate-route-vs-pipe',
      description: 'MB/s through the browse route / through the bare pipe',
      ratio: round(mbs.route / mbs.pipe),
      target: 0.95,
      medians: { route: Math.round(mbs.route), pipe: Math.round(mbs.pipe) },
      unit: 'MB/s',
      ci: ci(paired.rate),
      ...common
    })
    printResult({
      name: 'redirect-vs-direct',
      description: 'MB/s of a downloadMode: redirect download (302, then S3) / the presigned GET straight from S3',
      ratio: round(mbs.redirect / mbs.direct),
      target: 0.95,
      medians: { redirect: Math.round(mbs.redirect), direct: Math.round(mbs.direct) },
      unit: 'MB/s',
      ci: ci(paired.redirect),
      ...common
    })
    if (nginx !== undefined) {
      printResult({
        name: 'proxy-cpu-route-vs-nginx',
        description: 'app CPU ms per GiB proxied / nginx\'s (one worker, proxy_buffering off), informational',
        ratio: round(cpu.route / cpu.nginx),
        target: null,
        medians: { route: Math.round(cpu.route), nginx: Math.round(cpu.nginx), nginxMBs: Math.round(mbs.nginx) },
        unit: 'CPU ms/GiB',
        ci: ci(paired.nginx),
        ...common
      })
    }
  } finally {
    if (nginx !== undefined) {
      nginx.child.kill('SIGTERM')
      await new Promise((resolve) => nginx.child.once('exit', resolve))
      rmSync(nginx.dir, { recursive: true, force: true })
    }
    await stopChild(server)
    await app?.close()
    await s3?.stop()
  }
}

await main()
