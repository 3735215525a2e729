// The client side of the I/O benchmarks: plain node:http, bytes counted and thrown away on the way in,
// and on the way out written from one reused buffer with backpressure, so the client costs as little CPU
// as possible and costs the same whichever side it talks to.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { performance } from 'node:perf_hooks'

export const MiB = 1024 * 1024

// No keep-alive: every transfer opens its own connection, on both sides alike.
const agent = new http.Agent({ keepAlive: false })

/** A reused block of random bytes (incompressible, not all zeros). */
export const randomBlock = randomBytes(MiB)

/** Bytes per second as MB/s (10^6 bytes). */
export const mbPerSecond = (bytes, ms) => bytes / 1e6 / (ms / 1000)

/** Reads a response to the end, discarding it; resolves with its length. */
function drain (res) {
  return new Promise((resolve, reject) => {
    let bytes = 0
    res.on('data', (chunk) => { bytes += chunk.length })
    res.once('end', () => resolve(bytes))
    res.once('error', reject)
  })
}

/** Reads a response's body as text (small answers only). */
async function text (res) {
  const parts = []
  for await (const chunk of res) parts.push(chunk)
  return Buffer.concat(parts).toString('utf8')
}

/**
 * GETs `url` and discards the body. Resolves with { status, bytes, ms } (time from the request to the
 * last byte); throws unless the answer is 200 with `expectedBytes` bytes.
 */
export function download (url, expectedBytes) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.get(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        text(res).then((body) => reject(new Error(`GET ${url} answered ${res.statusCode}: ${body.slice(0, 300)}`)), reject)
        return
      }
      drain(res).then((bytes) => {
        const ms = performance.now() - start
        if (bytes !== expectedBytes) reject(new Error(`GET ${url}: ${bytes} bytes, expected ${expectedBytes}`))
        else resolve({ status: res.statusCode, bytes, ms })
      }, reject)
    })
    req.once('error', reject)
  })
}

/** Writes `size` bytes of the random block to `req` with backpressure, between `head` and `tail`. */
function writeBody (req, size, head, tail) {
  let sent = 0
  const write = () => {
    while (sent < size) {
      const piece = sent + MiB <= size ? randomBlock : randomBlock.subarray(0, size - sent)
      sent += piece.length
      if (!req.write(piece)) {
        req.once('drain', write)
        return
      }
    }
    req.end(tail)
  }
  if (head !== undefined) req.write(head)
  write()
}

/**
 * Sends `size` bytes as the body of a request; resolves with { status, body, ms } (time from the request
 * to the end of the answer, so it includes whatever the server does before answering).
 */
function send (url, { method, headers, size, head, tail }) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const length = size + (head?.length ?? 0) + (tail?.length ?? 0)
    const req = http.request(url, { method, agent, headers: { ...headers, 'content-length': length } }, (res) => {
      text(res).then((body) => resolve({ status: res.statusCode, body, ms: performance.now() - start }), reject)
    })
    req.once('error', reject)
    writeBody(req, size, head, tail)
  })
}

/** PUTs `size` bytes to a presigned URL (whose signed Content-Type is application/octet-stream). */
export async function putObject (url, size) {
  const result = await send(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, size })
  if (result.status !== 200) throw new Error(`PUT answered ${result.status}: ${result.body.slice(0, 300)}`)
  return result
}

/**
 * POSTs one file of `size` bytes as multipart/form-data to a browse folder URL, as a script would
 * (`X-Requested-With`, JSON answer); throws unless it was stored whole (201 with the right size).
 */
export async function postFile (url, filename, size) {
  const boundary = `----bench${randomBytes(12).toString('hex')}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-requested-with': 'bench', accept: 'application/json' }
  const result = await send(url, { method: 'POST', headers, size, head, tail })
  let stored
  try {
    stored = JSON.parse(result.body).files?.[0]
  } catch {}
  if (result.status !== 201 || stored?.statusCode !== 201 || stored.size !== size) {
    throw new Error(`POST ${url} answered ${result.status}: ${result.body.slice(0, 300)}`)
  }
  return result
}
