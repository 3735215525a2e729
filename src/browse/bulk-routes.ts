/**
 * Many files at once: `POST <ns>/move`, `<ns>/copy` (rename is a move of one path to a new name) and
 * `<ns>/delete`, JSON bodies of namespace-relative paths (a folder ends in `/`). Every path is checked and
 * every permission asked before anything changes (a 403 moves nothing); then each file is moved, copied
 * or deleted through StorageOperations and audited on its own. With `Accept: application/x-ndjson` the
 * answer is a stream of progress lines, then the result.
 */
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FST_S3S_BAD_REQUEST, FST_S3S_INVALID_ARGUMENT, FST_S3S_NOT_FOUND, FST_S3S_QUOTA_EXCEEDED, isNotFound, isStorageError } from '../errors.js'
import { statusOfError } from '../http/audit.js'
import { csrfGuard } from '../http/guards.js'
import { baseName } from '../keys.js'
import { mapKeyFailure } from '../operations/s3-errors.js'
import type { FolderTransferFailure, StorageOperations } from '../operations/storage-operations.js'
import type { NamespaceContext } from './context.js'
import { formatSize } from './pages.js'
import { checkBrowsePath } from './paths.js'
import type { NamespaceRouteOptions } from './respond.js'

/** Paths one request may name (each folder among them is walked page by page, whatever its size). */
export const MAX_BULK_ENTRIES = 1000
// 1000 paths of up to 1024 bytes each, as JSON.
const BODY_LIMIT = 2 * 1024 * 1024

/** One source and where it goes. */
interface Transfer {
  from: string
  to: string
  folder: boolean
}

/** A move's or copy's answer. */
interface TransferReport {
  done: Array<{ from: string, to: string }>
  failed: FolderTransferFailure[]
}

function bodyOf (req: FastifyRequest): Record<string, unknown> {
  const body = req.body
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FST_S3S_BAD_REQUEST('send a JSON object')
  return body as Record<string, unknown>
}

/** A list of 1 to MAX_BULK_ENTRIES paths, each checked by the key rules; never the root. */
function pathList (value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new FST_S3S_BAD_REQUEST(`"${field}" must be a list of paths`)
  if (value.length > MAX_BULK_ENTRIES) throw new FST_S3S_BAD_REQUEST(`"${field}" may hold at most ${MAX_BULK_ENTRIES} paths (${value.length} given)`)
  const paths = value.map((v: unknown) => {
    if (typeof v !== 'string') throw new FST_S3S_BAD_REQUEST(`"${field}" must hold strings`)
    const path = checkBrowsePath(v, { folder: v.endsWith('/') })
    if (path === '') throw new FST_S3S_BAD_REQUEST('the namespace root cannot be moved, copied or deleted')
    return path
  })
  // A path inside another one would be handled twice (or found gone).
  const sorted = [...paths].sort()
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new FST_S3S_BAD_REQUEST(`"${sorted[i]}" is listed twice`)
    if (sorted[i - 1].endsWith('/') && sorted[i].startsWith(sorted[i - 1])) throw new FST_S3S_BAD_REQUEST(`"${sorted[i]}" is inside "${sorted[i - 1]}", also listed`)
  }
  return paths
}

/** Where each source goes: into the folder `to` (ending in `/`), or, for one source, to the path `to` (a rename). */
export function planTransfers (from: string[], to: string, verb: 'moved' | 'copied'): Transfer[] {
  const intoFolder = to === '' || to.endsWith('/')
  if (!intoFolder && from.length !== 1) throw new FST_S3S_BAD_REQUEST('"to" must be a folder (ending in "/") when there are several paths')
  return from.map((source) => {
    const folder = source.endsWith('/')
    const target = intoFolder ? to + baseName(source.replace(/\/$/, '')) + (folder ? '/' : '') : to + (folder ? '/' : '')
    // Checked again: the joined path may pass a limit neither part did.
    checkBrowsePath(target, { folder })
    if (target === source) throw new FST_S3S_INVALID_ARGUMENT(`"${source}" cannot be ${verb} onto itself`)
    if (folder && target.startsWith(source)) throw new FST_S3S_INVALID_ARGUMENT(`"${source}" cannot be ${verb} into itself`)
    return { from: source, to: target, folder }
  })
}

function wantsProgress (req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('application/x-ndjson')
}

/** The ndjson answer: progress lines while the work runs, then the result with `"result": true`. */
class ProgressLines {
  private readonly out = new PassThrough()
  private readonly every: number
  private last = -1
  constructor (reply: FastifyReply, readonly total: number) {
    // About 200 progress lines at most, whatever the size of the job.
    this.every = Math.max(1, Math.ceil(total / 200))
    reply.type('application/x-ndjson').header('cache-control', 'no-store').send(this.out)
  }

  progress (done: number, failed: number): void {
    const n = done + failed
    if (n - this.last < this.every && n !== this.total) return
    this.last = n
    this.out.write(JSON.stringify({ done, failed, total: this.total }) + '\n')
  }

  end (result: object): void {
    this.out.end(JSON.stringify({ ...result, result: true }) + '\n')
  }
}

/** Stops the work between pages when the client goes away before its answer is complete. */
function abortOnClose (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => { if (!reply.raw.writableFinished) controller.abort() })
  return controller.signal
}

/** What the sources hold: files and bytes (listings page by page, a HEAD per file). Missing files count nothing. */
async function measure (ops: StorageOperations, transfers: Transfer[]): Promise<{ files: number, bytes: number }> {
  let files = 0
  let bytes = 0
  for (const { from, folder } of transfers) {
    if (!folder) {
      const info = await ops.head(from).catch((err: unknown) => { if (isNotFound(err)) return undefined; throw err })
      if (info !== undefined) { files++; bytes += info.size }
      continue
    }
    for await (const file of ops.listAll({ prefix: from })) {
      if (file.name.endsWith('/')) continue
      files++
      bytes += file.size
    }
  }
  return { files, bytes }
}

/** A copy adds files and bytes to the space: refused (413) before anything is copied when they do not fit. */
async function checkCopyQuota (ctx: NamespaceContext, req: FastifyRequest, ops: StorageOperations, user: string | null, added: { files: number, bytes: number }): Promise<void> {
  if (ctx.quota === undefined) return
  const [limits, used] = await Promise.all([ctx.quota.limits(user), ctx.quota.usage(ops, ctx.space(req))])
  if (limits.maxFiles !== undefined && used.files + added.files > limits.maxFiles) {
    throw new FST_S3S_QUOTA_EXCEEDED(`the copy would make ${used.files + added.files} files, of at most ${limits.maxFiles}`)
  }
  if (limits.maxBytes !== undefined && used.bytes + added.bytes > limits.maxBytes) {
    throw new FST_S3S_QUOTA_EXCEEDED(`the copy (${formatSize(added.bytes)}) does not fit: ${formatSize(used.bytes)} of the ${formatSize(limits.maxBytes)} quota used`)
  }
}

function failureOf (from: string, err: unknown): FolderTransferFailure {
  if (isStorageError(err)) return { from, code: err.code, message: err.message }
  return { from, code: 'FST_S3S_S3_ERROR', message: 'the S3 request failed' }
}

/** A key S3 refused to delete, as the answer lists it. */
function keyFailure (path: string, code: string, message: string): { path: string, code: string, message: string } {
  const mapped = mapKeyFailure(code, message, path) as Error & { code: string }
  return { path, code: mapped.code, message: mapped.message }
}

/** Moves or copies every transfer in turn: files one call each, folders walked by StorageOperations. */
async function runTransfers (ctx: NamespaceContext, req: FastifyRequest, user: string | null, mode: 'move' | 'copy', transfers: Transfer[],
  { overwrite, signal, progress }: { overwrite: boolean, signal: AbortSignal, progress?: ProgressLines }): Promise<TransferReport> {
  const ops = ctx.operations(req)
  const report: TransferReport = { done: [], failed: [] }
  const audits: Array<Promise<void>> = []
  const tell = (): void => progress?.progress(report.done.length, report.failed.length)
  for (const t of transfers) {
    if (signal.aborted) break
    if (!t.folder) {
      try {
        if (mode === 'move') await ops.moveFile(t.from, { toFilename: t.to, overwrite })
        else await ops.copyFile(t.from, { toFilename: t.to, ifNoneMatch: !overwrite })
        report.done.push({ from: t.from, to: t.to })
        audits.push(ctx.recordPath(req, user, mode, t.from, 200))
      } catch (err) {
        report.failed.push(failureOf(t.from, err))
        audits.push(ctx.recordPath(req, user, mode, t.from, statusOfError(err)))
      }
      ctx.invalidateListing(t.from, req)
      ctx.invalidateListing(t.to, req)
      tell()
      continue
    }
    let seen = 0
    try {
      const walk = mode === 'move' ? ops.moveFolder.bind(ops) : ops.copyFolder.bind(ops)
      await walk(t.from, t.to, {
        overwrite,
        signal,
        onFile: (entry, error) => {
          seen++
          if (error === undefined) report.done.push(entry)
          else report.failed.push(failureOf(entry.from, error))
          audits.push(ctx.recordPath(req, user, mode, entry.from, error === undefined ? 200 : statusOfError(error)))
          ctx.invalidateListing(entry.from, req)
          ctx.invalidateListing(entry.to, req)
          tell()
        }
      })
      if (seen === 0) throw new FST_S3S_NOT_FOUND(t.from)
    } catch (err) {
      if (signal.aborted) break
      report.failed.push(failureOf(t.from, err))
      audits.push(ctx.recordPath(req, user, mode, t.from, statusOfError(err)))
      tell()
    }
    ctx.invalidateListing(t.from, req)
    ctx.invalidateListing(t.to, req)
  }
  await Promise.all(audits)
  return report
}

/** The bulk routes of a namespace. */
export async function bulkRoutes (app: FastifyInstance, { ctx }: NamespaceRouteOptions): Promise<void> {
  for (const mode of ['move', 'copy'] as const) {
    // `POST <ns>/move` and `<ns>/copy`: `{ from: [...], to, overwrite? }`.
    app.post(`/${mode}`, { preHandler: csrfGuard, bodyLimit: BODY_LIMIT }, async (req, reply) => {
      const body = bodyOf(req)
      const from = pathList(body.from, 'from')
      if (typeof body.to !== 'string') throw new FST_S3S_BAD_REQUEST('"to" must be a path')
      const to = checkBrowsePath(body.to, { folder: body.to === '' || body.to.endsWith('/') })
      if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean') throw new FST_S3S_BAD_REQUEST('"overwrite" must be true or false')
      const overwrite = body.overwrite === true
      const transfers = planTransfers(from, to, mode === 'move' ? 'moved' : 'copied')
      const user = await ctx.user(req)
      const ops = ctx.operations(req)
      // The request's own record is written once it is over (each file has its own as it goes).
      const { result, progress } = await ctx.audited(req, user, mode, to, async () => {
        // Everything is asked before anything changes.
        for (const t of transfers) {
          await ctx.authorize(user, mode === 'move' ? 'delete' : 'download', t.from)
          await ctx.authorize(user, 'upload', t.to)
          // Replacing a file deletes it: where the namespace does not overwrite, that takes `delete` too.
          if (overwrite && !ctx.ns.overwrite) await ctx.authorize(user, 'delete', t.to)
        }
        const counting = mode === 'copy' && ctx.quota !== undefined
        const sizes = counting || wantsProgress(req) ? await measure(ops, transfers) : undefined
        if (counting && sizes !== undefined) await checkCopyQuota(ctx, req, ops, user, sizes)
        const signal = abortOnClose(reply)
        const progress = wantsProgress(req) ? new ProgressLines(reply, sizes?.files ?? 0) : undefined
        const report = await runTransfers(ctx, req, user, mode, transfers, { overwrite, signal, progress })
        // The space's usage changed (a copy), and so did every folder touched.
        for (const t of transfers) { ctx.invalidate(t.from, req); ctx.invalidate(t.to, req) }
        return { result: mode === 'move' ? { moved: report.done, failed: report.failed } : { copied: report.done, failed: report.failed }, progress }
      })
      if (progress === undefined) return reply.send(result)
      progress.end(result)
      return reply
    })
  }

  // `POST <ns>/delete`: `{ paths: [...] }`, files and folders (recursively).
  app.post('/delete', { preHandler: csrfGuard, bodyLimit: BODY_LIMIT }, async (req, reply) => {
    const paths = pathList(bodyOf(req).paths, 'paths')
    const user = await ctx.user(req)
    const ops = ctx.operations(req)
    await ctx.audited(req, user, 'delete', '', async () => {
      for (const path of paths) await ctx.authorize(user, 'delete', path)
    })
    const root = (await ctx.locate('', req)).key
    const relative = (key: string): string => key.startsWith(root) ? key.slice(root.length) : key
    let deleted = 0
    const failed: Array<{ path: string, code: string, message: string }> = []
    const files = paths.filter((p) => !p.endsWith('/'))
    if (files.length > 0) {
      try {
        const result = await ops.deleteFiles(files)
        deleted += result.deleted.length
        const refused = new Set<string>()
        for (const f of result.failed) {
          const path = relative(f.key)
          refused.add(path)
          failed.push(keyFailure(path, f.code, f.message))
        }
        for (const path of files) await ctx.recordPath(req, user, 'delete', path, refused.has(path) ? 500 : 200)
      } catch (err) {
        // One batched call failed for all of them (its message names the batch, not a path).
        const { code } = failureOf('', err)
        for (const path of files) {
          failed.push({ path, code, message: `${path} was not deleted (${code})` })
          await ctx.recordPath(req, user, 'delete', path, statusOfError(err))
        }
      }
      for (const path of files) ctx.invalidate(path, req)
    }
    for (const folder of paths.filter((p) => p.endsWith('/'))) {
      try {
        const result = await ops.deleteFolder(folder, { recursive: true })
        deleted += result.deleted.length
        for (const f of result.failed) failed.push(keyFailure(relative(f.key), f.code, f.message))
        await ctx.recordPath(req, user, 'delete', folder, result.failed.length === 0 ? 200 : 500)
      } catch (err) {
        const { code, message } = failureOf(folder, err)
        failed.push({ path: folder, code, message })
        await ctx.recordPath(req, user, 'delete', folder, statusOfError(err))
      }
      ctx.invalidate(folder, req)
    }
    return reply.send({ deleted, failed })
  })
}
