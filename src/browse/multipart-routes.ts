/**
 * The Companion S3 protocol under a browse namespace in presign mode (`<ns>/s3/...`): large files go from
 * the browser straight to S3 in parts, with the namespace's rules. `filename` is the namespace path
 * (`folder/name`); keys are confined to the request's folder (its basePath or per-user space) by the
 * namespace's StorageOperations, and each upload id is sealed to its user (src/uploads/companion.ts). The
 * quota is checked when the upload starts (its declared size, if any) and again at completion with S3's
 * own part sizes; completing does what `presign/confirm` does for a POST: audit, cache, quota.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { FST_S3S_BAD_REQUEST, FST_S3S_EXISTS, FST_S3S_INVALID_KEY, FST_S3S_TOO_LARGE } from '../errors.js'
import { MAX_SINGLE_UPLOAD_BYTES } from '../operations/links.js'
import { companionRoutes, type CompanionFile } from '../uploads/companion.js'
import type { NamespaceContext } from './context.js'
import { checkBrowsePath } from './paths.js'
import type { QuotaHold } from './quota.js'
import type { NamespaceRouteOptions } from './respond.js'
import { admit, headOf, storedName } from './upload.js'
import { uploaderMetadata } from './uploader.js'

// How long a started upload holds its declared size on the quota if it is never completed nor aborted.
const HOLD_SECONDS = 24 * 3600

/** The namespace path a client names (`folder/name`, the name's last segment cleaned as uploads do). */
function pathOf (filename: string): string {
  const slash = filename.lastIndexOf('/')
  const folder = slash < 0 ? '' : filename.slice(0, slash + 1)
  const name = storedName(filename.slice(slash + 1))
  if (name === '') throw new FST_S3S_BAD_REQUEST('a file without a name')
  return checkBrowsePath(checkBrowsePath(folder, { folder: true }) + name, { folder: false })
}

/** A key of this request's folder, as its namespace path (400 for a key of another folder or namespace). */
async function pathOfKey (ctx: NamespaceContext, req: FastifyRequest, key: string): Promise<string> {
  const root = (await ctx.locate('', req)).key
  if (!key.startsWith(root) || key.length === root.length) throw new FST_S3S_INVALID_KEY('not a key of this folder')
  return checkBrowsePath(key.slice(root.length), { folder: false })
}

function contentTypeOf (file: CompanionFile): string | undefined {
  return typeof file.type === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(file.type) ? file.type : undefined
}

/** `<ns>/s3/params`, `<ns>/s3/multipart...`: only in presign mode. */
export async function multipartRoutes (app: FastifyInstance, { ctx }: NamespaceRouteOptions): Promise<void> {
  if (ctx.ns.uploadMode !== 'presign') return
  // Quota holds of uploads in flight in this process, by S3 upload id.
  const holds = new LRUCache<string, QuotaHold>({ max: 10_000, ttl: HOLD_SECONDS * 1000 })

  companionRoutes(app, {
    scope: `browse:${ctx.ns.name}`,
    secrets: ctx.options.uploadSecrets,
    user: async (req) => await ctx.user(req),

    params: async (req, user, file) => {
      const path = pathOf(file.filename)
      // The POST's policy holds S3 to the size the quota was checked for, so the size must be known.
      if (ctx.quota !== undefined && file.size === undefined) throw new FST_S3S_BAD_REQUEST('this namespace has a quota: send the file\'s "size"')
      return await ctx.audited(req, user, 'presign', path, async () => {
        const hold = await admit(ctx, req, user, 'presign', path, file.size)
        try {
          const post = await ctx.operations(req).createUploadPost(path, {
            maxBytes: hold === undefined ? Math.min(ctx.ns.maxUploadBytes, MAX_SINGLE_UPLOAD_BYTES) : Math.max(1, file.size ?? 0),
            contentType: contentTypeOf(file),
            expireSeconds: ctx.ns.presignExpireSeconds,
            metadata: uploaderMetadata(ctx.ns, user)
          })
          ctx.invalidateListing(path, req)
          return post
        } catch (err) {
          hold?.release()
          throw err
        }
      })
    },

    create: async (req, user, file) => {
      const path = pathOf(file.filename)
      return await ctx.audited(req, user, 'upload', path, async () => {
        const hold = await admit(ctx, req, user, 'upload', path, file.size)
        try {
          const created = await ctx.operations(req).createMultipartUpload(path, {
            preserveFilename: true,
            contentType: contentTypeOf(file),
            metadata: uploaderMetadata(ctx.ns, user),
            maxBytes: ctx.ns.maxUploadBytes,
            size: file.size
          })
          if (hold !== undefined) holds.set(created.uploadId, hold)
          return { key: created.key, uploadId: created.uploadId }
        } catch (err) {
          hold?.release()
          throw err
        }
      })
    },

    sign: async (req, user, key, uploadId, numbers) => {
      const path = await pathOfKey(ctx, req, key)
      await ctx.authorize(user, 'upload', path)
      const ops = ctx.operations(req)
      return await Promise.all(numbers.map(async (n) => await ops.signUploadPart(key, uploadId, n, { expireSeconds: ctx.ns.presignExpireSeconds })))
    },

    list: async (req, user, key, uploadId) => {
      const path = await pathOfKey(ctx, req, key)
      await ctx.authorize(user, 'upload', path)
      return await ctx.operations(req).listUploadParts(key, uploadId)
    },

    complete: async (req, user, key, uploadId, parts) => {
      const path = await pathOfKey(ctx, req, key)
      const done = await ctx.audited(req, user, 'upload', path, async () => {
        await ctx.authorize(user, 'upload', path)
        const ops = ctx.operations(req)
        holds.get(uploadId)?.release()
        holds.delete(uploadId)
        let hold: QuotaHold | undefined
        try {
          // The quota again, with the size S3 holds (a file may have landed meanwhile, or the start held nothing).
          const existing = ctx.ns.overwrite && ctx.quota === undefined ? undefined : await headOf(ops, path)
          if (!ctx.ns.overwrite && existing !== undefined) throw Object.assign(new FST_S3S_EXISTS(path), { etag: existing.etag })
          if (ctx.quota !== undefined) {
            const size = (await ops.listUploadParts(key, uploadId)).filter((p) => parts.some((q) => q.PartNumber === p.PartNumber)).reduce((sum, p) => sum + p.Size, 0)
            if (size > ctx.ns.maxUploadBytes) throw new FST_S3S_TOO_LARGE(`${path} is larger than ${ctx.ns.maxUploadBytes} bytes`)
            hold = await ctx.quota.reserve(ops, ctx.space(req), user, path, { bytes: size, replaced: existing?.size, ttlSeconds: 600 })
          }
        } catch (err) {
          await ops.abortMultipartUpload(key, uploadId).catch(() => {})
          throw err
        }
        try {
          const completed = await ops.completeMultipartUpload(key, uploadId, parts, { maxBytes: ctx.ns.maxUploadBytes })
          hold?.commit(completed.size)
          return completed
        } catch (err) {
          hold?.release()
          throw err
        }
      })
      ctx.invalidate(path, req)
      return { location: ctx.fileUrl(path, done.key), key: done.key }
    },

    abort: async (req, user, key, uploadId) => {
      const path = await pathOfKey(ctx, req, key)
      await ctx.audited(req, user, 'upload', path, async () => {
        await ctx.authorize(user, 'upload', path)
        await ctx.operations(req).abortMultipartUpload(key, uploadId)
        holds.get(uploadId)?.release()
        holds.delete(uploadId)
      })
    }
  })
}
