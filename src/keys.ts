/**
 * The one place keys are made. Every S3 key the plugin touches is `profile prefix + location + name`,
 * built and checked here, so traversal and encoding rules live in one function with one table of tests.
 */
import { createHash } from 'node:crypto'
import { FST_S3S_INVALID_KEY } from './errors.js'

/** S3's own limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024

/**
 * Longest segment (the part between two `/`), in UTF-8 bytes. AWS allows longer, but every store that keeps
 * keys as file paths (SeaweedFS's filer, versitygw's posix backend, MinIO) refuses a name over 255 bytes, so
 * keys that must work on any store keep to it.
 */
export const MAX_SEGMENT_BYTES = 255

// C0 controls, DEL and C1 controls: never valid in a key (log forging, header injection, invisible names).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/
// Line separators and bidi embeddings/overrides/isolates: they make `invoice\u202Efdp.exe` read as a PDF.
const SPOOFING_CHARS = /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/

/** What a key part is, for error messages. */
export type KeyPart = 'key' | 'filename' | 'location' | 'prefix'

/**
 * Checks one relative path (a name, a location or a prefix) against the key rules and returns it with
 * surrounding slashes trimmed where allowed. Throws `FST_S3S_INVALID_KEY` (400).
 *
 * Rules: no leading `/`, no `.` or `..` segment, no empty segment (`a//b`), no segment over 255 bytes, no
 * control characters, no bidi overrides or line separators, no backslashes.
 * A trailing `/` is allowed only for prefixes. Names such as `v1..2.txt` are fine.
 */
export function checkPath (value: string, part: KeyPart, { allowTrailingSlash = false } = {}): string {
  if (typeof value !== 'string') throw new FST_S3S_INVALID_KEY(`${part} must be a string`)
  if (CONTROL_CHARS.test(value)) throw new FST_S3S_INVALID_KEY(`${part} contains control characters`)
  if (SPOOFING_CHARS.test(value)) throw new FST_S3S_INVALID_KEY(`${part} contains bidi or line-separator characters`)
  if (value.startsWith('/')) throw new FST_S3S_INVALID_KEY(`${part} must not start with "/"`)
  // Backslashes are path separators on some clients; refusing them keeps `a\..\b` from meaning anything.
  if (value.includes('\\')) throw new FST_S3S_INVALID_KEY(`${part} must not contain "\\"`)
  let path = value
  if (allowTrailingSlash && path.endsWith('/')) path = path.slice(0, -1)
  if (path === '') return ''
  for (const segment of path.split('/')) {
    if (segment === '') throw new FST_S3S_INVALID_KEY(`${part} has an empty segment`)
    if (segment === '.' || segment === '..') throw new FST_S3S_INVALID_KEY(`${part} has a "${segment}" segment`)
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
      throw new FST_S3S_INVALID_KEY(`${part} has a name longer than ${MAX_SEGMENT_BYTES} bytes in UTF-8`)
    }
  }
  return path
}

/**
 * Normalises a profile prefix once at register time: `uploads`, `uploads/` and `/uploads/` are the same.
 * Returns `''` or a prefix ending in `/`.
 */
export function normalizePrefix (prefix: string | undefined, part: KeyPart = 'prefix'): string {
  if (prefix === undefined || prefix === '') return ''
  // Only a configured profile prefix may start with "/"; a location or a request's prefix may not.
  const trimmed = part === 'prefix' ? prefix.replace(/^\/+/, '') : prefix
  const path = checkPath(trimmed, part, { allowTrailingSlash: true })
  return path === '' ? '' : path + '/'
}

/** Options of {@link buildKey}. */
export interface BuildKeyOptions {
  /** The name is a folder prefix: may be empty and may end with `/`. Default false. */
  folder?: boolean
}

/**
 * Builds a full S3 key: `prefix` (already normalised, ends with `/` or is empty) + `location` + `name`.
 * Names are kept byte-exact (no Unicode normalisation: the browse routes normalise what browsers send).
 *
 * @example
 * buildKey('app1/', 'invoices', '2024/a.pdf') // 'app1/invoices/2024/a.pdf'
 */
export function buildKey (prefix: string, location: string | undefined, name: string, options: BuildKeyOptions = {}): string {
  const loc = location === undefined || location === '' ? '' : normalizePrefix(location, 'location')
  let key: string
  if (options.folder === true) {
    const folder = checkPath(name, 'prefix', { allowTrailingSlash: true })
    key = prefix + loc + (folder === '' ? '' : folder + '/')
  } else {
    if (name === '') throw new FST_S3S_INVALID_KEY('filename must not be empty')
    key = prefix + loc + checkPath(name, 'filename')
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new FST_S3S_INVALID_KEY(`key is longer than ${MAX_KEY_BYTES} bytes in UTF-8`)
  }
  return key
}

/**
 * Joins a location and a filename without a profile prefix, with the same checks.
 *
 * @example
 * prefixPath('invoices', 'a.pdf') // 'invoices/a.pdf'
 */
export function prefixPath (location: string | undefined, filename: string): string {
  return buildKey('', location, filename)
}

/**
 * Splits an `s3://bucket/key` URL. The key is returned as written (no percent-decoding: S3 URLs are not
 * percent-encoded). Throws `FST_S3S_INVALID_KEY` when it is not an s3 URL with a bucket.
 *
 * @example
 * parseS3Url('s3://reports/2024/q1.csv') // { bucket: 'reports', key: '2024/q1.csv' }
 */
export function parseS3Url (url: string): { bucket: string, key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(url)
  if (match === null) throw new FST_S3S_INVALID_KEY('not an s3://bucket/key URL')
  return { bucket: match[1], key: match[2] }
}

/**
 * A short, stable SHA-256 prefix of a key, for logs: keys can be correlated without being written out.
 *
 * @example
 * hashKey('invoices/a.pdf') // '5f1c8d0e2b7a4c93' (16 hex digits)
 */
export function hashKey (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)
}

// An extension worth keeping or matching: letters and digits of any script, `_` and `-`, 1-32 of them.
const EXTENSION = /^[\p{L}\p{N}_-]{1,32}$/u

/** Whether `value` (without the dot) is a plausible file extension, by the one rule every check uses. */
export function isExtension (value: string): boolean {
  return EXTENSION.test(value)
}

/**
 * The extension of a key's last segment, without the dot and as written (`a/Report.PDF` → `PDF`), or `''`
 * when it has none or an implausible one. Matched on the last dot; a leading dot is no extension (`.env`).
 * Compare case-insensitively.
 */
export function extensionOf (key: string): string {
  const base = baseName(key)
  const dot = base.lastIndexOf('.')
  if (dot <= 0) return ''
  const ext = base.slice(dot + 1)
  return isExtension(ext) ? ext : ''
}

/** The last segment of a key or prefix (`a/b/c.txt` → `c.txt`, `a/b/` → `b`). */
export function baseName (key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}
