/**
 * Maps what the AWS SDK throws onto the error catalog. The SDK names most errors after S3's error code, but
 * a HEAD has no body, so its 403/404 arrive with only a status: we map by name first, then by status.
 */
import {
  FST_S3S_ACCESS_DENIED, FST_S3S_INVALID_RANGE, FST_S3S_NOT_FOUND, FST_S3S_NOT_MODIFIED, FST_S3S_PRECONDITION_FAILED,
  FST_S3S_S3_ERROR, FST_S3S_S3_TIMEOUT, FST_S3S_S3_UNAVAILABLE, FST_S3S_TOO_LARGE
} from '../errors.js'

interface SdkError extends Error {
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  $fault?: 'client' | 'server'
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchVersion'])
const DENIED = new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken'])
const UNAVAILABLE = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'ServiceUnavailable', 'RequestLimitExceeded', 'TooManyRequestsException'])
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE'])
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'ETIMEDOUT', 'ESOCKETTIMEDOUT'])

/** Whether an error already comes from our catalog (it has a `FST_S3S_` code). */
export function isStorageError (err: unknown): err is Error & { code: string, statusCode: number } {
  return err instanceof Error && typeof (err as SdkError).code === 'string' && (err as SdkError).code!.startsWith('FST_S3S_')
}

/**
 * Whether an error came from S3 (it has an HTTP status) or the network to it, as opposed to, say, the
 * caller's own body stream. Only these are mapped onto the catalog.
 */
export function isS3OrNetworkError (err: unknown): boolean {
  const e = err as SdkError | undefined
  if (e === undefined || e === null) return false
  const code = e.code ?? e.Code
  return e.$metadata?.httpStatusCode !== undefined || TIMEOUT.has(e.name) || UNAVAILABLE.has(e.name) ||
    (code !== undefined && (NETWORK.has(code) || TIMEOUT.has(code)))
}

/**
 * Turns an SDK or network error into a catalog error with the right status, keeping the original as `cause`.
 * `what` names the object for the message (a relative name, never credentials).
 */
export function mapS3Error (err: unknown, what: string): Error {
  if (isStorageError(err)) return err
  const e = err as SdkError
  const name = e?.name ?? 'Error'
  const status = e?.$metadata?.httpStatusCode
  const code = e?.code ?? e?.Code
  // Not from S3 or the network (for example the caller's own body stream failed): keep it as it is.
  if (!isS3OrNetworkError(err)) return err as Error
  let mapped: Error
  if (status === 304 || name === 'NotModified') {
    mapped = new FST_S3S_NOT_MODIFIED(what)
  } else if (name === 'NoSuchBucket') {
    // A missing bucket is the deployment's misconfiguration, not the caller's 404.
    mapped = new FST_S3S_S3_ERROR(`NoSuchBucket for ${what}`)
  } else if (NOT_FOUND.has(name) || (status === 404 && name !== 'NoSuchBucket')) {
    mapped = new FST_S3S_NOT_FOUND(what)
  } else if (DENIED.has(name) || status === 403) {
    mapped = new FST_S3S_ACCESS_DENIED(`${name === 'Error' || /^\d+$/.test(name) ? 'AccessDenied' : name} for ${what}`)
  } else if (name === 'PreconditionFailed' || status === 412) {
    mapped = new FST_S3S_PRECONDITION_FAILED(what)
  } else if (name === 'InvalidRange' || status === 416) {
    mapped = new FST_S3S_INVALID_RANGE(`the range is outside ${what}`)
  } else if (name === 'EntityTooLarge' || status === 413) {
    mapped = new FST_S3S_TOO_LARGE(what)
  } else if (TIMEOUT.has(name) || (code !== undefined && TIMEOUT.has(code))) {
    mapped = new FST_S3S_S3_TIMEOUT(`${code ?? name} for ${what}`)
  } else if (UNAVAILABLE.has(name) || status === 503 || (code !== undefined && NETWORK.has(code))) {
    mapped = new FST_S3S_S3_UNAVAILABLE(`${code ?? name} for ${what}`)
  } else {
    mapped = new FST_S3S_S3_ERROR(`${name}${status !== undefined ? ` (HTTP ${status})` : ''} for ${what}`)
  }
  mapped.cause = err
  return mapped
}
