/**
 * Where a profile's credentials come from, in this priority: a credentials broker, STS AssumeRole on top of
 * the base credentials, static keys, a named profile of the shared files, the AWS default chain. Every
 * source's failures surface as `FST_S3S_CREDENTIALS` (502) naming the profile, never a secret.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers'
import type { FastifyBaseLogger } from 'fastify'
import { FST_S3S_CREDENTIALS } from '../errors.js'
import type { NormalizedProfile } from '../options.js'
import { assumeRoleFetcher, describeSdkError, isCatalogError, stsLabel } from './assume-role.js'
import { CredentialCache } from './credential-cache.js'
import { fetchBrokerCredentials, type BrokerCredentials, type BrokerFolder } from './credentials-broker.js'

/** A source's label, for logs and errors; never the secret. */
export type CredentialSourceKind = 'broker' | 'assume-role' | 'static' | 'shared-profile' | 'default-chain'

/** A profile's credential source. */
export interface CredentialSource {
  /** Which source this is. */
  kind: CredentialSourceKind
  /** The provider handed to the profile's S3Client. */
  provider: AwsCredentialIdentityProvider
  /** Brokers only: the `S3Folder` of the current credentials (undefined when the broker sent none). */
  folder?: () => Promise<BrokerFolder | undefined>
}

/** Turns a provider's failures into `FST_S3S_CREDENTIALS` naming the profile and the source. */
function guarded (provider: AwsCredentialIdentityProvider, profile: string, what: string): AwsCredentialIdentityProvider {
  return async (properties) => {
    try {
      return await provider(properties)
    } catch (err) {
      if (isCatalogError(err)) throw err
      throw new FST_S3S_CREDENTIALS(`profile "${profile}": ${what} failed: ${describeSdkError(err)}`)
    }
  }
}

/** The base credentials: static keys, a named profile, or the default chain. */
function baseSource (profile: NormalizedProfile, onStale: (err: unknown) => void): CredentialSource {
  if (profile.credentials !== undefined) {
    // Field by field: the secret fields are non-enumerable (see hideSecrets in options.ts), so a spread would drop them.
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = profile.credentials
    const identity: AwsCredentialIdentity = { accessKeyId, secretAccessKey, sessionToken, expiration }
    return { kind: 'static', provider: async () => identity }
  }
  if (profile.profileName !== undefined) {
    // fromIni reads AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE and follows role_arn + source_profile, with
    // the STS client configured here (stsEndpoint / stsRegion, else the file's region, else the profile's).
    const sts = profile.sts
    const ini = guarded(fromIni({
      profile: profile.profileName,
      clientConfig: sts.endpoint !== undefined || sts.region !== undefined ? { endpoint: sts.endpoint, region: sts.region } : undefined,
      parentClientConfig: { region: profile.region }
    }), profile.name, `shared profile "${profile.profileName}"`)
    // fromIni does not cache, and the S3Client re-asks in the last five minutes of a role session on every
    // request: one AssumeRole per S3 call. The cache keeps it to one per refresh.
    const cache = new CredentialCache<AwsCredentialIdentity>(async () => await ini(), profile.refreshMarginSeconds, onStale)
    return { kind: 'shared-profile', provider: async () => await cache.get() }
  }
  // The SDK's own default chain (env, SSO, shared files, web identity, ECS, IMDS), memoized by the SDK, made
  // explicit so that its failures are reported like every other source's.
  return { kind: 'default-chain', provider: guarded(fromNodeProviderChain(), profile.name, 'the AWS default credential chain') }
}

/** Chooses and builds the source for a profile. Warnings about the configuration go to `log`, at register time. */
export function credentialSourceFor (profile: NormalizedProfile, log: FastifyBaseLogger): CredentialSource {
  const onStale = (err: unknown): void => {
    log.warn({ profile: profile.name, reason: (err as Error)?.message }, 'credentials refresh failed: using the current ones until they expire')
  }
  if (profile.broker !== undefined) {
    const broker = profile.broker
    const url = new URL(broker.url)
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      log.warn({ profile: profile.name, broker: broker.label }, 'the credentials broker is plain http: its secret and the keys it returns cross the network unencrypted')
    }
    const cache = new CredentialCache<BrokerCredentials>(
      async () => await fetchBrokerCredentials(broker, { profile: profile.name, requireFolder: profile.bucket === undefined }),
      profile.refreshMarginSeconds,
      onStale
    )
    return {
      kind: 'broker',
      provider: async () => (await cache.get()).identity,
      folder: async () => (await cache.get()).folder
    }
  }
  const base = baseSource(profile, onStale)
  const role = profile.assumeRole
  if (role === undefined) return base
  if (role.tokenCode !== undefined) {
    log.warn({ profile: profile.name, roleArn: role.roleArn, durationSeconds: role.durationSeconds ?? 3600 },
      'a literal tokenCode cannot refresh the AssumeRole session: it ends after durationSeconds; use tokenCodeCallback')
  }
  const cache = new CredentialCache<AwsCredentialIdentity>(assumeRoleFetcher(profile, role, base.provider), profile.refreshMarginSeconds, onStale)
  log.debug({ profile: profile.name, roleArn: role.roleArn, sts: stsLabel(profile), base: base.kind }, 'storage profile assumes a role')
  return { kind: 'assume-role', provider: async () => await cache.get() }
}

function isLoopback (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}
