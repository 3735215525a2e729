// The real @uppy/core + @uppy/aws-s3 (6.x, from npm, bundled with esbuild for a small test page: no CDN) in
// Chromium, pointed at a browse namespace's Companion routes (`companionEndpoint`): a 20 MiB file goes
// straight to S3 in 5 MiB parts, in parallel; a small one as one presigned POST. The stored objects'
// SHA-256 match what the page sent.
import t from 'tap'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import * as esbuild from 'esbuild'
import { uploadRule } from '../src/index.js'
import { hasChromium, launchBrowser } from './browser.js'
import { bucketName, buildApp, profileFor, readAll, s3Client, startS3 } from './helper.js'

if (!hasChromium()) t.fail('chromium is missing: .ci/run installs it with apt-get install chromium')

const MiB = 1024 ** 2
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('uppy')
await s3.createBucket(bucket)

const bundle = await esbuild.build({
  stdin: { contents: "import Uppy from '@uppy/core'; import AwsS3 from '@uppy/aws-s3'; globalThis.Uppy = Uppy; globalThis.AwsS3 = AwsS3", resolveDir: import.meta.dirname },
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'silent'
})
const uppyJs = bundle.outputFiles[0].text

const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket, { prefix: 'site' }) },
  browse: { namespaces: { docs: { uploadMode: 'presign', basePath: 'docs/' } }, authenticate: () => 'uppy-user' }
})
// The test page: the bundle, and a script that uploads what it is given and reports Uppy's result.
app.get('/uppy.js', async (_req, reply) => reply.type('text/javascript').send(uppyJs))
app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>uppy</title><script src="/uppy.js"></script>'))
await app.listen({ port: 0, host: '127.0.0.1' })
const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
// What a deployment sets on its bucket: PUT/POST from the page's origin, ETag exposed (Uppy reads each part's).
await app.storage.operations().setBucketCors([uploadRule(origin)])

async function storedSha256 (key: string): Promise<string> {
  const got = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return createHash('sha256').update(await readAll(got.Body as AsyncIterable<Uint8Array>)).digest('hex')
}

t.test('Uppy uploads a 20 MiB file in 5 MiB parts and a small one with a POST, through the Companion routes', async (t) => {
  const { context } = await launchBrowser(t)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  const partPuts: string[] = []
  page.on('request', (r) => {
    if (r.method() === 'PUT' && r.url().startsWith(s3.endpoint) && r.url().includes('partNumber=')) partPuts.push(new URL(r.url()).searchParams.get('partNumber') ?? '')
  })
  await page.goto(origin + '/')
  type Outcome = { successful: Array<{ name: string, key?: string, location?: string }>, failed: Array<{ name: string, error: string }>, sha: Record<string, string> }
  const result: Outcome = await page.evaluate(async ({ endpoint, MiB }) => {
    const g = globalThis as any
    // Random bytes, made in the page; their SHA-256 is computed here too.
    const blobOf = (size: number): Blob => {
      const chunks = []
      for (let left = size; left > 0; left -= 65536) chunks.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, left))))
      return new Blob(chunks)
    }
    const hex = async (blob: Blob): Promise<string> => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, '0')).join('')
    const big = blobOf(20 * MiB)
    const small = blobOf(100 * 1024)
    const uppy = new g.Uppy({ autoProceed: false })
    uppy.use(g.AwsS3, { companionEndpoint: endpoint, shouldUseMultipart: (file: { size: number }) => file.size > 10 * MiB, getChunkSize: () => 5 * MiB, limit: 4 })
    uppy.addFile({ name: 'big.bin', type: 'application/octet-stream', data: big })
    uppy.addFile({ name: 'small.bin', type: 'application/octet-stream', data: small })
    const done = await uppy.upload()
    return {
      successful: done.successful.map((f: any) => ({ name: f.name, key: f.response?.body?.key, location: f.response?.body?.location })),
      failed: done.failed.map((f: any) => ({ name: f.name, error: String(f.error) })),
      sha: { 'big.bin': await hex(big), 'small.bin': await hex(small) }
    }
  }, { endpoint: `${origin}/docs`, MiB })
  t.same(result.failed, [], 'nothing failed')
  t.same(result.successful.map((f: { name: string }) => f.name).sort(), ['big.bin', 'small.bin'])
  const big = result.successful.find((f: { name: string }) => f.name === 'big.bin')!
  t.equal(big.key, 'site/docs/big.bin')
  t.equal(big.location, '/docs/files/big.bin', 'the location the completion answered')
  t.same(partPuts.sort(), ['1', '2', '3', '4'], 'four part PUTs straight to S3')
  t.equal(await storedSha256('site/docs/big.bin'), result.sha['big.bin'], 'the multipart object is the bytes the page sent')
  t.equal(await storedSha256('site/docs/small.bin'), result.sha['small.bin'], 'the POSTed object too')
  const open = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'site/' }))
  t.same(open.Uploads ?? [], [], 'no multipart upload left open')
  t.same(errors, [], 'no page errors')
})
