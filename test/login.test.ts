// The built-in sign-in (browse.login) against a real OpenID provider (oidc-provider from npm, on 127.0.0.1),
// over real sockets: the code flow with PKCE, the allow-lists, a tampered state, a replayed code, open
// redirects, logout, secret rotation, and Chromium signing in through the provider's own login page.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import type { AuditRecord, BrowseOptions } from '../src/index.js'
import { safeReturnPath } from '../src/browse/login.js'
import { bucketName, buildApp, captureLogs, profileFor, startS3, type Teardown } from './helper.js'
import { hasChromium, launchBrowser } from './browser.js'
import { CLIENT_ID, CLIENT_SECRET, CookieClient, startProvider, type TestProvider } from './oidc-fixture.js'

const s3 = await startS3(t)
const bucket = bucketName('login')
await s3.createBucket(bucket)
const SECRET = 'a-session-secret-of-at-least-32-chars'

interface Served { app: FastifyInstance, origin: string, provider: TestProvider, logs: ReturnType<typeof captureLogs> }

/** The app with `browse.login` on a fresh provider, listening on 127.0.0.1. */
async function serve (t: Teardown, login: Partial<NonNullable<BrowseOptions['login']>> = {}, browse: Partial<BrowseOptions> = {}): Promise<Served> {
  const provider = await startProvider(t)
  const logs = captureLogs()
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: {
      namespaces: { docs: { basePath: 'docs' } },
      login: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, allowedDomains: ['example.com'], cookie: { secret: SECRET }, ...login },
      ...browse
    }
  }, { logger: { level: 'info', stream: logs.stream } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  provider.allowRedirect(`${origin}/auth/callback`)
  await app.storage.operations().uploadFile('hello', 'docs/sub/hello.txt', { preserveFilename: true })
  return { app, origin, provider, logs }
}

/** Signs `login` in from a protected page, as a browser would; returns every hop. */
async function signIn (client: CookieClient, { origin }: Served, login: string, page = '/docs/files/sub/'): Promise<{ callback: string, landing: Awaited<ReturnType<CookieClient['go']>> }> {
  const hops = await client.follow(origin + page, (url) => !url.startsWith(origin))
  const toProvider = hops[hops.length - 1].location!
  const callback = await client.signInAtProvider(toProvider, login, `${origin}/auth/callback`)
  const landing = await client.go(callback)
  return { callback, landing }
}

t.test('register-time validation of browse.login', async (t) => {
  const base = { issuer: 'https://accounts.google.com', clientId: 'id', allowedDomains: ['example.com'], cookie: { secret: SECRET } }
  const cases: Array<[BrowseOptions, RegExp]> = [
    [{ namespaces: { docs: {} }, login: { ...base, issuer: 'http://idp.example.com' } }, /"issuer" must be an https URL \(plain http only on localhost\)/],
    [{ namespaces: { docs: {} }, login: { ...base, issuer: 'nope' } }, /"issuer" must be a URL/],
    [{ namespaces: { docs: {} }, login: { ...base, clientId: '' } }, /"clientId" is required/],
    [{ namespaces: { docs: {} }, login: { ...base, cookie: { secret: 'short' } } }, /"cookie.secret" must be a string of at least 32 characters/],
    [{ namespaces: { docs: {} }, login: { ...base, allowedDomains: undefined } }, /name who may use the browser with "allowedEmails" or "allowedDomains", or give "browse.authorize"/],
    [{ namespaces: { docs: {} }, login: { ...base, authorizationParams: { state: 'x' } } }, /must not set "state"/],
    [{ namespaces: { auth: {} }, login: base }, /cannot be named "auth"/]
  ]
  for (const [browse, message] of cases) {
    await t.rejects(buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse }), { code: 'FST_S3S_INVALID_OPTION', message }, message.source)
  }
  const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { docs: {} }, login: { ...base, allowedDomains: undefined }, authorize: (user) => user !== null } })
  t.ok(app, 'authorize instead of allow-lists is enough')
})

t.test('same-origin return paths only', async (t) => {
  const cases: Array<[unknown, string]> = [
    ['/docs/files/a/', '/docs/files/a/'],
    ['/docs/files/a%20b/?q=x', '/docs/files/a%20b/?q=x'],
    ['//evil.example/', '/home'],
    ['/\\evil.example/', '/home'],
    ['https://evil.example/', '/home'],
    ['javascript:alert(1)', '/home'],
    ['/\t/evil.example', '/home'],
    ['/a\r\nSet-Cookie: x=1', '/home'],
    ['docs/files/', '/home'],
    [['/a'], '/home'],
    ['/' + 'a'.repeat(3000), '/home']
  ]
  for (const [value, expected] of cases) t.equal(safeReturnPath(value, '/home'), expected, JSON.stringify(value).slice(0, 40))
})

t.test('sign-in: redirect, code flow with PKCE, callback, back to the folder asked for', async (t) => {
  const served = await serve(t)
  const { origin } = served
  const records: AuditRecord[] = []
  served.app.storageAudit.on('record', (r) => records.push(r))
  const client = new CookieClient()

  // API clients and scripts get 401 JSON, never a redirect.
  const api = await client.go(`${origin}/docs/files/sub/`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } })
  t.equal(api.status, 401)
  t.equal(JSON.parse(api.body).code, 'FST_S3S_UNAUTHENTICATED')
  const script = await client.go(`${origin}/docs/files/sub/`, { headers: { 'x-requested-with': 'fetch' } })
  t.equal(script.status, 401, 'a script (X-Requested-With) is not redirected')
  const image = await client.go(`${origin}/docs/files/sub/hello.txt`, { headers: { 'sec-fetch-mode': 'no-cors' } })
  t.equal(image.status, 401, 'a subresource is not redirected')
  const post = await client.go(`${origin}/docs/mkdir`, { method: 'POST', headers: { 'x-requested-with': 'x', 'content-type': 'application/json' }, body: '{"name":"n"}' })
  t.equal(post.status, 401, 'a POST without a session is 401, before any body is read')

  // A page load goes to the sign-in, which goes to the provider with PKCE, state and nonce.
  const page = await client.go(`${origin}/docs/files/sub/?sort=size`)
  t.equal(page.status, 302)
  t.equal(page.location, `${origin}/auth/login?return=${encodeURIComponent('/docs/files/sub/?sort=size')}`)
  const login = await client.go(page.location!)
  t.equal(login.status, 302)
  const authorize = new URL(login.location!)
  t.equal(authorize.origin, served.provider.issuer)
  t.equal(authorize.searchParams.get('client_id'), CLIENT_ID)
  t.equal(authorize.searchParams.get('redirect_uri'), `${origin}/auth/callback`)
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
  t.match(authorize.searchParams.get('code_challenge'), /^[\w-]{43}$/)
  t.ok(authorize.searchParams.get('state'))
  t.ok(authorize.searchParams.get('nonce'))
  t.equal(authorize.searchParams.get('scope'), 'openid email profile')
  const signInCookie = login.setCookies.find((c) => c.startsWith('s3s_session_signin='))!
  t.match(signInCookie, /HttpOnly/i)
  t.match(signInCookie, /SameSite=Lax/i)
  t.match(signInCookie, /Path=\/auth\//)
  t.notMatch(signInCookie, /Secure/i, 'not Secure on 127.0.0.1')

  const callback = await client.signInAtProvider(login.location!, 'alice', `${origin}/auth/callback`)
  const landing = await client.go(callback)
  t.equal(landing.status, 302)
  t.equal(landing.location, `${origin}/docs/files/sub/?sort=size`, 'back to the page it asked for')
  const sessionCookie = landing.setCookies.find((c) => c.startsWith('s3s_session='))!
  t.match(sessionCookie, /HttpOnly/i)
  t.match(sessionCookie, /SameSite=Lax/i)
  t.match(sessionCookie, /Path=\//)
  t.match(sessionCookie, /Max-Age=43200/)
  t.ok(landing.setCookies.some((c) => /^s3s_session_signin=;/.test(c) && /Max-Age=0/i.test(c)), 'the sign-in cookie is cleared: used once')

  const folder = await client.go(landing.location!)
  t.equal(folder.status, 200)
  t.match(folder.body, /hello\.txt/)
  t.match(folder.body, /alice@example\.com/, 'the page says who is signed in')
  t.match(folder.body, /action="\/auth\/logout"/, 'with a sign-out form')
  const listed = await client.go(`${origin}/docs/files/sub/`, { headers: { accept: 'application/json' } })
  t.equal(JSON.parse(listed.body).files[0].name, 'hello.txt', 'the JSON API works with the session')
  t.ok(records.some((r) => r.action === 'list' && r.user === 'alice@example.com' && r.result === 'ok'), 'the e-mail is the audit log\'s user')

  // Already signed in: /auth/login goes straight back.
  const again = await client.go(`${origin}/auth/login?return=/docs/files/`)
  t.equal(again.location, `${origin}/docs/files/`)

  // Nothing secret in the logs: not the code, not the state, not the session cookie.
  const code = new URL(callback).searchParams.get('code')!
  const text = served.logs.text()
  t.notOk(text.includes(code), 'the authorization code is never logged')
  t.notOk(text.includes(authorize.searchParams.get('state')!), 'nor the state')
  t.notOk(text.includes(client.cookie(new URL(origin).host, 's3s_session')!), 'nor the session')
  t.match(text, /signed in/)
})

t.test('allow-lists: only verified e-mails on the lists get a session', async (t) => {
  const served = await serve(t, { allowedDomains: ['example.com'], allowedEmails: ['eve@evil.test'] })
  const cases: Array<[string, number, RegExp]> = [
    ['bob', 302, /./],
    ['eve', 302, /./],
    ['una', 403, /has not verified an e-mail address/]
  ]
  for (const [login, status, message] of cases) {
    const client = new CookieClient()
    const { landing } = await signIn(client, served, login)
    t.equal(landing.status, status, login)
    if (status === 403) {
      t.match(landing.body, message, login)
      t.equal(client.cookie(new URL(served.origin).host, 's3s_session'), undefined, `${login}: no session`)
    }
  }
  const strict = await serve(t, { allowedDomains: undefined, allowedEmails: ['alice@example.com'] })
  const bob = new CookieClient()
  const { landing } = await signIn(bob, strict, 'bob')
  t.equal(landing.status, 403)
  t.match(landing.body, /bob@example\.com may not use this file browser/)
  t.equal(bob.cookie(new URL(strict.origin).host, 's3s_session'), undefined, 'bob gets no session')
  const alice = new CookieClient()
  t.equal((await signIn(alice, strict, 'alice')).landing.status, 302)
  t.equal((await alice.go(`${strict.origin}/docs/files/sub/`)).status, 200)
})

t.test('a tampered state, a replayed code, a callback with no sign-in behind it', async (t) => {
  const served = await serve(t)
  const { origin } = served
  // Tampered state.
  const tamper = new CookieClient()
  const hops = await tamper.follow(`${origin}/docs/files/`, (url) => !url.startsWith(origin))
  const callback = new URL(await tamper.signInAtProvider(hops[hops.length - 1].location!, 'alice', `${origin}/auth/callback`))
  callback.searchParams.set('state', 'forged-' + callback.searchParams.get('state'))
  const forged = await tamper.go(callback.href, { headers: { accept: 'application/json' } })
  t.equal(forged.status, 401)
  t.equal(JSON.parse(forged.body).code, 'FST_S3S_SIGN_IN_FAILED')
  t.match(JSON.parse(forged.body).message, /does not belong to this sign-in/)
  t.equal(tamper.cookie(new URL(origin).host, 's3s_session'), undefined, 'no session')

  // A replayed code: once with the sign-in cookie the first answer cleared, once with a copy kept of it.
  const victim = new CookieClient()
  const first = await victim.follow(`${origin}/docs/files/`, (url) => !url.startsWith(origin))
  const signInCookie = victim.cookie(new URL(origin).host, 's3s_session_signin')!
  const code = await victim.signInAtProvider(first[first.length - 1].location!, 'alice', `${origin}/auth/callback`)
  t.equal((await victim.go(code)).status, 302, 'the first use signs in')
  const replay = new CookieClient()
  const noCookie = await replay.go(code, { headers: { accept: 'application/json' } })
  t.equal(noCookie.status, 401)
  t.match(JSON.parse(noCookie.body).message, /unknown here, used already, or older than 10 minutes/)
  const withCookie = await replay.go(code, { headers: { accept: 'application/json', cookie: `s3s_session_signin=${signInCookie}` } })
  t.equal(withCookie.status, 401, 'replaying the cookie too: the provider refuses the used code')
  t.match(JSON.parse(withCookie.body).message, /the provider refused the sign-in \(invalid_grant\)/)
  t.equal(replay.cookie(new URL(origin).host, 's3s_session'), undefined)
  t.ok(served.provider.tokenErrors.includes('invalid_grant'), 'the provider saw the replay')

  // The provider answering with an error (the person cancelled).
  const cancel = new CookieClient()
  await cancel.follow(`${origin}/auth/login`, (url) => !url.startsWith(origin))
  const denied = await cancel.go(`${origin}/auth/callback?error=access_denied&state=x`)
  t.equal(denied.status, 401)
  t.match(denied.body, /the provider answered &quot;access_denied&quot;/)
  t.match(denied.body, /Sign in again/, 'the error page offers to sign in again')
})

t.test('open redirects after sign-in are refused', async (t) => {
  const served = await serve(t)
  for (const target of ['//evil.example/', 'https://evil.example/x', '/\\evil.example', '/%09/evil.example']) {
    const client = new CookieClient()
    const hops = await client.follow(`${served.origin}/auth/login?return=${encodeURIComponent(target)}`, (url) => !url.startsWith(served.origin))
    const callback = await client.signInAtProvider(hops[hops.length - 1].location!, 'alice', `${served.origin}/auth/callback`)
    const landing = await client.go(callback)
    const lands = new URL(landing.location!)
    t.equal(lands.origin, served.origin, `${target}: stays on this origin`)
    t.equal(lands.pathname, target === '/%09/evil.example' ? '/%09/evil.example' : '/docs/files/', target)
  }
})

t.test('logout clears the session; a rotated secret keeps sessions; a dropped one ends them', async (t) => {
  const served = await serve(t)
  const { origin } = served
  const host = new URL(origin).host
  const client = new CookieClient()
  await signIn(client, served, 'alice')
  const confirm = await client.go(`${origin}/auth/logout`)
  t.equal(confirm.status, 200)
  t.match(confirm.body, /Sign out\?/)
  const token = /name="_csrf" value="([^"]+)"/.exec(confirm.body)![1]
  const forged = await client.go(`${origin}/auth/logout`, { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(forged.status, 403, 'a cross-site POST (no token) does not sign out')
  t.ok(client.cookie(host, 's3s_session'))
  const out = await client.go(`${origin}/auth/logout`, { method: 'POST', body: new URLSearchParams({ _csrf: token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(out.status, 303)
  t.ok(out.setCookies.some((c) => /^s3s_session=;/.test(c) && /Max-Age=0/i.test(c)), 'the cookie is cleared')
  t.equal(client.cookie(host, 's3s_session'), undefined)
  t.match((await client.go(out.location!)).body, /You are signed out/)
  t.equal((await client.go(`${origin}/docs/files/`)).status, 302, 'signed out: back to the sign-in')

  // Sessions sealed with the old secret open with [new, old], and come back sealed with the new one.
  const old = new CookieClient()
  await signIn(old, served, 'bob')
  const sealed = old.cookie(host, 's3s_session')!
  const rotated = await serve(t, { cookie: { secret: ['a-brand-new-session-secret-of-32-chars', SECRET] } })
  const rotatedHost = new URL(rotated.origin).host
  const carried = new CookieClient()
  carried.jar.set(rotatedHost, new Map([['s3s_session', sealed]]))
  const page = await carried.go(`${rotated.origin}/docs/files/`)
  t.equal(page.status, 200, 'an older secret still opens the session')
  t.match(page.body, /bob@example\.com/)
  t.ok(page.setCookies.some((c) => c.startsWith('s3s_session=') && !c.includes(sealed)), 're-sealed with the newest secret')
  const dropped = await serve(t, { cookie: { secret: 'a-brand-new-session-secret-of-32-chars' } })
  const stale = new CookieClient()
  stale.jar.set(new URL(dropped.origin).host, new Map([['s3s_session', sealed]]))
  t.equal((await stale.go(`${dropped.origin}/docs/files/`)).status, 302, 'a dropped secret signs its sessions out')
})

t.test('a host authenticate wins; its authorize decides; basePath gets the signed-in e-mail', async (t) => {
  const served = await serve(t, {}, {
    namespaces: { docs: { basePath: 'docs' }, mine: { basePath: (user) => `users/${user}/` } },
    authenticate: (req) => (req.headers['x-robot'] as string | undefined) ?? null,
    authorize: (user, action) => user === 'robot' ? action === 'list' : user !== null
  })
  const robot = await fetch(`${served.origin}/docs/files/sub/`, { headers: { 'x-robot': 'robot', accept: 'application/json' } })
  t.equal(robot.status, 200, 'the host authenticate is asked first')
  const client = new CookieClient()
  await signIn(client, served, 'alice', '/mine/files/')
  await served.app.storage.operations().uploadFile('mine', 'users/alice@example.com/note.txt', { preserveFilename: true })
  const mine = await client.go(`${served.origin}/mine/files/`, { headers: { accept: 'application/json' } })
  t.same(JSON.parse(mine.body).files.map((f: { name: string }) => f.name), ['note.txt'], 'a space of her own')
})

t.test('the sign-in\'s libraries load only when browse.login is set', async (t) => {
  // A child process records every module it resolves (module.registerHooks), with and without login.
  const script = (login: boolean): string => `
    import { registerHooks } from 'node:module'
    const seen = []
    registerHooks({ resolve (specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
    const { default: Fastify } = await import('fastify')
    const { default: s3Storage } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)})
    const app = Fastify()
    await app.register(s3Storage, { profiles: { main: { bucket: 'bucket', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } } },
      browse: { namespaces: { d: {} }${login ? ", login: { issuer: 'https://idp.example', clientId: 'c', allowedDomains: ['example.com'], cookie: { secret: '" + SECRET + "' } }" : ''} } })
    await app.ready()
    console.log(JSON.stringify(seen.filter((u) => /openid-client|secure-session|sodium-native|oauth4webapi/.test(u))))
    await app.close()`
  const run = async (login: boolean): Promise<string[]> => JSON.parse((await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(login)], { cwd: new URL('..', import.meta.url).pathname })).stdout)
  t.same(await run(false), [], 'browse without login loads none of them')
  const loaded = await run(true)
  t.ok(loaded.some((u) => u.includes('openid-client')) && loaded.some((u) => u.includes('secure-session')), 'with login: openid-client and @fastify/secure-session')
})

t.test('the provider unreachable: a clear 502', async (t) => {
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: { namespaces: { docs: {} }, login: { issuer: 'http://127.0.0.1:9/', clientId: 'x', allowedDomains: ['example.com'], cookie: { secret: SECRET } } }
  })
  const res = await app.inject({ url: '/auth/login', headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_S3S_IDENTITY_PROVIDER')
})

t.test('Chromium signs in through the provider\'s own login page and lands on the folder it asked for', { skip: hasChromium() ? false : 'no Chromium' }, async (t) => {
  const served = await serve(t, {}, { namespaces: { docs: { basePath: 'docs', quota: { maxBytes: 1024 * 1024 } } } })
  const { context } = await launchBrowser(t)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(`${served.origin}/docs/files/sub/`)
  t.equal(new URL(page.url()).origin, served.provider.issuer, 'at the provider')
  await page.fill('input[name=login]', 'alice')
  await page.fill('input[name=password]', 'whatever')
  await page.click('button[type=submit]')
  // The provider's consent page.
  await page.waitForSelector('button[type=submit]')
  await page.click('button[type=submit]')
  await page.waitForURL(`${served.origin}/docs/files/sub/`)
  t.equal(page.url(), `${served.origin}/docs/files/sub/`, 'back on the folder it asked for')
  t.equal(await page.textContent('.account-name'), 'alice@example.com')
  t.match(await page.textContent('.quota-numbers') ?? '', /of 1\.0 MB used/)
  t.ok(await page.isVisible('meter.quota-meter'), 'the usage bar')
  const cookies = await context.cookies(served.origin)
  const session = cookies.find((c) => c.name === 's3s_session')!
  t.equal(session.httpOnly, true)
  t.equal(session.sameSite, 'Lax')
  await page.click('[data-sign-out]')
  await page.waitForURL(`${served.origin}/auth/logout`)
  t.match(await page.textContent('h1') ?? '', /You are signed out/)
  t.notOk((await context.cookies(served.origin)).some((c) => c.name === 's3s_session'), 'the cookie is gone')
  // "Sign in" again goes through the provider (a link: the page's CSP form-action would stop a form's
  // redirect there), which still knows alice and sends her straight back.
  const providerHops: string[] = []
  page.on('request', (request) => { if (request.url().startsWith(served.provider.issuer)) providerHops.push(request.url()) })
  await page.click('[data-sign-in-action]')
  await page.waitForURL(`${served.origin}/docs/files/`)
  t.ok(providerHops.length > 0, 'through the provider')
  t.equal(await page.textContent('.account-name'), 'alice@example.com', 'signed in again')
  t.same(errors, [])
})
