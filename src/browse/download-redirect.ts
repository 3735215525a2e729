/**
 * Downloads by redirect (`downloadMode: 'redirect'`): after the same authorize and audit as the proxied
 * route, a 302 to a short-lived presigned GET. The link asks S3 for the headers the proxied route would
 * send (the stored Content-Type, the Content-Disposition rule with its ASCII fallback, Cache-Control), so
 * the browser gets the same answer from S3 itself; Range and conditional requests then go to S3 too.
 * One HeadObject first: a missing file is our 404 (not a redirect to S3's), and the stored type decides
 * inline or attachment exactly as for the proxy.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { isInlineSafe } from '../content-disposition.js'
import { baseName } from '../keys.js'
import type { StorageOperations } from '../operations/storage-operations.js'
import type { NamespaceContext } from './context.js'

/** What both download modes send as Cache-Control: only the user's own cache, and only after revalidating. */
export const DOWNLOAD_CACHE_CONTROL = 'private, no-cache'

/** Whether the browser should save rather than show: asked with `?download=1`, or a type never shown inline. */
export function wantsAttachment (req: FastifyRequest, contentType: string): boolean {
  return (req.query as Record<string, string | undefined>).download === '1' || !isInlineSafe(contentType)
}

/** Answers a GET or HEAD of a file with a 302 to a presigned GET of it (checks and audit done by the caller). */
export async function redirectToFile (ctx: NamespaceContext, req: FastifyRequest, reply: FastifyReply, ops: StorageOperations, path: string, versionId: string | undefined): Promise<FastifyReply> {
  const info = await ops.head(path, { versionId })
  const contentType = info.contentType ?? 'application/octet-stream'
  const link = await ops.signDownloadLink(path, {
    expireSeconds: ctx.ns.redirectExpireSeconds,
    downloadName: baseName(path),
    disposition: wantsAttachment(req, contentType) ? 'attachment' : 'inline',
    contentType,
    cacheControl: DOWNLOAD_CACHE_CONTROL,
    versionId
  })
  // The link itself expires: no cache may keep the redirect.
  reply.header('cache-control', 'no-store')
  reply.header('referrer-policy', 'no-referrer')
  return reply.redirect(link.url, 302)
}
