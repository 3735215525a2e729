/**
 * Warm folder pages: a rendered page is named by a hash of everything it is rendered from (the listing's
 * entries, the URL with its query, the user and their account, quota and versions views, the CSRF secret
 * its token is made from, the asset hashes). That hash is the page's ETag, so `If-None-Match` answers 304
 * without rendering, and the HTML (and its gzip, made once when first asked for) is kept in a bounded LRU,
 * so an unchanged listing is never rendered twice. Content-addressed: a write changes the listing, hence the
 * name; nothing needs invalidating and nothing stale can be served.
 */
import { createHash } from 'node:crypto'
import { gzip } from 'node:zlib'
import { promisify } from 'node:util'
import { LRUCache } from 'lru-cache'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Listing } from './context.js'

const gzipAsync = promisify(gzip)

/** A rendered page and its compressed form, once someone asked for it. */
export interface RenderedPage {
  etag: string
  html: Buffer
  gzip?: Promise<Buffer>
}

/** Pages kept per namespace: at most this many bytes of HTML (and gzip) at once. */
const PAGE_CACHE_BYTES = 16 * 1024 * 1024
// Pages smaller than this are sent as they are: gzip saves less than it costs.
const GZIP_MIN_BYTES = 2048

// The hash of a listing object: cached listings are the same object until they change.
const listingDigests = new WeakMap<Listing, string>()

function listingDigest (listing: Listing): string {
  let digest = listingDigests.get(listing)
  if (digest === undefined) {
    digest = createHash('sha256').update(JSON.stringify(listing)).digest('base64url')
    listingDigests.set(listing, digest)
  }
  return digest
}

/** The rendered folder pages of a namespace. */
export class RenderedPages {
  private readonly lru = new LRUCache<string, RenderedPage>({
    maxSize: PAGE_CACHE_BYTES,
    // The HTML plus room for its gzip (a fraction of it), made later.
    sizeCalculation: (page) => Math.ceil(page.html.length * 1.2) + 64,
    ttl: 10 * 60 * 1000
  })

  /** The ETag of a page rendered from `listing` and `inputs` (anything else the page shows, JSON-able). */
  etagOf (listing: Listing, inputs: unknown): string {
    return '"' + createHash('sha256').update(listingDigest(listing)).update(JSON.stringify(inputs)).digest('base64url').slice(0, 27) + '"'
  }

  get (etag: string): RenderedPage | undefined {
    return this.lru.get(etag)
  }

  set (etag: string, html: string): RenderedPage {
    const page: RenderedPage = { etag, html: Buffer.from(html) }
    this.lru.set(etag, page)
    return page
  }
}

/** Whether `If-None-Match` names this ETag (weak comparison, RFC 9110 §13.1.2). */
export function matchesEtag (req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match']
  if (typeof header !== 'string') return false
  return header.split(',').some((tag) => {
    const clean = tag.trim().replace(/^W\//, '')
    return clean === etag || clean === '*'
  })
}

function acceptsGzip (req: FastifyRequest): boolean {
  const accepted = req.headers['accept-encoding']
  return typeof accepted === 'string' && /(?:^|,)\s*gzip\s*(?:,|$|;(?!\s*q=0(?:\.0*)?\s*(?:,|$)))/i.test(accepted)
}

/** Sends a rendered page: gzip when the client takes it and it pays, the ETag, and Vary. */
export async function sendPage (req: FastifyRequest, reply: FastifyReply, page: RenderedPage): Promise<FastifyReply> {
  reply.header('etag', page.etag)
  reply.header('vary', 'Accept-Encoding')
  reply.type('text/html; charset=utf-8')
  if (page.html.length >= GZIP_MIN_BYTES && acceptsGzip(req)) {
    page.gzip ??= gzipAsync(page.html)
    const body = await page.gzip
    reply.header('content-encoding', 'gzip')
    return reply.send(body)
  }
  return reply.send(page.html)
}
