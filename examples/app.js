// The example app `npm start` runs: the plugin on a local S3 server (SeaweedFS, data under ./.data)
// unless S3_BUCKET / S3_ENDPOINT point at a real one. Until the browse UI lands it shows the operations:
// upload a file, list, download, get a link.
import Fastify from 'fastify'
import multipart from '@fastify/multipart'
import s3Storage from '../dist/index.js'
import { startLocalS3 } from '../dist/dev/local-s3.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

/** Profile options from the environment, or a local S3 server we start ourselves. */
async function storageProfile (log) {
  if (process.env.S3_BUCKET !== undefined || process.env.S3_ENDPOINT !== undefined) {
    const profile = {
      bucket: process.env.S3_BUCKET ?? 'demo',
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint: process.env.S3_ENDPOINT,
      prefix: process.env.S3_PREFIX
    }
    log.info({ bucket: profile.bucket, endpoint: profile.endpoint ?? 'AWS', region: profile.region }, 'using the S3 bucket from the environment (credentials from the AWS default chain)')
    return { profile, stop: async () => {} }
  }
  const s3 = await startLocalS3({
    dataDir: '.data',
    buckets: ['demo'],
    allowFallback: true,
    log: (msg) => log.info(msg)
  })
  log.info({ endpoint: s3.endpoint, server: s3.kind, data: s3.dataDir }, 'using a local S3 server')
  const profile = {
    bucket: 'demo',
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
  }
  return { profile, stop: () => s3.stop() }
}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
const { profile, stop } = await storageProfile(app.log)
app.addHook('onClose', async () => { await stop() })

await app.register(s3Storage, { profiles: { main: profile } })
await app.register(multipart, { limits: { fileSize: 1024 ** 3, files: 20 } })

await seed(app)

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

app.get('/', async (req, reply) => {
  const page = await req.storage.list({ location: 'samples', delimiter: '' })
  const rows = page.files.map((f) => {
    const href = `/download/${encodeURIComponent(f.name)}`
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(f.name)}</a> (${f.size} bytes)
      · <a href="/link/${escapeHtml(encodeURIComponent(f.name))}">presigned link</a></li>`
  }).join('\n')
  reply.type('text/html; charset=utf-8')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fastify-s3-storage</title>
<style>body{font:16px system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}li{margin:.3rem 0}</style></head>
<body><h1>fastify-s3-storage example</h1>
<p>Bucket <code>${escapeHtml(profile.bucket)}</code> at <code>${escapeHtml(profile.endpoint ?? 'AWS')}</code>, location <code>samples/</code>.</p>
<form method="post" action="/upload" enctype="multipart/form-data">
<input type="file" name="file" multiple required> <button>Upload</button></form>
<ul>${rows || '<li>No files yet.</li>'}</ul></body></html>`
})

// Streams each part straight into S3 (lib-storage multipart), under its own name.
app.post('/upload', async (req, reply) => {
  // A cross-site form post carries a foreign Origin; refuse it (the browse routes use a CSRF token).
  const origin = req.headers.origin
  if (origin !== undefined && new URL(origin).host !== req.headers.host) return reply.code(403).send({ error: 'cross-site upload refused' })
  for await (const part of req.files()) {
    await req.storage.uploadFile(part.file, part.filename, { location: 'samples', preserveFilename: true, contentType: part.mimetype })
  }
  return reply.redirect('/', 303)
})

app.get('/download/*', async (req, reply) => {
  const name = req.params['*']
  const file = await req.storage.downloadFile(name, { location: 'samples' })
  reply.header('content-type', file.contentType ?? 'application/octet-stream')
  if (file.contentLength !== undefined) reply.header('content-length', file.contentLength)
  return reply.send(file.body)
})

app.get('/link/*', async (req) => {
  const url = await req.storage.getDownloadLink(req.params['*'], 15, { location: 'samples' })
  return { url, expiresInMinutes: 15 }
})

/** A few sample files so a newcomer sees something at once. */
async function seed (app) {
  const ops = app.storage.operations()
  if ((await ops.list({ location: 'samples', limit: 1 })).files.length > 0) return
  const samples = {
    'README.txt': 'Files uploaded through the example app land here, under samples/.\n',
    'hello.json': JSON.stringify({ hello: 'world' }, null, 2),
    '한글 이름.txt': 'Unicode names round-trip exactly.\n'
  }
  for (const [name, body] of Object.entries(samples)) {
    await ops.uploadFile(body, name, { location: 'samples', preserveFilename: true })
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

await app.listen({ port, host })
app.log.info(`open http://localhost:${port}`)
