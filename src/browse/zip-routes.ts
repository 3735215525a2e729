/**
 * `POST <ns>/zip`: a folder, or a selection of files and folders, as one zip streamed while
 * StorageOperations.zipStream builds it. Every permission is asked before the first byte (`list` on each
 * folder expanded, `download` on each file), so a refusal is a 403, not a broken archive; the namespace's
 * `zip` limits answer 413 from the listing, before the first byte too. Audit: one `download` record per file
 * as it is written, one `zip` record for the archive when it ends, fails or is abandoned.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { dispositionHeader } from '../content-disposition.js'
import { FST_S3S_BAD_REQUEST } from '../errors.js'
import { csrfGuard } from '../http/guards.js'
import { statusOfError, type AuditAction } from '../http/audit.js'
import { baseName } from '../keys.js'
import type { ZipArchive, ZipSelection } from '../operations/storage-operations.js'
import { selectionFolder } from '../operations/zip.js'
import { checkBrowsePath } from './paths.js'
import type { NamespaceRouteOptions } from './respond.js'

/** A zip request, checked: what to archive, the folders it expands, and the folder it is named after. */
interface ZipRequest {
  selection: ZipSelection
  /** Folders whose contents go in (each needs `list`). */
  folders: string[]
  /** The folder entry names are relative to (`''`: the namespace root). */
  base: string
}

/**
 * Reads `{ folder }` or `{ paths }`, from JSON or a form. A form's `paths` is one field of newline-separated
 * paths (the browse form parser keeps one value per name, and a path cannot hold a line break).
 */
function readZipRequest (body: unknown): ZipRequest {
  const fields = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  const { folder, paths } = fields
  if ((folder === undefined) === (paths === undefined)) throw new FST_S3S_BAD_REQUEST('send "folder" (a folder path) or "paths" (files and folders), not both')
  if (folder !== undefined) {
    const path = checkBrowsePath(folder, { folder: true })
    return { selection: { prefix: path }, folders: [path], base: path }
  }
  const list = typeof paths === 'string' ? paths.split(/\r?\n/).filter((p) => p !== '') : paths
  if (!Array.isArray(list) || list.length === 0) throw new FST_S3S_BAD_REQUEST('"paths" must name at least one file or folder')
  const checked = list.map((p: unknown) => checkBrowsePath(p, { folder: typeof p === 'string' && (p === '' || p.endsWith('/')) }))
  const filenames = [...new Set(checked)]
  return { selection: { filenames }, folders: filenames.filter((p) => p === '' || p.endsWith('/')), base: selectionFolder(filenames) }
}

/** The zip route of a namespace (none with `zip: false`). */
export async function zipRoutes (app: FastifyInstance, { ctx }: NamespaceRouteOptions): Promise<void> {
  const limits = ctx.ns.zip
  if (limits === undefined) return

  app.post('/zip', { preHandler: csrfGuard }, async (req, reply) => {
    const request = readZipRequest(req.body)
    const user = await ctx.user(req)
    const { bucket, key: folderKey } = await ctx.locate(request.base, req)
    const record = (action: AuditAction, key: string, statusCode: number): void => {
      ctx.audit.record(req, { action, namespace: ctx.ns.name, bucket, key, user, statusCode })
    }
    let archive: ZipArchive
    try {
      for (const folder of request.folders) await ctx.authorize(user, 'list', folder)
      archive = await ctx.operations(req).zipStream(request.selection, {
        maxFiles: limits.maxFiles,
        maxBytes: limits.maxBytes,
        compression: limits.compression,
        checkFile: async (file) => await ctx.authorize(user, 'download', file.path),
        onFile: (file, err) => record('download', file.key, err === undefined ? 200 : statusOfError(err))
      })
    } catch (err) {
      record('zip', folderKey, statusOfError(err))
      throw err
    }
    watchArchive(req, archive, (statusCode) => record('zip', folderKey, statusCode))
    const name = request.base === '' ? ctx.ns.name : baseName(request.base.slice(0, -1))
    return reply
      .header('content-disposition', dispositionHeader(`${name}.zip`, 'attachment'))
      .header('cache-control', 'no-store')
      .type('application/zip')
      .send(archive)
  })
}

/** Calls `done` once with the archive's outcome: 200 when it ended, the error's status, or 499 when abandoned. */
function watchArchive (req: FastifyRequest, archive: ZipArchive, done: (statusCode: number) => void): void {
  let outcome: number | undefined
  archive.once('end', () => { outcome ??= 200 })
  archive.once('error', (err) => {
    outcome ??= statusOfError(err)
    // Fastify logs the stream's error and cuts the response; the reason is worth a line of its own.
    req.log.warn({ err, files: archive.files }, 'zip archive failed mid-stream')
  })
  archive.once('close', () => done(outcome ?? 499))
}
