/**
 * Role session names end up in CloudTrail, readable by everyone who reads the trail. This derives an opaque,
 * stable one from a user id, so that sessions can be told apart and correlated without personal data.
 */
import { createHash, createHmac } from 'node:crypto'
import { FST_S3S_INVALID_ARGUMENT } from '../errors.js'

/**
 * An opaque, stable AssumeRole session name for a user id: `u-` and 32 hex digits of SHA-256 (HMAC-SHA-256
 * with `key` when given). Without a key, anyone can hash a guessed id (an e-mail address, say) and compare;
 * pass a secret key when ids are guessable.
 *
 * @example
 * roleSessionNameFor('alice@example.com')                  // 'u-ff8d9819fc0e12bf0d24892e45987e24'
 * roleSessionNameFor('alice@example.com', process.env.SESSION_NAME_KEY)
 */
export function roleSessionNameFor (userId: string | number, key?: string): string {
  const id = String(userId)
  if (id === '') throw new FST_S3S_INVALID_ARGUMENT('roleSessionNameFor needs a non-empty user id')
  const digest = key === undefined
    ? createHash('sha256').update(id, 'utf8').digest('hex')
    : createHmac('sha256', key).update(id, 'utf8').digest('hex')
  return `u-${digest.slice(0, 32)}`
}
