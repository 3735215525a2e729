/**
 * Bucket-level calls: the CORS configuration, the versioning state and the multipart uploads in progress.
 * Plain functions over (client, bucket); errors are mapped by the caller.
 */
import {
  GetBucketCorsCommand, GetBucketVersioningCommand, ListMultipartUploadsCommand, PutBucketCorsCommand, PutBucketVersioningCommand,
  type CORSRule, type S3Client
} from '@aws-sdk/client-s3'
import type { BucketVersioning } from './types.js'

/** The bucket's CORS rules; `[]` when it has none (S3 answers `NoSuchCORSConfiguration`). */
export async function getBucketCors (client: S3Client, bucket: string): Promise<CORSRule[]> {
  try {
    return (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? []
  } catch (err) {
    if ((err as Error).name === 'NoSuchCORSConfiguration') return []
    throw err
  }
}

/** Replaces the bucket's CORS rules. */
export async function putBucketCors (client: S3Client, bucket: string, rules: CORSRule[]): Promise<void> {
  await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }))
}

/**
 * The bucket's versioning state. A bucket that never had versioning answers no Status: `'Off'`. Once
 * enabled, S3 can only suspend it, never turn it off again.
 */
export async function getBucketVersioning (client: S3Client, bucket: string): Promise<BucketVersioning> {
  const { Status } = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))
  return Status === 'Enabled' || Status === 'Suspended' ? Status : 'Off'
}

/** Turns the bucket's versioning on, or suspends it (S3 has no way back to "off"). */
export async function putBucketVersioning (client: S3Client, bucket: string, status: Exclude<BucketVersioning, 'Off'>): Promise<void> {
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }))
}

/** A multipart upload S3 holds open. */
export interface OpenMultipartUpload {
  key: string
  uploadId: string
  initiated?: Date
}

/** Every multipart upload in progress under `prefix`, page by page. */
export async function * listMultipartUploads (client: S3Client, bucket: string, prefix: string): AsyncGenerator<OpenMultipartUpload> {
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  do {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }))
    for (const upload of page.Uploads ?? []) {
      if (upload.Key !== undefined && upload.UploadId !== undefined) yield { key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated }
    }
    const more = page.IsTruncated === true
    keyMarker = more ? page.NextKeyMarker : undefined
    uploadIdMarker = more ? page.NextUploadIdMarker : undefined
  } while (keyMarker !== undefined)
}
