// The one profile both benchmarks use. Only 127.0.0.1:9 (discard) is named, and nothing sends a request
// to it: the overhead routes never call S3 and presigning is local computation.
export const BUCKET = 'bench'
export const ENDPOINT = 'http://127.0.0.1:9'
export const REGION = 'us-east-1'
export const CREDENTIALS = Object.freeze({ accessKeyId: 'AKIABENCHMARK0000000', secretAccessKey: 'bench-secret-access-key-not-a-real-one00' })

/** Plugin options with a single `main` profile. */
export function pluginOptions () {
  return {
    profiles: {
      main: { bucket: BUCKET, endpoint: ENDPOINT, region: REGION, credentials: { ...CREDENTIALS } }
    }
  }
}
