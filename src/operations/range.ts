/**
 * The one Range grammar (RFC 9110 §14.1.2): the HTTP `Range` header of the download route and the API's
 * `range` option both go through {@link parseRange}, then reach S3 as one checked `bytes=` range.
 */
import { FST_S3S_INVALID_RANGE } from '../errors.js'

/** An inclusive byte range. `end` may be omitted for "to the end". */
export interface ByteRange {
  /** First byte, from 0. */
  start: number
  /** Last byte, inclusive. Default: the end of the object. */
  end?: number
}

/** What a `Range` header asks for. */
export type RangeRequest =
  /** No range (absent, another unit, or several ranges, which we answer with the whole object). */
  | { kind: 'none' }
  /** One range, as the `Range` header S3 takes. */
  | { kind: 'single', header: string }
  /** A malformed or unsatisfiable `bytes=` range: 416. */
  | { kind: 'unsatisfiable' }

const SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/
// No object is this large (S3's limit is 5 TiB): a bigger last-byte or suffix means "all of it".
const LARGEST = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Reads a Range header value. One valid `bytes=` range becomes the header S3 takes, numbers past any object
 * size clamped (`bytes=0-99999999999999999999` is `bytes=0-`, a huge suffix is the whole object); empty list
 * elements are allowed (`bytes=0-1,`); another unit, or several ranges, is `none` (a 200 with the whole
 * object, as RFC 9110 allows); a malformed `bytes=` range is unsatisfiable.
 */
export function parseRange (header: string | undefined): RangeRequest {
  if (header === undefined) return { kind: 'none' }
  const match = /^\s*bytes\s*=(.*)$/is.exec(header)
  if (match === null) return { kind: 'none' }
  const specs = match[1].split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (specs.length === 0 || !specs.every((s) => SPEC.test(s))) return { kind: 'unsatisfiable' }
  if (specs.length > 1) return { kind: 'none' }
  const [, first, last, suffix] = SPEC.exec(specs[0])!
  if (suffix !== undefined) {
    const n = BigInt(suffix)
    if (n === 0n) return { kind: 'unsatisfiable' }
    return { kind: 'single', header: n > LARGEST ? 'bytes=0-' : `bytes=-${n}` }
  }
  const start = BigInt(first)
  if (start > LARGEST) return { kind: 'unsatisfiable' }
  if (last === '') return { kind: 'single', header: `bytes=${start}-` }
  const end = BigInt(last)
  if (end < start) return { kind: 'unsatisfiable' }
  return { kind: 'single', header: end > LARGEST ? `bytes=${start}-` : `bytes=${start}-${end}` }
}

/**
 * Turns the API's range option into the `Range` header S3 takes, or throws `FST_S3S_INVALID_RANGE` (416).
 * A string must be one `bytes=` range (`a-b`, `a-` or the suffix `-n`), by the same grammar as the header.
 */
export function toRangeHeader (range: ByteRange | string): string {
  if (typeof range === 'string') {
    const parsed = parseRange(range)
    if (parsed.kind !== 'single') throw new FST_S3S_INVALID_RANGE(`"${range.slice(0, 64)}" is not a single bytes= range`)
    return parsed.header
  }
  if (typeof range !== 'object' || range === null) throw new FST_S3S_INVALID_RANGE('range must be { start, end } or a bytes= string')
  const { start, end } = range
  if (!Number.isSafeInteger(start) || start < 0) throw new FST_S3S_INVALID_RANGE('start must be a whole number >= 0')
  if (end === undefined) return `bytes=${start}-`
  if (!Number.isSafeInteger(end) || end < start) throw new FST_S3S_INVALID_RANGE('end must be a whole number >= start')
  return `bytes=${start}-${end}`
}
