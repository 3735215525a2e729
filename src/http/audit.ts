/**
 * The audit trail of the browse and upload routes: one structured record per action per file, on a child
 * of the app's logger bound with `{ name: 'audit' }`, and as a `record` event for host code. Control and
 * bidi characters are written as visible `\uXXXX` escapes in every field, so no value can forge a line even
 * in a pretty-printed log.
 */
import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { hashKey } from '../keys.js'
import { BrowseActions } from './guards.js'

/**
 * What an audit record names: every action `authorize` is asked about, plus the bulk actions made of them.
 * A zip archive is checked as downloads, a move as a delete and an upload, a copy as a download and an
 * upload; each file gets its own record, and the archive or the move its own.
 */
export const AuditActions = { ...BrowseActions, zip: 'zip', move: 'move', copy: 'copy' } as const

/** One of {@link AuditActions}. */
export type AuditAction = typeof AuditActions[keyof typeof AuditActions]

/** ok below 400; denied for 401, 403, 409, 412 and 415 (refused by a rule); error otherwise (413, 5xx and other client errors). */
export type AuditResult = 'ok' | 'denied' | 'error'

/** One audit record. */
export interface AuditRecord {
  action: AuditAction
  namespace: string
  bucket: string
  /** The full S3 key (absent when `auditKeyHashOnly` is set). */
  key?: string
  keyHash: string
  user: string | null
  /** The version acted on (versions routes, and downloads of an old version). */
  versionId?: string
  result: AuditResult
  statusCode: number
  clientIp: string
  /** Cut to 256 bytes. */
  userAgent: string
  requestId: string
}

// C0, DEL, C1, line/paragraph separators, bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Writes control and bidi characters as visible `\uXXXX` text. */
export function escapeControl (value: string): string {
  return value.replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function cutBytes (value: string, max: number): string {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length <= max) return value
  return bytes.subarray(0, max).toString('utf8').replace(/\uFFFD+$/, '')
}

/** The status an error answers with (a catalog error's own, else 500): what its audit record says. */
export function statusOfError (err: unknown): number {
  return (err as { statusCode?: number } | undefined)?.statusCode ?? 500
}

/** The result class of a status code. */
export function resultOf (statusCode: number): AuditResult {
  if (statusCode < 400) return 'ok'
  if (statusCode === 401 || statusCode === 403 || statusCode === 409 || statusCode === 412 || statusCode === 415) return 'denied'
  return 'error'
}

/** What a route knows of an action when it records it. */
export interface AuditEntry {
  action: AuditAction
  namespace: string
  bucket: string
  key: string
  user: string | null
  statusCode: number
  versionId?: string
}

/**
 * Writes audit records and emits each as a `record` event.
 *
 * @example
 * app.storageAudit.on('record', (record) => metrics.increment(`files.${record.action}.${record.result}`))
 */
export class AuditLog extends EventEmitter<{ record: [AuditRecord] }> {
  private readonly log: FastifyBaseLogger
  private readonly keyHashOnly: boolean

  constructor (log: FastifyBaseLogger, { keyHashOnly = false } = {}) {
    super()
    this.log = log.child({ name: 'audit' })
    this.keyHashOnly = keyHashOnly
  }

  /** Records one action on one key for a request. */
  record (req: FastifyRequest, entry: AuditEntry): AuditRecord {
    const result = resultOf(entry.statusCode)
    const record: AuditRecord = {
      action: entry.action,
      namespace: escapeControl(entry.namespace),
      bucket: escapeControl(entry.bucket),
      key: this.keyHashOnly ? undefined : escapeControl(entry.key),
      keyHash: hashKey(entry.key),
      user: entry.user === null ? null : escapeControl(entry.user),
      ...(entry.versionId === undefined ? {} : { versionId: escapeControl(entry.versionId) }),
      result,
      statusCode: entry.statusCode,
      clientIp: escapeControl(req.ip ?? ''),
      userAgent: escapeControl(cutBytes(String(req.headers['user-agent'] ?? ''), 256)),
      requestId: escapeControl(String(req.id))
    }
    const level = result === 'ok' ? 'info' : result === 'denied' ? 'warn' : 'error'
    this.log[level](record, `audit ${record.action} ${result}`)
    this.emit('record', record)
    return record
  }
}
