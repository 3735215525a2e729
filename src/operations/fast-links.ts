/**
 * links.ts's `presignGet`, `presignPut` and `presignPost`, with the same signatures and the same links, made
 * by the client's {@link LinkSigner} instead of `getSignedUrl` / `createPresignedPost`. Importing these
 * instead of links.ts's is the whole switch; the lifetime rules (`linkLifetime()`: TTL ceiling, credential
 * expiry) stay in links.ts and run before, as now.
 *
 * One difference from links.ts, on purpose: a PUT link never carries a checksum, even on a profile with
 * `checksums: 'WHEN_SUPPORTED'` (there the SDK signs the CRC32 of an empty body, which fails every real
 * upload with `BadDigest`).
 */
import type { S3Client } from '@aws-sdk/client-s3'
import contentDisposition from 'content-disposition'
import type { PresignedPost, PresignGetOptions, PresignPostOptions } from './links.js'
import { linkSigner, type SignPostOptions } from './signer.js'

/** A presigned GET URL valid for `expiresIn` seconds (see links.ts). */
export async function presignGet (client: S3Client, bucket: string, key: string, expiresIn: number, options: PresignGetOptions = {}): Promise<string> {
  return await linkSigner(client).presignGet(bucket, key, expiresIn, {
    responseContentDisposition: options.downloadName !== undefined ? contentDisposition(options.downloadName) : undefined,
    responseContentType: options.contentType
  })
}

/** A presigned PUT URL valid for `expiresIn` seconds, Content-Type signed (see links.ts). */
export async function presignPut (client: S3Client, bucket: string, key: string, expiresIn: number, contentType: string): Promise<string> {
  return await linkSigner(client).presignPut(bucket, key, expiresIn, contentType)
}

/** A presigned POST policy: size range, exact key, exact Content-Type and metadata (see links.ts). */
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
