/**
 * Downloads: the object streamed from S3 with its validators, one `bytes=` range (the one Range grammar,
 * operations/range.ts), `If-Range`, conditional requests (RFC 9110 §13), and a Content-Disposition with an
 * ASCII fallback. HEAD is one HeadObject, never a body read. A client that goes away stops the read.
 * `?versionId=` reads an old version (which also needs the `versions` permission).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { dispositionHeader } from '../content-disposition.js'
import { FST_S3S_INVALID_RANGE, FST_S3S_VERSIONING_DISABLED } from '../errors.js'
import { baseName } from '../keys.js'
import { parseRange } from '../operations/range.js'
import type { DownloadedObject, FileInfo, StorageOperations } from '../operations/storage-operations.js'
import type { NamespaceContext } from './context.js'
import { DOWNLOAD_CACHE_CONTROL, redirectToFile, wantsAttachment } from './download-redirect.js'

/** The validators a response carries: on 200, 206 and 304 alike. */
interface Validators {
  etag?: string
  lastModified?: Date
}

/** What the conditional request headers ask, read once. */
interface Conditions {
  /** `If-None-Match`, weak-compared: `W/"x"` matches `"x"` (S3 itself compares strongly, so `W/` is dropped). */
  ifNoneMatch?: string
  /** `If-Modified-Since`, only when `If-None-Match` is absent, a valid date, and not in the future. */
  ifModifiedSince?: Date
  /** `If-Range`: an ETag (strong comparison) or a date (exact match with Last-Modified). */
  ifRange?: string
}

/** Reads the conditional headers of a GET or HEAD. */
export function readConditions (req: FastifyRequest): Conditions {
  const inm = req.headers['if-none-match']
  const ifNoneMatch = typeof inm === 'string' && inm.trim() !== '' ? inm.split(',').map((tag) => tag.trim().replace(/^W\//, '')).join(', ') : undefined
  const since = req.headers['if-modified-since']
  const date = typeof since === 'string' ? Date.parse(since) : Number.NaN
  // RFC 9110 §13.1.3: ignored with If-None-Match; a date that is not valid (or later than now) means nothing.
  const ifModifiedSince = ifNoneMatch === undefined && Number.isFinite(date) && date <= Date.now() ? new Date(date) : undefined
  const ifRange = typeof req.headers['if-range'] === 'string' ? req.headers['if-range'].trim() : undefined
  return { ifNoneMatch, ifModifiedSince, ifRange }
}

/**
 * Whether `If-Range` lets a range through (RFC 9110 §13.1.5): an ETag must match strongly (a weak one never
 * does), a date must equal Last-Modified. Without `If-Range` a range always applies.
 */
export function ifRangeHolds (ifRange: string | undefined, current: Validators): boolean {
  if (ifRange === undefined) return true
  if (ifRange.startsWith('"')) return current.etag !== undefined && !current.etag.startsWith('W/') && ifRange === current.etag
  if (ifRange.startsWith('W/')) return false
  const date = Date.parse(ifRange)
  return Number.isFinite(date) && current.lastModified !== undefined && Math.floor(current.lastModified.getTime() / 1000) === Math.floor(date / 1000)
}

/** Streams a file of the namespace to the client (GET), or answers its headers (HEAD). */
export async function sendFile (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, path: string, user: string | null): Promise<FastifyReply> {
  const ops = ctx.operations(req)
  const requested = (req.query as Record<string, unknown>).versionId
  const versionId = typeof requested === 'string' ? requested : undefined
  return await ctx.audited(req, user, 'download', path, async () => {
    await ctx.authorize(user, 'download', path)
    if (versionId !== undefined) {
      await ctx.authorize(user, 'versions', path)
      // SeaweedFS ignores a versionId on an unversioned bucket and serves the current object.
      if (await ctx.versioning(req) === 'Off') throw new FST_S3S_VERSIONING_DISABLED(path)
    }
    // HEAD stays here in either mode: a presigned GET refuses HEAD (the method is signed), and the
    // HeadObject the redirect would make answers it anyway.
    if (ctx.ns.downloadMode === 'redirect' && req.method !== 'HEAD') return await redirectToFile(ctx, req, reply, ops, path, versionId)
    const conditions = readConditions(req)
    if (req.method === 'HEAD') return await sendHead(ctx, req, reply, ops, path, conditions, versionId)
    const range = parseRange(req.headers.range)
    if (range.kind === 'unsatisfiable') return await unsatisfiable(reply, ops, path, versionId)
    // One ETag goes to S3 with the GET (one request, and every store compares it right). A list of ETags,
    // or a date, is judged here from a HEAD: versitygw ignores lists, and compares dates to the
    // sub-second, so a copy from the same second would never be "not modified".
    const sendToS3 = conditions.ifNoneMatch !== undefined && !conditions.ifNoneMatch.includes(',')
    if (!sendToS3 && (conditions.ifNoneMatch !== undefined || conditions.ifModifiedSince !== undefined)) {
      const info = await ops.head(path, { versionId })
      if (isNotModified(conditions, info)) {
        validatorHeaders(reply, info)
        return reply.code(304).send()
      }
    }
    const controller = new AbortController()
    let file: DownloadedObject
    try {
      const download = async (withRange: boolean): Promise<DownloadedObject> => await ops.downloadFile(path, {
        range: withRange && range.kind === 'single' ? range.header : undefined,
        ifNoneMatch: sendToS3 ? conditions.ifNoneMatch : undefined,
        versionId,
        signal: controller.signal
      })
      file = await download(true)
      // A stale If-Range means the client's partial copy is of another version: send all of the current one.
      if (range.kind === 'single' && !ifRangeHolds(conditions.ifRange, file)) {
        file.body.destroy()
        file = await download(false)
      }
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'FST_S3S_NOT_MODIFIED') return await notModified(reply, ops, path, err as Error, versionId)
      if (code === 'FST_S3S_INVALID_RANGE') return await unsatisfiable(reply, ops, path, versionId)
      throw err
    }
    // The client going away must stop the S3 read, not leave it draining into nowhere.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        controller.abort()
        file.body.destroy()
      }
    })
    fileHeaders(reply, req, path, file.contentType, file)
    if (file.contentLength !== undefined) reply.header('content-length', file.contentLength)
    if (file.contentRange !== undefined) {
      reply.code(206)
      reply.header('content-range', file.contentRange)
    }
    return reply.send(file.body)
  }, () => reply.statusCode, { versionId })
}

/** The headers a file's GET and HEAD share: type, validators, disposition, and the sandbox for user files. */
function fileHeaders (reply: FastifyReply, req: FastifyRequest, path: string, contentType: string | undefined, validators: Validators): void {
  const type = contentType ?? 'application/octet-stream'
  reply.header('content-type', type)
  reply.header('accept-ranges', 'bytes')
  reply.header('x-content-type-options', 'nosniff')
  reply.header('cache-control', DOWNLOAD_CACHE_CONTROL)
  // User files must never run as our origin's pages.
  reply.header('content-security-policy', "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'")
  validatorHeaders(reply, validators)
  reply.header('content-disposition', dispositionHeader(baseName(path), wantsAttachment(req, type) ? 'attachment' : 'inline'))
}

function validatorHeaders (reply: FastifyReply, validators: Validators): void {
  if (validators.etag !== undefined) reply.header('etag', validators.etag)
  if (validators.lastModified !== undefined) reply.header('last-modified', validators.lastModified.toUTCString())
}

/** HEAD: one HeadObject, the same headers a GET would send, and the same conditional answers. */
async function sendHead (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, ops: StorageOperations, path: string, conditions: Conditions, versionId: string | undefined): Promise<FastifyReply> {
  const info = await ops.head(path, { versionId })
  if (isNotModified(conditions, info)) {
    validatorHeaders(reply, info)
    return reply.code(304).send()
  }
  fileHeaders(reply, req, path, info.contentType, info)
  reply.header('content-length', info.size)
  return reply.send()
}

// What S3 would answer to the same conditions, judged from a HEAD (RFC 9110 §13.1.2, §13.1.3).
function isNotModified (conditions: Conditions, info: FileInfo): boolean {
  if (conditions.ifNoneMatch !== undefined) {
    return conditions.ifNoneMatch === '*' || conditions.ifNoneMatch.split(', ').includes(info.etag ?? '')
  }
  // HTTP dates have whole seconds.
  return conditions.ifModifiedSince !== undefined && info.lastModified !== undefined &&
    Math.floor(info.lastModified.getTime() / 1000) <= Math.floor(conditions.ifModifiedSince.getTime() / 1000)
}

/**
 * 304 with the validators (RFC 9110 §15.4.5), also when it answered If-Modified-Since: from S3's own 304
 * when it sent them, else from a HEAD (SeaweedFS's 304 has an ETag but no Last-Modified).
 */
async function notModified (reply: FastifyReply, ops: StorageOperations, path: string, err: Error, versionId: string | undefined): Promise<FastifyReply> {
  const headers = (err.cause as { $response?: { headers?: Record<string, string> } } | undefined)?.$response?.headers ?? {}
  let validators: Validators = {
    etag: headers.etag,
    lastModified: headers['last-modified'] === undefined ? undefined : new Date(headers['last-modified'])
  }
  if (validators.etag === undefined || validators.lastModified === undefined) validators = await ops.head(path, { versionId })
  validatorHeaders(reply, validators)
  return reply.code(304).send()
}

async function unsatisfiable (reply: FastifyReply, ops: StorageOperations, path: string, versionId: string | undefined): Promise<FastifyReply> {
  // 416 must tell the client the real size (of the version asked for); a HEAD is the only way to learn it.
  const info = await ops.head(path, { versionId })
  reply.header('content-range', `bytes */${info.size}`)
  reply.header('accept-ranges', 'bytes')
  // Thrown, not sent: the browse error handler renders it (an error page for browsers, JSON for clients).
  throw new FST_S3S_INVALID_RANGE(`the object has ${info.size} bytes`)
}
