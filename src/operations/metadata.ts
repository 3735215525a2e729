/**
 * The one rule for user metadata (`x-amz-meta-*`), as S3 takes it: it travels as HTTP headers, so names are
 * HTTP tokens (any case, underscores allowed) that S3 stores lower-cased, values are printable ASCII, and
 * all of it together stays within S3's 2 KB.
 */
import { FST_S3S_INVALID_ARGUMENT } from '../errors.js'

/** S3's limit on user metadata: names and values together, in bytes. */
export const MAX_METADATA_BYTES = 2048

// RFC 9110 token characters: what an HTTP header name may be.
const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/
const VALUE = /^[\x20-\x7e]*$/

/**
 * Checks metadata and returns it with lower-cased names (what S3 stores and answers with), or throws
 * `FST_S3S_INVALID_ARGUMENT` saying which entry breaks which rule.
 *
 * @example
 * normalizeMetadata({ uploadedBy: 'u1', uploaded_by: 'u1' }) // { uploadedby: 'u1', uploaded_by: 'u1' }
 */
export function normalizeMetadata (metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  if (metadata === undefined) return undefined
  if (typeof metadata !== 'object' || metadata === null) throw new FST_S3S_INVALID_ARGUMENT('metadata must be an object of strings')
  const normalized: Record<string, string> = {}
  let bytes = 0
  for (const [name, value] of Object.entries(metadata)) {
    if (!NAME.test(name)) {
      throw new FST_S3S_INVALID_ARGUMENT(`metadata name "${printable(name)}" must be 1-128 ASCII letters, digits or !#$%&'*+.^_\`|~- (it travels as an HTTP header name)`)
    }
    if (typeof value !== 'string' || !VALUE.test(value)) {
      throw new FST_S3S_INVALID_ARGUMENT(`metadata "${name}" must be a string of printable ASCII (encode other text, e.g. with encodeURIComponent)`)
    }
    const lower = name.toLowerCase()
    if (lower in normalized) throw new FST_S3S_INVALID_ARGUMENT(`metadata names "${name}" and another differ only in case (S3 stores names lower-cased)`)
    normalized[lower] = value
    bytes += lower.length + value.length
  }
  if (bytes > MAX_METADATA_BYTES) throw new FST_S3S_INVALID_ARGUMENT(`metadata is ${bytes} bytes; S3 takes at most ${MAX_METADATA_BYTES} (names and values together)`)
  return normalized
}

// Names are echoed in errors: keep them short and free of control characters.
function printable (value: string): string {
  return value.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')
}
