// Direct-to-S3 uploads: the page asks this app for a ticket, posts the file straight to S3 (here the local
// S3 server) with a progress bar, then confirms it and shows a download link. The bytes never pass
// through the app. Run: `npm run build && node examples/direct-upload/app.js`, open http://localhost:3001
import { readFile } from 'node:fs/promises'
import Fastify from 'fastify'
import s3Storage, { s3UploadRoutes } from '../../dist/index.js'
import { startLocalS3 } from '../../dist/dev/local-s3.js'

/**
 * Builds the example app on a running S3 server; exported for the browser test.
 * @param {{ endpoint: string, region: string, accessKeyId: string, secretAccessKey: string }} s3
 * @param {{ bucket?: string, logger?: boolean }} options
 */
export async function buildDirectUploadApp (s3, { bucket = 'direct', logger = false } = {}) {
  const app = Fastify({ logger })
  await app.register(s3Storage, {
    profiles: {
      main: { bucket, endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
    }
  })
  await app.register(s3UploadRoutes, {
    uploads: { maxFileSize: 20 * 1024 * 1024, allowedContentTypes: ['image/png', 'image/jpeg', 'application/pdf', 'text/plain'] }
  })
  const page = await readFile(new URL('./index.html', import.meta.url), 'utf8')
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page))
  return app
}

/** The browser posts to the bucket from the page's origin: the bucket's CORS must allow it. */
export async function allowOrigin (app, origin) {
  const cors = await app.storage.checkCors('main', { origin, apply: true })
  app.log.info({ origin, added: cors.applied, missing: cors.missing }, 'bucket CORS checked')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3001)
  const s3 = await startLocalS3({ dataDir: '.data/direct-upload', buckets: ['direct'], allowFallback: true, log: console.log })
  const app = await buildDirectUploadApp(s3, { logger: true })
  await allowOrigin(app, `http://localhost:${port}`)
  app.addHook('onClose', async () => { await s3.stop() })
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close().then(() => process.exit(0)) })
  await app.listen({ port, host: '127.0.0.1' })
  console.log(`open http://localhost:${port}`)
}
