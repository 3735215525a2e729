/**
 * Byte ranges: the API's `{ start, end }` / `'bytes=a-b'` option, checked before anything goes to S3.
 */
import { FST_S3S_INVALID_RANGE } from '../errors.js'

/** An inclusive byte range. `end` may be omitted for "to the end". */
export interface ByteRange {
  /** First byte, from 0. */
  start: number
  /** Last byte, inclusive. Default: the end of the object. */
  end?: number
}

const SINGLE_RANGE = /^bytes=(?:(\d{1,16})-(\d{0,16})|-(\d{1,16}))$/

/**
 * Turns a range option into the `Range` header S3 takes, or throws `FST_S3S_INVALID_RANGE` (416) for a
 * malformed one. Accepts one `bytes=` range: `a-b`, `a-` or the suffix form `-n`.
 */
export function toRangeHeader (range: ByteRange | string): string {
  if (typeof range === 'string') {
    const match = SINGLE_RANGE.exec(range.trim())
    if (match === null) throw new FST_S3S_INVALID_RANGE(`"${range.slice(0, 64)}" is not a single bytes= range`)
    const [, start, end, suffix] = match
    if (suffix !== undefined) {
      if (Number(suffix) === 0) throw new FST_S3S_INVALID_RANGE('an empty suffix range')
      return `bytes=-${Number(suffix)}`
    }
    return checked(Number(start), end === '' ? undefined : Number(end))
  }
  if (typeof range !== 'object' || range === null) throw new FST_S3S_INVALID_RANGE('range must be { start, end } or a bytes= string')
  return checked(range.start, range.end)
}

function checked (start: number, end: number | undefined): string {
  if (!Number.isSafeInteger(start) || start < 0) throw new FST_S3S_INVALID_RANGE('start must be a whole number >= 0')
  if (end === undefined) return `bytes=${start}-`
  if (!Number.isSafeInteger(end) || end < start) throw new FST_S3S_INVALID_RANGE('end must be a whole number >= start')
  return `bytes=${start}-${end}`
}
