/**
 * The Companion S3 protocol, the one `@uppy/aws-s3` (6.x, `companionEndpoint`) speaks, as a route set any
 * upload backend plugs into: `s3UploadRoutes` (the upload service's limits) and every browse namespace in
 * presign mode (its folder, quota and rules). This module knows the wire shapes, the CSRF rule and the
 * upload-id seal; the backend knows where keys go and what is allowed.
 *
 * Who may touch an upload: the upload id handed to the client is S3's id sealed with an HMAC of
 * (scope, user, key, id) under the server's secret, `<id>~<mac>`. Signing, listing, completing and aborting
 * open the seal first: another user's id, another namespace's, or a key it was not made for is a 404
 * before anything reaches S3. Nothing needs to be stored per upload (S3 cannot show an upload's metadata
 * before it completes), so it survives restarts and works across instances that share the secret.
 *
 * CSRF: Uppy sends no custom header. A cross-site page cannot send a JSON body (`application/json` is not a
 * "simple" type, so the browser asks a CORS preflight first, which these routes never grant) nor a DELETE
 * (not a simple method); so a POST must carry `Content-Type: application/json` (or `X-Requested-With`),
 * and any request a browser marks `Sec-Fetch-Site: cross-site` is refused. The GETs only sign: a
 * cross-site one cannot read the answer.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FST_S3S_CSRF, FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_OPTION, FST_S3S_NOT_FOUND } from '../errors.js'
import { hasRequestedWith } from '../http/guards.js'
import type { SignedLink, UploadedPart } from '../operations/storage-operations.js'

/** What a client asks to upload: Uppy's `{ filename, type, metadata }`, and a `size` when it declares one. */
export interface CompanionFile {
  filename: string
  type?: string
  size?: number
}

/** What a backend does for the routes; `key` and `uploadId` are S3's (the seal is opened already). */
export interface CompanionBackend {
  /** Binds the seals to this route set (the namespace), so an id made for one is refused by another. */
  scope: string
  /** HMAC secrets, newest first: the first seals, all open. */
  secrets: string[]
  /** The request's user (401 when required and missing). */
  user: (req: FastifyRequest) => Promise<string | null>
  /** `GET /s3/params`: a presigned POST for one file. */
  params: (req: FastifyRequest, user: string | null, file: CompanionFile) => Promise<{ url: string, fields: Record<string, string> }>
  create: (req: FastifyRequest, user: string | null, file: CompanionFile) => Promise<{ key: string, uploadId: string }>
  sign: (req: FastifyRequest, user: string | null, key: string, uploadId: string, partNumbers: number[]) => Promise<SignedLink[]>
  list: (req: FastifyRequest, user: string | null, key: string, uploadId: string) => Promise<UploadedPart[]>
  complete: (req: FastifyRequest, user: string | null, key: string, uploadId: string, parts: Array<{ PartNumber: number, ETag: string }>) => Promise<{ location: string, key: string }>
  abort: (req: FastifyRequest, user: string | null, key: string, uploadId: string) => Promise<void>
}

const MAC_CHARS = 32

/**
 * The seal's secrets from an `uploadSecret` option: the option's (newest first), else `fallback`, else a
 * random one for this process (seals then open only in this process, until it restarts).
 */
export function uploadSecrets (raw: unknown, fallback: string[] | undefined, what = '"browse.uploadSecret"'): string[] {
  if (raw === undefined) return fallback ?? [randomBytes(32).toString('base64url')]
  const secrets = Array.isArray(raw) ? raw : [raw]
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < 32)) {
    throw new FST_S3S_INVALID_OPTION(`${what} must be a string of at least 32 characters (or an array of them, newest first)`)
  }
  return secrets as string[]
}

function mac (secret: string, scope: string, user: string | null, key: string, uploadId: string): string {
  return createHmac('sha256', secret).update([scope, user ?? '', key, uploadId].join('\u0000')).digest('base64url').slice(0, MAC_CHARS)
}

/** S3's upload id sealed to (scope, user, key): what the client gets and sends back. */
export function sealUploadId (secrets: string[], scope: string, user: string | null, key: string, uploadId: string): string {
  return `${uploadId}~${mac(secrets[0], scope, user, key, uploadId)}`
}

/** S3's upload id out of a seal made for this scope, user and key; 404 for anything else. */
export function openUploadId (secrets: string[], scope: string, user: string | null, key: string, sealed: unknown): string {
  const at = typeof sealed === 'string' ? sealed.lastIndexOf('~') : -1
  if (typeof sealed === 'string' && at > 0) {
    const uploadId = sealed.slice(0, at)
    const given = Buffer.from(sealed.slice(at + 1))
    for (const secret of secrets) {
      const expected = Buffer.from(mac(secret, scope, user, key, uploadId))
      if (given.length === expected.length && timingSafeEqual(given, expected)) return uploadId
    }
  }
  throw new FST_S3S_NOT_FOUND('no such upload of yours for this key')
}

/**
 * The CSRF rule of these routes (see the module comment): refuse what a browser marks cross-site, and a
 * POST whose body a cross-site form or simple fetch could have sent (anything but JSON, without
 * `X-Requested-With`). Runs before the body is read.
 */
export async function companionCsrf (req: FastifyRequest): Promise<void> {
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new FST_S3S_CSRF()
  if (req.method !== 'POST' || hasRequestedWith(req)) return
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (type !== 'application/json') throw new FST_S3S_CSRF()
}

const keyQuery = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } }
} as const

const fileSchema = {
  type: 'object',
  required: ['filename'],
  properties: {
    filename: { type: 'string', minLength: 1, maxLength: 1024 },
    type: { type: 'string', maxLength: 255 },
    // Uppy sends the file's meta fields; the routes do not store them (see the README).
    metadata: { type: 'object' },
    size: { type: 'integer', minimum: 0 }
  }
} as const

const completeSchema = {
  type: 'object',
  required: ['parts'],
  properties: {
    parts: {
      type: 'array',
      minItems: 1,
      maxItems: 10000,
      items: {
        type: 'object',
        required: ['PartNumber', 'ETag'],
        properties: { PartNumber: { type: 'integer', minimum: 1, maximum: 10000 }, ETag: { type: 'string', minLength: 1, maxLength: 1024 } }
      }
    }
  }
} as const

function partNumbersOf (raw: string): number[] {
  const numbers = raw.split(',').map((n) => Number(n))
  if (numbers.length === 0 || numbers.length > 1000 || numbers.some((n) => !Number.isInteger(n) || n < 1 || n > 10000)) {
    throw new FST_S3S_INVALID_ARGUMENT('partNumbers must list 1 to 1000 part numbers from 1 to 10000')
  }
  return numbers
}

/** `<sealed upload id>[/<partNumber>|/batch|/complete]` out of the wildcard. */
function routeOf (req: FastifyRequest): { sealed: string, action?: string } {
  const rest = (req.params as { '*': string })['*']
  if (rest.length > 2048) throw new FST_S3S_INVALID_ARGUMENT('uploadId is too long')
  const match = /^(.+)\/(batch|complete|\d{1,5})$/.exec(rest)
  const sealed = match === null ? rest : match[1]
  if (sealed === '' || sealed.includes('/')) throw new FST_S3S_NOT_FOUND('no such upload route')
  return { sealed, action: match?.[2] }
}

/**
 * Registers the protocol's routes on `app` (under its prefix):
 * `GET s3/params`, `POST s3/multipart`, `GET s3/multipart/:uploadId` (parts), `GET s3/multipart/:uploadId/:partNumber`,
 * `GET s3/multipart/:uploadId/batch?partNumbers=`, `POST s3/multipart/:uploadId/complete`, `DELETE s3/multipart/:uploadId`.
 */
export function companionRoutes (app: FastifyInstance, backend: CompanionBackend): void {
  const open = (user: string | null, key: string, sealed: string): string => openUploadId(backend.secrets, backend.scope, user, key, sealed)
  const noStore = { onSend: async (_req: FastifyRequest, reply: { header: (n: string, v: string) => unknown }) => { reply.header('cache-control', 'no-store') } }
  const guard = { onRequest: companionCsrf }

  app.get('/s3/params', {
    ...guard,
    ...noStore,
    schema: { querystring: { type: 'object', required: ['filename'], properties: { filename: fileSchema.properties.filename, type: fileSchema.properties.type, size: fileSchema.properties.size } } }
  }, async (req) => {
    const query = req.query as CompanionFile
    const user = await backend.user(req)
    const post = await backend.params(req, user, { filename: query.filename, type: query.type, size: query.size })
    return { method: 'POST', url: post.url, fields: post.fields, headers: {} }
  })

  app.post('/s3/multipart', { ...guard, ...noStore, schema: { body: fileSchema } }, async (req) => {
    const body = req.body as CompanionFile
    const user = await backend.user(req)
    const { key, uploadId } = await backend.create(req, user, { filename: body.filename, type: body.type, size: body.size })
    return { key, uploadId: sealUploadId(backend.secrets, backend.scope, user, key, uploadId) }
  })

  // One wildcard route per method: S3's upload ids (100+ characters on AWS, plus the seal) are longer than
  // the router's default limit for a `:param` (Fastify's maxParamLength, 100), which only the host can raise.
  app.get('/s3/multipart/*', {
    ...guard,
    ...noStore,
    schema: { querystring: { type: 'object', required: ['key'], properties: { ...keyQuery.properties, partNumbers: { type: 'string', minLength: 1, maxLength: 6000 } } } }
  }, async (req) => {
    const { key, partNumbers } = req.query as { key: string, partNumbers?: string }
    const { sealed, action } = routeOf(req)
    const user = await backend.user(req)
    if (action === undefined) {
      const parts = await backend.list(req, user, key, open(user, key, sealed))
      return parts.map((p) => ({ PartNumber: p.PartNumber, Size: p.Size, ETag: p.ETag }))
    }
    if (action === 'batch') {
      if (partNumbers === undefined) throw new FST_S3S_INVALID_ARGUMENT('partNumbers is required')
      const numbers = partNumbersOf(partNumbers)
      const links = await backend.sign(req, user, key, open(user, key, sealed), numbers)
      return { presignedUrls: Object.fromEntries(numbers.map((n, i) => [String(n), links[i].url])), expires: Math.min(...links.map((l) => l.expiresIn)) }
    }
    const [link] = await backend.sign(req, user, key, open(user, key, sealed), partNumbersOf(action))
    return { url: link.url, expires: link.expiresIn }
  })

  app.post('/s3/multipart/*', { ...guard, ...noStore, schema: { querystring: keyQuery, body: completeSchema } }, async (req) => {
    const { key } = req.query as { key: string }
    const { sealed, action } = routeOf(req)
    if (action !== 'complete') throw new FST_S3S_NOT_FOUND(`POST ${req.url.split('?')[0]}`)
    const { parts } = req.body as { parts: Array<{ PartNumber: number, ETag: string }> }
    const user = await backend.user(req)
    return await backend.complete(req, user, key, open(user, key, sealed), parts)
  })

  app.delete('/s3/multipart/*', { ...guard, ...noStore, schema: { querystring: keyQuery } }, async (req) => {
    const { key } = req.query as { key: string }
    const { sealed, action } = routeOf(req)
    if (action !== undefined) throw new FST_S3S_NOT_FOUND(`DELETE ${req.url.split('?')[0]}`)
    const user = await backend.user(req)
    await backend.abort(req, user, key, open(user, key, sealed))
    return {}
  })
}
