/**
 * Option types, their defaults, and the one validation pass that turns raw options into the normalised
 * object the rest of the plugin reads. Request handlers never see raw options.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import { FST_S3S_INVALID_OPTION } from './errors.js'
import { normalizePrefix } from './keys.js'
import { MAX_LINK_TTL_SECONDS } from './operations/links.js'

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

/** Default `credentialsRefreshMarginSeconds`: temporary credentials are fetched again this long before they expire. */
export const DEFAULT_REFRESH_MARGIN_SECONDS = 300

/** Default `credentialsUrlTimeoutMs`: how long one call to the credentials broker may take. */
export const DEFAULT_BROKER_TIMEOUT_MS = 5000

/** Default `roleSessionName` of AssumeRole. */
export const DEFAULT_ROLE_SESSION_NAME = 'fastify-s3-storage'

/** STS's `DurationSeconds` bounds (the upper one also needs the role's own maximum session duration). */
export const MIN_ROLE_DURATION_SECONDS = 900
/** See {@link MIN_ROLE_DURATION_SECONDS}. */
export const MAX_ROLE_DURATION_SECONDS = 43200

/**
 * What a presigned link does when its lifetime would outlive the temporary credentials that sign it (such a
 * link stops working when they expire): `'clamp'` shortens it to the credentials' remaining life, `'warn'`
 * keeps it. Both log a warning.
 */
export type LinkTtlPolicy = 'clamp' | 'warn'

/** Returns the current MFA code of `mfaSerial`; called on every AssumeRole refresh. */
export type TokenCodeCallback = (mfaSerial: string) => string | Promise<string>

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

/** The options every profile takes; see {@link ProfileOptions}. */
export interface ProfileOptionsBase {
  /** The bucket. Required, except for a credentials broker that answers with an `S3Folder`. */
  bucket?: string
  /** AWS region. Default `us-east-1`. */
  region?: string
  /** A folder inside the bucket that every key of this profile lives under. `uploads` and `uploads/` are the same. Default none. With a broker, it is kept under the broker's `S3Folder`. */
  prefix?: string
  /** Endpoint URL of an S3-compatible store (MinIO, R2, SeaweedFS, …). Default: AWS. */
  endpoint?: string
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted stores need. Default `false`, or `true` when `endpoint` is set. */
  forcePathStyle?: boolean
  /**
   * URL of a credentials broker (source 1, before all others). The plugin POSTs `secret=<credentialsUrlSecret>`
   * form-encoded and expects JSON `{ AccessKeyId, SecretAccessKey, SessionToken, Expiration, S3Folder }`;
   * `S3Folder` (`s3://bucket/folder/`) sets the bucket and prefix. Not combinable with `credentials`,
   * `profileName` or `roleArn`. Default none.
   */
  credentialsUrl?: string
  /** The secret sent to `credentialsUrl`. Required with it. Never logged. */
  credentialsUrlSecret?: string
  /** How long one broker call may take, in milliseconds (each of the 3 tries). Default 5000. */
  credentialsUrlTimeoutMs?: number
  /**
   * Temporary credentials the plugin fetches (broker, AssumeRole, a `profileName` with `role_arn`) are fetched
   * again this many seconds before they expire, or at half their lifetime when that is later. Default 300.
   */
  credentialsRefreshMarginSeconds?: number
  /** A role to assume with STS AssumeRole on top of the base credentials (`credentials`, `profileName` or the default chain). Default none. */
  roleArn?: string
  /** AssumeRole `ExternalId`, when the role's trust policy asks for one. */
  externalId?: string
  /** AssumeRole `RoleSessionName` (2–64 of `[\w+=,.@-]`; see `roleSessionNameFor()` to derive one from a user id). Default `'fastify-s3-storage'`. */
  roleSessionName?: string
  /** AssumeRole `DurationSeconds`, 900–43200. Default: STS's (3600). */
  durationSeconds?: number
  /** Serial number (or ARN) of the MFA device the role requires; needs `tokenCode` or `tokenCodeCallback`. */
  mfaSerial?: string
  /** A literal MFA code. It cannot be reused, so the session ends after `durationSeconds` (a warning is logged at register time); prefer `tokenCodeCallback`. */
  tokenCode?: string
  /** Returns the current MFA code; called on every AssumeRole refresh. */
  tokenCodeCallback?: TokenCodeCallback
  /** STS endpoint URL for `roleArn` (and for `role_arn` in the `profileName` profile). Default: the regional AWS endpoint. */
  stsEndpoint?: string
  /** STS region for `roleArn` (and for `role_arn` in the `profileName` profile). Default: the profile's `region`. */
  stsRegion?: string
  /** Static keys. Default: `profileName`, or else the AWS default credential chain. */
  credentials?: StaticCredentials
  /** A named profile from the shared AWS config/credentials files (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` respected). */
  profileName?: string
  /** Ceiling for presigned link lifetimes, in seconds; longer requests are clamped with a warning. Default and maximum 604800 (7 days). */
  maxLinkTtlSeconds?: number
  /** What a presigned link that would outlive the temporary credentials signing it does: `'clamp'` (shorten it) or `'warn'` (keep it); both log a warning. Default `'clamp'`. */
  linkTtlPolicy?: LinkTtlPolicy
  /** The SDK's request checksum policy for this profile's client. Default `'WHEN_REQUIRED'`. */
  checksums?: ChecksumPolicy
  /** Time limits on S3 calls, in milliseconds; a call over one fails with `FST_S3S_S3_TIMEOUT` (504). */
  timeouts?: Partial<Timeouts>
  /** Passed through to `new S3Client()`, after the options above (so it wins). */
  clientConfig?: S3ClientConfig
}

/** Time limits on S3 calls, in milliseconds. */
export interface Timeouts {
  /** Connecting to S3. Default 5000. */
  connectMs: number
  /** From sending a request until S3 starts answering (a whole part upload included). Default 120000. */
  requestMs: number
  /** A socket with no bytes moving, in either direction (a stalled download or upload). Default 120000. */
  idleMs: number
}

/** Default time limits on S3 calls. */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 5000, requestMs: 120_000, idleMs: 120_000 }

/** A profile on a fixed bucket. */
export interface BucketProfileOptions extends ProfileOptionsBase {
  /** The bucket. */
  bucket: string
}

/** A profile whose credentials (and, through `S3Folder`, bucket and prefix) come from a credentials broker. */
export interface BrokerProfileOptions extends ProfileOptionsBase {
  /** URL of the credentials broker. */
  credentialsUrl: string
  /** The secret sent to it. */
  credentialsUrlSecret: string
}

/** One named storage profile: a bucket (and optional prefix) reached with one set of credentials. */
export type ProfileOptions = BucketProfileOptions | BrokerProfileOptions

/** Options of the plugin. */
export interface S3StorageOptions {
  /** Named profiles. At least one. */
  profiles: Record<string, ProfileOptions>
  /** The profile used when a call names none. Optional when there is exactly one profile. */
  defaultProfile?: string
  /** Logger used outside requests (services made with `app.storage.use()`). Default: the app's logger. */
  logger?: FastifyBaseLogger
}

/** A credentials broker after validation. */
export interface NormalizedBroker {
  /** The URL called, query string included. */
  url: string
  /** Its origin and path, the only part of it that logs and errors show. */
  label: string
  /** The secret POSTed to it. */
  secret: string
  /** Timeout of one call, in milliseconds. */
  timeoutMs: number
}

/** AssumeRole settings after validation. */
export interface NormalizedAssumeRole {
  roleArn: string
  externalId?: string
  roleSessionName: string
  durationSeconds?: number
  mfaSerial?: string
  tokenCode?: string
  tokenCodeCallback?: TokenCodeCallback
}

/** A profile after validation: defaults applied, prefix normalised. */
export interface NormalizedProfile {
  name: string
  /** The configured bucket; undefined only for a broker profile (its `S3Folder` names the bucket). */
  bucket?: string
  region: string
  prefix: string
  endpoint?: string
  forcePathStyle: boolean
  credentials?: StaticCredentials
  profileName?: string
  broker?: NormalizedBroker
  assumeRole?: NormalizedAssumeRole
  /** STS endpoint and region overrides, for `assumeRole` and for a shared profile's `role_arn`. */
  sts: { endpoint?: string, region?: string }
  refreshMarginSeconds: number
  maxLinkTtlSeconds: number
  linkTtlPolicy: LinkTtlPolicy
  checksums: ChecksumPolicy
  timeouts: Timeouts
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
  return hideSecrets({ accessKeyId, secretAccessKey, sessionToken, expiration }, ['secretAccessKey', 'sessionToken'])
}

function wholeNumber (name: string, field: string, value: unknown, min: number, max: number, fallback: number): number
function wholeNumber (name: string, field: string, value: unknown, min: number, max: number): number | undefined
function wholeNumber (name: string, field: string, value: unknown, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`profile "${name}": "${field}" must be a whole number from ${min} to ${max}`)
  }
  return value
}

/** A bucket name as S3 (and the S3-compatible stores, which allow underscores and caps) accept it. */
export function isBucketName (value: unknown): value is string {
  return typeof value === 'string' && BUCKET_NAME.test(value)
}

// STS's own character rules (AssumeRole API reference), checked at register time rather than on the first request.
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const ROLE_ARN = /^arn:[\w+=/,.@:-]{16,2044}$/
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/
const MFA_SERIAL = /^[\w+=/:,.@-]{9,256}$/
const TOKEN_CODE = /^\d{6}$/

function normalizeBroker (name: string, raw: Record<string, unknown>): NormalizedBroker | undefined {
  const url = optionalString(name, 'credentialsUrl', raw.credentialsUrl)
  const secret = optionalString(name, 'credentialsUrlSecret', raw.credentialsUrlSecret)
  if (url === undefined) {
    if (secret !== undefined) fail(`profile "${name}": "credentialsUrlSecret" needs "credentialsUrl"`)
    if (raw.credentialsUrlTimeoutMs !== undefined) fail(`profile "${name}": "credentialsUrlTimeoutMs" needs "credentialsUrl"`)
    return undefined
  }
  // Never echo the URL: its query string may carry a token of its own.
  if (!URL.canParse(url)) fail(`profile "${name}": "credentialsUrl" must be an http(s) URL`)
  const parsed = new URL(url)
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') fail(`profile "${name}": "credentialsUrl" must be an http(s) URL`)
  if (parsed.username !== '' || parsed.password !== '') fail(`profile "${name}": "credentialsUrl" must not carry user:password (use "credentialsUrlSecret")`)
  if (secret === undefined) fail(`profile "${name}": "credentialsUrlSecret" is required with "credentialsUrl"`)
  for (const field of ['credentials', 'profileName', 'roleArn'] as const) {
    if (raw[field] !== undefined) fail(`profile "${name}": give "credentialsUrl" or "${field}", not both (the broker supplies the keys)`)
  }
  const timeoutMs = wholeNumber(name, 'credentialsUrlTimeoutMs', raw.credentialsUrlTimeoutMs, 1, 120_000, DEFAULT_BROKER_TIMEOUT_MS)
  return hideSecrets({ url, label: parsed.origin + parsed.pathname, secret, timeoutMs }, ['secret', 'url'])
}

function normalizeAssumeRole (name: string, raw: Record<string, unknown>): NormalizedAssumeRole | undefined {
  const roleArn = optionalString(name, 'roleArn', raw.roleArn)
  const dependent = ['externalId', 'roleSessionName', 'durationSeconds', 'mfaSerial', 'tokenCode', 'tokenCodeCallback'] as const
  if (roleArn === undefined) {
    for (const field of dependent) {
      if (raw[field] !== undefined) fail(`profile "${name}": "${field}" needs "roleArn"`)
    }
    return undefined
  }
  if (!ROLE_ARN.test(roleArn)) fail(`profile "${name}": "roleArn" must be a role ARN (arn:aws:iam::<account>:role/<name>)`)
  const externalId = optionalString(name, 'externalId', raw.externalId)
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) fail(`profile "${name}": "externalId" must be 2-1224 of letters, digits and "+=,.@:/-_"`)
  const roleSessionName = optionalString(name, 'roleSessionName', raw.roleSessionName) ?? DEFAULT_ROLE_SESSION_NAME
  if (!ROLE_SESSION_NAME.test(roleSessionName)) {
    fail(`profile "${name}": "roleSessionName" must be 2-64 of letters, digits and "+=,.@-_" (STS's rule; roleSessionNameFor() derives one from a user id)`)
  }
  const durationSeconds = wholeNumber(name, 'durationSeconds', raw.durationSeconds, MIN_ROLE_DURATION_SECONDS, MAX_ROLE_DURATION_SECONDS)
  const mfaSerial = optionalString(name, 'mfaSerial', raw.mfaSerial)
  if (mfaSerial !== undefined && !MFA_SERIAL.test(mfaSerial)) fail(`profile "${name}": "mfaSerial" must be an MFA device serial number or ARN`)
  const tokenCode = optionalString(name, 'tokenCode', raw.tokenCode)
  // Not echoed: the code is a (short-lived) secret.
  if (tokenCode !== undefined && !TOKEN_CODE.test(tokenCode)) fail(`profile "${name}": "tokenCode" must be 6 digits`)
  if (raw.tokenCodeCallback !== undefined && typeof raw.tokenCodeCallback !== 'function') fail(`profile "${name}": "tokenCodeCallback" must be a function`)
  const tokenCodeCallback = raw.tokenCodeCallback as TokenCodeCallback | undefined
  if (tokenCode !== undefined && tokenCodeCallback !== undefined) fail(`profile "${name}": give "tokenCode" or "tokenCodeCallback", not both`)
  if (mfaSerial === undefined && (tokenCode !== undefined || tokenCodeCallback !== undefined)) {
    fail(`profile "${name}": "${tokenCode !== undefined ? 'tokenCode' : 'tokenCodeCallback'}" needs "mfaSerial"`)
  }
  if (mfaSerial !== undefined && tokenCode === undefined && tokenCodeCallback === undefined) {
    fail(`profile "${name}": "mfaSerial" needs "tokenCodeCallback" (or a literal "tokenCode")`)
  }
  return { roleArn, externalId, roleSessionName, durationSeconds, mfaSerial, tokenCode, tokenCodeCallback }
}

/**
 * Makes secret fields non-enumerable: still readable by the code that signs and fetches, but skipped by
 * JSON.stringify, pino and util.inspect, so logging `profile.options` cannot leak them.
 */
function hideSecrets<T extends object> (value: T, fields: Array<keyof T>): T {
  for (const field of fields) {
    if (value[field] === undefined) continue
    Object.defineProperty(value, field, { value: value[field], enumerable: false, writable: false, configurable: false })
  }
  return value
}

/** Validates one profile and applies its defaults. Throws `FST_S3S_INVALID_OPTION` naming the profile and field. */
export function normalizeProfile (name: string, raw: unknown): NormalizedProfile {
  if (!PROFILE_NAME.test(name)) fail(`profile name "${name}" must be 1-64 letters, digits, "_", "." or "-"`)
  if (!isPlainObject(raw)) fail(`profile "${name}" must be an object`)
  const broker = normalizeBroker(name, raw)
  const bucket = raw.bucket
  if (bucket === undefined || bucket === '') {
    if (broker === undefined) fail(`profile "${name}": "bucket" is required (unless "credentialsUrl" names it through S3Folder)`)
  } else if (!isBucketName(bucket)) {
    fail(`profile "${name}": "bucket" is not a valid bucket name`)
  }
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
  const linkTtlPolicy = raw.linkTtlPolicy ?? 'clamp'
  if (linkTtlPolicy !== 'clamp' && linkTtlPolicy !== 'warn') fail(`profile "${name}": "linkTtlPolicy" must be "clamp" or "warn"`)
  const checksums = raw.checksums ?? DEFAULT_CHECKSUMS
  if (checksums !== 'WHEN_REQUIRED' && checksums !== 'WHEN_SUPPORTED') fail(`profile "${name}": "checksums" must be "WHEN_REQUIRED" or "WHEN_SUPPORTED"`)
  if (raw.clientConfig !== undefined && !isPlainObject(raw.clientConfig)) fail(`profile "${name}": "clientConfig" must be an object`)
  if (raw.timeouts !== undefined && !isPlainObject(raw.timeouts)) fail(`profile "${name}": "timeouts" must be an object`)
  const timeouts: Timeouts = {
    connectMs: wholeNumber(name, 'timeouts.connectMs', raw.timeouts?.connectMs, 1, 3_600_000, DEFAULT_TIMEOUTS.connectMs),
    requestMs: wholeNumber(name, 'timeouts.requestMs', raw.timeouts?.requestMs, 1, 3_600_000, DEFAULT_TIMEOUTS.requestMs),
    idleMs: wholeNumber(name, 'timeouts.idleMs', raw.timeouts?.idleMs, 1, 3_600_000, DEFAULT_TIMEOUTS.idleMs)
  }
  const credentials = normalizeCredentials(name, raw.credentials)
  const profileName = optionalString(name, 'profileName', raw.profileName)
  if (credentials !== undefined && profileName !== undefined) fail(`profile "${name}": give "credentials" or "profileName", not both`)
  const assumeRole = normalizeAssumeRole(name, raw)
  const stsEndpoint = optionalString(name, 'stsEndpoint', raw.stsEndpoint)
  if (stsEndpoint !== undefined && !URL.canParse(stsEndpoint)) fail(`profile "${name}": "stsEndpoint" must be a URL`)
  const stsRegion = optionalString(name, 'stsRegion', raw.stsRegion)
  for (const [field, value] of [['stsEndpoint', stsEndpoint], ['stsRegion', stsRegion]] as const) {
    if (value !== undefined && assumeRole === undefined && profileName === undefined) fail(`profile "${name}": "${field}" needs "roleArn" or "profileName"`)
  }
  const refreshes = broker !== undefined || assumeRole !== undefined || profileName !== undefined
  if (raw.credentialsRefreshMarginSeconds !== undefined && !refreshes) {
    fail(`profile "${name}": "credentialsRefreshMarginSeconds" needs "credentialsUrl", "roleArn" or "profileName"`)
  }
  const refreshMarginSeconds = wholeNumber(name, 'credentialsRefreshMarginSeconds', raw.credentialsRefreshMarginSeconds, 0, 3600, DEFAULT_REFRESH_MARGIN_SECONDS)
  return {
    name,
    bucket: bucket === '' ? undefined : bucket as string | undefined,
    region,
    prefix,
    endpoint,
    forcePathStyle: (raw.forcePathStyle as boolean | undefined) ?? endpoint !== undefined,
    credentials,
    profileName,
    broker,
    assumeRole,
    sts: { endpoint: stsEndpoint, region: stsRegion },
    refreshMarginSeconds,
    maxLinkTtlSeconds: ttl,
    linkTtlPolicy,
    checksums,
    timeouts,
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
