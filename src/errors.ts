/**
 * The error catalog. Every error the plugin throws comes from here, carries a stable `code` and the HTTP
 * status it should be answered with. Browse routes only render these; they never pick a status.
 */
import createError from '@fastify/error'

/** General errors */

/** An option given at register time is missing or has a bad value (names the profile and field). */
export const FST_S3S_INVALID_OPTION = createError<[string]>(
  'FST_S3S_INVALID_OPTION', 'Invalid fastify-s3-storage option: %s', 500, TypeError)

/** A call named a profile that is not configured. */
export const FST_S3S_UNKNOWN_PROFILE = createError<[string]>(
  'FST_S3S_UNKNOWN_PROFILE', 'Unknown storage profile "%s"', 500)

/** A key, filename, location or prefix breaks the key rules (traversal, control bytes, length). */
export const FST_S3S_INVALID_KEY = createError<[string]>(
  'FST_S3S_INVALID_KEY', 'Invalid key: %s', 400)

/** A Range is malformed, or the object cannot satisfy it. */
export const FST_S3S_INVALID_RANGE = createError<[string]>(
  'FST_S3S_INVALID_RANGE', 'Range not satisfiable: %s', 416)

/** An argument other than a key is invalid (TTL, sizes, list limits). */
export const FST_S3S_INVALID_ARGUMENT = createError<[string]>(
  'FST_S3S_INVALID_ARGUMENT', 'Invalid argument: %s', 400)

/** S3-mapped errors */

/** A conditional read found the caller's copy current (If-None-Match / If-Modified-Since). */
export const FST_S3S_NOT_MODIFIED = createError<[string]>(
  'FST_S3S_NOT_MODIFIED', 'Not modified: %s', 304)

/** The object (or the bucket's key) does not exist. */
export const FST_S3S_NOT_FOUND = createError<[string]>(
  'FST_S3S_NOT_FOUND', 'Not found: %s', 404)

/** S3 refused the request for these credentials. */
export const FST_S3S_ACCESS_DENIED = createError<[string]>(
  'FST_S3S_ACCESS_DENIED', 'Access denied by S3: %s', 403)

/** A conditional write lost: the object already exists (If-None-Match) or changed (If-Match). */
export const FST_S3S_PRECONDITION_FAILED = createError<[string]>(
  'FST_S3S_PRECONDITION_FAILED', 'Precondition failed: %s', 412)

/** Another write to the same object was in progress (S3's `ConditionalRequestConflict`), still after retries. */
export const FST_S3S_WRITE_CONFLICT = createError<[string]>(
  'FST_S3S_WRITE_CONFLICT', 'Conflicting write in progress: %s (read the file again, then retry)', 409)

/** A version call on a bucket without versioning: nothing was read or changed. */
export const FST_S3S_VERSIONING_DISABLED = createError<[string]>(
  'FST_S3S_VERSIONING_DISABLED', 'Bucket versioning is not enabled: %s', 409)

/** A body is larger than the limit set for it (every upload path answers 413 for size). */
export const FST_S3S_TOO_LARGE = createError<[string]>(
  'FST_S3S_TOO_LARGE', 'Too large: %s', 413)

/** S3 answered with an error that is the deployment's problem, not the caller's (NoSuchBucket, 5xx). */
export const FST_S3S_S3_ERROR = createError<[string]>(
  'FST_S3S_S3_ERROR', 'S3 error: %s', 502)

/** S3 could not be reached, or keeps throttling after the SDK's retries. */
export const FST_S3S_S3_UNAVAILABLE = createError<[string]>(
  'FST_S3S_S3_UNAVAILABLE', 'S3 unavailable: %s', 503)

/** S3 did not answer within the configured time. */
export const FST_S3S_S3_TIMEOUT = createError<[string]>(
  'FST_S3S_S3_TIMEOUT', 'S3 timed out: %s', 504)

/** A credentials source (broker, STS, shared files) failed. Never carries secrets. */
export const FST_S3S_CREDENTIALS = createError<[string]>(
  'FST_S3S_CREDENTIALS', 'Credentials unavailable: %s', 502)

/** Browse errors */

/** No user: the browse `authenticate` hook answered null. */
export const FST_S3S_UNAUTHENTICATED = createError(
  'FST_S3S_UNAUTHENTICATED', 'Sign in to use this file browser', 401)

/** The browse `authorize` hook said no. */
export const FST_S3S_FORBIDDEN = createError<[string]>(
  'FST_S3S_FORBIDDEN', 'Not allowed: %s', 403)

/** A state-changing browse request without a CSRF token or an X-Requested-With header. */
export const FST_S3S_CSRF = createError(
  'FST_S3S_CSRF', 'Missing or invalid CSRF token (send the page\'s token, or X-Requested-With from scripts)', 403)

/** The target exists and the namespace does not allow overwriting. */
export const FST_S3S_EXISTS = createError<[string]>(
  'FST_S3S_EXISTS', 'Already exists: %s', 409)

/** A folder delete without `recursive` on a folder that is not empty. */
export const FST_S3S_FOLDER_NOT_EMPTY = createError<[string]>(
  'FST_S3S_FOLDER_NOT_EMPTY', 'Folder is not empty: %s (delete it with recursive=1)', 409)

/** Signing in did not work: the sign-in took too long, its state was tampered with, or the provider refused the code. */
export const FST_S3S_SIGN_IN_FAILED = createError<[string]>(
  'FST_S3S_SIGN_IN_FAILED', 'Sign-in failed: %s', 401)

/** The OpenID provider could not be reached, or answered with something that is not OpenID Connect. */
export const FST_S3S_IDENTITY_PROVIDER = createError<[string]>(
  'FST_S3S_IDENTITY_PROVIDER', 'The sign-in provider did not answer as expected: %s', 502)

/** An upload would take the user's (or namespace's) space past its `quota`. */
export const FST_S3S_QUOTA_EXCEEDED = createError<[string]>(
  'FST_S3S_QUOTA_EXCEEDED', 'Over quota: %s', 413)

/** A browse request that is not what the route takes (no files, a bad form). */
export const FST_S3S_BAD_REQUEST = createError<[string]>(
  'FST_S3S_BAD_REQUEST', 'Bad request: %s', 400)

/** Upload errors (every upload path: streamed, presigned POST, direct uploads, multipart) */

/** A file's type or extension is not one the namespace or upload service accepts. */
export const FST_S3S_TYPE_NOT_ALLOWED = createError<[string]>(
  'FST_S3S_TYPE_NOT_ALLOWED', 'File type not allowed: %s', 415)

/** Helpers */

/** Whether an error comes from this catalog (its `code` starts with `FST_S3S_`). */
export function isStorageError (err: unknown): err is Error & { code: string, statusCode: number } {
  const code = (err as { code?: unknown } | null)?.code
  return err instanceof Error && typeof code === 'string' && code.startsWith('FST_S3S_')
}

/** Whether an error is the catalog's "not found" (`FST_S3S_NOT_FOUND`). */
export function isNotFound (err: unknown): boolean {
  return isStorageError(err) && err.code === 'FST_S3S_NOT_FOUND'
}
