// A real OpenID provider for the sign-in tests: the certified `oidc-provider` package from npm, listening on
// 127.0.0.1 with its own development login and consent pages (any password; the login names an account of
// ACCOUNTS). And a tiny cookie-keeping client that follows redirects by hand, so tests see every hop.
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'
import type { Teardown } from './helper.js'

/** The provider's people: login name → claims. */
export const ACCOUNTS: Record<string, { email: string, email_verified: boolean, name: string }> = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob' },
  eve: { email: 'eve@evil.test', email_verified: true, name: 'Eve' },
  una: { email: 'una@example.com', email_verified: false, name: 'Una Verified-Not' }
}

export const CLIENT_ID = 'file-browser'
export const CLIENT_SECRET = 'a-client-secret-for-tests-only'

export interface TestProvider {
  issuer: string
  /** Registers the app's callback URL (the app listens after the provider, on a port not known before). */
  allowRedirect (uri: string): void
  /** How many token requests the provider answered with an error (a replayed code, say). */
  tokenErrors: string[]
}

/**
 * Starts oidc-provider on 127.0.0.1: the issuer is known before the app exists (its options name it);
 * the provider itself is built on the first request, once the app's callback URL is registered.
 */
export async function startProvider (t: Teardown): Promise<TestProvider> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const redirects: string[] = []
  const tokenErrors: string[] = []
  let handler: ReturnType<Provider['callback']> | undefined
  server.on('request', (req, res) => {
    if (handler === undefined) {
      const provider = new Provider(issuer, {
        clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: redirects, grant_types: ['authorization_code'], response_types: ['code'] }],
        async findAccount (_ctx, id) {
          const account = ACCOUNTS[id]
          if (account === undefined) return undefined
          return { accountId: id, claims: async () => ({ sub: id, ...account }) }
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        cookies: { keys: ['provider-cookie-key-for-tests-only'] },
        pkce: { required: () => true },
        features: { devInteractions: { enabled: true } },
        // Explicit lifetimes keep the provider's notices out of the test output.
        ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 }
      })
      provider.on('grant.error', (_ctx, err) => tokenErrors.push((err as { error?: string }).error ?? String(err)))
      handler = provider.callback()
    }
    handler(req, res)
  })
  return { issuer, allowRedirect: (uri) => redirects.push(uri), tokenErrors }
}

/** One answer of {@link CookieClient.go}. */
export interface Hop {
  url: string
  status: number
  location?: string
  setCookies: string[]
  body: string
}

/** A client that keeps cookies per host (no path or expiry logic beyond Max-Age=0) and follows nothing by itself. */
export class CookieClient {
  readonly jar = new Map<string, Map<string, string>>()

  cookie (host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name)
  }

  async go (url: string, init: { method?: string, body?: string | URLSearchParams, headers?: Record<string, string> } = {}): Promise<Hop> {
    const target = new URL(url)
    const cookies = [...(this.jar.get(target.host) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ')
    const headers: Record<string, string> = { accept: 'text/html', 'sec-fetch-mode': 'navigate', ...init.headers }
    if (cookies !== '') headers.cookie = cookies
    const body = init.body === undefined ? undefined : String(init.body)
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
    // node:http, not fetch: fetch always sends `Sec-Fetch-Mode: cors`, and these requests play a browser's page loads.
    const res = await new Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: string }>((resolve, reject) => {
      const req = request(target, { method: init.method ?? 'GET', headers }, (answer) => {
        const chunks: Buffer[] = []
        answer.on('data', (c: Buffer) => chunks.push(c))
        answer.on('end', () => resolve({ status: answer.statusCode!, headers: answer.headers, body: Buffer.concat(chunks).toString('utf8') }))
        answer.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
    const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      let host = this.jar.get(target.host)
      if (host === undefined) this.jar.set(target.host, host = new Map())
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || pair.slice(at + 1) === '') host.delete(name)
      else host.set(name, pair.slice(at + 1))
    }
    const location = res.headers.location as string | undefined
    return { url: target.href, status: res.status, location: location === undefined ? undefined : new URL(location, target).href, setCookies, body: res.body }
  }

  /** Follows redirects from `url` until a page that is not one, or until `stop(url)` says to stop before a hop. */
  async follow (url: string, stop: (url: string) => boolean = () => false, hops: Hop[] = []): Promise<Hop[]> {
    let next: string | undefined = url
    for (let i = 0; i < 20 && next !== undefined; i++) {
      if (stop(next)) return hops
      const hop = await this.go(next)
      hops.push(hop)
      next = hop.status >= 300 && hop.status < 400 ? hop.location : undefined
    }
    return hops
  }

  /**
   * At the provider: fills in its login form as `login` and accepts its consent page, until the provider
   * sends the browser back to `callbackPrefix`. Returns that callback URL (not visited).
   */
  async signInAtProvider (from: string, login: string, callbackPrefix: string): Promise<string> {
    let url = from
    for (let i = 0; i < 12; i++) {
      if (url.startsWith(callbackPrefix)) return url
      const hop = await this.go(url)
      if (hop.status >= 300 && hop.status < 400 && hop.location !== undefined) {
        url = hop.location
        continue
      }
      const action = /<form[^>]*action="([^"]+)"/.exec(hop.body)?.[1]
      const prompt = /name="prompt" value="([^"]+)"/.exec(hop.body)?.[1]
      if (action === undefined || prompt === undefined) throw new Error(`no provider form at ${url}: ${hop.status} ${hop.body.slice(0, 200)}`)
      const fields: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }
      const posted = await this.go(new URL(action.replace(/&amp;/g, '&'), url).href, {
        method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' }
      })
      if (posted.location === undefined) throw new Error(`the provider did not redirect after ${prompt}: ${posted.status}`)
      url = posted.location
    }
    throw new Error('the provider never sent the browser back')
  }
}
