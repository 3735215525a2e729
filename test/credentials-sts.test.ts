// STS AssumeRole: a local STS speaking the AssumeRole Query API (form-encoded POST, XML answer), the real
// SeaweedFS behind a recording proxy. The STS hands out key pairs SeaweedFS accepts, so a successful upload
// proves they signed it. It leaves SessionToken out of its answers: SeaweedFS refuses any token it did not
// issue itself (see test/credentials-broker.test.ts, where the token is checked on the wire).
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { ProfileOptions } from '../src/index.js'
// Exported from the package entry too (src/index.ts); imported from its module while that file is being edited.
import { roleSessionNameFor } from '../src/profiles/role-session-name.js'
import { bucketName, buildApp, captureLogs, recordingProxy } from './helper.js'
import { keyPair, sleepUntil, startS3WithKeys, startSts } from './credentials-fixtures.js'

const base = keyPair('base')
const roleKeys = [keyPair('rolea'), keyPair('roleb'), keyPair('rolec')]
const s3 = await startS3WithKeys(t, [base, ...roleKeys])
const proxy = await recordingProxy(t, s3.endpoint)
const sts = await startSts(t, roleKeys)
const bucket = bucketName('role')
await s3.createBucket(bucket)
const logs = captureLogs()

const ROLE_ARN = 'arn:aws:iam::123456789012:role/uploader'
const MFA_SERIAL = 'arn:aws:iam::123456789012:mfa/alice'

function roleProfile (extra: Partial<ProfileOptions> = {}): ProfileOptions {
  return {
    bucket,
    endpoint: proxy.endpoint,
    region: s3.region,
    credentials: { ...base },
    roleArn: ROLE_ARN,
    stsEndpoint: sts.url,
    ...extra
  }
}

async function appWith (profile: ProfileOptions): Promise<FastifyInstance> {
  return await buildApp(t, { profiles: { role: profile } }, { logger: { level: 'trace', stream: logs.stream } })
}

function signers (from: number): string[] {
  return [...new Set(proxy.requests.slice(from).map((r) => r.accessKeyId ?? '?'))]
}

t.beforeEach(() => sts.reset())

t.test('AssumeRole gets every parameter, is signed with the base keys, and S3 requests with the returned keys', async (t) => {
  const codes: string[] = []
  sts.lifetimeMs = 4000
  const app = await appWith(roleProfile({
    externalId: 'ext-42',
    roleSessionName: roleSessionNameFor('alice@example.com'),
    durationSeconds: 900,
    mfaSerial: MFA_SERIAL,
    tokenCodeCallback: async (serial) => {
      t.equal(serial, MFA_SERIAL, 'the callback gets the serial')
      codes.push(String(100000 + codes.length + 1))
      return codes[codes.length - 1]
    },
    stsRegion: 'eu-central-1',
    credentialsRefreshMarginSeconds: 1
  }))
  const ops = app.storage.operations()
  const from = proxy.requests.length
  await ops.uploadFile('one', 'one.txt', { preserveFilename: true })
  t.equal(sts.calls.length, 1)
  const [call] = sts.calls
  t.same(call.params, {
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: ROLE_ARN,
    RoleSessionName: roleSessionNameFor('alice@example.com'),
    ExternalId: 'ext-42',
    DurationSeconds: '900',
    SerialNumber: MFA_SERIAL,
    TokenCode: '100001'
  })
  t.equal(call.accessKeyId, base.accessKeyId, 'STS call signed with the base credentials')
  t.equal(call.region, 'eu-central-1', 'in the stsRegion')
  t.equal(call.service, 'sts')
  t.same(signers(from), [roleKeys[0].accessKeyId], 'S3 requests signed with the assumed-role keys')

  await ops.head('one.txt')
  await ops.uploadFile('two', 'two.txt', { preserveFilename: true })
  t.equal(sts.calls.length, 1, 'cached until the refresh margin')
  t.equal(codes.length, 1)

  // Expires 4 s after the call, margin 1 s: fetched again from 3 s on, before expiry.
  await sleepUntil(call.expiration!.getTime() - 1000, 150)
  const again = proxy.requests.length
  await ops.head('two.txt')
  t.equal(sts.calls.length, 2, 'refreshed')
  t.ok(sts.calls[1].at < call.expiration!.getTime(), 'before the first credentials expired')
  t.equal(sts.calls[1].params.TokenCode, '100002', 'with a fresh code: the callback runs on every refresh')
  t.equal(codes.length, 2)
  t.same(signers(again), [roleKeys[1].accessKeyId], 'and S3 requests use the new keys')
})

t.test('defaults: session name fastify-s3-storage, no DurationSeconds, the profile region', async (t) => {
  const app = await appWith(roleProfile())
  await app.storage.operations().uploadFile('x', 'd.txt')
  t.same(sts.calls[0].params, { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE_ARN, RoleSessionName: 'fastify-s3-storage' })
  t.equal(sts.calls[0].region, s3.region)
})

t.test('a literal tokenCode is sent, with a register-time warning that the session cannot be renewed', async (t) => {
  const mark = logs.lines.length
  const app = await appWith(roleProfile({ mfaSerial: MFA_SERIAL, tokenCode: '654321', durationSeconds: 1800 }))
  const warning = logs.lines.slice(mark).find((l) => l.level === 40)
  t.match(warning, { profile: 'role', roleArn: ROLE_ARN, durationSeconds: 1800, msg: /literal tokenCode cannot refresh .* ends after durationSeconds/ })
  t.notOk(JSON.stringify(warning).includes('654321'), 'the code is not logged')
  await app.storage.operations().uploadFile('x', 'mfa.txt')
  t.match(sts.calls[0].params, { SerialNumber: MFA_SERIAL, TokenCode: '654321' })
})

t.test('STS refusing is a 502 FST_S3S_CREDENTIALS naming profile and role; not cached', async (t) => {
  sts.errorCode = 'AccessDenied'
  const app = await appWith(roleProfile())
  app.get('/exists', async (req) => await req.storage.exists('nope.txt'))
  const res = await app.inject('/exists')
  t.equal(res.statusCode, 502)
  t.match(res.json(), {
    code: 'FST_S3S_CREDENTIALS',
    message: /^Credentials unavailable: profile "role": AssumeRole of arn:aws:iam::123456789012:role\/uploader at STS http:\/\/127\.0\.0\.1:\d+\/ failed: AccessDenied \(HTTP 403\)$/
  })
  t.notOk(res.body.includes(base.secretAccessKey))
  sts.errorCode = undefined
  t.equal(await app.storage.operations().exists('nope.txt'), false, 'the next request assumes the role again and works')
  t.equal(sts.calls.length, 2)
})

t.test('a throwing tokenCodeCallback is reported without its message', async (t) => {
  const app = await appWith(roleProfile({ mfaSerial: MFA_SERIAL, tokenCodeCallback: () => { throw new Error('vault said: password=hunter2') } }))
  const err = await app.storage.operations().uploadFile('x', 'cb.txt').catch((e: Error) => e) as Error & { code: string }
  t.equal(err.code, 'FST_S3S_CREDENTIALS')
  t.match(err.message, /profile "role": AssumeRole of .* failed: tokenCodeCallback threw$/)
  t.notOk(err.message.includes('hunter2'))
  t.equal(sts.calls.length, 0, 'STS was not called without a code')
})

t.test('an unreachable STS is a 502 naming the endpoint', async (t) => {
  const app = await appWith(roleProfile({ stsEndpoint: 'http://127.0.0.1:9/', clientConfig: { maxAttempts: 1 } }))
  await t.rejects(app.storage.operations().uploadFile('x', 'u.txt'), {
    code: 'FST_S3S_CREDENTIALS', statusCode: 502, message: /profile "role": AssumeRole of .* at STS http:\/\/127\.0\.0\.1:9\/ failed: \w+ \(ECONNREFUSED\)$/
  })
})

t.test('links signed with assumed-role keys are clamped to their expiry', async (t) => {
  sts.lifetimeMs = 120_000
  const app = await appWith(roleProfile())
  const ops = app.storage.operations()
  await ops.uploadFile('linked', 'l.txt', { preserveFilename: true })
  const url = new URL(await ops.getDownloadLink('l.txt', 60))
  const expires = Number(url.searchParams.get('X-Amz-Expires'))
  t.ok(expires <= 120 && expires >= 115, `clamped to ~120 s (got ${expires})`)
  t.equal(url.searchParams.get('X-Amz-Credential')?.split('/')[0], sts.calls[0].issued?.accessKeyId, 'signed with the assumed-role key')
  t.equal((await (await fetch(url)).text()), 'linked', 'and the link works')
})

t.test('no secret ever reaches the logs', async (t) => {
  const text = logs.text()
  t.ok(logs.lines.length > 10)
  for (const secret of [base.secretAccessKey, ...roleKeys.map((k) => k.secretAccessKey), 'hunter2']) t.notOk(text.includes(secret))
})
