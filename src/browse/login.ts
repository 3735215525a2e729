/**
 * The built-in sign-in (`browse.login`): OpenID Connect authorization code flow with PKCE, state and nonce,
 * through openid-client; the signed-in user kept in an encrypted, authenticated cookie (@fastify/secure-session),
 * so no session store is needed and any app instance can serve any request. Loaded with import() only when
 * `login` is set, so its libraries load only then.
 *
 * Two cookies, both HttpOnly and SameSite=Lax (the provider's redirect back is a top-level GET, which Lax
 * lets through; a cross-site POST or subresource does not carry them): the sign-in in progress (state,
 * nonce, PKCE verifier, where to return; 10 minutes, path `<prefix>/auth/`, used once) and the session.
 * Tokens are never kept nor logged: only the user id survives the callback.
 */
import { hkdfSync } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import * as oidc from 'openid-client'
import { FST_S3S_FORBIDDEN, FST_S3S_IDENTITY_PROVIDER, FST_S3S_SIGN_IN_FAILED } from '../errors.js'
import { allowList, csrfGuard } from '../http/guards.js'
import type { BrowseAssets } from './assets.js'
import { isLoopbackHost, type NormalizedLogin, type SignInClaims } from './login-options.js'
import type { NormalizedBrowseOptions } from './options.js'
import { assetUrls, pageHeaders } from './pages.js'
import { wantsJson } from './respond.js'
import { render } from './views.js'

/** Who is signed in, as the page shows it. */
export interface Account {
  user: string
  /** Where the page's "Sign out" goes (GET: a confirmation page; POST with the CSRF token: signs out). */
  signOutUrl: string
}

/** What the browse routes get from the sign-in. */
export interface SignIn {
  /** The signed-in user of a request, or null (no session, expired, or no longer on the allow-lists). */
  userOf (req: FastifyRequest): string | null
  /** The signed-in user for the page, or undefined. */
  account (req: FastifyRequest): Account | undefined
  /** The `authorize` the allow-lists build (undefined without lists). */
  authorize?: (user: string | null) => boolean
  /** `<prefix>/auth/login?return=<path>`: where a browser without a session is sent. */
  loginUrl (returnTo: string): string
}

/** The sign-in in progress, kept in its own cookie between the redirect to the provider and the callback. */
interface PendingSignIn {
  state: string
  nonce: string
  verifier: string
  returnTo: string
  redirectUri: string
}

// The two cookies' request decorations (names of our own: a host's @fastify/secure-session keeps `session`).
const SESSION = 's3sSession'
const SIGN_IN = 's3sSignIn'
// How long a sign-in may take at the provider.
const SIGN_IN_SECONDS = 600

type SecureSession = { get (key: string): unknown, set (key: string, value: unknown): void, delete (): void, options (opts: object): void }
type WithSessions = FastifyRequest & Record<typeof SESSION | typeof SIGN_IN, SecureSession>

/**
 * The session's encryption keys, one per secret (newest first), derived with HKDF so a passphrase of any
 * shape becomes a 32-byte key; `purpose` keeps the two cookies' keys apart.
 */
function sessionKeys (secrets: string[], purpose: string): Buffer[] {
  return secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, 'fastify-s3-storage', `browse.login ${purpose}`, 32)))
}

/**
 * A path to return to after signing in: only a path of this origin (`/…`, never `//host`, `/\host`, a
 * scheme or control characters); anything else becomes `fallback`.
 */
export function safeReturnPath (value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.length > 2048 || !value.startsWith('/')) return fallback
  // eslint-disable-next-line no-control-regex
  if (value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return fallback
  const base = new URL('http://return.invalid')
  const url = new URL(value, base)
  if (url.origin !== base.origin) return fallback
  return url.pathname + url.search
}

/** Registers `<prefix>/auth/login`, `/auth/callback` and `/auth/logout`, and returns what the namespaces need. */
export async function loginRoutes (app: FastifyInstance, { browse, login, assets, csp }: {
  browse: NormalizedBrowseOptions
  login: NormalizedLogin
  assets: BrowseAssets
  csp: string
}): Promise<SignIn> {
  const base = `${browse.prefix}/auth`
  const cookiePath = browse.prefix === '' ? '/' : browse.prefix
  const cookie = { httpOnly: true, sameSite: 'lax' as const }
  await app.register(fastifySecureSession, [
    { sessionName: SESSION, cookieName: login.cookie.name, key: sessionKeys(login.cookie.secrets, 'session'), expiry: login.cookie.maxAgeSeconds, cookie: { ...cookie, path: cookiePath } },
    { sessionName: SIGN_IN, cookieName: `${login.cookie.name}_signin`, key: sessionKeys(login.cookie.secrets, 'sign-in'), expiry: SIGN_IN_SECONDS, cookie: { ...cookie, path: `${base}/` } }
  ])

  const lists = login.allowedEmails.length + login.allowedDomains.length > 0 ? allowList({ emails: login.allowedEmails, domains: login.allowedDomains }) : undefined
  const firstNamespace = browse.namespaces.keys().next().value as string
  const home = `${browse.prefix}/${encodeURIComponent(firstNamespace)}/files/`
  const secureFor = (req: FastifyRequest): boolean => login.cookie.secure === 'auto' ? !isLoopbackHost(req.hostname) : login.cookie.secure

  // Discovered on first use and kept; a failed discovery is tried again by the next sign-in.
  let discovered: Promise<oidc.Configuration> | undefined
  function provider (): Promise<oidc.Configuration> {
    discovered ??= oidc.discovery(login.issuer, login.clientId,
      login.clientSecret === undefined ? { token_endpoint_auth_method: 'none' } : { client_secret: login.clientSecret },
      // client_secret_basic: the one method every provider must accept (RFC 6749 2.3.1).
      login.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(login.clientSecret),
      { execute: login.insecureIssuer ? [oidc.allowInsecureRequests] : [], timeout: 10 }
    ).catch((err: unknown) => {
      discovered = undefined
      throw providerError(err, 'discovery')
    })
    return discovered
  }

  const sessions = (req: FastifyRequest): WithSessions => req as WithSessions

  function userOf (req: FastifyRequest): string | null {
    const user = sessions(req)[SESSION]?.get('user')
    if (typeof user !== 'string' || user === '') return null
    // Lists shortened since this session began sign it out.
    if (lists !== undefined && !lists(user)) return null
    return user
  }

  app.get(`${base}/login`, async (req, reply) => {
    const returnTo = safeReturnPath((req.query as Record<string, unknown>).return, home)
    reply.header('cache-control', 'no-store')
    if (userOf(req) !== null) return reply.redirect(returnTo)
    const config = await provider()
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo,
      redirectUri: login.redirectUri ?? `${req.protocol}://${req.host}${base}/callback`
    }
    const signIn = sessions(req)[SIGN_IN]
    signIn.set('pending', pending)
    signIn.options({ secure: secureFor(req), maxAge: SIGN_IN_SECONDS })
    const url = oidc.buildAuthorizationUrl(config, {
      ...login.authorizationParams,
      redirect_uri: pending.redirectUri,
      scope: login.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce
    })
    return reply.redirect(url.href)
  })

  // logLevel warn: Fastify's request log would otherwise write the URL, authorization code included.
  app.get(`${base}/callback`, { logLevel: 'warn' }, async (req, reply) => {
    const signIn = sessions(req)[SIGN_IN]
    const pending = signIn.get('pending') as PendingSignIn | undefined
    // Used once: a replayed callback finds nothing to finish.
    signIn.delete()
    signIn.options({ secure: secureFor(req) })
    reply.header('cache-control', 'no-store')
    if (pending === undefined) throw new FST_S3S_SIGN_IN_FAILED('this sign-in is unknown here, used already, or older than 10 minutes: start again')
    const query = req.query as Record<string, unknown>
    if (typeof query.error === 'string') {
      const code = /^[\w.-]{1,64}$/.test(query.error) ? query.error : 'an error'
      throw new FST_S3S_SIGN_IN_FAILED(`the provider answered "${code}"`)
    }
    const config = await provider()
    const current = new URL(pending.redirectUri)
    current.search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''
    let tokens
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true
      })
    } catch (err) {
      throw signInError(err)
    }
    const idClaims = tokens.claims()
    if (idClaims === undefined) throw new FST_S3S_SIGN_IN_FAILED('the provider sent no ID token')
    let claims = { ...idClaims } as SignInClaims
    // Providers that keep the e-mail out of the ID token (oidc-provider's default) give it at userinfo.
    if (claims.email === undefined && tokens.access_token !== undefined && config.serverMetadata().userinfo_endpoint !== undefined) {
      try {
        claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...claims } as SignInClaims
      } catch (err) {
        throw signInError(err)
      }
    }
    const user = login.userFromClaims(claims)
    if (typeof user !== 'string' || user === '') throw new FST_S3S_FORBIDDEN('the provider has not verified an e-mail address for this account')
    if (lists !== undefined && !lists(user)) throw new FST_S3S_FORBIDDEN(`${user} may not use this file browser; sign in with another account`)
    const session = sessions(req)[SESSION]
    session.set('user', user)
    session.options({ secure: secureFor(req), maxAge: login.cookie.maxAgeSeconds })
    // The route logs at warn (its URL carries the code), so the sign-in is told on the app's logger.
    app.log.info({ reqId: req.id, user }, 'signed in')
    return reply.redirect(pending.returnTo)
  })

  app.get(`${base}/logout`, async (req, reply) => {
    pageHeaders(reply, csp)
    const user = userOf(req)
    return render(reply.type('text/html; charset=utf-8'), 'sign-in', {
      title: user === null ? 'Signed out' : 'Sign out',
      heading: user === null ? 'You are signed out' : 'Sign out?',
      text: user === null ? 'Sign in again to see the files.' : `You are signed in as ${user}.`,
      action: user === null
        ? { url: `${base}/login`, method: 'get', label: 'Sign in' }
        : { url: `${base}/logout`, method: 'post', label: 'Sign out', csrfToken: reply.generateCsrf() },
      assets: assetUrls(assets)
    })
  })

  app.post(`${base}/logout`, { preHandler: csrfGuard }, async (req, reply) => {
    const session = sessions(req)[SESSION]
    session.delete()
    session.options({ secure: secureFor(req) })
    reply.header('cache-control', 'no-store')
    if (wantsJson(req)) return reply.code(204).send()
    return reply.redirect(`${base}/logout`, 303)
  })

  return {
    userOf,
    account (req) {
      const user = userOf(req)
      return user === null ? undefined : { user, signOutUrl: `${base}/logout` }
    },
    authorize: lists,
    loginUrl: (returnTo) => `${base}/login?return=${encodeURIComponent(returnTo)}`
  }
}

/** What went wrong at the token or userinfo endpoint, as the catalog says it (never with a token in it). */
function signInError (err: unknown): Error {
  if (err instanceof oidc.ResponseBodyError) return new FST_S3S_SIGN_IN_FAILED(`the provider refused the sign-in (${safeCode(err.error)}); start again`)
  if (err instanceof oidc.AuthorizationResponseError) return new FST_S3S_SIGN_IN_FAILED(`the provider answered "${safeCode(err.error)}"`)
  const code = (err as { code?: unknown }).code
  // oauth4webapi's checks: state, nonce, issuer, audience, signature...
  if (typeof code === 'string' && code.startsWith('OAUTH_')) return new FST_S3S_SIGN_IN_FAILED(`the answer does not belong to this sign-in (${(err as Error).message})`)
  return providerError(err, 'token exchange')
}

function providerError (err: unknown, step: string): Error {
  const wrapped = new FST_S3S_IDENTITY_PROVIDER(`${step} failed (${(err as Error)?.message ?? 'unknown error'})`)
  wrapped.cause = err
  return wrapped
}

function safeCode (value: unknown): string {
  return typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) ? value : 'error'
}

/** Sends a browser without a session to the sign-in, to come back to what it asked for. */
export function redirectToSignIn (signIn: SignIn, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('cache-control', 'no-store')
  return reply.redirect(signIn.loginUrl(req.url))
}
