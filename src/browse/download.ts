/**
 * Downloads: the object streamed from S3 with its validators, one `bytes=` range (RFC 9110), conditional
 * requests, and an attachment Content-Disposition on `?download=1`. A client that goes away stops the read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import contentDisposition from 'content-disposition'
import { FST_S3S_INVALID_RANGE } from '../errors.js'
import { baseName } from '../keys.js'
import type { NamespaceContext } from './context.js'

/** What a `Range` header asks for. */
export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'single', header: string }
  | { kind: 'unsatisfiable' }

const RANGE_SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/

/**
 * Reads a Range header. One valid `bytes=` range is passed to S3 (which clamps open and suffix ranges to
 * the object); other units and multiple ranges are ignored (200 with the whole object, as RFC 9110 allows);
 * a malformed `bytes=` range is unsatisfiable (416).
 */
export function parseRange (header: string | undefined): RangeRequest {
  if (header === undefined) return { kind: 'none' }
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header)
  if (match === null) return { kind: 'none' }
  const specs = match[1].split(',').map((s) => s.trim())
  if (specs.length > 1) return specs.every((s) => RANGE_SPEC.test(s)) ? { kind: 'none' } : { kind: 'unsatisfiable' }
  const spec = RANGE_SPEC.exec(specs[0])
  if (spec === null || specs[0].length > 40) return { kind: 'unsatisfiable' }
  const [, first, last, suffix] = spec
  if (suffix !== undefined) return Number(suffix) === 0 ? { kind: 'unsatisfiable' } : { kind: 'single', header: `bytes=-${suffix}` }
  if (last !== '' && BigInt(last) < BigInt(first)) return { kind: 'unsatisfiable' }
  return { kind: 'single', header: `bytes=${first}-${last}` }
}

// Types a browser would run or render as a page on our origin: always sent as attachments.
const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript)\b/i

/** Streams a file of the namespace to the client. */
export async function sendFile (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, path: string, user: string | null): Promise<FastifyReply> {
  const query = req.query as Record<string, string | undefined>
  const ops = ctx.operations(req)
  return await ctx.audited(req, user, 'download', path, async () => {
    await ctx.authorize(user, 'download', path)
    const range = parseRange(req.headers.range)
    const ifNoneMatch = req.headers['if-none-match']
    const since = req.headers['if-modified-since']
    const ifModifiedSince = ifNoneMatch === undefined && since !== undefined && !Number.isNaN(Date.parse(since)) ? new Date(since) : undefined
    if (range.kind === 'unsatisfiable') return await unsatisfiable(ctx, req, reply, path)
    const controller = new AbortController()
    let file
    try {
      file = await ops.downloadFile(path, {
        range: range.kind === 'single' ? range.header : undefined,
        ifNoneMatch,
        ifModifiedSince,
        signal: controller.signal
      })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'FST_S3S_NOT_MODIFIED') {
        reply.code(304)
        if (ifNoneMatch !== undefined) reply.header('etag', ifNoneMatch)
        return reply.send()
      }
      if (code === 'FST_S3S_INVALID_RANGE') return await unsatisfiable(ctx, req, reply, path)
      throw err
    }
    // The client going away must stop the S3 read, not leave it draining into nowhere.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        controller.abort()
        file.body.destroy()
      }
    })
    const type = file.contentType ?? 'application/octet-stream'
    reply.header('content-type', type)
    reply.header('accept-ranges', 'bytes')
    reply.header('x-content-type-options', 'nosniff')
    // User files must never run as our origin's pages.
    reply.header('content-security-policy', "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'")
    if (file.contentLength !== undefined) reply.header('content-length', file.contentLength)
    if (file.etag !== undefined) reply.header('etag', file.etag)
    if (file.lastModified !== undefined) reply.header('last-modified', file.lastModified.toUTCString())
    const attachment = query.download === '1' || ACTIVE_TYPES.test(type)
    reply.header('content-disposition', contentDisposition(baseName(path), { type: attachment ? 'attachment' : 'inline' }))
    if (file.contentRange !== undefined) {
      reply.code(206)
      reply.header('content-range', file.contentRange)
    }
    return reply.send(file.body)
  }, () => reply.statusCode)
}

async function unsatisfiable (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
  // 416 must tell the client the real size; a HEAD is the only way to learn it.
  const info = await ctx.operations(req).head(path)
  reply.header('content-range', `bytes */${info.size}`)
  reply.header('accept-ranges', 'bytes')
  // Thrown, not sent: the browse error handler renders it (an error page for browsers, JSON for clients).
  throw new FST_S3S_INVALID_RANGE(`the object has ${info.size} bytes`)
}
