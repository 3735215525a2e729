// Streaming through the browse routes on a real listening socket: a 200 MiB upload with bounded memory,
// a client that aborts an upload (nothing left in S3), and one that aborts a download (the S3 read stops).
import t from 'tap'
import { request, type Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { bucketName, buildApp, postFile, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('stream')
await s3.createBucket(bucket)
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: { namespaces: { big: { basePath: 'big', overwrite: true } } }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const port = (app.server.address() as AddressInfo).port
const MiB = 1024 * 1024
const chunk = randomBytes(MiB)

function post (name: string, size: number, { abortAfter }: { abortAfter?: number } = {}): ReturnType<typeof postFile> {
  return postFile({ port, path: '/big/files/', filename: name, body: { size, chunk }, during: (sent) => abortAfter !== undefined && sent >= abortAfter ? 'stop' : undefined })
}

async function openUploads (): Promise<number> {
  return ((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'big/' }))).Uploads ?? []).length
}

async function headSize (key: string): Promise<number | undefined> {
  try {
    return (await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength
  } catch {
    return undefined
  }
}

t.test('a 200 MiB upload streams through with bounded memory', async (t) => {
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  const res = await post('200mib.bin', 200 * MiB)
  clearInterval(sampler)
  t.not(res, 'aborted')
  if (res === 'aborted') return
  t.equal(res.status, 201, res.body)
  t.equal(await headSize('big/200mib.bin'), 200 * MiB)
  const growth = (peak - before) / MiB
  t.ok(growth < 128, `RSS grew by ${growth.toFixed(1)} MiB (< 128 MiB; the benchmark holds the tight figure)`)
})

t.test('a client that aborts mid-upload leaves no object and no open multipart upload', async (t) => {
  const res = await post('aborted.bin', 100 * MiB, { abortAfter: 30 * MiB })
  t.equal(res, 'aborted')
  // The route notices the abort, lib-storage aborts its multipart upload.
  let open = await openUploads()
  for (let i = 0; i < 50 && open > 0; i++) { await sleep(100); open = await openUploads() }
  t.equal(open, 0, 'no open multipart upload')
  t.equal(await headSize('big/aborted.bin'), undefined, 'no object')
  const listing = await app.inject({ url: '/big/files/', headers: { accept: 'application/json' } })
  t.notOk(listing.json().files.some((f: { name: string }) => f.name === 'aborted.bin'), 'the listing shows nothing left')
  const after = await app.inject({ url: '/big/files/', headers: { accept: 'application/json' } })
  t.equal(after.statusCode, 200, 'the app keeps serving')
})

t.test('a client that goes away mid-download stops the S3 read', async (t) => {
  await app.storage.operations().uploadFile(Buffer.alloc(64 * MiB, 7), 'big/download.bin', { preserveFilename: true })
  const handler = app.storage.profile().client.config.requestHandler as unknown as { config?: { httpAgent?: Agent } }
  const inUse = (): number => Object.values(handler.config?.httpAgent?.sockets ?? {}).reduce((n, list) => n + (list?.length ?? 0), 0)
  let received = 0
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/big/files/download.bin' }, (res) => {
      t.equal(res.statusCode, 200)
      res.on('data', (c: Buffer) => {
        received += c.length
        if (received > MiB) { req.destroy(); resolve() }
      })
    })
    req.on('error', () => resolve())
    req.on('close', () => resolve())
    req.end()
    setTimeout(() => reject(new Error('download never started')), 10_000).unref()
  })
  t.ok(received < 64 * MiB, 'the client read only part of it')
  let busy = inUse()
  for (let i = 0; i < 50 && busy > 0; i++) { await sleep(100); busy = inUse() }
  t.equal(busy, 0, 'no S3 socket is left reading for nobody')
  const res = await app.inject({ url: '/big/files/download.bin', headers: { range: 'bytes=0-3' } })
  t.equal(res.statusCode, 206, 'the app keeps serving')
})
