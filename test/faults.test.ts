// Faults on a real listening socket: the S3 server killed mid-download and mid-upload, S3 unreachable,
// S3 slow past a timeout, and clients that go away. The app must stay up, answer with clear 5xx codes,
// leave nothing behind, and work again once S3 is back.
import t from 'tap'
import { request, type Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import { startS3, s3Client, freshBucket, buildApp, objectExists as exists, postFile } from './helper.js'
import { startFaultProxy } from './fault-proxy.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = await freshBucket(s3, 'faults')
const MiB = 1024 * 1024
const chunk = randomBytes(MiB)
const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

async function listening (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

function get (port: number, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { accept: 'application/json' } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }))
      res.on('error', reject)
    }).on('error', reject).end()
  })
}

function post (port: number, name: string, size: number, during?: (sent: number) => void | 'stop'): ReturnType<typeof postFile> {
  return postFile({ port, path: '/ns/files/', filename: name, body: { size, chunk }, during })
}

async function openUploads (prefix: string): Promise<number> {
  return ((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? []).length
}

async function objectExists (key: string): Promise<boolean> {
  return await exists(raw, bucket, key)
}

async function until (what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await what()) return true
    await sleep(250)
  }
  return await what()
}

t.test('S3 unreachable: 503 at once, the app stays up, and recovers when S3 is back', async (t) => {
  const proxy = await startFaultProxy(s3.endpoint)
  t.teardown(() => proxy.close())
  const app = await buildApp(t, {
    profiles: { main: { bucket, endpoint: proxy.endpoint, credentials, clientConfig: { maxAttempts: 2 } } },
    browse: { namespaces: { ns: { basePath: 'down' } } }
  })
  await app.storage.operations().uploadFile('x', 'down/a.txt', { preserveFilename: true })
  const port = await listening(app)
  await proxy.cut()
  const listing = await get(port, '/ns/files/')
  t.equal(listing.status, 503)
  t.equal(JSON.parse(listing.body).code, 'FST_S3S_S3_UNAVAILABLE')
  const download = await get(port, '/ns/files/a.txt')
  t.equal(download.status, 503)
  await proxy.restore()
  t.equal((await get(port, '/ns/files/a.txt')).body, 'x', 'works again')
})

t.test('slow S3 past the configured timeout is a 504, not a hang', async (t) => {
  const proxy = await startFaultProxy(s3.endpoint)
  t.teardown(() => proxy.close())
  const app = await buildApp(t, {
    profiles: { main: { bucket, endpoint: proxy.endpoint, credentials, timeouts: { requestMs: 500 }, clientConfig: { maxAttempts: 1 } } },
    browse: { namespaces: { ns: { basePath: 'slow' } } }
  })
  await app.storage.operations().uploadFile('slow', 'slow/a.txt', { preserveFilename: true })
  const port = await listening(app)
  proxy.setDelay(2000)
  const started = Date.now()
  const res = await get(port, '/ns/files/')
  t.equal(res.status, 504)
  t.equal(JSON.parse(res.body).code, 'FST_S3S_S3_TIMEOUT')
  t.ok(Date.now() - started < 1900, 'answered at the timeout, not after the delay')
  proxy.setDelay(0)
  t.equal((await get(port, '/ns/files/a.txt')).body, 'slow', 'fast again, fine again')
})

t.test('the S3 server killed mid-download: the response ends with an error, the app recovers', { skip: s3.server === undefined && 'needs the local server' }, async (t) => {
  const app = await buildApp(t, {
    profiles: { main: { bucket, endpoint: s3.endpoint, credentials } },
    browse: { namespaces: { ns: { basePath: 'kill' } } }
  })
  await app.storage.operations().uploadFile(Buffer.alloc(64 * MiB, 1), 'kill/big.bin', { preserveFilename: true })
  const port = await listening(app)
  let restarted: Promise<void> | undefined
  const outcome = await new Promise<string>((resolve) => {
    let received = 0
    request({ host: '127.0.0.1', port, path: '/ns/files/big.bin' }, (res) => {
      res.on('data', (c: Buffer) => {
        received += c.length
        if (restarted === undefined && received > MiB) {
          res.pause()
          restarted = s3.server!.restart!({ crash: true })
          setTimeout(() => res.resume(), 500)
        }
      })
      res.on('end', () => resolve(received === 64 * MiB ? 'complete' : 'short'))
      res.on('aborted', () => resolve('aborted'))
      res.on('error', () => resolve('error'))
    }).on('error', () => resolve('error')).end()
  })
  t.not(outcome, 'complete', `the client sees the failure (${outcome})`)
  await restarted
  const again = await get(port, '/ns/files/')
  t.equal(again.status, 200, 'the app answers the next request')
  const head = await app.inject({ url: '/ns/files/big.bin', headers: { range: 'bytes=0-3' } })
  t.equal(head.statusCode, 206, 'downloads work again')
})

t.test('the S3 server killed mid-upload: 502/503, then no object and no open multipart upload', { skip: s3.server === undefined && 'needs the local server' }, async (t) => {
  const app = await buildApp(t, {
    profiles: { main: { bucket, endpoint: s3.endpoint, credentials, clientConfig: { maxAttempts: 2 } } },
    browse: { namespaces: { ns: { basePath: 'killup' } } }
  })
  const port = await listening(app)
  let restarted: Promise<void> | undefined
  const res = await post(port, 'big.bin', 80 * MiB, (sent) => {
    if (sent === 30 * MiB) restarted = s3.server!.restart!({ crash: true })
  })
  await restarted
  t.not(res, 'aborted')
  // versitygw is back within ~0.1 s, before the SDK's retry of the part in flight (maxAttempts: 2): then
  // the upload completes. SeaweedFS takes 1-3 s, longer than the retry: a 502/503 and nothing stored.
  const completed = res !== 'aborted' && res.status === 201
  if (res !== 'aborted' && !completed) {
    t.ok(res.status === 502 || res.status === 503, `a clear 502/503 (${res.status} ${res.body})`)
    t.match(JSON.parse(res.body).files[0].code, /^FST_S3S_S3_(UNAVAILABLE|ERROR)$/)
  }
  t.ok(await until(async () => (await openUploads('killup/')) === 0, 60_000), completed ? 'no multipart upload left open' : 'the multipart upload is aborted once S3 is back')
  if (completed) {
    const stored = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: 'killup/big.bin' }))
    const hash = createHash('sha256')
    for await (const piece of stored.Body as AsyncIterable<Uint8Array>) hash.update(piece)
    const expected = createHash('sha256')
    for (let i = 0; i < 80; i++) expected.update(chunk)
    t.equal(hash.digest('hex'), expected.digest('hex'), 'the S3 server was back before the retry: the stored object is complete and intact')
  } else {
    t.notOk(await objectExists('killup/big.bin'), 'no object')
  }
  t.equal((await get(port, '/ns/files/')).status, 200)
})

t.test('clients that go away leak no S3 sockets, no multipart uploads and no memory', async (t) => {
  const app = await buildApp(t, {
    profiles: { main: { bucket, endpoint: s3.endpoint, credentials } },
    browse: { namespaces: { ns: { basePath: 'leak' } } }
  })
  await app.storage.operations().uploadFile(Buffer.alloc(32 * MiB, 2), 'leak/d.bin', { preserveFilename: true })
  const port = await listening(app)
  const handler = app.storage.profile().client.config.requestHandler as unknown as { config?: { httpAgent?: Agent } }
  const busy = (): number => Object.values(handler.config?.httpAgent?.sockets ?? {}).reduce((n, list) => n + (list?.length ?? 0), 0)
  gc()
  const baseline = process.memoryUsage().heapUsed
  for (let i = 0; i < 5; i++) {
    t.equal(await post(port, `u${i}.bin`, 40 * MiB, (sent) => sent >= 12 * MiB ? 'stop' : undefined), 'aborted')
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/ns/files/d.bin' }, (res) => {
        res.once('data', () => { req.destroy(); resolve() })
      })
      req.on('error', () => resolve())
      req.end()
    })
  }
  t.ok(await until(async () => busy() === 0, 10_000), 'no S3 socket left busy')
  t.ok(await until(async () => (await openUploads('leak/')) === 0, 20_000), 'no open multipart upload')
  await sleep(500)
  gc()
  const growth = (process.memoryUsage().heapUsed - baseline) / MiB
  t.ok(growth < 32, `heap back near baseline (+${growth.toFixed(1)} MiB)`)
  t.equal((await get(port, '/ns/files/')).status, 200)
})
