/**
 * Zip archives built while they stream (yazl): the selection is listed first (limits and checks before the
 * stream exists), then objects are read one after another straight into the archive, each GET opened only
 * when the archive reaches its entry (and at most one ahead, to hide the per-file round trip). Never a temp
 * file, never a whole object in memory. ZIP64 where the sizes or the entry count need it, UTF-8 names (the
 * zip's Unicode flag, bit 11, on every entry): both by yazl.
 *
 * Failure is loud: an S3 error mid-archive destroys the stream with that error (a client sees a cut
 * response, never a short archive that looks complete); destroying the stream, or the signal, destroys the
 * S3 bodies open and opens no more.
 */
import { createRequire } from 'node:module'
import type { PassThrough, Readable } from 'node:stream'
import zlib from 'node:zlib'
import yazl from 'yazl'
import { FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_S3_ERROR, FST_S3S_TOO_LARGE } from '../errors.js'
import { mapBounded } from '../bounded.js'
import { checkPath } from '../keys.js'
import { mapS3Error } from './s3-errors.js'
import type { FileInfo, ListedFile, ZipArchive, ZipEntry, ZipSelection, ZipStreamOptions } from './types.js'

// yazl takes each entry's CRC-32 from buffer-crc32, a JavaScript loop: about 300 MB/s here, the archive's
// bottleneck (a stored 1 GiB entry spent most of its CPU there). Node's zlib.crc32 (22.2+) is the same
// function (same arguments, unsigned result) in C, about 4 GB/s: it replaces yazl's own copy's `unsigned`.
const yazlCrc32 = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32') as { unsigned: (data: Buffer, previous?: number) => number }
if (typeof zlib.crc32 === 'function') yazlCrc32.unsigned = (data, previous) => zlib.crc32(data, previous ?? 0)

/** Default most files of one archive. */
export const ZIP_DEFAULT_MAX_FILES = 10_000
/** Default most bytes (of the files, before compression) of one archive: 10 GiB. */
export const ZIP_DEFAULT_MAX_BYTES = 10 * 1024 ** 3
// The entries are held in memory until the archive ends (its central directory needs them), and yazl looks
// for the next entry to write from the first one each time (quadratic in the count: 65,537 entries cost it
// seconds of CPU): a ceiling on what any caller may ask.
export const ZIP_MAX_FILES = 100_000
// HEADs in flight at once for the single files of a selection.
const HEAD_CONCURRENCY = 8

/** The limits and compression of one archive, checked. */
export interface ZipLimits {
  maxFiles: number
  maxBytes: number
  compress: boolean
}

/** Reads and checks the limits of {@link ZipStreamOptions}. */
export function zipLimits (options: ZipStreamOptions): ZipLimits {
  const maxFiles = options.maxFiles ?? ZIP_DEFAULT_MAX_FILES
  if (!Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > ZIP_MAX_FILES) throw new FST_S3S_INVALID_ARGUMENT(`maxFiles must be a whole number from 1 to ${ZIP_MAX_FILES}`)
  const maxBytes = options.maxBytes ?? ZIP_DEFAULT_MAX_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new FST_S3S_INVALID_ARGUMENT('maxBytes must be a whole number of bytes')
  const compression = options.compression ?? 'store'
  if (compression !== 'store' && compression !== 'deflate') throw new FST_S3S_INVALID_ARGUMENT('compression must be "store" or "deflate"')
  return { maxFiles, maxBytes, compress: compression === 'deflate' }
}

/** What listing a selection needs of StorageOperations (paths relative to the location). */
export interface SelectionSource {
  listAll: (prefix: string) => AsyncIterable<ListedFile>
  head: (path: string) => Promise<FileInfo>
}

/** A selection, checked: its folders, its single files, and the folder entry names are relative to. */
interface ParsedSelection {
  folders: string[]
  files: string[]
  base: string
}

/** The folder a selected path sits in: `a/b.txt` → `a/`, `a/sub/` → `a/`, `` (the root) → ``. */
function parentOf (path: string): string {
  const bare = path.endsWith('/') ? path.slice(0, -1) : path
  return bare.slice(0, bare.lastIndexOf('/') + 1)
}

/** The longest folder (whole segments) every one of `folders` is in. */
function commonFolder (folders: string[]): string {
  let common = folders[0]
  for (const folder of folders.slice(1)) {
    while (!folder.startsWith(common)) common = parentOf(common)
  }
  return common
}

function parseSelection (selection: ZipSelection): ParsedSelection {
  const given = selection as Partial<{ prefix: unknown, filenames: unknown }> | null
  if (typeof given !== 'object' || given === null) throw new FST_S3S_INVALID_ARGUMENT('a zip selection is { prefix } or { filenames }')
  if (given.prefix !== undefined && given.filenames !== undefined) throw new FST_S3S_INVALID_ARGUMENT('a zip selection is { prefix } or { filenames }, not both')
  if (given.filenames === undefined) {
    if (typeof given.prefix !== 'string') throw new FST_S3S_INVALID_ARGUMENT('a zip selection is { prefix } or { filenames }')
    const folder = checkFolder(given.prefix)
    return { folders: [folder], files: [], base: folder }
  }
  if (!Array.isArray(given.filenames) || given.filenames.length === 0) throw new FST_S3S_INVALID_ARGUMENT('filenames must be a non-empty array of paths')
  if (given.filenames.length > ZIP_MAX_FILES) throw new FST_S3S_TOO_LARGE(`a selection of more than ${ZIP_MAX_FILES} paths`)
  const folders = new Set<string>()
  const files = new Set<string>()
  for (const name of given.filenames as unknown[]) {
    if (typeof name !== 'string') throw new FST_S3S_INVALID_ARGUMENT('filenames must be strings')
    if (name === '' || name.endsWith('/')) folders.add(checkFolder(name))
    else files.add(checkPath(name, 'key'))
  }
  return { folders: [...folders], files: [...files], base: selectionFolder([...folders, ...files]) }
}

/** The folder a selection's entry names are relative to: the common folder of what is selected. */
export function selectionFolder (paths: string[]): string {
  return commonFolder(paths.map(parentOf))
}

function checkFolder (path: string): string {
  const bare = checkPath(path, 'key', { allowTrailingSlash: true })
  return bare === '' ? '' : bare + '/'
}

/**
 * Lists what a selection holds, relative to its common folder: every file of each selected folder
 * (recursively; folder markers are not entries) and each selected file (one HEAD each). Throws
 * `FST_S3S_TOO_LARGE` as soon as the count or the bytes pass a limit, `FST_S3S_NOT_FOUND` for a selected
 * file that does not exist, and whatever `checkFile` throws; nothing is streamed before it returns.
 */
export async function listSelection (source: SelectionSource, selection: ZipSelection, limits: ZipLimits, checkFile?: ZipStreamOptions['checkFile']): Promise<ZipEntry[]> {
  const { folders, files, base } = parseSelection(selection)
  if (files.length > limits.maxFiles) throw new FST_S3S_TOO_LARGE(`the selection holds more than ${limits.maxFiles} files`)
  const entries: ZipEntry[] = []
  const seen = new Set<string>()
  let bytes = 0
  const add = async (path: string, key: string, size: number, lastModified?: Date): Promise<void> => {
    if (seen.has(key)) return
    seen.add(key)
    if (entries.length + 1 > limits.maxFiles) throw new FST_S3S_TOO_LARGE(`the selection holds more than ${limits.maxFiles} files`)
    bytes += size
    if (bytes > limits.maxBytes) throw new FST_S3S_TOO_LARGE(`the selection holds more than ${limits.maxBytes} bytes`)
    const entry: ZipEntry = { name: entryName(path.slice(base.length), key), path, key, size, lastModified }
    await checkFile?.(entry)
    entries.push(entry)
  }
  for (const folder of folders) {
    for await (const file of source.listAll(folder)) {
      // Folder markers (and any key ending in "/") name folders, which file entries imply.
      if (file.name.endsWith('/')) continue
      await add(file.name, file.key, file.size, file.lastModified)
    }
  }
  const heads = await mapBounded(files, HEAD_CONCURRENCY, async (path) => ({ path, info: await source.head(path) }))
  for (const { path, info } of heads) await add(path, info.key, info.size, info.lastModified)
  return entries
}

/**
 * An entry's name, by the key rules: a key some other tool wrote as `a//b` or `a/../b` cannot be a safe
 * entry name, and the archive is refused (400) rather than built without it.
 */
function entryName (name: string, key: string): string {
  try {
    return checkPath(name, 'key')
  } catch (err) {
    throw new FST_S3S_INVALID_KEY(`the key ${JSON.stringify(key)} cannot be a zip entry (${(err as Error).message})`)
  }
}

/** Opens one entry's bytes: a GetObject whose body is handed back unread. */
export type OpenEntry = (entry: ZipEntry, signal: AbortSignal) => Promise<Readable>

/** What {@link streamZip} builds an archive from. */
export interface StreamZipParams {
  entries: ZipEntry[]
  open: OpenEntry
  compress: boolean
  signal?: AbortSignal
  onFile?: ZipStreamOptions['onFile']
}

/** The reason an entry cut short by the archive's end is reported with: the stream was closed early. */
function closedEarly (): Error {
  return Object.assign(new Error('the archive was closed before this entry was complete'), { statusCode: 499 })
}

/**
 * Streams a zip of the entries (listed already). The returned stream is yazl's output with `files` and
 * `bytes`.
 */
export function streamZip ({ entries, open, compress, signal, onFile }: StreamZipParams): ZipArchive {
  const zip = new yazl.ZipFile()
  // yazl's output is a PassThrough (its typings say only NodeJS.ReadableStream).
  const output = zip.outputStream as PassThrough
  const controller = new AbortController()
  // GETs started ahead of their turn (at most one), by entry index.
  const ahead = new Map<number, Promise<Readable>>()
  // Bodies open now (the current one, and the one ahead): destroyed when the archive fails or is closed.
  const bodies = new Set<Readable>()
  let active = -1
  let reported = -1
  let done = false

  const report = (index: number, error?: Error): void => {
    // Each entry once, in order: those before `index` were written whole.
    for (let i = reported + 1; i <= index && i < entries.length; i++) onFile?.(entries[i], i === index ? error : undefined)
    reported = Math.max(reported, index)
  }
  // The entry being written is reported with the error (a GET ahead of its turn has written nothing yet).
  const fail = (err: Error): void => {
    if (done) return
    done = true
    report(active, err)
    controller.abort(err)
    output.destroy(err)
  }
  const start = (index: number): Promise<Readable> => {
    const entry = entries[index]
    const opened = open(entry, controller.signal).then((body) => {
      if (controller.signal.aborted) {
        body.destroy()
        const reason: unknown = controller.signal.reason
        throw reason instanceof Error ? reason : closedEarly()
      }
      bodies.add(body)
      body.once('close', () => bodies.delete(body))
      body.on('error', (err) => fail(mapS3Error(err, entry.path)))
      return body
    })
    // Its failure is handled when its turn comes (or not at all, when the archive ended before).
    opened.catch(() => {})
    return opened
  }

  controller.signal.addEventListener('abort', () => { for (const body of bodies) body.destroy() })
  zip.on('error', (err: Error) => {
    // yazl checks each entry's bytes against the size the listing gave.
    const changed = /unexpected number of bytes/.test(err.message) && active >= 0
    fail(changed ? new FST_S3S_S3_ERROR(`${entries[active].path} changed while the archive was read`) : err)
  })
  output.once('end', () => {
    done = true
    report(entries.length - 1)
  })
  output.once('close', () => {
    if (!done) fail(closedEarly())
    signal?.removeEventListener('abort', onAbort)
  })
  const onAbort = (): void => fail(signal?.reason instanceof Error ? signal.reason : closedEarly())
  signal?.addEventListener('abort', onAbort)

  entries.forEach((entry, index) => {
    const options = { mtime: entry.lastModified ?? new Date(), size: entry.size, compress }
    zip.addReadStreamLazy(entry.name, options, (cb) => {
      // yazl asks for an entry once the one before it is written whole.
      report(index - 1)
      active = index
      const body = ahead.get(index) ?? start(index)
      ahead.delete(index)
      // One GET ahead hides the per-file round trip (5,000 small files: 12.6 s → 7.6 s on SeaweedFS).
      if (index + 1 < entries.length && !controller.signal.aborted) ahead.set(index + 1, start(index + 1))
      body.then((b) => cb(null, b), (err: unknown) => fail(err as Error))
    })
  })
  // No calculatedTotalSizeCallback: yazl 3.3.1 counts a ZIP64 end record that it does not write once the
  // central directory passes 64 KiB (about 900 entries), so a Content-Length from it would be wrong.
  zip.end()
  const files = entries.length
  const bytes = entries.reduce((sum, e) => sum + e.size, 0)
  return Object.assign(output, { files, bytes })
}
