/**
 * Uploads through the app: each multipart file streamed straight into S3 (lib-storage), never buffered
 * whole nor written to disk; and presigned POSTs for the browser to upload straight to S3. Every file is
 * checked (name, extension, permission, overwrite, size) before a byte is stored, and reported on its own.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { MultipartFile } from '@fastify/multipart'
import { pipeline, type Readable } from 'node:stream'
import { FST_S3S_BAD_REQUEST, FST_S3S_EXISTS, FST_S3S_TOO_LARGE, FST_S3S_TYPE_NOT_ALLOWED, isNotFound } from '../errors.js'
import { extensionOf } from '../keys.js'
import { MAX_SINGLE_UPLOAD_BYTES } from '../operations/links.js'
import type { FileInfo, StorageOperations } from '../operations/storage-operations.js'
import { checkBrowsePath } from './paths.js'
import type { NamespaceContext } from './context.js'
import type { QuotaHold } from './quota.js'
import { uploaderMetadata } from './uploader.js'

/** The outcome of one file of a request. */
export interface FileOutcome {
  /** The stored name (basename of what was sent). */
  name: string
  /** Path relative to the namespace. */
  path?: string
  statusCode: number
  /** Error code when it failed. */
  code?: string
  message?: string
  size?: number
  /** Stored: the new ETag (send it as `ifMatch` to replace this content later). 409: the existing file's ETag. */
  etag?: string
  /** Stored on a versioned bucket: the new version's id. */
  versionId?: string
  /** Presign mode: the form to POST to S3. */
  post?: { url: string, fields: Record<string, string>, expiresIn: number, maxBytes: number }
}

/** Files one upload request may carry, and parts (files and fields) in all. */
const FILES_PER_REQUEST = 1000
const PARTS_PER_REQUEST = 1100

/** The worst status of a request's files: the response carries it. */
export function worstStatus (outcomes: FileOutcome[]): number {
  return outcomes.reduce((worst, o) => Math.max(worst, o.statusCode), 0)
}

/**
 * The name to store a submitted file under: the last segment of whatever path the client sent, with the
 * escapes of the HTML multipart encoding undone (browsers send `"` as `%22`, CR and LF as `%0D`/`%0A`; the
 * key rules then refuse the line breaks).
 */
export function storedName (filename: string): string {
  const decoded = filename.replace(/%22/gi, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n')
  return decoded.split(/[/\\]/).pop()!.normalize('NFC').trim()
}

function failure (name: string, err: unknown): FileOutcome {
  const e = malformed(err) as { statusCode?: number, code?: string, message?: string, etag?: string }
  const statusCode = e.statusCode ?? 500
  return { name, statusCode, code: e.code, message: statusCode >= 500 && e.code === undefined ? 'Upload failed' : e.message, etag: e.etag }
}

// Errors with no status come from the multipart parser (busboy: no boundary, unexpected end of form, a
// body cut short): the client sent something broken, which is a 400, not our 500.
function malformed (err: unknown): unknown {
  if ((err as { statusCode?: number }).statusCode !== undefined) return err
  const bad = new FST_S3S_BAD_REQUEST(`malformed or truncated multipart body (${(err as Error)?.message ?? 'unknown'})`)
  bad.cause = err
  return bad
}

// The multipart parser's own limits become ours; anything else is a broken body.
function formFailure (err: unknown): unknown {
  if ((err as { code?: string }).code === 'FST_FILES_LIMIT') return new FST_S3S_TOO_LARGE(`at most ${FILES_PER_REQUEST} files per request: the rest of the form was not read`)
  if ((err as { code?: string }).code === 'FST_PARTS_LIMIT') return new FST_S3S_TOO_LARGE(`at most ${PARTS_PER_REQUEST} parts per request: the rest of the form was not read`)
  return malformed(err)
}

// A presigned upload's hold on the quota outlives its POST by this much, for a slow upload started just in time.
const HOLD_SLACK_SECONDS = 600

/**
 * Checks a file about to be stored; throws the catalog error that refuses it. With `ifMatch` (a replace of
 * the content the client saw) the name may exist; on a namespace that does not overwrite, replacing a file
 * of an unversioned (or suspended) bucket destroys the old content, so it needs `delete` permission too.
 * With a quota, returns the hold the upload takes on the space (`size` unknown for a stream: its bytes are
 * metered as they flow); a replace or an overwrite frees the bytes of the file it replaces.
 */
export async function admit (ctx: NamespaceContext, req: FastifyRequest, user: string | null, action: 'upload' | 'presign', path: string, size?: number, ifMatch?: string): Promise<QuotaHold | undefined> {
  const allowed = ctx.ns.allowedExtensions
  const ext = extensionOf(path).toLowerCase()
  if (allowed !== undefined && !allowed.has(ext)) {
    throw new FST_S3S_TYPE_NOT_ALLOWED(`"${ext === '' ? '(none)' : ext}" is not one of ${[...allowed].join(', ')}`)
  }
  await ctx.authorize(user, action, path)
  if (size !== undefined && size > ctx.ns.maxUploadBytes) throw new FST_S3S_TOO_LARGE(`${path} is larger than ${ctx.ns.maxUploadBytes} bytes`)
  const ops = ctx.operations(req)
  const existing = ctx.ns.overwrite && ctx.quota === undefined ? undefined : await headOf(ops, path)
  // The 409 says which content is there, so the client can replace exactly that (ifMatch).
  if (!ctx.ns.overwrite && ifMatch === undefined && existing !== undefined) throw Object.assign(new FST_S3S_EXISTS(path), { etag: existing.etag })
  if (!ctx.ns.overwrite && ifMatch !== undefined && await ops.bucketVersioning() !== 'Enabled') await ctx.authorize(user, 'delete', path)
  if (ctx.quota === undefined) return undefined
  const ttlSeconds = action === 'presign' ? ctx.ns.presignExpireSeconds + HOLD_SLACK_SECONDS : undefined
  return await ctx.quota.reserve(ops, ctx.space(req), user, path, { bytes: size, replaced: existing?.size, ttlSeconds })
}

/** A stored file's headers, or undefined when there is none. */
export async function headOf (ops: StorageOperations, path: string): Promise<FileInfo | undefined> {
  try {
    return await ops.head(path)
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

/** The part's bytes, through the quota's meter when there is one. */
function metered (file: Readable, hold: QuotaHold | undefined, path: string): Readable {
  if (hold === undefined) return file
  const meter = hold.meter(path)
  // A part that fails (its size limit, a client gone) fails the meter, and so the upload.
  pipeline(file, meter, () => {})
  return meter
}

async function storePart (ctx: NamespaceContext, req: FastifyRequest, user: string | null, folder: string, part: MultipartFile, ifMatch?: string): Promise<FileOutcome> {
  const name = storedName(part.filename ?? '')
  let path: string
  try {
    if (name === '') throw new FST_S3S_BAD_REQUEST('a file without a name')
    path = checkBrowsePath(folder + name, { folder: false })
  } catch (err) {
    part.file.resume()
    return failure(name, err)
  }
  let hold: QuotaHold | undefined
  try {
    return await ctx.audited(req, user, 'upload', path, async () => {
      hold = await admit(ctx, req, user, 'upload', path, undefined, ifMatch)
      // busboy ends a file at the size limit instead of failing it: turn that into an error, so the
      // multipart upload is aborted rather than completed with a truncated file.
      part.file.once('limit', () => part.file.destroy(new FST_S3S_TOO_LARGE(`${path} is larger than ${ctx.ns.maxUploadBytes} bytes`)))
      const stored = await ctx.operations(req).uploadFile(metered(part.file, hold, path), path, {
        preserveFilename: true,
        contentType: part.mimetype !== '' && part.mimetype !== 'application/octet-stream' ? part.mimetype : undefined,
        maxBytes: ctx.ns.maxUploadBytes,
        metadata: uploaderMetadata(ctx.ns, user),
        // Replace only the content the client saw; otherwise never overwrite (unless the namespace does).
        ifMatch,
        ifNoneMatch: ifMatch === undefined && !ctx.ns.overwrite
      })
      if (part.file.truncated) {
        // Never reached while the +1 above holds; a truncated file must not stay stored if it ever is.
        await ctx.operations(req).deleteFile(path)
        throw new FST_S3S_TOO_LARGE(`${path} is larger than ${ctx.ns.maxUploadBytes} bytes`)
      }
      hold?.commit(stored.size)
      ctx.invalidateListing(path, req)
      return { name, path, statusCode: 201, size: stored.size, etag: stored.etag, versionId: stored.versionId }
    }, 201)
  } catch (err) {
    hold?.release()
    if (!part.file.destroyed && !part.file.readableEnded) part.file.resume()
    return failure(name, err)
  }
}

/**
 * `POST /<ns>/files/<folder>/`: stores every file of a multipart form; a lone `folder` field makes a folder.
 * Whatever goes wrong part-way (a broken body, the files limit), the outcomes list every file stored before
 * it, plus one outcome for the failure: the answer never says less was stored than was. An `ifMatch` field
 * (an ETag) makes the file part that follows it a conditional replace of that content.
 */
export async function receiveUpload (ctx: NamespaceContext, req: FastifyRequest, folder: string, user: string | null): Promise<FileOutcome[]> {
  if (!req.isMultipart()) throw new FST_S3S_BAD_REQUEST('send the files as multipart/form-data')
  const outcomes: FileOutcome[] = []
  let newFolder: string | undefined
  let ifMatch: string | undefined
  // We turn the size limit into our own 413 (see storePart), so multipart must not throw its own.
  // busboy stops at fileSize and ends the stream quietly; one byte more than allowed lets our own counter
  // (uploadObject's maxBytes) see the excess and abort the multipart upload.
  // throwFileSizeLimit is read by @fastify/multipart at run time but missing from its parts() typings.
  const partsOptions = { throwFileSizeLimit: false, limits: { fileSize: ctx.ns.maxUploadBytes + 1, files: FILES_PER_REQUEST, fields: 20, fieldSize: 64 * 1024, parts: PARTS_PER_REQUEST, headerPairs: 100 } }
  const parts = req.parts(partsOptions as Parameters<FastifyRequest['parts']>[0])
  try {
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname === 'folder' && typeof part.value === 'string') newFolder = part.value
        if (part.fieldname === 'ifMatch' && typeof part.value === 'string' && part.value !== '') ifMatch = part.value
        continue
      }
      const outcome = await storePart(ctx, req, user, folder, part, ifMatch)
      ifMatch = undefined
      outcomes.push(outcome)
      // After a size failure busboy has stopped: nothing more can be read from this request.
      if (outcome.statusCode === 413) break
    }
  } catch (err) {
    // Nothing stored yet: the request as a whole is refused. Otherwise report what was stored, then why the rest was not.
    if (outcomes.length === 0) throw malformed(err)
    outcomes.push(failure('', formFailure(err)))
    return outcomes
  }
  if (outcomes.length === 0) {
    if (newFolder === undefined || newFolder.trim() === '') throw new FST_S3S_BAD_REQUEST('no files and no folder name')
    outcomes.push(await makeFolder(ctx, req, user, folder, newFolder))
  }
  return outcomes
}

/** Creates a folder marker `<folder><name>/`. */
export async function makeFolder (ctx: NamespaceContext, req: FastifyRequest, user: string | null, folder: string, name: string): Promise<FileOutcome> {
  const clean = storedName(name)
  const path = checkBrowsePath(folder + clean, { folder: true })
  if (clean === '') throw new FST_S3S_BAD_REQUEST('a folder needs a name')
  return await ctx.audited(req, user, 'mkdir', path, async () => {
    await ctx.authorize(user, 'mkdir', path)
    await ctx.operations(req).createFolder(path)
    // A folder marker holds no bytes and is no file: the quota's usage stays as it is.
    ctx.invalidateListing(path, req)
    return { name: clean, path, statusCode: 201 }
  }, 201)
}

/** A file the browser wants to upload in presign mode. */
export interface PresignRequestFile {
  name: string
  size: number
  type?: string
}

/** `POST /<ns>/presign`: one presigned POST per file, with the same rules as streamed uploads. */
export async function presignUploads (ctx: NamespaceContext, req: FastifyRequest, user: string | null): Promise<FileOutcome[]> {
  const body = req.body as { path?: unknown, files?: unknown } | undefined
  const folder = checkBrowsePath(body?.path ?? '', { folder: true })
  if (!Array.isArray(body?.files) || body.files.length === 0 || body.files.length > 1000) throw new FST_S3S_BAD_REQUEST('"files" must list 1 to 1000 files')
  const outcomes: FileOutcome[] = []
  for (const file of body.files as PresignRequestFile[]) {
    const name = typeof file?.name === 'string' ? storedName(file.name) : ''
    try {
      if (name === '') throw new FST_S3S_BAD_REQUEST('a file without a name')
      if (!Number.isSafeInteger(file.size) || file.size < 0) throw new FST_S3S_BAD_REQUEST(`"${name}" needs its size in bytes`)
      // One POST carries at most 5 GiB; larger files go multipart (the `s3/multipart` routes).
      if (file.size > MAX_SINGLE_UPLOAD_BYTES && file.size <= ctx.ns.maxUploadBytes) throw new FST_S3S_TOO_LARGE(`"${name}" is larger than 5 GiB: upload it as a multipart upload`)
      const path = checkBrowsePath(folder + name, { folder: false })
      outcomes.push(await ctx.audited(req, user, 'presign', path, async () => {
        const hold = await admit(ctx, req, user, 'presign', path, file.size)
        const type = typeof file.type === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(file.type) ? file.type : undefined
        let post
        try {
          post = await ctx.operations(req).createUploadPost(path, {
            // With a quota the policy holds S3 to the size the quota was checked for.
            maxBytes: hold === undefined ? Math.min(ctx.ns.maxUploadBytes, MAX_SINGLE_UPLOAD_BYTES) : Math.max(1, file.size),
            contentType: type,
            expireSeconds: ctx.ns.presignExpireSeconds,
            metadata: uploaderMetadata(ctx.ns, user)
          })
        } catch (err) {
          hold?.release()
          throw err
        }
        ctx.invalidateListing(path, req)
        return { name, path, statusCode: 200, post: { url: post.url, fields: post.fields, expiresIn: post.expiresIn, maxBytes: post.maxBytes } }
      }))
    } catch (err) {
      outcomes.push(failure(name, err))
    }
  }
  return outcomes
}

/**
 * `POST /<ns>/presign/confirm` `{ path }`: the page tells that a presigned upload landed. The file's real
 * size is checked again (not every S3-compatible store enforces a POST policy): a file that breaks
 * `maxUploadBytes` or takes the space past its quota is deleted and refused (413). The listing cache
 * learns of the file either way.
 */
export async function confirmUpload (ctx: NamespaceContext, req: FastifyRequest, user: string | null): Promise<FileOutcome> {
  const body = req.body as { path?: unknown } | undefined
  const path = checkBrowsePath(body?.path ?? '', { folder: false })
  if (path === '') throw new FST_S3S_BAD_REQUEST('"path" names the uploaded file')
  const name = path.slice(path.lastIndexOf('/') + 1)
  return await ctx.audited(req, user, 'upload', path, async () => {
    await ctx.authorize(user, 'upload', path)
    const ops = ctx.operations(req)
    const info = await ops.head(path)
    ctx.invalidateListing(path, req)
    if (ctx.quota !== undefined) {
      try {
        // Only a file a hold was waiting for is ours to delete: anything else was stored before.
        const held = await ctx.quota.confirm(ops, ctx.space(req), user, path, info.size)
        if (held && info.size > ctx.ns.maxUploadBytes) throw new FST_S3S_TOO_LARGE(`${path} is larger than ${ctx.ns.maxUploadBytes} bytes`)
      } catch (err) {
        await ops.deleteFile(path)
        ctx.invalidate(path, req)
        throw err
      }
    }
    return { name, path, statusCode: 200, size: info.size }
  })
}

/** Sends per-file outcomes with the worst status. */
export function sendOutcomes (reply: FastifyReply, outcomes: FileOutcome[]): FastifyReply {
  return reply.code(worstStatus(outcomes)).send({ files: outcomes })
}
