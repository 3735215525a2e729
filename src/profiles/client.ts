/**
 * One S3Client per profile, built once at register time from the normalised options and destroyed when the
 * app closes. `clientConfig` is applied last so a user can override anything.
 */
import { S3Client } from '@aws-sdk/client-s3'
import type { NormalizedProfile } from '../options.js'
import type { CredentialSource } from './credentials.js'

/** Builds the S3Client for a profile. */
export function createS3Client (profile: NormalizedProfile, source: CredentialSource): S3Client {
  return new S3Client({
    region: profile.region,
    endpoint: profile.endpoint,
    forcePathStyle: profile.forcePathStyle,
    credentials: source.provider,
    requestChecksumCalculation: profile.checksums,
    // Response validation would make every GET compute a CRC over the bytes we stream; S3 already
    // verifies what it stores, and ranged reads cannot be validated anyway.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: profile.timeouts.connectMs,
      requestTimeout: profile.timeouts.requestMs,
      // Without this the SDK only logs a warning when requestTimeout passes, and the call hangs on.
      throwOnRequestTimeout: true,
      socketTimeout: profile.timeouts.idleMs
    },
    ...profile.clientConfig
  })
}
