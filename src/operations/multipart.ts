/**
 * Multipart uploads driven part by part (by a browser, or by lib-storage inside transfer.ts): abort here.
 * Plain functions over (client, bucket, key); errors are mapped by the caller.
 */
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3'

/** Aborts a multipart upload: S3 drops its parts. */
export async function abortMultipartUpload (client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
}
