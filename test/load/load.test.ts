// Load: concurrent clients uploading and downloading 1-8 MiB files through the browse routes of two app
// instances sharing one bucket, every byte checked with SHA-256. Bounded in count and time.
// `npm test` runs it small; `npm run test:load` runs it at 64 clients (LOAD_CLIENTS, LOAD_FILES_PER_CLIENT).
import t from 'tap'
import { request, Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { bucketName, buildApp, postFile, profileFor, startS3 } from '../helper.js'

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 12)
const FILES_PER_CLIENT = Number(process.env.LOAD_FILES_PER_CLIENT ?? 2)
const MiB = 1024 * 1024

const s3 = await startS3(t)
const bucket = bucketName('load')
await s3.createBucket(bucket)

async function instance (): Promise<{ app: FastifyInstance, port: number }> {
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: { namespaces: { load: { basePath: 'load', overwrite: true } } }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

const a = await instance()
const b = await instance()
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS * 2 })
t.teardown(() => agent.destroy())
const source = randomBytes(9 * MiB)

async function upload (port: number, name: string, body: Buffer): Promise<number> {
  const res = await postFile({ port, path: '/load/files/', filename: name, body, agent })
  if (res === 'aborted') throw new Error('upload connection dropped')
  return res.status
}

function downloadHash (port: number, name: string): Promise<{ status: number, sha256: string, bytes: number }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/load/files/${name}`, agent }, (res) => {
      const hash = createHash('sha256')
      let bytes = 0
      res.on('data', (c: Buffer) => { hash.update(c); bytes += c.length })
      res.on('end', () => resolve({ status: res.statusCode!, sha256: hash.digest('hex'), bytes }))
      res.on('error', reject)
    }).on('error', reject).end()
  })
}

t.test(`${CLIENTS} clients × ${FILES_PER_CLIENT} files of 1-8 MiB through two instances on one bucket`, { timeout: 600_000 }, async (t) => {
  const rssBefore = process.memoryUsage().rss
  let peakRss = rssBefore
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 100)
  let errors = 0
  let mismatches = 0
  let bytes = 0
  const started = Date.now()
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let i = 0; i < FILES_PER_CLIENT; i++) {
      const size = (1 + ((client * 7 + i * 3) % 8)) * MiB - client - i
      const offset = (client * 131 + i * 17) % MiB
      const body = source.subarray(offset, offset + size)
      const expected = createHash('sha256').update(body).digest('hex')
      const name = `c${client}-f${i}.bin`
      // Upload through one instance, read back through the other: they share nothing but the bucket.
      const [up, down] = client % 2 === 0 ? [a.port, b.port] : [b.port, a.port]
      try {
        const status = await upload(up, name, body)
        if (status !== 201) { errors++; continue }
        const got = await downloadHash(down, name)
        if (got.status !== 200) errors++
        else if (got.sha256 !== expected || got.bytes !== size) mismatches++
        bytes += size * 2
      } catch {
        errors++
      }
    }
  }))
  clearInterval(sampler)
  const seconds = (Date.now() - started) / 1000
  const growth = (peakRss - rssBefore) / MiB
  t.comment(`load: ${CLIENTS * FILES_PER_CLIENT} files, ${(bytes / MiB).toFixed(0)} MiB moved in ${seconds.toFixed(1)} s ` +
    `(${(bytes / MiB / seconds).toFixed(1)} MiB/s), ${errors} errors, ${mismatches} mismatches, peak RSS +${growth.toFixed(0)} MiB`)
  t.equal(errors, 0, '0 errors')
  t.equal(mismatches, 0, '0 SHA-256 mismatches')
  // Each upload holds at most lib-storage's queue (4 × 8 MiB) in flight; the client's own buffers count too.
  t.ok(growth < 64 + CLIENTS * 16, `RSS bounded (+${growth.toFixed(0)} MiB for ${CLIENTS} concurrent clients)`)
  const listing = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: b.port, path: '/load/files/?format=json', agent }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve(text))
    }).on('error', reject).end()
  })
  t.equal(JSON.parse(listing).files.length, Math.min(CLIENTS * FILES_PER_CLIENT, 100), 'the second instance lists what the first stored (no cache: nothing stale)')
})
