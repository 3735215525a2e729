/**
 * Options of the built-in sign-in (`browse.login`), validated once at register time. Kept apart from the
 * sign-in itself (login.ts), so validating them loads no OpenID or session library.
 */
import { FST_S3S_INVALID_OPTION } from '../errors.js'

/** The claims the provider gave for the signed-in person (ID token, then userinfo). */
export type SignInClaims = Record<string, unknown> & { sub: string, email?: string, email_verified?: boolean | string }

/** The session cookie of the sign-in. */
export interface LoginCookieOptions {
  /**
   * Secret the session cookie is encrypted and authenticated with: at least 32 characters. Rotate by giving an
   * array, newest first: cookies made with an older secret still open (and are re-sealed with the newest);
   * drop a secret from the list to sign out everyone it sealed. Required.
   */
  secret: string | string[]
  /** Cookie name. Default `'s3s_session'`. */
  name?: string
  /** How long a sign-in lasts, in seconds, counted from signing in (not renewed by use). Default 43200 (12 hours). */
  maxAgeSeconds?: number
  /**
   * `Secure` cookies. Default `'auto'`: Secure unless the page is served from a loopback host
   * (`localhost`, `127.0.0.1`, `[::1]`), where browsers may run plain http.
   */
  secure?: boolean | 'auto'
}

/**
 * OpenID Connect sign-in for the file browser: authorization code flow with PKCE, state and nonce, against
 * any provider with discovery (`<issuer>/.well-known/openid-configuration`).
 */
export interface LoginOptions {
  /** The provider's issuer URL, e.g. `https://accounts.google.com`. `https`, or `http` on a loopback host only (local development). */
  issuer: string
  /** The client (application) id registered at the provider. */
  clientId: string
  /** The client secret. Omit for a public client (PKCE only, `token_endpoint_auth_method: none`). */
  clientSecret?: string
  /** Scopes asked for. Default `['openid', 'email', 'profile']`; `openid` is always sent. */
  scopes?: string[]
  /**
   * The callback URL registered at the provider: `https://files.example.com<prefix>/auth/callback`. Default:
   * built from the request (`req.protocol`, `req.host`), which needs Fastify's `trustProxy` behind a proxy.
   */
  redirectUri?: string
  /** Signed-in people whose verified e-mail is one of these may use the browser (case-insensitive). */
  allowedEmails?: string[]
  /** Signed-in people whose verified e-mail ends in `@<domain>` for one of these may use the browser. */
  allowedDomains?: string[]
  /** Extra parameters of the authorization request, e.g. `{ hd: 'example.com', prompt: 'select_account' }` for Google. */
  authorizationParams?: Record<string, string>
  /**
   * Turns the provider's claims into the user id `authorize` and the audit log get, or null to refuse the
   * sign-in (403). Default: the `email` claim when `email_verified` is true, else null. Returning an address
   * vouches for it: the allow-lists compare what this returns.
   */
  userFromClaims?: (claims: SignInClaims) => string | null | undefined
  /** The session cookie. */
  cookie: LoginCookieOptions
}

/** Login options after validation. */
export interface NormalizedLogin {
  issuer: URL
  /** `http` on loopback: openid-client must be told that plain http is allowed. */
  insecureIssuer: boolean
  clientId: string
  clientSecret?: string
  scope: string
  redirectUri?: string
  allowedEmails: string[]
  allowedDomains: string[]
  authorizationParams: Record<string, string>
  userFromClaims: (claims: SignInClaims) => string | null | undefined
  cookie: { secrets: string[], name: string, maxAgeSeconds: number, secure: boolean | 'auto' }
}

/** Whether a hostname is this machine (plain http is acceptable there). */
export function isLoopbackHost (hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

/** The default user: the e-mail, and only when the provider says it verified it. */
export function verifiedEmail (claims: SignInClaims): string | null {
  // Cognito and a few others send the flag as the string "true".
  const verified = claims.email_verified === true || claims.email_verified === 'true'
  return verified && typeof claims.email === 'string' && claims.email !== '' ? claims.email : null
}

function fail (message: string): never {
  throw new FST_S3S_INVALID_OPTION(`browse.login: ${message}`)
}

function stringList (value: unknown, field: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) fail(`"${field}" must be an array of non-empty strings`)
  return value.map((v: string) => v.trim())
}

function url (value: unknown, field: string): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) fail(`"${field}" must be a URL`)
  const parsed = new URL(value)
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    fail(`"${field}" must be an https URL (plain http only on localhost)`)
  }
  return parsed
}

/** Validates `browse.login`. `hasAuthorize`: the host gave its own `authorize`. */
export function validateLoginOptions (raw: unknown, { hasAuthorize }: { hasAuthorize: boolean }): NormalizedLogin {
  if (typeof raw !== 'object' || raw === null) fail('must be an object')
  const opts = raw as LoginOptions
  const issuer = url(opts.issuer, 'issuer')
  if (typeof opts.clientId !== 'string' || opts.clientId === '') fail('"clientId" is required')
  if (opts.clientSecret !== undefined && (typeof opts.clientSecret !== 'string' || opts.clientSecret === '')) fail('"clientSecret" must be a non-empty string')
  const scopes = opts.scopes === undefined ? ['openid', 'email', 'profile'] : stringList(opts.scopes, 'scopes')
  if (scopes.some((s) => /\s/.test(s))) fail('"scopes" must be single words')
  const redirectUri = opts.redirectUri === undefined ? undefined : url(opts.redirectUri, 'redirectUri').href
  const allowedEmails = stringList(opts.allowedEmails, 'allowedEmails')
  const allowedDomains = stringList(opts.allowedDomains, 'allowedDomains')
  // Every account the provider knows (all of Google, say) could otherwise sign in and use the files.
  if (allowedEmails.length === 0 && allowedDomains.length === 0 && !hasAuthorize) {
    fail('name who may use the browser with "allowedEmails" or "allowedDomains", or give "browse.authorize" (for example `authorize: (user) => user !== null` to let in everyone the provider signs in)')
  }
  const params = opts.authorizationParams ?? {}
  if (typeof params !== 'object' || params === null || Object.values(params).some((v) => typeof v !== 'string')) fail('"authorizationParams" must map names to strings')
  for (const reserved of ['state', 'nonce', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'client_id', 'scope']) {
    if (reserved in params) fail(`"authorizationParams" must not set "${reserved}" (the sign-in sets it)`)
  }
  if (opts.userFromClaims !== undefined && typeof opts.userFromClaims !== 'function') fail('"userFromClaims" must be a function')
  const cookie = opts.cookie
  if (typeof cookie !== 'object' || cookie === null) fail('"cookie" is required: { secret } (at least 32 characters)')
  const secrets = Array.isArray(cookie.secret) ? cookie.secret : [cookie.secret]
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < 32)) fail('"cookie.secret" must be a string of at least 32 characters (or an array of them, newest first)')
  const name = cookie.name ?? 's3s_session'
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) fail('"cookie.name" must be 1-64 letters, digits, "-" or "_"')
  const maxAge = cookie.maxAgeSeconds ?? 43200
  if (!Number.isSafeInteger(maxAge) || maxAge < 60 || maxAge > 31 * 86400) fail('"cookie.maxAgeSeconds" must be a whole number from 60 to 2678400 (31 days)')
  const secure = cookie.secure ?? 'auto'
  if (secure !== 'auto' && typeof secure !== 'boolean') fail('"cookie.secure" must be true, false or "auto"')
  return {
    issuer,
    insecureIssuer: issuer.protocol === 'http:',
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    scope: [...new Set(['openid', ...scopes])].join(' '),
    redirectUri,
    allowedEmails,
    allowedDomains,
    authorizationParams: { ...params },
    userFromClaims: opts.userFromClaims ?? verifiedEmail,
    cookie: { secrets, name, maxAgeSeconds: maxAge, secure }
  }
}
