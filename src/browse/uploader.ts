/**
 * Who uploaded a file, as the browse routes record it: the user `authenticate` named, percent-encoded
 * (metadata must be ASCII) in `x-amz-meta-uploaded-by`. The Versions panel reads it back per version.
 */
import type { NormalizedNamespace } from './options.js'

/** The metadata name (S3 stores names lower-cased). */
export const UPLOADED_BY = 'uploaded-by'

// User ids are the host's; an absurdly long one is cut rather than failing the upload on S3's 2 KB.
const MAX_USER_CHARS = 256

/** The metadata an upload by `user` carries, or undefined (anonymous, or `recordUploader: false`). */
export function uploaderMetadata (ns: NormalizedNamespace, user: string | null): Record<string, string> | undefined {
  if (!ns.recordUploader || user === null) return undefined
  return { [UPLOADED_BY]: encodeURIComponent(user.slice(0, MAX_USER_CHARS)) }
}

/** The uploader a version's metadata names, if any. */
export function uploaderOf (metadata: Record<string, string>): string | undefined {
  const value = metadata[UPLOADED_BY]
  if (value === undefined || value === '') return undefined
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
