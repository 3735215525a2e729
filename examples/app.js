// The example app `npm start` runs: the plugin's file browser over a local S3 server (SeaweedFS, data under
// ./.data), unless S3_BUCKET / S3_ENDPOINT point at a real one. Open http://localhost:3000.
//
//   UPLOAD_MODE=presign npm start   the page uploads straight to S3 with presigned POSTs (CORS is set up
//                                   on the bucket for this page's origin)
//   VERSIONING=1 npm start          turns on the bucket's versioning: Versions, restore, deleted files
import Fastify from 'fastify'
import s3Storage from '../dist/index.js'
import { startLocalS3 } from '../dist/dev/local-s3.js'
import { NAMESPACE, browseOptions, seedSamples } from './browse-setup.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const uploadMode = process.env.UPLOAD_MODE === 'presign' ? 'presign' : 'stream'

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

await app.register(s3Storage, {
  profiles: { main: profile },
  browse: browseOptions({ uploadMode })
})

// The browser lives at /<namespace>/files/; the site root leads there.
app.get('/', async (_req, reply) => reply.redirect(`/${NAMESPACE}/files/`))

await app.ready()
if (process.env.VERSIONING === '1' && await app.storage.operations('main').bucketVersioning() !== 'Enabled') {
  await app.storage.operations('main').setBucketVersioning('Enabled')
  app.log.info('turned on versioning for the bucket')
}
if (await seedSamples(app)) app.log.info('uploaded a few sample files')

if (uploadMode === 'presign') {
  // The page posts files straight to the bucket, so the bucket must allow this page's origin (CORS).
  for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
    const report = await app.storage.checkCors('main', { origin, apply: true })
    if (report.applied) app.log.info({ origin }, 'added a CORS rule to the bucket for browser uploads')
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

await app.listen({ port, host })
app.log.info(`open http://localhost:${port}`)
