/**
 * Maps what the AWS SDK throws onto the error catalog, by S3's error code first: the same HTTP status means
 * different things on different stores (versitygw answers an unknown access key with `404
 * XAdminUserNotFound`), while the code says what happened. Only answers without a body (a HEAD's 403 or
 * 404, where the SDK has no code to read) are mapped by their status.
 */
import {
  FST_S3S_ACCESS_DENIED, FST_S3S_EXISTS, FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_INVALID_RANGE, FST_S3S_NOT_FOUND, FST_S3S_NOT_MODIFIED,
  FST_S3S_PRECONDITION_FAILED, FST_S3S_S3_ERROR, FST_S3S_S3_TIMEOUT, FST_S3S_S3_UNAVAILABLE, FST_S3S_TOO_LARGE, FST_S3S_WRITE_CONFLICT,
  isStorageError
} from '../errors.js'

interface SdkError extends Error {
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

type Mapper = (what: string, code: string) => Error

const notFound: Mapper = (what) => new FST_S3S_NOT_FOUND(what)
const denied: Mapper = (what, code) => new FST_S3S_ACCESS_DENIED(`${code} for ${what}`)
const unavailable: Mapper = (what, code) => new FST_S3S_S3_UNAVAILABLE(`${code} for ${what}`)
const timedOut: Mapper = (what, code) => new FST_S3S_S3_TIMEOUT(`${code} for ${what}`)
// Stores that keep keys as file paths cannot hold a file `a` and a folder `a/` at once.
const pathClash: Mapper = (what) => new FST_S3S_EXISTS(`${what}: a file and a folder would share a name, which this store cannot hold`)

/** S3 error codes (and the SDK's names for them) and what each means for the caller. */
const BY_CODE: Record<string, Mapper> = {
  NotModified: (what) => new FST_S3S_NOT_MODIFIED(what),
  NoSuchKey: notFound,
  NotFound: notFound,
  NoSuchUpload: notFound,
  NoSuchVersion: notFound,
  // A missing bucket is the deployment's misconfiguration, not the caller's 404.
  NoSuchBucket: (what) => new FST_S3S_S3_ERROR(`NoSuchBucket for ${what}`),
  AccessDenied: denied,
  AllAccessDisabled: denied,
  AccountProblem: denied,
  InvalidAccessKeyId: denied,
  InvalidSecurity: denied,
  SignatureDoesNotMatch: denied,
  ExpiredToken: denied,
  InvalidToken: denied,
  TokenRefreshRequired: denied,
  // versitygw's answer to an access key it does not know (a 404 there).
  XAdminUserNotFound: denied,
  PreconditionFailed: (what) => new FST_S3S_PRECONDITION_FAILED(what),
  // A conditional write raced another write of the key; transfer.ts retries it before it gets here.
  ConditionalRequestConflict: (what) => new FST_S3S_WRITE_CONFLICT(what),
  InvalidRange: (what) => new FST_S3S_INVALID_RANGE(`the range is outside ${what}`),
  EntityTooLarge: (what) => new FST_S3S_TOO_LARGE(what),
  // A multipart Complete naming parts S3 does not hold as named (the caller's list, not the deployment).
  InvalidPart: (what, code) => new FST_S3S_INVALID_ARGUMENT(`${code} for ${what}`),
  InvalidPartOrder: (what, code) => new FST_S3S_INVALID_ARGUMENT(`${code} for ${what}`),
  EntityTooSmall: (what, code) => new FST_S3S_INVALID_ARGUMENT(`${code} for ${what}`),
  KeyTooLongError: (what) => new FST_S3S_INVALID_KEY(`${what} is longer than the store allows`),
  ExistingObjectIsFile: pathClash,
  ExistingObjectIsDirectory: pathClash,
  ObjectParentIsFile: pathClash,
  SlowDown: unavailable,
  Throttling: unavailable,
  ThrottlingException: unavailable,
  RequestLimitExceeded: unavailable,
  TooManyRequestsException: unavailable,
  ServiceUnavailable: unavailable,
  RequestTimeout: timedOut,
  TimeoutError: timedOut
}

/** Status-only mapping, for answers that carried no error code. */
const BY_STATUS: Record<number, Mapper> = {
  304: BY_CODE.NotModified,
  403: (what) => denied(what, 'AccessDenied'),
  404: notFound,
  412: BY_CODE.PreconditionFailed,
  413: BY_CODE.EntityTooLarge,
  416: BY_CODE.InvalidRange,
  429: (what) => unavailable(what, 'SlowDown'),
  503: (what) => unavailable(what, 'ServiceUnavailable')
}

// Node's codes for a network that failed us (S3 unreachable, connection cut).
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE'])
const NETWORK_TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT'])

/**
 * The names the SDK gives an error it could not read a code from: a bodiless answer (HEAD), which only its
 * status describes. The SDK names a bodiless 404 `NotFound` and a 403 `Forbidden` or `Unknown`.
 */
function isCodeless (name: string): boolean {
  return name === 'Unknown' || name === 'UnknownError' || name === 'Forbidden' || name === 'Error' || name === '' || /^\d+$/.test(name)
}

function networkCode (e: SdkError): string | undefined {
  const code = e.code ?? e.Code
  return code !== undefined && (NETWORK.has(code) || NETWORK_TIMEOUT.has(code)) ? code : undefined
}

/**
 * Whether an error came from S3 (it has an HTTP status) or the network to it, as opposed to, say, the
 * caller's own body stream. Only these are mapped onto the catalog.
 */
export function isS3OrNetworkError (err: unknown): boolean {
  const e = err as SdkError | undefined
  if (e === undefined || e === null) return false
  return e.$metadata?.httpStatusCode !== undefined || e.name === 'TimeoutError' || BY_CODE[e.name] === unavailable || networkCode(e) !== undefined
}

/**
 * Turns an SDK or network error into a catalog error with the right status, keeping the original as `cause`.
 * `what` names the object for the message (a relative name, never credentials). Errors that are neither
 * from S3 nor the network (the caller's own body stream failed, say) are returned as they are.
 */
export function mapS3Error (err: unknown, what: string): Error {
  if (isStorageError(err)) return err
  if (!isS3OrNetworkError(err)) return err as Error
  const e = err as SdkError
  const name = e.name ?? 'Error'
  const status = e.$metadata?.httpStatusCode
  const network = networkCode(e)
  let mapped: Error
  if (network !== undefined) {
    mapped = NETWORK_TIMEOUT.has(network) ? timedOut(what, network) : unavailable(what, network)
  } else if (Object.hasOwn(BY_CODE, name)) {
    mapped = BY_CODE[name](what, name)
  } else if (isCodeless(name) && status !== undefined && Object.hasOwn(BY_STATUS, status)) {
    mapped = BY_STATUS[status](what, name)
  } else {
    mapped = new FST_S3S_S3_ERROR(`${isCodeless(name) ? 'an error' : name}${status !== undefined ? ` (HTTP ${status})` : ''} for ${what}`)
  }
  mapped.cause = err
  return mapped
}

/**
 * A per-key failure S3 reported inside a 200 answer (DeleteObjects' `<Error>` entries: a code and a
 * message, no status of its own), mapped like a thrown error of that code.
 */
export function mapKeyFailure (code: string, message: string, what: string): Error {
  const mapped = Object.hasOwn(BY_CODE, code) ? BY_CODE[code](what, code) : new FST_S3S_S3_ERROR(`${code} for ${what}${message === '' ? '' : `: ${message}`}`)
  mapped.cause = Object.assign(new Error(message), { name: code })
  return mapped
}
