/**
 * Paths from browse URLs. The raw URL is decoded exactly once here, NFC-normalised and checked by the key
 * rules of src/keys.ts; the result is always relative to the namespace's basePath, which the key builder
 * joins in front. Anything that could mean "somewhere else" in any encoding is a 400, never a resolve.
 */
import { FST_S3S_INVALID_KEY } from '../errors.js'
import { checkPath } from '../keys.js'

/** A path inside a namespace. */
export interface BrowsePath {
  /** Relative path: `''` for the root, `a/b/` for a folder, `a/b.txt` for a file. */
  path: string
  /** Whether it names a folder (ends in `/`, or is the root). */
  folder: boolean
}

// Percent-encoded separators: a client that encodes "/" or "\" wants them read as something other than a separator.
const ENCODED_SEPARATOR = /%(2f|5c)/i

/** Decodes the raw (still percent-encoded) part of a URL after `/<namespace>/files/`. */
export function decodeBrowsePath (raw: string): BrowsePath {
  if (ENCODED_SEPARATOR.test(raw)) throw new FST_S3S_INVALID_KEY('encoded "/" or "\\" in the path')
  let decoded: string
  try {
    // decodeURIComponent refuses malformed escapes and invalid UTF-8 (overlong forms such as %c0%ae included).
    decoded = decodeURIComponent(raw)
  } catch {
    throw new FST_S3S_INVALID_KEY('the path is not valid percent-encoded UTF-8')
  }
  decoded = decoded.normalize('NFC')
  const folder = decoded === '' || decoded.endsWith('/')
  const path = checkPath(decoded, 'key', { allowTrailingSlash: folder })
  for (const segment of path.split('/')) rejectDoubleEncoded(segment)
  return { path: path === '' ? '' : folder ? path + '/' : path, folder }
}

/** Decodes a path given in a form field or JSON body (not percent-encoded), with the same rules. */
export function checkBrowsePath (value: unknown, { folder }: { folder: boolean }): string {
  if (typeof value !== 'string') throw new FST_S3S_INVALID_KEY('path must be a string')
  const normalized = value.normalize('NFC')
  const path = checkPath(normalized, 'key', { allowTrailingSlash: folder })
  for (const segment of path.split('/')) rejectDoubleEncoded(segment)
  if (path === '') return ''
  return folder ? path + '/' : path
}

// "%252e%252e" decodes once to "%2e%2e"; a second decoder down the line (a CDN, a proxy, a user's script)
// would read "..". Refuse segments that become a separator or a dot segment when decoded again.
function rejectDoubleEncoded (segment: string): void {
  let again = segment
  // Peel as many layers as anyone might (bounded): %25252e is as dangerous to a triple decoder.
  for (let layer = 0; layer < 4 && again.includes('%'); layer++) {
    try {
      again = decodeURIComponent(again)
    } catch {
      return
    }
    if (again === '.' || again === '..' || again.includes('/') || again.includes('\\')) {
      throw new FST_S3S_INVALID_KEY('an encoded separator or dot segment in the path')
    }
  }
}
