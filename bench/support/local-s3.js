// The real S3 server the I/O benchmarks run against: a local SeaweedFS (dist/dev/local-s3.js) on 127.0.0.1
// with a temporary data directory, removed on stop(). Signatures are checked, as with AWS.
import Fastify from 'fastify'
import s3Storage from '../../dist/index.js'
import { startLocalS3 } from '../../dist/dev/local-s3.js'

/**
 * Starts SeaweedFS with `buckets` created; refuses the s3rver fallback (it is in-process, so it would
 * measure something else entirely). Set BENCH_S3_LOG=1 to see its progress messages.
 */
export async function startBenchS3 (buckets) {
  const log = process.env.BENCH_S3_LOG === '1' ? (msg) => console.log(`  [s3] ${msg}`) : undefined
  const started = Date.now()
  const s3 = await startLocalS3({ buckets, log })
  console.log(`  SeaweedFS at ${s3.endpoint} ready in ${Date.now() - started} ms`)
  return s3
}

/** Plugin options with one `main` profile on that server, plus `browse` when given. */
export function s3PluginOptions (s3, bucket, browse) {
  const options = {
    profiles: {
      main: {
        bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
      }
    }
  }
  if (browse !== undefined) options.browse = browse
  return options
}

/** A ready app with the plugin on that server (no routes, no listener): for `app.storage.operations()`. */
export async function pluginApp (s3, bucket) {
  const app = Fastify({ logger: false })
  await app.register(s3Storage, s3PluginOptions(s3, bucket))
  await app.ready()
  return app
}
