/**
 * STS AssumeRole on top of a profile's base credentials, through `fromTemporaryCredentials` of
 * `@aws-sdk/credential-providers`: it speaks the AssumeRole Query API, signs with the base credentials and
 * asks the MFA code provider for a code on every call. It does not cache (every call is one AssumeRole), so
 * the caller puts a CredentialCache in front of it; the S3Client's own memoization cannot be tuned.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { FST_S3S_CREDENTIALS } from '../errors.js'
import type { NormalizedAssumeRole, NormalizedProfile } from '../options.js'

/** Marks a failure of the user's tokenCodeCallback, so it is not reported as an STS error. */
class TokenCodeFailure extends Error {}

/** Where STS is, for messages: an endpoint's origin and path, or the region. */
export function stsLabel (profile: NormalizedProfile): string {
  if (profile.sts.endpoint !== undefined) {
    const url = new URL(profile.sts.endpoint)
    return `STS ${url.origin}${url.pathname}`
  }
  return `STS ${profile.sts.region ?? profile.region}`
}

/** A fetcher of assumed-role credentials. Failures are thrown as `FST_S3S_CREDENTIALS` (502). */
export function assumeRoleFetcher (profile: NormalizedProfile, role: NormalizedAssumeRole, base: AwsCredentialIdentityProvider): () => Promise<AwsCredentialIdentity> {
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: role.roleSessionName,
      ExternalId: role.externalId,
      DurationSeconds: role.durationSeconds,
      SerialNumber: role.mfaSerial
    },
    masterCredentials: base,
    clientConfig: { region: profile.sts.region ?? profile.region, endpoint: profile.sts.endpoint },
    mfaCodeProvider: role.mfaSerial === undefined
      ? undefined
      : async (serial) => {
        if (role.tokenCodeCallback === undefined) return role.tokenCode as string
        try {
          return await role.tokenCodeCallback(serial)
        } catch {
          throw new TokenCodeFailure()
        }
      }
  })
  const where = `AssumeRole of ${role.roleArn} at ${stsLabel(profile)}`
  return async () => {
    try {
      // Called without the S3Client's caller config: the STS client must not inherit S3's endpoint.
      return await provider()
    } catch (err) {
      if (isCatalogError(err)) throw err // the base credentials failed, and said so
      if (err instanceof TokenCodeFailure) throw new FST_S3S_CREDENTIALS(`profile "${profile.name}": ${where} failed: tokenCodeCallback threw`)
      throw new FST_S3S_CREDENTIALS(`profile "${profile.name}": ${where} failed: ${describeSdkError(err)}`)
    }
  }
}

/** Whether an error already comes from the catalog. */
export function isCatalogError (err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return err instanceof Error && typeof code === 'string' && code.startsWith('FST_S3S_')
}

/**
 * A one-line description of an SDK error: its name, system error code and HTTP status. Service messages
 * are left out (they are not ours to vouch for); credential-provider messages, which the SDK writes to say
 * what is misconfigured, are kept.
 */
export function describeSdkError (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string, $metadata?: { httpStatusCode?: number } }
  const name = typeof e?.name === 'string' ? e.name : 'Error'
  if (name === 'CredentialsProviderError' && typeof e.message === 'string') return `${name}: ${e.message.slice(0, 300)}`
  const code = typeof e?.code === 'string' && /^[A-Z_]{2,40}$/.test(e.code) ? ` (${e.code})` : ''
  const status = e?.$metadata?.httpStatusCode !== undefined ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''
  return `${name}${code}${status}`
}
