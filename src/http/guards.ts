/**
 * The guards every route of the plugin goes through, browse and upload routes alike: the host's
 * `authenticate` and `authorize` hooks, an allow-list helper, and the CSRF rule for state-changing routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { FST_S3S_CSRF, FST_S3S_FORBIDDEN, FST_S3S_UNAUTHENTICATED } from '../errors.js'

/** The actions `authorize` is asked about, by the browse routes and the upload routes. */
export const BrowseActions = {
  list: 'list',
  download: 'download',
  upload: 'upload',
  delete: 'delete',
  presign: 'presign',
  mkdir: 'mkdir',
  /** See a file's versions, read old ones, and list a folder's deleted files (versioned buckets). */
  versions: 'versions',
  /** Put an old version back on top, or undelete a file. */
  restore: 'restore',
  /** Permanently delete one version of a file (it cannot be undone). */
  deleteVersion: 'delete-version'
} as const

/** One of {@link BrowseActions}. */
export type BrowseAction = typeof BrowseActions[keyof typeof BrowseActions]

/** Who the user is: an id (an email, say), or null for "not signed in" (401). */
export type Authenticate = (req: FastifyRequest) => Promise<string | null> | string | null
/** Whether a user may do an action on a key of a namespace. */
export type Authorize = (user: string | null, action: BrowseAction, namespace: string, key: string) => Promise<boolean> | boolean

/**
 * Builds an `authorize` that lets through users whose id is one of `emails` or ends with `@<domain>` for
 * one of `domains` (case-insensitive), for every action.
 *
 * @example
 * browse: { authenticate: (req) => req.headers['x-forwarded-email'] ?? null, authorize: allowList({ domains: ['example.com'] }) }
 */
export function allowList ({ emails = [], domains = [] }: { emails?: string[], domains?: string[] }): (user: string | null) => boolean {
  const allowedEmails = new Set(emails.map((e) => e.toLowerCase()))
  const allowedDomains = domains.map((d) => '@' + d.toLowerCase().replace(/^@/, ''))
  return (user) => {
    if (user === null) return false
    const id = user.toLowerCase()
    return allowedEmails.has(id) || allowedDomains.some((d) => id.endsWith(d))
  }
}

/** The user `authenticate` names; 401 when it answers null. Everyone is anonymous (`null`) without the hook. */
export async function identify (authenticate: Authenticate | undefined, req: FastifyRequest): Promise<string | null> {
  if (authenticate === undefined) return null
  const user = await authenticate(req)
  if (user === null || user === undefined || user === '') throw new FST_S3S_UNAUTHENTICATED()
  return String(user)
}

/** Throws 403 unless `authorize` (when set) allows the action on the key. */
export async function requireAllowed (authorize: Authorize | undefined, user: string | null, action: BrowseAction, namespace: string, key: string): Promise<void> {
  if (authorize === undefined) return
  if (!(await authorize(user, action, namespace, key))) throw new FST_S3S_FORBIDDEN(`${action} ${key === '' ? '/' : key}`)
}

/** Whether a request carries `X-Requested-With`, which a cross-site form cannot send. */
export function hasRequestedWith (req: FastifyRequest): boolean {
  const header = req.headers['x-requested-with']
  return typeof header === 'string' && header !== ''
}

/**
 * CSRF rule for POST/DELETE: a script must send `X-Requested-With` (a cross-site form cannot set headers,
 * and a cross-site fetch with it needs a CORS preflight we never grant); a plain form must carry the page's
 * token, checked by @fastify/csrf-protection against its cookie.
 */
export function csrfGuard (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  if (hasRequestedWith(req)) {
    done()
    return
  }
  const app = req.server as unknown as { csrfProtection?: (req: FastifyRequest, reply: FastifyReply, next: (err?: Error) => void) => void }
  if (app.csrfProtection === undefined) {
    done(new FST_S3S_CSRF())
    return
  }
  app.csrfProtection(req, reply, (err?: Error) => done(err === undefined ? undefined : new FST_S3S_CSRF()))
}
