// Fetches the pinned SeaweedFS binary into ./.cache once, before tap starts test files in parallel.
// Skipped when the suite is pointed at another endpoint (S3_TEST_ENDPOINT).
import { ensureWeedBinary } from '../dist/dev/seaweedfs-binary.js'

if (process.env.S3_TEST_ENDPOINT === undefined || process.env.S3_TEST_ENDPOINT === '') {
  const bin = await ensureWeedBinary({ log: (msg) => console.log(`[s3-server] ${msg}`) })
  console.log(`[s3-server] SeaweedFS binary: ${bin}`)
}
