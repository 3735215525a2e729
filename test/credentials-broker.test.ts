// Credentials broker: a real broker on 127.0.0.1, the real SeaweedFS behind a recording proxy.
//
// SeaweedFS refuses every request carrying an x-amz-security-token it did not issue itself (403
// InvalidAccessKeyId, even for a key pair it knows). So the broker hands out key pairs SeaweedFS accepts
// *without* a SessionToken when a test needs a request to succeed; the proxy records which key signed what.
// The token itself is checked on the wire in its own test.
import t from 'tap'
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { ProfileOptions } from '../src/index.js'
import { bucketName, buildApp, captureLogs, recordingProxy } from './helper.js'
import { closedPortUrl, keyPair, sleepUntil, startBroker, startS3WithKeys } from './credentials-fixtures.js'

const SECRET = `broker-secret-${Math.random().toString(36).slice(2)}`
const QUERY_TOKEN = 'sig=query-token-never-shown'
const TOKEN = `session-token-${Math.random().toString(36).slice(2)}`
const keys = [keyPair('brka'), keyPair('brkb'), keyPair('brkc'), keyPair('brkd')]
const s3 = await startS3WithKeys(t, keys)
const proxy = await recordingProxy(t, s3.endpoint)
const broker = await startBroker(t, SECRET, keys)
const bucket = bucketName('team')
await s3.createBucket(bucket)
const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } })
t.teardown(() => admin.destroy())
// Every app of this file logs here; the last test searches it for secrets.
const logs = captureLogs()

function brokerProfile (extra: Partial<ProfileOptions> = {}): ProfileOptions {
  return {
    endpoint: proxy.endpoint,
    region: s3.region,
    credentialsUrl: `${broker.url}/creds?tenant=7&${QUERY_TOKEN}`,
    credentialsUrlSecret: SECRET,
    credentialsRefreshMarginSeconds: 0,
    ...extra
  } as ProfileOptions
}

async function appWith (profile: ProfileOptions): Promise<FastifyInstance> {
  return await buildApp(t, { profiles: { tenant: profile } }, { logger: { level: 'trace', stream: logs.stream } })
}

async function objectSize (key: string): Promise<number | undefined> {
  try {
    return (await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength
  } catch {
    return undefined
  }
}

/** Access key ids that signed the proxy's requests since `from`. */
function signers (from: number): string[] {
  return [...new Set(proxy.requests.slice(from).map((r) => r.accessKeyId ?? '?'))]
}

t.beforeEach(() => {
  broker.reset()
  broker.folder = `s3://${bucket}/team-1/`
})

t.test('uploads land in the broker\'s S3Folder, under the profile prefix, signed with the broker\'s keys', async (t) => {
  const app = await appWith(brokerProfile({ prefix: 'app' }))
  const from = proxy.requests.length
  const stored = await app.storage.operations().uploadFile(Buffer.from('hello'), 'hello.txt', { preserveFilename: true, location: 'docs' })
  t.equal(stored.key, 'team-1/app/docs/hello.txt', 'S3Folder prefix, then the profile prefix, then the location')
  t.equal(await objectSize('team-1/app/docs/hello.txt'), 5, 'the object is in the S3Folder bucket')
  t.same(await app.storage.profile('tenant').target(), { bucket, prefix: 'team-1/app/' })
  t.equal(broker.calls, 1)
  t.same(broker.received[0], { contentType: 'application/x-www-form-urlencoded', body: { secret: SECRET } }, 'the secret is POSTed form-encoded')
  t.same(signers(from), [broker.issued[0].accessKeyId], 'every S3 request was signed with the key the broker issued')
  const page = await app.storage.operations().list({ location: 'docs' })
  t.same(page.files.map((f) => f.name), ['hello.txt'])
  t.equal(broker.calls, 1, 'cached: no second broker call')
})

t.test('a profile with its own bucket uses it when the broker sends no S3Folder', async (t) => {
  broker.folder = undefined
  const app = await appWith(brokerProfile({ bucket, prefix: 'fixed' }))
  const stored = await app.storage.operations().uploadFile('x', 'a.txt', { preserveFilename: true })
  t.equal(stored.key, 'fixed/a.txt')
  t.equal(await objectSize('fixed/a.txt'), 1)
})

t.test('a profile without a bucket refuses a reply without S3Folder', async (t) => {
  broker.folder = undefined
  const app = await appWith(brokerProfile())
  await t.rejects(app.storage.operations().uploadFile('x', 'a.txt'), {
    code: 'FST_S3S_CREDENTIALS', statusCode: 502, message: /malformed reply \(S3Folder missing, and the profile has no "bucket"\)/
  })
})

t.test('a reply whose S3Folder escapes its folder is refused', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`s3://${bucket}/../x/`, /S3Folder has an invalid folder/],
    [`s3://${bucket}/a//c/`, /S3Folder has an invalid folder/],
    [`s3://${bucket}/a/./c/`, /S3Folder has an invalid folder/],
    [`http://${bucket}/x/`, /S3Folder is not an s3:\/\/bucket\/folder\/ URL/],
    ['s3://bad bucket/x/', /S3Folder names an invalid bucket/]
  ]
  for (const [folder, reason] of cases) {
    broker.reset()
    broker.folder = folder
    const app = await appWith(brokerProfile())
    await t.rejects(app.storage.operations().uploadFile('x', 'a.txt'), { code: 'FST_S3S_CREDENTIALS', message: reason }, folder)
  }
})

t.test('credentials are fetched again once after expiry, and not before', async (t) => {
  broker.lifetimeMs = 2000
  const app = await appWith(brokerProfile())
  const ops = app.storage.operations()
  await ops.uploadFile('1', 'one.txt', { preserveFilename: true })
  const firstExpiry = new Date(Date.now() + broker.lifetimeMs)
  t.equal(broker.calls, 1)
  await ops.uploadFile('2', 'two.txt', { preserveFilename: true })
  await ops.head('two.txt')
  t.equal(broker.calls, 1, 'no refresh before expiry')
  await sleepUntil(firstExpiry, 150)
  const from = proxy.requests.length
  await ops.uploadFile('3', 'three.txt', { preserveFilename: true })
  t.equal(broker.calls, 2, 'one refresh after expiry')
  t.same(signers(from), [broker.issued[1].accessKeyId], 'requests after the refresh are signed with the new key')
  await ops.head('three.txt')
  t.equal(broker.calls, 2, 'and cached again')
})

t.test('the refresh margin fetches before expiry', async (t) => {
  broker.lifetimeMs = 3000
  const app = await appWith(brokerProfile({ credentialsRefreshMarginSeconds: 1 }))
  const ops = app.storage.operations()
  const start = Date.now()
  await ops.uploadFile('1', 'm1.txt', { preserveFilename: true })
  const expiry = start + broker.lifetimeMs
  await sleepUntil(start + 1500)
  await ops.head('m1.txt')
  t.equal(broker.calls, 1, 'not yet: 1.5 s before expiry with a 1 s margin')
  await sleepUntil(expiry - 1000, 200)
  await ops.head('m1.txt')
  t.equal(broker.calls, 2, 'fetched again inside the margin')
  t.ok(Date.now() < expiry, 'before the first credentials expired')
})

t.test('20 concurrent requests share one broker call, cold and during a refresh', async (t) => {
  broker.lifetimeMs = 1500
  broker.delayMs = 300
  const app = await appWith(brokerProfile())
  const ops = app.storage.operations()
  const cold = await Promise.all(Array.from({ length: 20 }, (_, i) => ops.uploadFile(String(i), `c${i}.txt`, { preserveFilename: true })))
  t.equal(cold.length, 20)
  t.equal(broker.calls, 1, 'one call for 20 cold requests')
  await sleepUntil(Date.now() + broker.lifetimeMs, 100)
  const from = proxy.requests.length
  const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => ops.uploadFile(String(i), `w${i}.txt`, { preserveFilename: true })))
  t.equal(warm.length, 20)
  t.equal(broker.calls, 2, 'one call for 20 requests during the refresh')
  t.same(signers(from), [broker.issued[1].accessKeyId], 'all 20 signed with the refreshed key')
})

t.test('failures: 502 FST_S3S_CREDENTIALS naming profile and broker, retried as documented, never cached', async (t) => {
  const label = /credentials broker http:\/\/127\.0\.0\.1:\d+\/creds failed/
  const cases: Array<{ title: string, setup: () => void, timeoutMs?: number, calls: number, reason: RegExp }> = [
    { title: '500 is tried 3 times', setup: () => { broker.behaviour = (reply) => reply.code(500).send('BODY-MARKER internal error') }, calls: 3, reason: /after 3 tries: HTTP 500$/ },
    { title: '503 is tried 3 times', setup: () => { broker.behaviour = (reply) => reply.code(503).send({ echo: SECRET }) }, calls: 3, reason: /after 3 tries: HTTP 503$/ },
    { title: '429 is tried 3 times', setup: () => { broker.behaviour = (reply) => reply.code(429).send('slow down') }, calls: 3, reason: /after 3 tries: HTTP 429$/ },
    { title: '408 is tried 3 times', setup: () => { broker.behaviour = (reply) => reply.code(408).send('timeout') }, calls: 3, reason: /after 3 tries: HTTP 408$/ },
    { title: '401 is not retried', setup: () => { broker.behaviour = (reply) => reply.code(401).send('BODY-MARKER') }, calls: 1, reason: /after 1 try: HTTP 401$/ },
    { title: '403 is not retried', setup: () => { broker.behaviour = (reply) => reply.code(403).send('BODY-MARKER') }, calls: 1, reason: /after 1 try: HTTP 403$/ },
    { title: '404 is not retried', setup: () => { broker.behaviour = (reply) => reply.code(404).send('BODY-MARKER') }, calls: 1, reason: /after 1 try: HTTP 404$/ },
    { title: 'a redirect is not followed', setup: () => { broker.behaviour = (reply) => reply.code(307).header('location', '/elsewhere').send() }, calls: 1, reason: /HTTP 307 \(redirects are not followed\)$/ },
    { title: 'garbage JSON', setup: () => { broker.behaviour = (reply) => reply.type('application/json').send(`{"AccessKeyId": "${SECRET}", BODY-MARKER`) }, calls: 3, reason: /after 3 tries: malformed reply \(not JSON\)$/ },
    { title: 'JSON without keys', setup: () => { broker.behaviour = () => ({ AccessKeyId: 'AK', Expiration: new Date(Date.now() + 60_000).toISOString() }) }, calls: 3, reason: /malformed reply \(SecretAccessKey missing\)$/ },
    { title: 'expired credentials', setup: () => { broker.behaviour = () => ({ AccessKeyId: 'AK', SecretAccessKey: SECRET, Expiration: '2001-01-01T00:00:00Z', S3Folder: `s3://${bucket}/x/` }) }, calls: 3, reason: /malformed reply \(Expiration is in the past/ },
    { title: 'a wrong secret', setup: () => {}, calls: 1, reason: /after 1 try: HTTP 401$/ },
    { title: 'a timeout', setup: () => { broker.delayMs = 400 }, timeoutMs: 100, calls: 3, reason: /after 3 tries: timed out after 100 ms$/ },
    {
      title: 'a reply that stalls mid-body',
      setup: () => {
        broker.behaviour = (reply) => {
          reply.hijack()
          reply.raw.writeHead(200, { 'content-type': 'application/json' })
          reply.raw.write(`{"AccessKeyId": "${SECRET}",`)
          setTimeout(() => reply.raw.end('"BODY-MARKER": 1}'), 300)
          return reply
        }
      },
      timeoutMs: 100,
      calls: 3,
      reason: /after 3 tries: timed out after 100 ms$/
    }
  ]
  for (const c of cases) {
    t.test(c.title, async (t) => {
      broker.reset()
      broker.folder = `s3://${bucket}/team-1/`
      c.setup()
      const secret = c.title === 'a wrong secret' ? 'not-the-secret' : SECRET
      const app = await appWith(brokerProfile({ credentialsUrlSecret: secret, credentialsUrlTimeoutMs: c.timeoutMs }))
      const err = await app.storage.operations().uploadFile('x', 'f.txt').then(() => undefined, (e: Error) => e) as Error & { code: string, statusCode: number }
      t.ok(err, 'rejected')
      t.equal(err.code, 'FST_S3S_CREDENTIALS')
      t.equal(err.statusCode, 502)
      t.match(err.message, /profile "tenant"/)
      t.match(err.message, label)
      t.match(err.message, c.reason)
      for (const hidden of [SECRET, QUERY_TOKEN, 'tenant=7', 'BODY-MARKER', '?']) t.notOk(err.message.includes(hidden), `message does not contain ${hidden}`)
      if (c.timeoutMs !== undefined) await sleepUntil(Date.now() + 400) // let the slow handlers finish counting
      t.equal(broker.calls, c.calls, `${c.calls} broker call(s)`)
      // Not cached: the next request asks again, and succeeds once the broker is well.
      broker.behaviour = undefined
      broker.delayMs = 0
      if (c.title !== 'a wrong secret') {
        const before = broker.calls
        const stored = await app.storage.operations().uploadFile('ok', 'recovered.txt', { preserveFilename: true })
        t.equal(stored.key, 'team-1/recovered.txt', 'the next request recovers')
        // At least one new call (the failure was not cached); with a 100 ms broker timeout a loaded machine may
        // need a second try of that call, which is the retry working, not a cache.
        t.ok(broker.calls > before && broker.calls <= before + 3, `asked the broker again (${broker.calls - before} call(s))`)
      }
    })
  }
})

t.test('a broker that is down', async (t) => {
  const app = await appWith(brokerProfile({ credentialsUrl: `${await closedPortUrl()}/creds?${QUERY_TOKEN}` }))
  const started = Date.now()
  await t.rejects(app.storage.operations().uploadFile('x', 'f.txt'), {
    code: 'FST_S3S_CREDENTIALS', statusCode: 502, message: /profile "tenant": credentials broker http:\/\/127\.0\.0\.1:\d+\/creds failed after 3 tries: unreachable \(ECONNREFUSED\)$/
  })
  t.ok(Date.now() - started >= 300, 'with exponential backoff between the tries (100 + 200 ms)')
})

t.test('through a route, a broker failure is a 502 JSON error', async (t) => {
  broker.behaviour = (reply) => reply.code(500).send(`BODY-MARKER ${SECRET}`)
  const app = await appWith(brokerProfile())
  app.post('/upload', async (req) => await req.storage.uploadFile('body', 'r.txt'))
  const res = await app.inject({ method: 'POST', url: '/upload' })
  t.equal(res.statusCode, 502)
  t.match(res.json(), { code: 'FST_S3S_CREDENTIALS', message: /^Credentials unavailable: profile "tenant": credentials broker http:\/\/127\.0\.0\.1:\d+\/creds failed after 3 tries: HTTP 500$/ })
  t.notOk(res.body.includes(SECRET))
})

t.test('a failed refresh keeps serving credentials that have not expired yet', async (t) => {
  broker.lifetimeMs = 2000
  const app = await appWith(brokerProfile({ credentialsRefreshMarginSeconds: 1 }))
  const ops = app.storage.operations()
  const start = Date.now()
  await ops.uploadFile('1', 's1.txt', { preserveFilename: true })
  broker.behaviour = (reply) => reply.code(500).send('down')
  await sleepUntil(start + 1200)
  const before = broker.calls
  await ops.head('s1.txt')
  t.equal(broker.calls, before + 3, 'the refresh was tried (3 times)')
  t.ok(logs.lines.some((l) => l.msg === 'credentials refresh failed: using the current ones until they expire' && l.profile === 'tenant'), 'and a warning logged')
  await sleepUntil(start + broker.lifetimeMs, 100)
  await t.rejects(ops.head('s1.txt'), { code: 'FST_S3S_CREDENTIALS', statusCode: 502 }, 'once they expired, the failure is an error')
})

t.test('presigned links follow linkTtlPolicy against the credentials\' expiry', async (t) => {
  broker.lifetimeMs = 60_000
  const clamp = await appWith(brokerProfile())
  const ops = clamp.storage.operations()
  await ops.uploadFile('linked', 'l.txt', { preserveFilename: true })
  const warnings = logs.lines.length
  const url = new URL(await ops.getDownloadLink('l.txt', 15))
  const expires = Number(url.searchParams.get('X-Amz-Expires'))
  t.ok(expires <= 60 && expires >= 55, `a 15-minute link is clamped to the credentials' ~60 s (got ${expires})`)
  t.equal(url.searchParams.get('X-Amz-Credential')?.split('/')[0], broker.issued[0].accessKeyId, 'signed with the broker key')
  const res = await fetch(url)
  t.equal(res.status, 200, 'the link works')
  t.equal(await res.text(), 'linked')
  const warning = logs.lines.slice(warnings).find((l) => l.msg === 'presigned link lifetime clamped to the expiry of the temporary credentials that sign it')
  t.match(warning, { level: 40, profile: 'tenant', requestedSeconds: 900, linkTtlPolicy: 'clamp', clampedSeconds: expires })
  const put = new URL(await ops.getUploadLink('u.txt', 15))
  t.ok(Number(put.searchParams.get('X-Amz-Expires')) <= 60, 'upload links too')
  const post = await ops.createUploadPost('p.txt', { expireSeconds: 3600 })
  t.ok(post.expiresIn <= 60 && post.expiresIn >= 55, 'and POST policies')
  const short = new URL(await ops.getDownloadLink('l.txt', 0.5))
  t.equal(short.searchParams.get('X-Amz-Expires'), '30', 'a link within the credentials\' life is left alone')

  const warn = await appWith(brokerProfile({ linkTtlPolicy: 'warn' }))
  const kept = new URL(await warn.storage.operations().getDownloadLink('l.txt', 15))
  t.equal(kept.searchParams.get('X-Amz-Expires'), '900', 'warn keeps the requested lifetime')
  t.ok(logs.lines.some((l) => l.msg === 'presigned link outlives the temporary credentials that sign it: it stops working when they expire' && l.linkTtlPolicy === 'warn'))
})

t.test('the session token is sent with every request (and SeaweedFS refuses tokens it did not issue)', async (t) => {
  broker.sessionToken = TOKEN
  const app = await appWith(brokerProfile())
  const from = proxy.requests.length
  // SeaweedFS: 403 InvalidAccessKeyId; versitygw (like AWS for a malformed token): 400 InvalidToken.
  const refusal = s3.kind === 'versitygw' ? { code: 'InvalidToken', status: 400 } : { code: 'InvalidAccessKeyId', status: 403 }
  await t.rejects(app.storage.operations().uploadFile('x', 'tok.txt', { preserveFilename: true }), { code: 'FST_S3S_ACCESS_DENIED', message: new RegExp(refusal.code) })
  const sent = proxy.requests.slice(from)
  t.ok(sent.length > 0)
  t.ok(sent.every((r) => r.sessionToken === TOKEN && r.accessKeyId === broker.issued[0].accessKeyId && r.status === refusal.status),
    `signed with the broker key and carrying its session token; the server answered ${refusal.status}`)
  const link = new URL(await app.storage.operations().getDownloadLink('tok.txt', 1))
  t.equal(link.searchParams.get('X-Amz-Security-Token'), TOKEN, 'presigned links carry it too')
})

t.test('no secret, token or broker query string ever reaches the logs', async (t) => {
  const text = logs.text()
  t.ok(logs.lines.length > 20, 'the file logged plenty')
  for (const [what, value] of [['broker secret', SECRET], ['query string', QUERY_TOKEN], ['session token', TOKEN], ...keys.map((k) => ['secret key', k.secretAccessKey])]) {
    t.notOk(text.includes(value), `no ${what} in the logs`)
  }
  t.notOk(text.includes('BODY-MARKER'), 'no broker reply body in the logs')
})
