/**
 * Presigned links: GET, PUT and UploadPart URLs and POST policies, with the profile's TTL ceiling and
 * credential-expiry policy applied, signed by the client's LinkSigner (signer.ts: a per-bucket fast path,
 * byte for byte what `getSignedUrl` makes, never a checksum parameter). Link TTLs are clamped, never
 * refused: a caller asking for too long gets the longest allowed and a warning.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import { dispositionHeader } from '../content-disposition.js'
import { FST_S3S_INVALID_ARGUMENT } from '../errors.js'
import { hashKey } from '../keys.js'
import type { LinkTtlPolicy } from '../options.js'
import type { StorageProfile } from '../profiles/registry.js'
import { linkSigner, MAX_LINK_TTL_SECONDS, type SignPostOptions } from './signer.js'

export { MAX_LINK_TTL_SECONDS }

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
  /** With `downloadName`: `inline` or `attachment` (default). */
  disposition?: 'inline' | 'attachment'
  /** Overrides the Content-Type S3 answers with. */
  contentType?: string
  /** Overrides the Cache-Control S3 answers with. */
  cacheControl?: string
  /** A version of the object instead of the current one. */
  versionId?: string
}

/** A presigned GET URL valid for `expiresIn` seconds. */
export async function presignGet (client: S3Client, bucket: string, key: string, expiresIn: number, options: PresignGetOptions = {}): Promise<string> {
  return await linkSigner(client).presignGet(bucket, key, expiresIn, {
    responseContentDisposition: options.downloadName !== undefined ? dispositionHeader(options.downloadName, options.disposition) : undefined,
    responseContentType: options.contentType,
    responseCacheControl: options.cacheControl,
    versionId: options.versionId
  })
}

/**
 * A presigned PUT URL valid for `expiresIn` seconds. Content-Type is a signed header, so the client must
 * send exactly `Content-Type: <contentType>` or S3 refuses the signature. Never a checksum parameter, whatever
 * the profile's `checksums` (the SDK would sign the CRC32 of an empty body, failing every real upload).
 */
export async function presignPut (client: S3Client, bucket: string, key: string, expiresIn: number, contentType: string): Promise<string> {
  return await linkSigner(client).presignPut(bucket, key, expiresIn, contentType)
}

/** A presigned UploadPart URL for part `partNumber` of a multipart upload, valid for `expiresIn` seconds. */
export async function presignUploadPart (client: S3Client, bucket: string, key: string, uploadId: string, partNumber: number, expiresIn: number): Promise<string> {
  return await linkSigner(client).presignUploadPart(bucket, key, uploadId, partNumber, expiresIn)
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
  const conditions: NonNullable<SignPostOptions['conditions']> = [['content-length-range', 0, options.maxBytes]]
  if (options.contentType !== undefined) {
    fields['Content-Type'] = options.contentType
    conditions.push({ 'Content-Type': options.contentType })
  }
  for (const [name, value] of Object.entries(options.metadata ?? {})) {
    fields[`x-amz-meta-${name}`] = value
    conditions.push({ [`x-amz-meta-${name}`]: value })
  }
  return await linkSigner(client).presignPost(bucket, key, { conditions, fields, expiresIn: options.expiresIn })
}
