/**
 * The credentials broker client: POSTs the profile's secret, form-encoded, to `credentialsUrl` and reads
 * `{ AccessKeyId, SecretAccessKey, SessionToken, Expiration, S3Folder }`.
 *
 * Errors name the profile and the broker's origin and path only: never its query string (which may carry
 * a token), the secret, or the reply body (which may echo either).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { AwsCredentialIdentity } from '@aws-sdk/types'
import { FST_S3S_CREDENTIALS } from '../errors.js'
import { normalizePrefix, parseS3Url } from '../keys.js'
import { isBucketName, type NormalizedBroker } from '../options.js'

/** Tries per fetch, the first included. */
export const BROKER_TRIES = 3
/** Wait before the second try; doubled before each further one. */
export const BROKER_BACKOFF_MS = 100

/** Where a broker's credentials may write: its `S3Folder`. */
export interface BrokerFolder {
  bucket: string
  /** `''` or a folder ending in `/`. */
  prefix: string
}

/** A broker's answer, validated. */
export interface BrokerCredentials {
  identity: AwsCredentialIdentity
  expiration: Date
  /** Undefined when the broker sent no `S3Folder` (the profile's own bucket is used). */
  folder?: BrokerFolder
}

/** Options of {@link fetchBrokerCredentials}. */
export interface BrokerFetchOptions {
  /** The profile's name, for messages. */
  profile: string
  /** The profile has no bucket of its own, so the reply must carry an `S3Folder`. */
  requireFolder: boolean
}

/** A reason a try failed, and whether another try may help. */
interface Failure {
  reason: string
  retry: boolean
}

class MalformedReply extends Error {}

/**
 * Fetches credentials from the broker: up to {@link BROKER_TRIES} tries with exponential backoff; 4xx
 * answers other than 408 and 429 are final. Throws `FST_S3S_CREDENTIALS` (502).
 */
export async function fetchBrokerCredentials (broker: NormalizedBroker, options: BrokerFetchOptions): Promise<BrokerCredentials> {
  for (let attempt = 1; ; attempt++) {
    const failure = await tryOnce(broker, options)
    if (!('reason' in failure)) return failure
    if (!failure.retry || attempt >= BROKER_TRIES) {
      throw new FST_S3S_CREDENTIALS(`profile "${options.profile}": credentials broker ${broker.label} failed after ${attempt} ${attempt === 1 ? 'try' : 'tries'}: ${failure.reason}`)
    }
    await sleep(BROKER_BACKOFF_MS * 2 ** (attempt - 1))
  }
}

async function tryOnce (broker: NormalizedBroker, options: BrokerFetchOptions): Promise<BrokerCredentials | Failure> {
  let response: Response
  try {
    response = await fetch(broker.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ secret: broker.secret }).toString(),
      // A redirect would carry the secret to another URL (307/308 repeat the POST): refuse it.
      redirect: 'manual',
      signal: AbortSignal.timeout(broker.timeoutMs)
    })
  } catch (err) {
    return { reason: describeNetworkError(err, broker.timeoutMs), retry: true }
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {})
    const status = response.status
    if (status >= 300 && status < 400) return { reason: `HTTP ${status} (redirects are not followed)`, retry: false }
    return { reason: `HTTP ${status}`, retry: status >= 500 || status === 408 || status === 429 }
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (err) {
    const name = (err as Error)?.name
    if (name === 'TimeoutError' || name === 'AbortError') return { reason: `timed out after ${broker.timeoutMs} ms`, retry: true }
    return { reason: 'malformed reply (not JSON)', retry: true }
  }
  try {
    return parseReply(body, options.requireFolder)
  } catch (err) {
    return { reason: `malformed reply (${err instanceof MalformedReply ? err.message : 'invalid'})`, retry: true }
  }
}

function describeNetworkError (err: unknown, timeoutMs: number): string {
  const e = err as { name?: string, code?: string, cause?: { code?: string, name?: string } }
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`
  const code = e?.cause?.code ?? e?.code
  // Only a system error code: undici's messages are harmless today, but nothing of the reply gets through.
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? `unreachable (${code})` : 'unreachable'
}

function nonEmptyString (value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

/** Validates a reply. Messages name the field at fault, never its value. */
function parseReply (body: unknown, requireFolder: boolean): BrokerCredentials {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MalformedReply('not a JSON object')
  const reply = body as Record<string, unknown>
  if (!nonEmptyString(reply.AccessKeyId)) throw new MalformedReply('AccessKeyId missing')
  if (!nonEmptyString(reply.SecretAccessKey)) throw new MalformedReply('SecretAccessKey missing')
  const token = reply.SessionToken
  if (token !== undefined && token !== null && typeof token !== 'string') throw new MalformedReply('SessionToken is not a string')
  const expires = typeof reply.Expiration === 'string' || typeof reply.Expiration === 'number' ? new Date(reply.Expiration) : undefined
  if (expires === undefined || Number.isNaN(expires.getTime())) throw new MalformedReply('Expiration missing or not a date')
  if (expires.getTime() <= Date.now()) throw new MalformedReply('Expiration is in the past, or the clocks disagree')
  let folder: BrokerFolder | undefined
  if (reply.S3Folder !== undefined && reply.S3Folder !== null) {
    if (typeof reply.S3Folder !== 'string') throw new MalformedReply('S3Folder is not a string')
    folder = parseFolder(reply.S3Folder)
  } else if (requireFolder) {
    throw new MalformedReply('S3Folder missing, and the profile has no "bucket"')
  }
  return {
    identity: {
      accessKeyId: reply.AccessKeyId,
      secretAccessKey: reply.SecretAccessKey,
      sessionToken: nonEmptyString(token) ? token : undefined,
      expiration: expires
    },
    expiration: expires,
    folder
  }
}

function parseFolder (value: string): BrokerFolder {
  let bucket: string
  let key: string
  try {
    ({ bucket, key } = parseS3Url(value))
  } catch {
    throw new MalformedReply('S3Folder is not an s3://bucket/folder/ URL')
  }
  if (!isBucketName(bucket)) throw new MalformedReply('S3Folder names an invalid bucket')
  try {
    // The same rules as a configured prefix: no traversal, no empty or dot segments.
    return { bucket, prefix: normalizePrefix(key) }
  } catch {
    throw new MalformedReply('S3Folder has an invalid folder')
  }
}
