// Named profiles from temp shared files (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), the default chain,
// static temporary keys, and several sources side by side in one app. Real SeaweedFS behind a recording
// proxy; a local STS for role_arn profiles.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { ProfileOptions, S3StorageOptions } from '../src/index.js'
import { bucketName, buildApp, captureLogs, recordingProxy } from './helper.js'
import { keyPair, sleepUntil, startBroker, startS3WithKeys, startSts, type KeyPair } from './credentials-fixtures.js'

// The environment decides what the SDK reads: start from a clean, known one (this file runs in its own process).
for (const name of Object.keys(process.env)) {
  if (/^AWS_(PROFILE|DEFAULT_PROFILE|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|CREDENTIAL_EXPIRATION|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*|ENDPOINT_URL.*|REGION|DEFAULT_REGION|SDK_LOAD_CONFIG)$/.test(name)) delete process.env[name]
}
process.env.AWS_EC2_METADATA_DISABLED = 'true' // the default chain must not wait for an IMDS that is not there

const dev = keyPair('dev')
const fromEnv = keyPair('env')
const staticKey = keyPair('static')
const stsBase = keyPair('stsbase')
const roleKeys = [keyPair('rolea'), keyPair('roleb')]
const brokerKeys = [keyPair('brka'), keyPair('brkb')]
const s3 = await startS3WithKeys(t, [dev, fromEnv, staticKey, stsBase, ...roleKeys, ...brokerKeys])
const proxy = await recordingProxy(t, s3.endpoint)
const sts = await startSts(t, roleKeys)
const BROKER_SECRET = `broker-${Math.random().toString(36).slice(2)}`
const broker = await startBroker(t, BROKER_SECRET, brokerKeys)
const bucket = bucketName('named')
const brokerBucket = bucketName('brk')
await s3.createBucket(bucket)
await s3.createBucket(brokerBucket)
const logs = captureLogs()

const dir = mkdtempSync(path.join(tmpdir(), 'fss-aws-files-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(path.join(dir, 'credentials'), `[dev]
aws_access_key_id = ${dev.accessKeyId}
aws_secret_access_key = ${dev.secretAccessKey}
`)
writeFileSync(path.join(dir, 'config'), `[profile dev]
region = us-east-1

[profile assumer]
role_arn = arn:aws:iam::123456789012:role/from-file
source_profile = dev
role_session_name = files-session
external_id = from-file
duration_seconds = 1800
region = us-east-1

[profile assumer-env]
role_arn = arn:aws:iam::123456789012:role/via-env
source_profile = dev
region = eu-west-1
`)
process.env.AWS_CONFIG_FILE = path.join(dir, 'config')
process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials')

function on (extra: Partial<ProfileOptions>): ProfileOptions {
  return { bucket, endpoint: proxy.endpoint, region: s3.region, ...extra } as ProfileOptions
}

async function appWith (options: S3StorageOptions): Promise<FastifyInstance> {
  return await buildApp(t, options, { logger: { level: 'trace', stream: logs.stream } })
}

/** Uploads through a profile and returns the access key ids that signed the S3 requests. */
async function uploadSigners (app: FastifyInstance, profile: string, name: string): Promise<string[]> {
  const from = proxy.requests.length
  await app.storage.operations(profile).uploadFile(name, name, { preserveFilename: true })
  return [...new Set(proxy.requests.slice(from).map((r) => r.accessKeyId ?? '?'))]
}

t.beforeEach(() => {
  sts.reset()
  broker.reset()
})

t.test('profileName reads keys from AWS_SHARED_CREDENTIALS_FILE', async (t) => {
  const app = await appWith({ profiles: { files: on({ profileName: 'dev' }) } })
  t.same(await uploadSigners(app, 'files', 'dev.txt'), [dev.accessKeyId])
  t.equal(await app.storage.profile('files').credentialsExpiry(), undefined, 'long-lived keys have no expiry')
  const link = new URL(await app.storage.operations().getDownloadLink('dev.txt', 60))
  t.equal(link.searchParams.get('X-Amz-Expires'), '3600', 'so links are not clamped')
})

t.test('profileName with role_arn + source_profile assumes the role at stsEndpoint', async (t) => {
  sts.lifetimeMs = 120_000
  const app = await appWith({ profiles: { role: on({ profileName: 'assumer', stsEndpoint: sts.url }) } })
  t.same(await uploadSigners(app, 'role', 'assumed.txt'), [sts.calls[0]?.issued?.accessKeyId ?? 'no STS call'], 'S3 signed with the role keys')
  t.equal(sts.calls.length, 1)
  t.match(sts.calls[0], {
    accessKeyId: dev.accessKeyId,
    region: 'us-east-1',
    params: { Action: 'AssumeRole', RoleArn: 'arn:aws:iam::123456789012:role/from-file', RoleSessionName: 'files-session', ExternalId: 'from-file', DurationSeconds: '1800' }
  }, 'the parameters come from the config file; signed with the source_profile keys')
  const expires = Number(new URL(await app.storage.operations().getDownloadLink('assumed.txt', 60)).searchParams.get('X-Amz-Expires'))
  t.ok(expires <= 120 && expires > 100, `links clamped to the assumed role's expiry (${expires} s)`)
  await app.storage.operations().head('assumed.txt')
  t.equal(sts.calls.length, 1, 'one AssumeRole, though the SDK treats credentials this short-lived as always due')
})

t.test('profileName with role_arn honours AWS_ENDPOINT_URL_STS', async (t) => {
  // The SDK's nested STS client reads AWS_ENDPOINT_URL_STS, but not `endpoint_url` or a `services` section
  // of the profile being resolved (it reads those of AWS_PROFILE/default): measured with SDK 3.1175.
  process.env.AWS_ENDPOINT_URL_STS = sts.url
  t.teardown(() => { delete process.env.AWS_ENDPOINT_URL_STS })
  const app = await appWith({ profiles: { role: on({ profileName: 'assumer-env' }) } })
  t.same(await uploadSigners(app, 'role', 'via-env.txt'), [sts.calls[0]?.issued?.accessKeyId ?? 'no STS call'])
  t.match(sts.calls[0], { accessKeyId: dev.accessKeyId, region: 'eu-west-1', params: { RoleArn: 'arn:aws:iam::123456789012:role/via-env' } })
})

t.test('a missing named profile is a 502 FST_S3S_CREDENTIALS naming it', async (t) => {
  const app = await appWith({ profiles: { files: on({ profileName: 'nope' }) } })
  await t.rejects(app.storage.operations().uploadFile('x', 'x.txt'), {
    code: 'FST_S3S_CREDENTIALS', statusCode: 502, message: /profile "files": shared profile "nope" failed: CredentialsProviderError: .*nope/
  })
})

t.test('roleArn on top of a named profile; a failing base is reported as itself', async (t) => {
  const app = await appWith({
    profiles: {
      good: on({ profileName: 'dev', roleArn: 'arn:aws:iam::123456789012:role/on-named', stsEndpoint: sts.url }),
      bad: on({ profileName: 'nope', roleArn: 'arn:aws:iam::123456789012:role/on-named', stsEndpoint: sts.url })
    },
    defaultProfile: 'good'
  })
  t.same(await uploadSigners(app, 'good', 'on-named.txt'), [sts.calls[0]?.issued?.accessKeyId ?? 'no STS call'])
  t.equal(sts.calls[0].accessKeyId, dev.accessKeyId, 'AssumeRole signed with the named profile\'s keys')
  await t.rejects(app.storage.operations('bad').uploadFile('x', 'x.txt'), {
    code: 'FST_S3S_CREDENTIALS', message: /^Credentials unavailable: profile "bad": shared profile "nope" failed: CredentialsProviderError/
  })
  t.equal(sts.calls.length, 1, 'STS is not called without base credentials')
})

t.test('no source configured: the AWS default chain (environment keys here)', async (t) => {
  process.env.AWS_ACCESS_KEY_ID = fromEnv.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = fromEnv.secretAccessKey
  t.teardown(() => {
    delete process.env.AWS_ACCESS_KEY_ID
    delete process.env.AWS_SECRET_ACCESS_KEY
  })
  const app = await appWith({ profiles: { chain: on({}) } })
  t.same(await uploadSigners(app, 'chain', 'chain.txt'), [fromEnv.accessKeyId])
})

t.test('a default chain that finds nothing is a 502 FST_S3S_CREDENTIALS', async (t) => {
  const app = await appWith({ profiles: { chain: on({}) } })
  await t.rejects(app.storage.operations().uploadFile('x', 'x.txt'), {
    code: 'FST_S3S_CREDENTIALS', statusCode: 502, message: /profile "chain": the AWS default credential chain failed: CredentialsProviderError/
  })
  await t.rejects(app.storage.operations().getDownloadLink('x.txt', 1), { code: 'FST_S3S_CREDENTIALS' }, 'links too')
})

t.test('static temporary keys with an expiration clamp links too', async (t) => {
  const expiration = new Date(Date.now() + 90_000)
  const app = await appWith({ profiles: { temp: on({ credentials: { ...staticKey, expiration } }) } })
  const expires = Number(new URL(await app.storage.operations().getDownloadLink('x.txt', 60)).searchParams.get('X-Amz-Expires'))
  t.ok(expires <= 90 && expires > 80, `clamped to ~90 s (${expires})`)
})

t.test('four profiles with four sources in one app stay independent', async (t) => {
  broker.lifetimeMs = 1500
  broker.folder = `s3://${brokerBucket}/tenant-9/`
  sts.lifetimeMs = 3_600_000
  const keysOf = (k: KeyPair): string[] => [k.accessKeyId]
  const app = await appWith({
    profiles: {
      broker: { endpoint: proxy.endpoint, region: s3.region, credentialsUrl: `${broker.url}/creds`, credentialsUrlSecret: BROKER_SECRET, credentialsRefreshMarginSeconds: 0 },
      role: on({ credentials: { ...stsBase }, roleArn: 'arn:aws:iam::123456789012:role/independent', stsEndpoint: sts.url, prefix: 'role' }),
      fixed: on({ credentials: { ...staticKey }, prefix: 'fixed' }),
      files: on({ profileName: 'dev', prefix: 'files' })
    },
    defaultProfile: 'fixed'
  })
  t.same(await uploadSigners(app, 'broker', 'b1.txt'), keysOf(broker.issued[0]))
  t.same(await uploadSigners(app, 'role', 'r1.txt'), keysOf(sts.calls[0].issued!))
  t.same(await uploadSigners(app, 'fixed', 'f1.txt'), keysOf(staticKey))
  t.same(await uploadSigners(app, 'files', 'n1.txt'), keysOf(dev))
  t.same(await app.storage.profile('broker').target(), { bucket: brokerBucket, prefix: 'tenant-9/' })
  t.same(await app.storage.profile('role').target(), { bucket, prefix: 'role/' })
  t.same([broker.calls, sts.calls.length], [1, 1])

  // The broker's credentials expire and are refreshed; nobody else is touched.
  await sleepUntil(Date.now() + broker.lifetimeMs, 100)
  t.same(await uploadSigners(app, 'broker', 'b2.txt'), keysOf(broker.issued[1]))
  t.same(await uploadSigners(app, 'role', 'r2.txt'), keysOf(sts.calls[0].issued!))
  t.same([broker.calls, sts.calls.length], [2, 1], 'one broker refresh, no STS call')

  // A broken broker breaks only its own profile.
  await sleepUntil(Date.now() + broker.lifetimeMs, 100)
  broker.behaviour = (reply) => reply.code(403).send('no')
  await t.rejects(app.storage.operations('broker').uploadFile('x', 'b3.txt'), { code: 'FST_S3S_CREDENTIALS', message: /profile "broker"/ })
  t.same(await uploadSigners(app, 'role', 'r3.txt'), keysOf(sts.calls[0].issued!))
  t.same(await uploadSigners(app, 'fixed', 'f3.txt'), keysOf(staticKey))
  t.same(await uploadSigners(app, 'files', 'n3.txt'), keysOf(dev))
  // And a refusing STS only its own.
  sts.errorCode = 'AccessDenied'
  const other = await appWith({
    profiles: {
      role: on({ credentials: { ...stsBase }, roleArn: 'arn:aws:iam::123456789012:role/independent', stsEndpoint: sts.url }),
      fixed: on({ credentials: { ...staticKey } })
    },
    defaultProfile: 'fixed'
  })
  await t.rejects(other.storage.operations('role').uploadFile('x', 'r4.txt'), { code: 'FST_S3S_CREDENTIALS', message: /profile "role"/ })
  t.same(await uploadSigners(other, 'fixed', 'f4.txt'), keysOf(staticKey))
})

t.test('no secret ever reaches the logs', async (t) => {
  const text = logs.text()
  t.ok(logs.lines.length > 10)
  for (const k of [dev, fromEnv, staticKey, stsBase, ...roleKeys, ...brokerKeys]) t.notOk(text.includes(k.secretAccessKey), `no secret of ${k.accessKeyId}`)
  t.notOk(text.includes(BROKER_SECRET), 'no broker secret')
})
