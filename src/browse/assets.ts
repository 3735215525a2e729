/**
 * The pages' stylesheet and script, served by the plugin under `<prefix>/_s3s/assets/<name>.<hash>.<ext>`
 * with a year-long immutable cache, so no page ever fetches anything from another host.
 *
 * Hashed at register time, not by a build step: the files are small (tens of KB, hashed and compressed once
 * per process), tests run the same code from src/ as users run from dist/, the hash can never drift from the
 * bytes actually served, and a host's own copies in `<templateFolder>/static/` (see `scaffold --with-static`)
 * win file by file like the templates do, which a manifest written at our build time could not know about.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The bundled assets (`assets/` at the package root, from src/ and from dist/ alike). */
export const BUNDLED_ASSETS = fileURLToPath(new URL('../../assets', import.meta.url))

/** The assets the pages load, by name. */
export const ASSET_NAMES = ['browse.css', 'browse.js', 'multipart.js', 'selection.js'] as const

/** One of {@link ASSET_NAMES}. */
export type AssetName = typeof ASSET_NAMES[number]

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8'
}

interface Asset {
  type: string
  etag: string
  identity: Buffer
  gzip: Buffer
  br: Buffer
}

// Compressed bodies by content hash: a test suite registering the plugin a hundred times compresses once.
const compressed = new Map<string, Pick<Asset, 'gzip' | 'br'>>()

/** The assets of one registration: their hashed URLs, and the bodies behind them. */
export class BrowseAssets {
  /** URL of each asset: `{ 'browse.css': '/_s3s/assets/browse.1a2b3c4d5e6f.css', … }`. */
  readonly urls: Record<AssetName, string>
  /** The route that serves them (`<prefix>/_s3s/assets/`). */
  readonly base: string
  private readonly files = new Map<string, Asset>()

  /** Reads and hashes the assets; a file in `<templateFolder>/static/` replaces the bundled one. */
  constructor (prefix: string, templateFolder?: string) {
    this.base = `${prefix}/_s3s/assets/`
    const urls: Partial<Record<AssetName, string>> = {}
    for (const name of ASSET_NAMES) {
      const host = templateFolder === undefined ? undefined : path.resolve(templateFolder, 'static', name)
      const file = host !== undefined && existsSync(host) ? host : path.join(BUNDLED_ASSETS, name)
      const identity = readFileSync(file)
      const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12)
      const ext = path.extname(name)
      const hashed = `${path.basename(name, ext)}.${hash}${ext}`
      let packed = compressed.get(hash)
      if (packed === undefined) {
        packed = {
          gzip: gzipSync(identity, { level: 9 }),
          br: brotliCompressSync(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length } })
        }
        compressed.set(hash, packed)
      }
      this.files.set(hashed, { type: TYPES[ext], etag: `"${hash}"`, identity, ...packed })
      urls[name] = this.base + hashed
    }
    this.urls = urls as Record<AssetName, string>
  }

  /** Answers `GET <base><file>`: 404 for anything but a current hashed name. */
  send (req: FastifyRequest, reply: FastifyReply, file: string): FastifyReply {
    const asset = this.files.get(file)
    reply.header('x-content-type-options', 'nosniff')
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found')
    reply.header('cache-control', 'public, max-age=31536000, immutable')
    reply.header('etag', asset.etag)
    reply.header('vary', 'accept-encoding')
    reply.header('cross-origin-resource-policy', 'same-origin')
    reply.type(asset.type)
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send()
    const encoding = pickEncoding(req.headers['accept-encoding'])
    if (encoding !== 'identity') reply.header('content-encoding', encoding)
    return reply.send(asset[encoding === 'identity' ? 'identity' : encoding])
  }
}

/** The best encoding a client accepts: br, then gzip, else none (a `;q=0` refuses one). */
export function pickEncoding (header: string | string[] | undefined): 'br' | 'gzip' | 'identity' {
  const accepted = new Set<string>()
  for (const part of String(header ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim())
    const q = params.find((p) => p.startsWith('q='))
    if (q !== undefined && Number(q.slice(2)) === 0) continue
    accepted.add(name)
  }
  if (accepted.has('br')) return 'br'
  if (accepted.has('gzip')) return 'gzip'
  return 'identity'
}
