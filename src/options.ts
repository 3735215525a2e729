/**
 * Option types, their defaults, and the one validation pass that turns raw options into the normalised
 * object the rest of the plugin reads. Request handlers never see raw options.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import { FST_S3S_INVALID_OPTION } from './errors.js'
import { normalizePrefix } from './keys.js'

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 3600

/** Default region when a profile names none. */
export const DEFAULT_REGION = 'us-east-1'

/**
 * The SDK's request checksum policy. `WHEN_SUPPORTED` (the SDK's own default) adds CRC32 checksums to every
 * upload, as aws-chunked trailers on streams and as an empty-body checksum on presigned PUT URLs;
 * `WHEN_REQUIRED` adds them only where S3 demands one (DeleteObjects).
 */
export type ChecksumPolicy = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED'

/** Default checksum policy; see the README's "Checksums" section for the measurement behind it. */
export const DEFAULT_CHECKSUMS: ChecksumPolicy = 'WHEN_REQUIRED'

/** Static keys for a profile. */
export interface StaticCredentials {
  /** The access key id. */
  accessKeyId: string
  /** The secret access key. Never logged. */
  secretAccessKey: string
  /** A session token, for temporary keys. */
  sessionToken?: string
  /** When temporary keys expire; links that would outlive it follow `linkTtlPolicy`. */
  expiration?: Date
}

/** One named storage profile: a bucket (and optional prefix) reached with one set of credentials. */
export interface ProfileOptions {
  /** The bucket. Required. */
  bucket: string
  /** AWS region. Default `us-east-1`. */
  region?: string
  /** A folder inside the bucket that every key of this profile lives under. `uploads` and `uploads/` are the same. Default none. */
  prefix?: string
  /** Endpoint URL of an S3-compatible store (MinIO, R2, SeaweedFS, …). Default: AWS. */
  endpoint?: string
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted stores need. Default `false`, or `true` when `endpoint` is set. */
  forcePathStyle?: boolean
  /** Static keys. Default: `profileName`, or else the AWS default credential chain. */
  credentials?: StaticCredentials
  /** A named profile from the shared AWS config/credentials files (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` respected). */
  profileName?: string
  /** Ceiling for presigned link lifetimes, in seconds; longer requests are clamped with a warning. Default and maximum 604800 (7 days). */
  maxLinkTtlSeconds?: number
  /** The SDK's request checksum policy for this profile's client. Default `'WHEN_REQUIRED'`. */
  checksums?: ChecksumPolicy
  /** Passed through to `new S3Client()`, after the options above (so it wins). */
  clientConfig?: S3ClientConfig
}

/** Options of the plugin. */
export interface S3StorageOptions {
  /** Named profiles. At least one. */
  profiles: Record<string, ProfileOptions>
  /** The profile used when a call names none. Optional when there is exactly one profile. */
  defaultProfile?: string
  /** Logger used outside requests (services made with `app.storage.use()`). Default: the app's logger. */
  logger?: FastifyBaseLogger
}

/** A profile after validation: defaults applied, prefix normalised. */
export interface NormalizedProfile {
  name: string
  bucket: string
  region: string
  prefix: string
  endpoint?: string
  forcePathStyle: boolean
  credentials?: StaticCredentials
  profileName?: string
  maxLinkTtlSeconds: number
  checksums: ChecksumPolicy
  clientConfig: S3ClientConfig
}

/** The plugin's options after validation. */
export interface NormalizedOptions {
  profiles: Map<string, NormalizedProfile>
  defaultProfile: string
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
// Bucket names per the S3 rules, loose enough for S3-compatible stores (which allow underscores and caps).
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fail (message: string): never {
  throw new FST_S3S_INVALID_OPTION(message)
}

function optionalString (profile: string, field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(`profile "${profile}": "${field}" must be a non-empty string`)
  return value
}

function normalizeCredentials (name: string, value: unknown): StaticCredentials | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) fail(`profile "${name}": "credentials" must be an object with accessKeyId and secretAccessKey`)
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = value
  if (typeof accessKeyId !== 'string' || accessKeyId === '') fail(`profile "${name}": "credentials.accessKeyId" must be a non-empty string`)
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') fail(`profile "${name}": "credentials.secretAccessKey" must be a non-empty string`)
  if (sessionToken !== undefined && typeof sessionToken !== 'string') fail(`profile "${name}": "credentials.sessionToken" must be a string`)
  if (expiration !== undefined && !(expiration instanceof Date)) fail(`profile "${name}": "credentials.expiration" must be a Date`)
  return { accessKeyId, secretAccessKey, sessionToken, expiration }
}

/** Validates one profile and applies its defaults. Throws `FST_S3S_INVALID_OPTION` naming the profile and field. */
export function normalizeProfile (name: string, raw: unknown): NormalizedProfile {
  if (!PROFILE_NAME.test(name)) fail(`profile name "${name}" must be 1-64 letters, digits, "_", "." or "-"`)
  if (!isPlainObject(raw)) fail(`profile "${name}" must be an object`)
  const bucket = raw.bucket
  if (bucket === undefined || bucket === '') fail(`profile "${name}": "bucket" is required`)
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) fail(`profile "${name}": "bucket" is not a valid bucket name`)
  const region = optionalString(name, 'region', raw.region) ?? DEFAULT_REGION
  const endpoint = optionalString(name, 'endpoint', raw.endpoint)
  if (endpoint !== undefined && !URL.canParse(endpoint)) fail(`profile "${name}": "endpoint" must be a URL`)
  if (raw.forcePathStyle !== undefined && typeof raw.forcePathStyle !== 'boolean') fail(`profile "${name}": "forcePathStyle" must be a boolean`)
  if (raw.prefix !== undefined && typeof raw.prefix !== 'string') fail(`profile "${name}": "prefix" must be a string`)
  let prefix: string
  try {
    prefix = normalizePrefix(raw.prefix as string | undefined)
  } catch (err) {
    fail(`profile "${name}": "prefix" ${(err as Error).message}`)
  }
  const ttl = raw.maxLinkTtlSeconds ?? MAX_LINK_TTL_SECONDS
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_TTL_SECONDS) {
    fail(`profile "${name}": "maxLinkTtlSeconds" must be a whole number of seconds from 1 to ${MAX_LINK_TTL_SECONDS} (7 days, the SigV4 limit)`)
  }
  const checksums = raw.checksums ?? DEFAULT_CHECKSUMS
  if (checksums !== 'WHEN_REQUIRED' && checksums !== 'WHEN_SUPPORTED') fail(`profile "${name}": "checksums" must be "WHEN_REQUIRED" or "WHEN_SUPPORTED"`)
  if (raw.clientConfig !== undefined && !isPlainObject(raw.clientConfig)) fail(`profile "${name}": "clientConfig" must be an object`)
  const credentials = normalizeCredentials(name, raw.credentials)
  const profileName = optionalString(name, 'profileName', raw.profileName)
  if (credentials !== undefined && profileName !== undefined) fail(`profile "${name}": give "credentials" or "profileName", not both`)
  return {
    name,
    bucket,
    region,
    prefix,
    endpoint,
    forcePathStyle: (raw.forcePathStyle as boolean | undefined) ?? endpoint !== undefined,
    credentials,
    profileName,
    maxLinkTtlSeconds: ttl,
    checksums,
    clientConfig: (raw.clientConfig as S3ClientConfig | undefined) ?? {}
  }
}

/**
 * Validates the plugin options and returns the normalised form. Throws `FST_S3S_INVALID_OPTION` with a
 * message naming the profile and field at fault.
 */
export function validateOptions (opts: unknown): NormalizedOptions {
  if (!isPlainObject(opts)) fail('options must be an object')
  if (!isPlainObject(opts.profiles) || Object.keys(opts.profiles).length === 0) fail('"profiles" must name at least one profile')
  const profiles = new Map<string, NormalizedProfile>()
  for (const [name, raw] of Object.entries(opts.profiles)) profiles.set(name, normalizeProfile(name, raw))
  let defaultProfile = opts.defaultProfile
  if (defaultProfile === undefined) {
    if (profiles.size > 1) fail(`"defaultProfile" is required when there are several profiles (${[...profiles.keys()].join(', ')})`)
    defaultProfile = profiles.keys().next().value
  }
  if (typeof defaultProfile !== 'string' || !profiles.has(defaultProfile)) {
    fail(`"defaultProfile" "${String(defaultProfile)}" is not one of the profiles (${[...profiles.keys()].join(', ')})`)
  }
  return { profiles, defaultProfile }
}
