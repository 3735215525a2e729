/**
 * Where a profile's credentials come from. Returns the provider handed to its S3Client, or undefined for
 * the SDK's default chain (env, SSO, shared files, web identity, ECS, IMDS).
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { fromIni } from '@aws-sdk/credential-providers'
import type { NormalizedProfile } from '../options.js'

/** A source's label, for logs and errors; never the secret. */
export type CredentialSourceKind = 'static' | 'shared-profile' | 'default-chain'

/** A profile's credential source. */
export interface CredentialSource {
  /** Which source this is. */
  kind: CredentialSourceKind
  /** The provider for the S3Client, or undefined to let the SDK use its default chain. */
  provider?: AwsCredentialIdentityProvider
}

/** Chooses the source for a profile, in the documented priority: static keys, named profile, default chain. */
export function credentialSourceFor (profile: NormalizedProfile): CredentialSource {
  if (profile.credentials !== undefined) {
    const identity: AwsCredentialIdentity = { ...profile.credentials }
    return { kind: 'static', provider: async () => identity }
  }
  if (profile.profileName !== undefined) {
    // fromIni reads AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE and follows role_arn + source_profile.
    return { kind: 'shared-profile', provider: fromIni({ profile: profile.profileName }) }
  }
  return { kind: 'default-chain' }
}
