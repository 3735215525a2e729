/**
 * Ready-made direct-upload routes (opt-in): a ticket, a confirm and a download link, each behind the same
 * authenticate/authorize hooks, CSRF rule and audit trail as the browse routes. The uploader's id travels in
 * the object's metadata, so only its owner (or an admin) may confirm or link it.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { FST_S3S_CSRF, FST_S3S_FORBIDDEN, FST_S3S_INVALID_OPTION, FST_S3S_NOT_FOUND } from '../errors.js'
import { hasRequestedWith, identify, requireAllowed, type Authenticate, type Authorize, type BrowseAction } from '../http/guards.js'
import { statusOfError } from '../http/audit.js'
import { MAX_LINK_TTL_SECONDS } from '../operations/links.js'
import { companionRoutes, uploadSecrets } from './companion.js'
import type { UploadServiceOptions } from './upload-service.js'

/** Options of the upload routes plugin. */
export interface UploadRoutesOptions {
  /** The upload service's options (limits, types, prefix, profile). */
  uploads: UploadServiceOptions
  /** Identifies the user; null answers 401. Default: everyone is anonymous. */
  authenticate?: Authenticate
  /** Allows each action (`presign` for tickets, `upload` for confirm, `download` for links) on a key. Default: allowed. */
  authorize?: Authorize
  /** Users who may confirm and link anyone's uploads. Default: nobody. */
  isAdmin?: (user: string | null) => boolean | Promise<boolean>
  /**
   * The name `authorize` and the audit records get as `namespace`, so one `authorize` can serve these routes
   * and the browse namespaces. It must not be a browse namespace's name. Default `'uploads'`.
   */
  namespace?: string
  /**
   * Secret the multipart routes (`/s3/...`) bind each upload id to its user with (an HMAC): at least 32
   * characters; an array rotates (newest first). Set it when several instances serve the routes, or uploads
   * should resume across restarts. Default: a random secret per process.
   */
  uploadSecret?: string | string[]
}

const ticketSchema = {
  body: {
    type: 'object',
    required: ['filename'],
    additionalProperties: false,
    properties: {
      filename: { type: 'string', minLength: 1, maxLength: 1024 },
      contentType: { type: 'string', maxLength: 255 },
      size: { type: 'integer', minimum: 0 },
      metadata: { type: 'object', maxProperties: 20, additionalProperties: { type: 'string', maxLength: 1024 } }
    }
  }
} as const

const confirmSchema = {
  body: { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } } }
} as const

const linkSchema = {
  params: { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } } },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { downloadName: { type: 'string', maxLength: 255 }, expiresIn: { type: 'integer', minimum: 1, maximum: MAX_LINK_TTL_SECONDS } }
  }
} as const

/**
 * `POST /uploads` → a ticket, `POST /uploads/confirm` → the record, `GET /uploads/:key/link` → a link.
 * Register after the s3Storage plugin; set `prefix` in the register options to move them.
 *
 * @example
 * app.register(s3UploadRoutes, { uploads: { maxFileSize: 10 * 1024 * 1024, allowedContentTypes: ['image/png'] }, authenticate })
 */
export const s3UploadRoutes: FastifyPluginAsync<UploadRoutesOptions> = async (app, opts) => {
  if (!app.hasDecorator('storage')) throw new FST_S3S_INVALID_OPTION('s3UploadRoutes: register the fastify-s3-storage plugin first')
  const namespace = opts.namespace ?? 'uploads'
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(namespace)) {
    throw new FST_S3S_INVALID_OPTION('s3UploadRoutes: "namespace" must be 1-63 letters, digits, "-" or "_"')
  }
  if (app.storage.browseNamespaces.has(namespace)) {
    throw new FST_S3S_INVALID_OPTION(`s3UploadRoutes: "namespace" "${namespace}" is a browse namespace too; give the upload routes another one`)
  }
  if (opts.authenticate !== undefined && typeof opts.authenticate !== 'function') throw new FST_S3S_INVALID_OPTION('s3UploadRoutes: "authenticate" must be a function')
  if (opts.authorize !== undefined && typeof opts.authorize !== 'function') throw new FST_S3S_INVALID_OPTION('s3UploadRoutes: "authorize" must be a function')
  const service = app.storage.uploads(opts.uploads)
  const audit = app.storageAudit

  const userOf = async (req: FastifyRequest): Promise<string | null> => await identify(opts.authenticate, req)

  /** Runs an action on a key behind `authorize`, and writes its audit record whatever the outcome. */
  async function audited<T> (req: FastifyRequest, user: string | null, action: BrowseAction, key: string, fn: () => Promise<T>): Promise<T> {
    let statusCode = 500
    try {
      await requireAllowed(opts.authorize, user, action, namespace, key)
      const result = await fn()
      statusCode = 200
      return result
    } catch (err) {
      statusCode = statusOfError(err)
      throw err
    } finally {
      audit.record(req, { action, namespace, bucket: '', key, user, statusCode })
    }
  }

  // Only the owner or an admin: anonymous uploads (no authenticate hook) have no owner and are open.
  async function checkOwner (user: string | null, key: string): Promise<void> {
    const record = await service.getRecord(key)
    if (record === null) throw new FST_S3S_NOT_FOUND(key)
    if (record.owner !== undefined && record.owner !== user && !(await opts.isAdmin?.(user) ?? false)) {
      throw new FST_S3S_FORBIDDEN(`${key} belongs to someone else`)
    }
  }

  // The Companion S3 protocol (Uppy's `companionEndpoint`), in a context of its own: its CSRF rule is the
  // JSON body's preflight (see companion.ts), since Uppy sends no custom header.
  const secrets = uploadSecrets(opts.uploadSecret, undefined, 's3UploadRoutes: "uploadSecret"')
  app.register(async (s3) => {
    companionRoutes(s3, {
      scope: `uploads:${namespace}`,
      secrets,
      user: userOf,
      params: async (req, user, file) => await audited(req, user, 'presign', file.filename, async () =>
        await service.createUpload({ filename: file.filename, contentType: file.type, size: file.size, owner: user ?? undefined })),
      create: async (req, user, file) => await audited(req, user, 'upload', file.filename, async () =>
        await service.createMultipartUpload({ filename: file.filename, contentType: file.type, size: file.size, owner: user ?? undefined })),
      sign: async (req, user, key, uploadId, numbers) => {
        await requireAllowed(opts.authorize, user, 'upload', namespace, key)
        return await Promise.all(numbers.map(async (n) => await service.signUploadPart(key, uploadId, n)))
      },
      list: async (req, user, key, uploadId) => {
        await requireAllowed(opts.authorize, user, 'upload', namespace, key)
        return await service.listUploadParts(key, uploadId)
      },
      complete: async (req, user, key, uploadId, parts) => await audited(req, user, 'upload', key, async () => {
        const record = await service.completeMultipartUpload(key, uploadId, parts)
        return { location: record.key, key: record.key }
      }),
      abort: async (req, user, key, uploadId) => { await audited(req, user, 'upload', key, async () => await service.abortMultipartUpload(key, uploadId)) }
    })
  })

  // A cross-site form cannot send X-Requested-With, and a cross-site fetch with it needs a preflight.
  async function requireXRequestedWith (req: FastifyRequest): Promise<void> {
    if (!hasRequestedWith(req)) throw new FST_S3S_CSRF()
  }

  app.post('/uploads', { schema: ticketSchema, preHandler: requireXRequestedWith }, async (req) => {
    const body = req.body as { filename: string, contentType?: string, size?: number, metadata?: Record<string, string> }
    const user = await userOf(req)
    return await audited(req, user, 'presign', body.filename, async () => await service.createUpload({ ...body, owner: user ?? undefined }))
  })

  app.post('/uploads/confirm', { schema: confirmSchema, preHandler: requireXRequestedWith }, async (req, reply) => {
    const { key } = req.body as { key: string }
    const user = await userOf(req)
    const record = await audited(req, user, 'upload', key, async () => {
      await checkOwner(user, key)
      const record = await service.confirmUpload(key)
      if (record === null) throw new FST_S3S_NOT_FOUND(key)
      return record
    })
    return reply.code(200).send(record)
  })

  // `{ url, expiresIn }`: the lifetime the link really got (a profile ceiling may have shortened it), the
  // same as the browse share-link route reports.
  app.get('/uploads/:key/link', { schema: linkSchema }, async (req, reply) => {
    const { key } = req.params as { key: string }
    const query = req.query as { downloadName?: string, expiresIn?: number }
    const user = await userOf(req)
    const link = await audited(req, user, 'download', key, async () => {
      await checkOwner(user, key)
      return await service.signDownloadLink(key, query)
    })
    reply.header('cache-control', 'no-store')
    return link
  })
}
