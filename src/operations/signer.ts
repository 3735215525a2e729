/**
 * LinkSigner: presigned GET, PUT and UploadPart URLs and POST policies for one S3Client, on a fast path.
 *
 * `getSignedUrl` resolves the endpoint and builds a whole middleware stack for every link (about 3,000
 * links/s per core). Here the SDK is asked once per bucket how it addresses that bucket: one `getSignedUrl`
 * probe gives the origin, the path before the key, the host header and the signing scope; the signer then
 * builds the canonical request itself (SigV4, query signing, `UNSIGNED-PAYLOAD`) and signs it with a
 * signing key cached per day, region, service and secret key. Every probe is also a self-check: the
 * signer signs the probe's request at the probe's time and must produce the SDK's URL byte for byte; when
 * it does not (a custom signer, SigV4a, S3 Express, extra query parameters from a `clientConfig`
 * override...), that bucket keeps using the SDK, and {@link LinkSigner.addressing} says why.
 *
 * Credentials always come from `client.config.credentials()`, the SDK's own (caching, refreshing)
 * provider, on every link: temporary credentials are refreshed exactly as for S3 calls, and a session
 * token goes into `X-Amz-Security-Token`.
 *
 * What the links are, and where they differ from the SDK's on purpose:
 * - GET: as `getSignedUrl(GetObjectCommand)`, response overrides and `versionId` included.
 * - PUT: as `getSignedUrl(PutObjectCommand { ContentType }, { signableHeaders: ['content-type'] })` on a
 *   client with `requestChecksumCalculation: 'WHEN_REQUIRED'`: Content-Type is a signed header and there
 *   is never a checksum parameter. (With `WHEN_SUPPORTED` the SDK bakes the CRC32 of an empty body into
 *   the URL, and S3 then refuses every non-empty upload with `BadDigest`.)
 * - UploadPart: as `getSignedUrl(UploadPartCommand)` on a `WHEN_REQUIRED` client (no checksum either).
 * - On a `WHEN_SUPPORTED` client the SDK signs that empty-body checksum into GET links too; the signer
 *   leaves it out of every link (the probe still checks the signature with it in), so its links are then
 *   the SDK's links from the same client with `WHEN_REQUIRED`.
 * - POST: as `createPresignedPost`: same fields in the same order, same policy, same signature, with the
 *   client's `systemClockOffset` applied to the time (the SDK does that for POST only, not for links).
 *
 * Lifetimes are not decided here: callers clamp them first (TTL ceiling, credential expiry; see
 * `linkLifetime()` in links.ts). A link lifetime must be a whole number of seconds from 1 to 604800.
 */
import crypto from 'node:crypto'
import { GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post'

/** SigV4 presigned URLs live at most 7 days: the ceiling of every link lifetime. */
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 3600

/** Options of {@link LinkSigner.presignGet}: S3's response overrides and a version. */
export interface SignGetOptions {
  /** `response-cache-control`. */
  responseCacheControl?: string
  /** `response-content-disposition`, e.g. from the `content-disposition` package. */
  responseContentDisposition?: string
  /** `response-content-encoding`. */
  responseContentEncoding?: string
  /** `response-content-language`. */
  responseContentLanguage?: string
  /** `response-content-type`. */
  responseContentType?: string
  /** `response-expires` (sent as an HTTP date, as the SDK does). */
  responseExpires?: Date
  /** A specific version of the object. */
  versionId?: string
  /** Sign as of this time instead of now (tests; the SDK's `signingDate`). */
  signingDate?: Date
}

/** Options every other signing method takes. */
export interface SignTimeOptions {
  /** Sign as of this time instead of now (tests; the SDK's `signingDate`). */
  signingDate?: Date
}

/** Options of {@link LinkSigner.presignPost}: `createPresignedPost`'s, minus Bucket and Key. */
export interface SignPostOptions {
  /** Policy conditions, before the fields' own (as `createPresignedPost`'s `Conditions`). */
  conditions?: PresignedPostOptions['Conditions']
  /** Form fields, each also a policy condition (as `Fields`). */
  fields?: Record<string, string>
  /** Lifetime of the policy in seconds. Default 3600 (as `Expires`). */
  expiresIn?: number
  /** Sign as of this time instead of now (tests). The client's `systemClockOffset` is not added to it. */
  signingDate?: Date
}

/** A presigned POST: the URL and the form fields to send before the file. */
export interface SignedPost {
  url: string
  fields: Record<string, string>
}

/** How links for one bucket are made, from its probe. */
export interface Addressing {
  /** True when this signer makes them; false when they come from the SDK (see `reason`). */
  fast: boolean
  /** Why the SDK is used, when it is. */
  reason?: string
  /** Scheme and authority, e.g. `https://bucket.s3.eu-west-1.amazonaws.com`. */
  origin: string
  /** The path before the key: `/` (virtual-hosted) or `/bucket/` (path-style), after any endpoint path. */
  basePath: string
  /** The signed `host` header. */
  host: string
  /** Signing region and service of the scope. */
  region: string
  service: string
  /** Query parameters the SDK adds for this client and the signer leaves out (an empty-body checksum). */
  dropped: string[]
}

interface PostAddressing {
  fast: boolean
  reason?: string
  url: string
  /** The region of the scope: `createPresignedPost` uses the client's region, not the endpoint's. */
  region: string
}

interface Route extends Addressing {
  /** `host:<host>`, the canonical header line. */
  hostLine: string
  /** Signing keys shared by every route with this region and service. */
  keys: KeyCache
}

interface KeyCache {
  region: string
  service: string
  entry?: KeyEntry
}

interface KeyEntry {
  accessKeyId: string
  secretAccessKey: string
  shortDate: string
  /** `shortDate/region/service/aws4_request`. */
  scope: string
  /** `X-Amz-Credential`, already URI-encoded. */
  credential: string
  /** The signing key; a KeyObject makes each link's HMAC about 15% cheaper than a Buffer key (measured). */
  key: crypto.KeyObject
}

interface Identity {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

interface Time {
  second: number
  /** `20240506T070809Z` */
  longDate: string
  /** `20240506` */
  shortDate: string
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
// A key with characters that need encoding, so that the self-check covers the key encoding too.
const PROBE_KEY = 'fastify-s3-storage/probe key+(1)*~ü'
const PROBE_SECONDS = 60
// What a probe GET carries; anything else is either an empty-body checksum (left out of every link) or unknown.
const PROBE_PARAMS = new Set([
  'X-Amz-Algorithm', 'X-Amz-Content-Sha256', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires',
  'X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'x-id'
])
// With `requestChecksumCalculation: 'WHEN_SUPPORTED'` the SDK signs the checksum of the (empty) body it
// presigns into every link, GET included. All of these sort between X-Amz-SignedHeaders and x-id.
const EMPTY_BODY_CHECKSUM = /^x-amz-(sdk-checksum-algorithm|checksum-(crc32|crc32c|crc64nvme|sha1|sha256))$/
// S3 replaces this in a POST's key with the file's name; createPresignedPost then allows any key with that start.
// eslint-disable-next-line no-template-curly-in-string
const FILENAME = '${filename}'
// Buckets a signer remembers before starting over (a broker may hand out a new bucket with each refresh).
const MAX_ROUTES = 64

// One-shot hashing where Node has it (20.12+, 21.7+): no Hash object per call.
const sha256Hex: (data: string) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex')

function hmac (key: Buffer | string, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest()
}

const UNRESERVED = /^[A-Za-z0-9._~-]*$/
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9._~/-]*$/
const SUB_DELIMS = /[!'()*]/g
const hexEncode = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`

/**
 * S3's URI encoding of a query name or value (the SDK's `escapeUri`): UTF-8, percent-encoded, RFC 3986
 * unreserved characters kept. Throws `URIError` on a lone surrogate, as the SDK does.
 */
export function escapeUri (value: string): string {
  if (UNRESERVED.test(value)) return value
  return encodeURIComponent(value).replace(SUB_DELIMS, hexEncode)
}

/** A key as it goes into the path: {@link escapeUri} per segment, `/` kept (the SDK's greedy `{Key+}` label). */
export function encodeKeyPath (key: string): string {
  if (UNRESERVED_OR_SLASH.test(key)) return key
  // encodeURIComponent turns only "/" itself into %2F (a literal "%2F" in the key becomes %252F).
  return encodeURIComponent(key).replace(SUB_DELIMS, hexEncode).replaceAll('%2F', '/')
}

// The SDK's canonical form of a header value: newlines to spaces, runs of blanks to one, one blank trimmed each side.
function canonicalHeaderValue (value: string): string {
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')
}

function checkExpires (expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_LINK_TTL_SECONDS) {
    throw new RangeError(`a presigned link lifetime must be a whole number of seconds from 1 to ${MAX_LINK_TTL_SECONDS}`)
  }
}

function checkIdentity (identity: Identity): void {
  if (typeof identity !== 'object' || identity === null || typeof identity.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string') {
    throw new Error('Resolved credential object is not valid')
  }
}

// `2024-05-06T07:08:09.123Z` -> `20240506T070809Z`, as the SDK formats X-Amz-Date (milliseconds dropped).
function amzDate (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
}

// ISO 8601 without milliseconds, as createPresignedPost writes the policy's expiration.
function iso8601 (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Presigned links for one S3Client; make one per client (see {@link linkSigner}) and keep it. */
export class LinkSigner {
  /** The client whose credentials, endpoint and clock offset the links use. */
  readonly client: S3Client
  private readonly routes = new Map<string, Route>()
  private readonly pending = new Map<string, Promise<Route>>()
  private readonly postRoutes = new Map<string, PostAddressing>()
  private readonly keyCaches = new Map<string, KeyCache>()
  private time: Time = { second: Number.NaN, longDate: '', shortDate: '' }
  private lastToken = ''
  private lastTokenEncoded = ''

  constructor (client: S3Client) {
    this.client = client
  }

  /** How links for `bucket` are made (probing the SDK on first use). */
  async addressing (bucket: string): Promise<Addressing> {
    const { origin, basePath, host, region, service, fast, reason, dropped } = await this.route(bucket)
    return { fast, reason, origin, basePath, host, region, service, dropped: [...dropped] }
  }

  /** A presigned GET URL, equal to `getSignedUrl(client, new GetObjectCommand(...), { expiresIn })`. */
  async presignGet (bucket: string, key: string, expiresIn: number, options: SignGetOptions = {}): Promise<string> {
    checkExpires(expiresIn)
    const route = this.routes.get(bucket) ?? await this.route(bucket)
    if (!route.fast) return await this.sdkGet(bucket, key, expiresIn, options)
    let params = ''
    if (options.responseCacheControl !== undefined) params += '&response-cache-control=' + escapeUri(options.responseCacheControl)
    if (options.responseContentDisposition !== undefined) params += '&response-content-disposition=' + escapeUri(options.responseContentDisposition)
    if (options.responseContentEncoding !== undefined) params += '&response-content-encoding=' + escapeUri(options.responseContentEncoding)
    if (options.responseContentLanguage !== undefined) params += '&response-content-language=' + escapeUri(options.responseContentLanguage)
    if (options.responseContentType !== undefined) params += '&response-content-type=' + escapeUri(options.responseContentType)
    if (options.responseExpires !== undefined) params += '&response-expires=' + escapeUri(options.responseExpires.toUTCString())
    if (options.versionId !== undefined) params += '&versionId=' + escapeUri(options.versionId)
    params += '&x-id=GetObject'
    const identity = await this.credentials()
    return this.sign(route, identity, options.signingDate?.getTime() ?? Date.now(), 'GET', key, expiresIn, undefined, params)
  }

  /**
   * A presigned PUT URL with Content-Type signed: the uploader must send exactly `Content-Type: <contentType>`.
   * No checksum parameters, whatever the client's `requestChecksumCalculation`.
   */
  async presignPut (bucket: string, key: string, expiresIn: number, contentType: string, options: SignTimeOptions = {}): Promise<string> {
    checkExpires(expiresIn)
    if (typeof contentType !== 'string') throw new TypeError('contentType must be a string')
    const route = this.routes.get(bucket) ?? await this.route(bucket)
    if (!route.fast) return await this.sdkPut(bucket, key, expiresIn, contentType, options)
    const identity = await this.credentials()
    // The SDK sends its default type for PutObject's body when none (or '') is given; so does this.
    return this.sign(route, identity, options.signingDate?.getTime() ?? Date.now(), 'PUT', key, expiresIn, contentType === '' ? 'application/octet-stream' : contentType, '&x-id=PutObject')
  }

  /** A presigned UploadPart URL (PUT of part `partNumber`, 1-10000, of multipart upload `uploadId`). */
  async presignUploadPart (bucket: string, key: string, uploadId: string, partNumber: number, expiresIn: number, options: SignTimeOptions = {}): Promise<string> {
    checkExpires(expiresIn)
    if (typeof uploadId !== 'string' || uploadId === '') throw new TypeError('uploadId must be a non-empty string')
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) throw new RangeError('partNumber must be a whole number from 1 to 10000')
    const route = this.routes.get(bucket) ?? await this.route(bucket)
    if (!route.fast) return await this.sdkUploadPart(bucket, key, uploadId, partNumber, expiresIn, options)
    const identity = await this.credentials()
    const params = `&partNumber=${partNumber}&uploadId=${escapeUri(uploadId)}&x-id=UploadPart`
    return this.sign(route, identity, options.signingDate?.getTime() ?? Date.now(), 'PUT', key, expiresIn, undefined, params)
  }

  /** A presigned POST, equal to `createPresignedPost(client, { Bucket, Key, Conditions, Fields, Expires })`. */
  async presignPost (bucket: string, key: string, options: SignPostOptions = {}): Promise<SignedPost> {
    const expiresIn = options.expiresIn ?? 3600
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) throw new RangeError('a POST policy lifetime must be a positive number of seconds')
    const route = this.postRoutes.get(bucket) ?? await this.postRoute(bucket)
    if (!route.fast) {
      return await createPresignedPost(this.client, { Bucket: bucket, Key: key, Conditions: options.conditions, Fields: options.fields, Expires: expiresIn })
    }
    const now = options.signingDate?.getTime() ?? Date.now() + (this.client.config.systemClockOffset ?? 0)
    const identity = await this.credentials()
    return this.signPost(route, identity, now, bucket, key, options.conditions ?? [], options.fields ?? {}, expiresIn)
  }

  private async credentials (): Promise<Identity> {
    const identity = await this.client.config.credentials() as Identity
    checkIdentity(identity)
    return identity
  }

  /** The route of a bucket, probing the SDK once (concurrent first calls share the probe). */
  private async route (bucket: string): Promise<Route> {
    const known = this.routes.get(bucket)
    if (known !== undefined) return known
    let pending = this.pending.get(bucket)
    if (pending === undefined) {
      pending = this.probe(bucket).finally(() => this.pending.delete(bucket))
      this.pending.set(bucket, pending)
    }
    const route = await pending
    if (this.routes.size >= MAX_ROUTES) this.routes.clear()
    this.routes.set(bucket, route)
    return route
  }

  private async probe (bucket: string): Promise<Route> {
    // Twice at most: credentials refreshed between the SDK's signature and ours would fail the check once.
    for (let attempt = 1; ; attempt++) {
      const signingDate = new Date(Math.floor(Date.now() / 1000) * 1000)
      const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY }), { expiresIn: PROBE_SECONDS, signingDate })
      const identity = await this.credentials()
      const { route, extra } = this.parseProbe(url)
      if (!route.fast) return route
      // Signed with the SDK's extra parameters too, so the check covers the signature byte for byte.
      const mine = this.sign(route, identity, signingDate.getTime(), 'GET', PROBE_KEY, PROBE_SECONDS, undefined, extra + '&x-id=GetObject')
      if (mine === url) return route
      if (attempt === 2) return { ...route, fast: false, reason: 'self-check: the signer does not produce the SDK\'s URL for this client' }
    }
  }

  /**
   * Origin, base path, host and scope from a probe URL, and the SDK's droppable extra parameters (raw
   * `&name=value` text, in the URL's order); `fast: false` with a reason when the URL is not understood.
   */
  private parseProbe (url: string): { route: Route, extra: string } {
    const failed = (reason: string): { route: Route, extra: string } => ({
      route: { fast: false, reason, origin: '', basePath: '', host: '', hostLine: '', region: '', service: '', dropped: [], keys: { region: '', service: '' } },
      extra: ''
    })
    const q = url.indexOf('?')
    const schemeEnd = url.indexOf('://')
    const pathStart = schemeEnd < 0 ? -1 : url.indexOf('/', schemeEnd + 3)
    if (q < 0 || pathStart < 0 || pathStart > q) return failed('unexpected URL shape from the SDK')
    const origin = url.slice(0, pathStart)
    const host = origin.slice(schemeEnd + 3)
    const path = url.slice(pathStart, q)
    const encodedKey = encodeKeyPath(PROBE_KEY)
    if (host.includes('@')) return failed('the endpoint has user info')
    if (!path.endsWith(encodedKey)) return failed('the SDK does not put the key at the end of the path')
    const query = new URLSearchParams(url.slice(q + 1))
    const algorithm = query.get('X-Amz-Algorithm')
    if (algorithm !== ALGORITHM) return failed(`signing algorithm ${String(algorithm)}`)
    // accessKeyId/date/region/service/aws4_request; the key id never holds a "/".
    const scope = (query.get('X-Amz-Credential') ?? '').split('/')
    if (scope.length !== 5 || scope[4] !== 'aws4_request') return failed('unexpected credential scope')
    const [, , region, service] = scope as [string, string, string, string, string]
    let extra = ''
    const dropped: string[] = []
    for (const segment of url.slice(q + 1).split('&')) {
      const eq = segment.indexOf('=')
      const name = eq < 0 ? segment : segment.slice(0, eq)
      if (PROBE_PARAMS.has(name)) continue
      if (!EMPTY_BODY_CHECKSUM.test(name)) return failed(`the SDK adds the query parameter ${name} for this client`)
      extra += '&' + segment
      dropped.push(name)
    }
    return {
      route: {
        fast: true,
        origin,
        basePath: path.slice(0, path.length - encodedKey.length),
        host,
        hostLine: `host:${host}`,
        region,
        service,
        dropped,
        keys: this.keyCache(region, service)
      },
      extra
    }
  }

  private keyCache (region: string, service: string): KeyCache {
    const id = `${region}/${service}`
    let cache = this.keyCaches.get(id)
    if (cache === undefined) this.keyCaches.set(id, cache = { region, service })
    return cache
  }

  private async postRoute (bucket: string): Promise<PostAddressing> {
    for (let attempt = 1; ; attempt++) {
      // createPresignedPost takes no signing date: its own X-Amz-Date says which second it signed at.
      const probe = await createPresignedPost(this.client, { Bucket: bucket, Key: PROBE_KEY, Expires: PROBE_SECONDS })
      const identity = await this.credentials()
      const route = parsePostProbe(probe)
      if (!route.fast) return this.rememberPost(bucket, route)
      const date = probe.fields['X-Amz-Date'] as string
      const ms = Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8), +date.slice(9, 11), +date.slice(11, 13), +date.slice(13, 15))
      const mine = this.signPost(route, identity, ms, bucket, PROBE_KEY, [], {}, PROBE_SECONDS)
      if (JSON.stringify(mine) === JSON.stringify(probe)) return this.rememberPost(bucket, route)
      if (attempt === 2) return this.rememberPost(bucket, { ...route, fast: false, reason: 'self-check: the signer does not produce the SDK\'s POST for this client' })
    }
  }

  private rememberPost (bucket: string, route: PostAddressing): PostAddressing {
    if (this.postRoutes.size >= MAX_ROUTES) this.postRoutes.clear()
    this.postRoutes.set(bucket, route)
    return route
  }

  private clock (ms: number): Time {
    const second = Math.floor(ms / 1000)
    if (second !== this.time.second) {
      const longDate = amzDate(second * 1000)
      this.time = { second, longDate, shortDate: longDate.slice(0, 8) }
    }
    return this.time
  }

  /** The signing key and scope for these credentials on this day, computed once per (day, region, service, keys). */
  private signingKey (keys: KeyCache, identity: Identity, shortDate: string): KeyEntry {
    const entry = keys.entry
    if (entry !== undefined && entry.shortDate === shortDate && entry.secretAccessKey === identity.secretAccessKey && entry.accessKeyId === identity.accessKeyId) return entry
    const scope = `${shortDate}/${keys.region}/${keys.service}/aws4_request`
    let key = hmac(`AWS4${identity.secretAccessKey}`, shortDate)
    key = hmac(key, keys.region)
    key = hmac(key, keys.service)
    key = hmac(key, 'aws4_request')
    keys.entry = {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      shortDate,
      scope,
      credential: escapeUri(`${identity.accessKeyId}/${scope}`),
      key: crypto.createSecretKey(key)
    }
    return keys.entry
  }

  private token (sessionToken: string): string {
    if (sessionToken !== this.lastToken) {
      this.lastTokenEncoded = escapeUri(sessionToken)
      this.lastToken = sessionToken
    }
    return this.lastTokenEncoded
  }

  /**
   * Signs one query-string request. The canonical query is the URL's query without X-Amz-Signature: both
   * are sorted by name, and every name here sorts the same raw or encoded (upper-case X-Amz-* first, then
   * the operation's lower-case parameters, already in order in `params`).
   */
  private sign (route: Route, identity: Identity, nowMs: number, method: string, key: string, expiresIn: number, contentType: string | undefined, params: string): string {
    const time = this.clock(nowMs)
    const signing = this.signingKey(route.keys, identity, time.shortDate)
    const path = route.basePath + encodeKeyPath(key)
    let head = `X-Amz-Algorithm=${ALGORITHM}&X-Amz-Content-Sha256=${UNSIGNED_PAYLOAD}&X-Amz-Credential=${signing.credential}&X-Amz-Date=${time.longDate}&X-Amz-Expires=${expiresIn}`
    if (identity.sessionToken) head += `&X-Amz-Security-Token=${this.token(identity.sessionToken)}`
    let tail: string
    let canonical: string
    if (contentType === undefined) {
      tail = 'X-Amz-SignedHeaders=host' + params
      canonical = `${method}\n${path}\n${head}&${tail}\n${route.hostLine}\n\nhost\n${UNSIGNED_PAYLOAD}`
    } else {
      tail = 'X-Amz-SignedHeaders=content-type%3Bhost' + params
      canonical = `${method}\n${path}\n${head}&${tail}\ncontent-type:${canonicalHeaderValue(contentType)}\n${route.hostLine}\n\ncontent-type;host\n${UNSIGNED_PAYLOAD}`
    }
    const stringToSign = `${ALGORITHM}\n${time.longDate}\n${signing.scope}\n${sha256Hex(canonical)}`
    const signature = crypto.createHmac('sha256', signing.key).update(stringToSign).digest('hex')
    return `${route.origin}${path}?${head}&X-Amz-Signature=${signature}&${tail}`
  }

  /** createPresignedPost's algorithm, step by step, with the cached signing key. */
  private signPost (route: PostAddressing, identity: Identity, nowMs: number, bucket: string, key: string, conditions: NonNullable<PresignedPostOptions['Conditions']>, extra: Record<string, string>, expiresIn: number): SignedPost {
    const time = amzDate(nowMs)
    const signing = this.signingKey(this.keyCache(route.region, 's3'), identity, time.slice(0, 8))
    const fields: Record<string, string> = {
      ...extra,
      bucket,
      'X-Amz-Algorithm': ALGORITHM,
      'X-Amz-Credential': `${identity.accessKeyId}/${signing.scope}`,
      'X-Amz-Date': time,
      ...(identity.sessionToken ? { 'X-Amz-Security-Token': identity.sessionToken } : {})
    }
    // The SDK dedupes conditions by their JSON text, then writes them back out: the same text.
    const set = new Set<string>()
    for (const condition of conditions) set.add(JSON.stringify(condition))
    for (const [name, value] of Object.entries(fields)) set.add(JSON.stringify({ [name]: value }))
    if (key.endsWith(FILENAME)) set.add(JSON.stringify(['starts-with', '$key', key.substring(0, key.lastIndexOf(FILENAME))]))
    else set.add(JSON.stringify({ key }))
    const policy = Buffer.from(`{"expiration":${JSON.stringify(iso8601(nowMs + expiresIn * 1000))},"conditions":[${[...set].join(',')}]}`, 'utf8').toString('base64')
    const signature = crypto.createHmac('sha256', signing.key).update(policy).digest('hex')
    return { url: route.url, fields: { ...fields, key, Policy: policy, 'X-Amz-Signature': signature } }
  }

  private async sdkGet (bucket: string, key: string, expiresIn: number, options: SignGetOptions): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      VersionId: options.versionId,
      ResponseCacheControl: options.responseCacheControl,
      ResponseContentDisposition: options.responseContentDisposition,
      ResponseContentEncoding: options.responseContentEncoding,
      ResponseContentLanguage: options.responseContentLanguage,
      ResponseContentType: options.responseContentType,
      ResponseExpires: options.responseExpires
    })
    return await getSignedUrl(this.client, command, { expiresIn, signingDate: options.signingDate })
  }

  private async sdkPut (bucket: string, key: string, expiresIn: number, contentType: string, options: SignTimeOptions): Promise<string> {
    const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType })
    return await getSignedUrl(this.client, command, { expiresIn, signableHeaders: new Set(['content-type']), signingDate: options.signingDate })
  }

  private async sdkUploadPart (bucket: string, key: string, uploadId: string, partNumber: number, expiresIn: number, options: SignTimeOptions): Promise<string> {
    const command = new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber })
    return await getSignedUrl(this.client, command, { expiresIn, signingDate: options.signingDate })
  }
}

function parsePostProbe (probe: SignedPost): PostAddressing {
  const scope = (probe.fields['X-Amz-Credential'] ?? '').split('/')
  const date = probe.fields['X-Amz-Date'] ?? ''
  if (probe.fields['X-Amz-Algorithm'] !== ALGORITHM || scope.length !== 5 || scope[3] !== 's3' || !/^\d{8}T\d{6}Z$/.test(date)) {
    return { fast: false, reason: 'unexpected fields from createPresignedPost', url: probe.url, region: '' }
  }
  return { fast: true, url: probe.url, region: scope[2] as string }
}

const signers = new WeakMap<S3Client, LinkSigner>()

/** The LinkSigner of a client (one per profile, as each profile has its own client), made on first use. */
export function linkSigner (client: S3Client): LinkSigner {
  let signer = signers.get(client)
  if (signer === undefined) signers.set(client, signer = new LinkSigner(client))
  return signer
}
