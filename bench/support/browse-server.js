// The app with the plugin and its browse routes, in its own process (see child.js).
// Usage (forked): node [--expose-gc] bench/support/browse-server.js '<plugin options as JSON>' [pipe]
//
// With `pipe`, also `GET /_bench/pipe?url=<URL>`: a plain node:http proxy of that URL (no Fastify reply,
// no SDK), the floor any proxy in this process pays, for bench/download.js to compare the route with.
//
// Messages: { type: 'close' }; { type: 'cpu' } (replies with process.cpuUsage()); and for
// bench/upload-memory.js, { type: 'memory-start' } (collects garbage, takes the baseline, then samples
// process.memoryUsage() every BENCH_MEMORY_SAMPLE_MS, 20 ms) and { type: 'memory-stop' } (stops; replies
// with the baseline, the sample of highest RSS, each field's own highest value over all samples, and the
// usage at the end and after a last gc).
import http from 'node:http'
import { pipeline } from 'node:stream'
import Fastify from 'fastify'
import s3Storage from '../../dist/index.js'

const SAMPLE_MS = Number(process.env.BENCH_MEMORY_SAMPLE_MS ?? 20)
const options = JSON.parse(process.argv[2])

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
await app.register(s3Storage, options)
if (process.argv[3] === 'pipe') {
  app.get('/_bench/pipe', (req, reply) => {
    reply.hijack()
    const upstream = http.get(req.query.url, (res) => {
      const headers = { 'content-type': res.headers['content-type'] ?? 'application/octet-stream' }
      if (res.headers['content-length'] !== undefined) headers['content-length'] = res.headers['content-length']
      reply.raw.writeHead(res.statusCode, headers)
      pipeline(res, reply.raw, () => {})
    })
    upstream.once('error', () => reply.raw.destroy())
    reply.raw.once('close', () => upstream.destroy())
  })
}
await app.listen({ host: '127.0.0.1', port: 0 })

let sampler
let baseline
let peak
let highest
let samples = 0

function settle () {
  // Several passes: the first one frees objects whose finalizers free more (Buffers' backing stores).
  for (let i = 0; i < 3; i++) global.gc()
}

const handlers = {
  cpu () {
    return { cpu: process.cpuUsage() }
  },
  async close () {
    clearInterval(sampler)
    await app.close()
    process.disconnect()
  },
  'memory-start' () {
    if (typeof global.gc !== 'function') throw new Error('start the server with --expose-gc')
    settle()
    baseline = process.memoryUsage()
    peak = baseline
    highest = { ...baseline }
    samples = 0
    clearInterval(sampler)
    sampler = setInterval(() => {
      const now = process.memoryUsage()
      samples++
      if (now.rss > peak.rss) peak = now
      for (const field of Object.keys(highest)) highest[field] = Math.max(highest[field], now[field])
    }, SAMPLE_MS)
    return { baseline }
  },
  'memory-stop' () {
    clearInterval(sampler)
    const end = process.memoryUsage()
    if (end.rss > peak.rss) peak = end
    settle()
    return { baseline, peak, highest, end, afterGc: process.memoryUsage(), samples }
  }
}

process.on('message', async (message) => {
  const handler = handlers[message?.type]
  if (handler === undefined) return
  const result = await handler()
  if (message.type !== 'close') process.send({ reply: message.type, ...result })
})
process.send({ port: app.server.address().port })
// The parent went away without saying so: do not linger.
process.on('disconnect', () => process.exit(0))
