/**
 * Presigned links: GET and PUT URLs and POST policies, with the profile's TTL ceiling and credential-expiry
 * policy applied. Link TTLs are clamped, never refused: a caller asking for too long gets the longest allowed
 * and a warning.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post'
import type { FastifyBaseLogger } from 'fastify'
import { dispositionHeader } from '../content-disposition.js'
import { FST_S3S_INVALID_ARGUMENT } from '../errors.js'
import { hashKey } from '../keys.js'
import type { LinkTtlPolicy } from '../options.js'
import type { StorageProfile } from '../profiles/registry.js'

/** SigV4 presigned URLs live at most 7 days: the ceiling of every link lifetime. */
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 3600

/** Largest object a single PUT or POST may carry (S3's limit). */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 ** 3

/**
 * Checks a requested TTL and clamps it to `ceiling` seconds, logging a warning when it had to.
 * Throws `FST_S3S_INVALID_ARGUMENT` for a TTL that is not a positive number.
 */
export function clampTtl (seconds: number, ceiling: number, log: FastifyBaseLogger, key: string): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new FST_S3S_INVALID_ARGUMENT('a link lifetime must be a positive number')
  }
  const whole = Math.max(1, Math.floor(seconds))
  if (whole <= ceiling) return whole
  log.warn({ keyHash: hashKey(key), requestedSeconds: whole, maxSeconds: ceiling }, 'presigned link lifetime clamped to the profile ceiling')
  return ceiling
}

/**
 * Applies a `linkTtlPolicy` to a lifetime: a link signed with temporary credentials stops working when they
 * expire, whatever its own lifetime says. `'clamp'` shortens it to the credentials' remaining life (at least
 * one second); `'warn'` keeps it. Both log a warning; a link within the credentials' life is left alone.
 */
export function fitToCredentials (seconds: number, expiry: Date | undefined, policy: LinkTtlPolicy, log: FastifyBaseLogger, key: string, profile: string): number {
  if (expiry === undefined) return seconds
  const left = Math.floor((expiry.getTime() - Date.now()) / 1000)
  if (seconds <= left) return seconds
  const fields = { profile, keyHash: hashKey(key), requestedSeconds: seconds, credentialsExpireInSeconds: Math.max(0, left), linkTtlPolicy: policy }
  if (policy === 'warn') {
    log.warn(fields, 'presigned link outlives the temporary credentials that sign it: it stops working when they expire')
    return seconds
  }
  const clamped = Math.max(1, left)
  log.warn({ ...fields, clampedSeconds: clamped }, 'presigned link lifetime clamped to the expiry of the temporary credentials that sign it')
  return clamped
}

/**
 * The lifetime a link on `profile` gets: the requested seconds clamped to the profile ceiling, then the
 * profile's `linkTtlPolicy` against the expiry of the credentials that will sign it.
 */
export async function linkLifetime (profile: StorageProfile, requestedSeconds: number, log: FastifyBaseLogger, key: string): Promise<number> {
  const seconds = clampTtl(requestedSeconds, profile.options.maxLinkTtlSeconds, log, key)
  const expiry = await profile.credentialsExpiry()
  return fitToCredentials(seconds, expiry, profile.options.linkTtlPolicy, log, key, profile.name)
}

/** Options of {@link presignGet}. */
export interface PresignGetOptions {
  /** Makes the browser save the file under this name (any Unicode: an ASCII fallback plus `filename*`). */
  downloadName?: string
  /** Overrides the Content-Type S3 answers with. */
  contentType?: string
}

/** A presigned GET URL valid for `expiresIn` seconds. */
export async function presignGet (client: S3Client, bucket: string, key: string, expiresIn: number, options: PresignGetOptions = {}): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ResponseContentDisposition: options.downloadName !== undefined ? dispositionHeader(options.downloadName) : undefined,
    ResponseContentType: options.contentType
  })
  return getSignedUrl(client, command, { expiresIn })
}

/**
 * A presigned PUT URL valid for `expiresIn` seconds. Content-Type is a signed header, so the client must
 * send exactly `Content-Type: <contentType>` or S3 refuses the signature.
 */
export async function presignPut (client: S3Client, bucket: string, key: string, expiresIn: number, contentType: string): Promise<string> {
  const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType })
  return await getSignedUrl(client, command, { expiresIn, signableHeaders: new Set(['content-type']) })
}

/** Options of {@link presignPost}. */
export interface PresignPostOptions {
  /** Largest file accepted, in bytes: the policy's `content-length-range` upper bound. */
  maxBytes: number
  /** When set, the form must send exactly this Content-Type. */
  contentType?: string
  /** Lifetime of the policy in seconds. */
  expiresIn: number
  /** Stored as `x-amz-meta-*`; fixed by the policy, so the form cannot change them. */
  metadata?: Record<string, string>
}

/** A presigned POST: the URL and the form fields to send before the file. */
export interface PresignedPost {
  url: string
  fields: Record<string, string>
}

/** A presigned POST policy that S3 enforces: size range, exact key, exact Content-Type and metadata. */
export async function presignPost (client: S3Client, bucket: string, key: string, options: PresignPostOptions): Promise<PresignedPost> {
  const fields: Record<string, string> = {}
  const conditions: NonNullable<PresignedPostOptions['Conditions']> = [['content-length-range', 0, options.maxBytes]]
  if (options.contentType !== undefined) {
    fields['Content-Type'] = options.contentType
    conditions.push({ 'Content-Type': options.contentType })
  }
  for (const [name, value] of Object.entries(options.metadata ?? {})) {
    fields[`x-amz-meta-${name}`] = value
    conditions.push({ [`x-amz-meta-${name}`]: value })
  }
  return await createPresignedPost(client, { Bucket: bucket, Key: key, Conditions: conditions, Fields: fields, Expires: options.expiresIn })
}
