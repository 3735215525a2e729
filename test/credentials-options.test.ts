// Register-time validation of the credential options, and the pure helpers (no S3 needed).
import t from 'tap'
import Fastify from 'fastify'
import s3Storage from '../src/index.js'
import { validateOptions } from '../src/options.js'
import { refreshTime } from '../src/profiles/credential-cache.js'
import { roleSessionNameFor } from '../src/profiles/role-session-name.js'

const bucket = 'uploads'
const broker = { credentialsUrl: 'https://broker.example/creds', credentialsUrlSecret: 's3cr3t' }
const role = { roleArn: 'arn:aws:iam::123456789012:role/uploader' }
const mfa = { ...role, mfaSerial: 'arn:aws:iam::123456789012:mfa/alice' }

t.test('every credential option is validated at register time, naming the profile and the field', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no bucket, no broker', {}, /profile "main": "bucket" is required \(unless "credentialsUrl" names it through S3Folder\)/],
    ['credentialsUrl not a URL', { credentialsUrl: 'not a url', credentialsUrlSecret: 'x' }, /profile "main": "credentialsUrl" must be an http\(s\) URL/],
    ['credentialsUrl not http(s)', { credentialsUrl: 'ftp://broker.example/creds', credentialsUrlSecret: 'x' }, /"credentialsUrl" must be an http\(s\) URL/],
    ['credentialsUrl with user:password', { credentialsUrl: 'https://u:p@broker.example/creds', credentialsUrlSecret: 'x' }, /"credentialsUrl" must not carry user:password/],
    ['credentialsUrl without its secret', { credentialsUrl: 'https://broker.example/creds' }, /profile "main": "credentialsUrlSecret" is required with "credentialsUrl"/],
    ['an empty secret', { ...broker, credentialsUrlSecret: '' }, /"credentialsUrlSecret" must be a non-empty string/],
    ['a secret without credentialsUrl', { bucket, credentialsUrlSecret: 'x' }, /profile "main": "credentialsUrlSecret" needs "credentialsUrl"/],
    ['a broker timeout without broker', { bucket, credentialsUrlTimeoutMs: 100 }, /"credentialsUrlTimeoutMs" needs "credentialsUrl"/],
    ['a broker timeout of 0', { ...broker, credentialsUrlTimeoutMs: 0 }, /profile "main": "credentialsUrlTimeoutMs" must be a whole number from 1 to 120000/],
    ['a fractional broker timeout', { ...broker, credentialsUrlTimeoutMs: 1.5 }, /"credentialsUrlTimeoutMs" must be a whole number/],
    ['broker and static keys', { ...broker, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }, /give "credentialsUrl" or "credentials", not both/],
    ['broker and profileName', { ...broker, profileName: 'dev' }, /give "credentialsUrl" or "profileName", not both/],
    ['broker and roleArn', { ...broker, ...role }, /give "credentialsUrl" or "roleArn", not both/],
    ['a negative refresh margin', { ...broker, credentialsRefreshMarginSeconds: -1 }, /"credentialsRefreshMarginSeconds" must be a whole number from 0 to 3600/],
    ['a refresh margin over an hour', { ...broker, credentialsRefreshMarginSeconds: 3601 }, /"credentialsRefreshMarginSeconds" must be a whole number from 0 to 3600/],
    ['a refresh margin on static keys', { bucket, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, credentialsRefreshMarginSeconds: 60 }, /"credentialsRefreshMarginSeconds" needs "credentialsUrl", "roleArn" or "profileName"/],
    ['a bad roleArn', { bucket, roleArn: 'uploader' }, /profile "main": "roleArn" must be a role ARN/],
    ['a bad externalId', { bucket, ...role, externalId: 'x' }, /profile "main": "externalId" must be 2-1224 of/],
    ['a roleSessionName with a space', { bucket, ...role, roleSessionName: 'alice smith' }, /profile "main": "roleSessionName" must be 2-64 of letters, digits and "\+=,\.@-_"/],
    ['a one-letter roleSessionName', { bucket, ...role, roleSessionName: 'a' }, /"roleSessionName" must be 2-64/],
    ['a 65-letter roleSessionName', { bucket, ...role, roleSessionName: 'a'.repeat(65) }, /"roleSessionName" must be 2-64/],
    ['durationSeconds under 900', { bucket, ...role, durationSeconds: 899 }, /profile "main": "durationSeconds" must be a whole number from 900 to 43200/],
    ['durationSeconds over 43200', { bucket, ...role, durationSeconds: 43201 }, /"durationSeconds" must be a whole number from 900 to 43200/],
    ['fractional durationSeconds', { bucket, ...role, durationSeconds: 1000.5 }, /"durationSeconds" must be a whole number/],
    ['a bad mfaSerial', { bucket, ...role, mfaSerial: 'short', tokenCode: '123456' }, /"mfaSerial" must be an MFA device serial number or ARN/],
    ['mfaSerial without a code', { bucket, ...mfa }, /profile "main": "mfaSerial" needs "tokenCodeCallback" \(or a literal "tokenCode"\)/],
    ['a tokenCode of 5 digits', { bucket, ...mfa, tokenCode: '12345' }, /profile "main": "tokenCode" must be 6 digits/],
    ['tokenCode and tokenCodeCallback', { bucket, ...mfa, tokenCode: '123456', tokenCodeCallback: () => '123456' }, /give "tokenCode" or "tokenCodeCallback", not both/],
    ['tokenCode without mfaSerial', { bucket, ...role, tokenCode: '123456' }, /profile "main": "tokenCode" needs "mfaSerial"/],
    ['tokenCodeCallback without mfaSerial', { bucket, ...role, tokenCodeCallback: () => '123456' }, /"tokenCodeCallback" needs "mfaSerial"/],
    ['tokenCodeCallback not a function', { bucket, ...mfa, tokenCodeCallback: '123456' }, /"tokenCodeCallback" must be a function/],
    ['externalId without roleArn', { bucket, externalId: 'ext-1' }, /profile "main": "externalId" needs "roleArn"/],
    ['durationSeconds without roleArn', { bucket, durationSeconds: 900 }, /"durationSeconds" needs "roleArn"/],
    ['mfaSerial without roleArn', { bucket, mfaSerial: 'arn:aws:iam::123456789012:mfa/alice' }, /"mfaSerial" needs "roleArn"/],
    ['a bad stsEndpoint', { bucket, ...role, stsEndpoint: 'not a url' }, /profile "main": "stsEndpoint" must be a URL/],
    ['stsEndpoint without a role', { bucket, stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' }, /"stsEndpoint" needs "roleArn" or "profileName"/],
    ['stsRegion without a role', { bucket, stsRegion: 'eu-west-1' }, /"stsRegion" needs "roleArn" or "profileName"/],
    ['an empty stsRegion', { bucket, ...role, stsRegion: '' }, /"stsRegion" must be a non-empty string/],
    ['a bad linkTtlPolicy', { bucket, linkTtlPolicy: 'drop' }, /profile "main": "linkTtlPolicy" must be "clamp" or "warn"/]
  ]
  for (const [title, profile, message] of cases) {
    t.test(title, async (t) => {
      const options = { profiles: { main: profile } }
      t.throws(() => validateOptions(options), { code: 'FST_S3S_INVALID_OPTION', statusCode: 500, message })
      const app = Fastify()
      t.teardown(() => app.close())
      await t.rejects(async () => { await app.register(s3Storage, options as never).ready() }, { code: 'FST_S3S_INVALID_OPTION', message })
    })
  }
})

t.test('validation messages never echo a secret', async (t) => {
  const leaks: Array<[Record<string, unknown>, string]> = [
    [{ credentialsUrl: 'ftp://broker.example/creds?token=QUERYSECRET', credentialsUrlSecret: 'x' }, 'QUERYSECRET'],
    [{ credentialsUrl: 'https://user:PASSWORDSECRET@broker.example/creds', credentialsUrlSecret: 'x' }, 'PASSWORDSECRET'],
    [{ bucket, ...mfa, tokenCode: '98765x' }, '98765x']
  ]
  for (const [profile, secret] of leaks) {
    const err = (() => { try { validateOptions({ profiles: { main: profile } }) } catch (e) { return e as Error } })()
    t.ok(err)
    t.notOk(err?.message.includes(secret), `no ${secret} in "${err?.message}"`)
  }
})

t.test('defaults of the credential options', async (t) => {
  const brokerProfile = validateOptions({ profiles: { b: { credentialsUrl: 'https://broker.example/creds?tenant=7', credentialsUrlSecret: 's' } } }).profiles.get('b')!
  t.equal(brokerProfile.bucket, undefined, 'bucket is optional with a broker')
  t.same(brokerProfile.broker, { url: 'https://broker.example/creds?tenant=7', label: 'https://broker.example/creds', secret: 's', timeoutMs: 5000 })
  t.equal(brokerProfile.refreshMarginSeconds, 300)
  t.equal(brokerProfile.linkTtlPolicy, 'clamp')
  const roleProfile = validateOptions({ profiles: { r: { bucket, ...role } } }).profiles.get('r')!
  t.same(roleProfile.assumeRole, {
    roleArn: role.roleArn, roleSessionName: 'fastify-s3-storage', externalId: undefined, durationSeconds: undefined, mfaSerial: undefined, tokenCode: undefined, tokenCodeCallback: undefined
  })
  t.same(roleProfile.sts, { endpoint: undefined, region: undefined })
  const full = validateOptions({
    profiles: {
      f: { bucket, ...mfa, externalId: 'ext:1/2', roleSessionName: 'u-a1b2', durationSeconds: 43200, tokenCodeCallback: () => '123456', stsEndpoint: 'http://127.0.0.1:1', stsRegion: 'eu-west-1', credentialsRefreshMarginSeconds: 0, linkTtlPolicy: 'warn' }
    }
  }).profiles.get('f')!
  t.match(full, { assumeRole: { externalId: 'ext:1/2', roleSessionName: 'u-a1b2', durationSeconds: 43200 }, sts: { endpoint: 'http://127.0.0.1:1', region: 'eu-west-1' }, refreshMarginSeconds: 0, linkTtlPolicy: 'warn' })
})

t.test('a plain-http broker off the loopback interface is warned about at register time', async (t) => {
  const lines: string[] = []
  for (const credentialsUrl of ['http://broker.internal/creds', 'http://127.0.0.1:8080/creds', 'http://localhost/creds', 'https://broker.internal/creds']) {
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
    t.teardown(() => app.close())
    await app.register(s3Storage, { profiles: { b: { credentialsUrl, credentialsUrlSecret: 'PLAINSECRET' } } })
  }
  t.equal(lines.length, 1, 'only for the plain-http, non-loopback one')
  t.match(JSON.parse(lines[0]), { profile: 'b', broker: 'http://broker.internal/creds', msg: /plain http/ })
  t.notOk(lines[0].includes('PLAINSECRET'))
})

t.test('refreshTime: the margin before expiry, never before half the lifetime', async (t) => {
  const now = 1_000_000
  t.equal(refreshTime(undefined, now, 300_000), Number.POSITIVE_INFINITY, 'no expiry: never')
  t.equal(refreshTime(new Date(now + 3_600_000), now, 300_000), now + 3_300_000, 'an hour: 5 minutes before')
  t.equal(refreshTime(new Date(now + 240_000), now, 300_000), now + 120_000, '4 minutes with a 5-minute margin: at half-life, not at once')
  t.equal(refreshTime(new Date(now + 2000), now, 0), now + 2000, 'no margin: at expiry')
})

t.test('roleSessionNameFor derives an opaque, stable, STS-valid name', async (t) => {
  const a = roleSessionNameFor('alice@example.com')
  t.match(a, /^u-[0-9a-f]{32}$/)
  t.equal(roleSessionNameFor('alice@example.com'), a, 'stable')
  t.not(roleSessionNameFor('bob@example.com'), a, 'distinct per user')
  t.notOk(a.includes('alice'), 'opaque')
  t.equal(roleSessionNameFor(42), roleSessionNameFor('42'), 'numbers as strings')
  const keyed = roleSessionNameFor('alice@example.com', 'server-side key')
  t.match(keyed, /^u-[0-9a-f]{32}$/)
  t.not(keyed, a, 'a key changes it (unguessable for guessable ids)')
  t.ok(validateOptions({ profiles: { r: { bucket, ...role, roleSessionName: a } } }), 'accepted as roleSessionName')
  t.throws(() => roleSessionNameFor(''), { code: 'FST_S3S_INVALID_ARGUMENT' })
})
