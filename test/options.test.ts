import t from 'tap'
import Fastify from 'fastify'
import s3Storage from '../src/index.js'
import { validateOptions } from '../src/options.js'
import { MAX_LINK_TTL_SECONDS } from '../src/operations/links.js'

const bucket = 'uploads'

t.test('register-time validation names the profile and the field', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /options must be an object/],
    ['no profiles', {}, /"profiles" must name at least one profile/],
    ['empty profiles', { profiles: {} }, /"profiles" must name at least one profile/],
    ['missing bucket', { profiles: { main: {} } }, /profile "main": "bucket" is required/],
    ['bad bucket', { profiles: { main: { bucket: 'a b' } } }, /profile "main": "bucket" is not a valid bucket name/],
    ['unknown default', { profiles: { main: { bucket } }, defaultProfile: 'other' }, /"defaultProfile" "other" is not one of the profiles \(main\)/],
    ['two profiles, no default', { profiles: { a: { bucket }, b: { bucket } } }, /"defaultProfile" is required when there are several profiles \(a, b\)/],
    ['ttl too long', { profiles: { main: { bucket, maxLinkTtlSeconds: MAX_LINK_TTL_SECONDS + 1 } } }, /profile "main": "maxLinkTtlSeconds" must be a whole number of seconds from 1 to 604800/],
    ['ttl zero', { profiles: { main: { bucket, maxLinkTtlSeconds: 0 } } }, /"maxLinkTtlSeconds"/],
    ['ttl fraction', { profiles: { main: { bucket, maxLinkTtlSeconds: 1.5 } } }, /"maxLinkTtlSeconds"/],
    ['bad checksums', { profiles: { main: { bucket, checksums: 'ALWAYS' } } }, /profile "main": "checksums" must be/],
    ['bad endpoint', { profiles: { main: { bucket, endpoint: 'not a url' } } }, /profile "main": "endpoint" must be a URL/],
    ['bad prefix', { profiles: { main: { bucket, prefix: 'a/../b' } } }, /profile "main": "prefix"/],
    ['bad credentials', { profiles: { main: { bucket, credentials: { accessKeyId: 'x' } } } }, /profile "main": "credentials.secretAccessKey"/],
    ['credentials and profileName', { profiles: { main: { bucket, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, profileName: 'dev' } } }, /not both/],
    ['bad profile name', { profiles: { 'a b': { bucket } } }, /profile name "a b"/],
    ['bad region', { profiles: { main: { bucket, region: 3 } } }, /profile "main": "region" must be a non-empty string/]
  ]
  for (const [title, options, message] of cases) {
    t.test(title, async (t) => {
      t.throws(() => validateOptions(options), { code: 'FST_S3S_INVALID_OPTION', message })
      const app = Fastify()
      t.teardown(() => app.close())
      // Fastify hands a plugin `{}` when it is registered without options.
      const registered = options === undefined ? /"profiles" must name at least one profile/ : message
      await t.rejects(async () => { await app.register(s3Storage, options as never).ready() }, { code: 'FST_S3S_INVALID_OPTION', message: registered })
    })
  }
})

t.test('defaults are applied once', async (t) => {
  const options = validateOptions({ profiles: { main: { bucket, prefix: '/uploads' } } })
  t.equal(options.defaultProfile, 'main', 'a single profile is the default')
  const main = options.profiles.get('main')!
  t.equal(main.region, 'us-east-1')
  t.equal(main.prefix, 'uploads/')
  t.equal(main.maxLinkTtlSeconds, MAX_LINK_TTL_SECONDS)
  t.equal(main.checksums, 'WHEN_REQUIRED')
  t.equal(main.forcePathStyle, false)
  const withEndpoint = validateOptions({ profiles: { m: { bucket, endpoint: 'http://127.0.0.1:9000' } } }).profiles.get('m')!
  t.equal(withEndpoint.forcePathStyle, true, 'an endpoint implies path style unless told otherwise')
})

t.test('registering twice on one instance is refused', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(s3Storage, { profiles: { main: { bucket } } })
  app.register(s3Storage, { profiles: { main: { bucket } } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_S3S_INVALID_OPTION', message: /already registered/ })
})

t.test('secrets in normalised options never serialise (logging profile.options cannot leak them)', async (t) => {
  const { inspect } = await import('node:util')
  const options = validateOptions({
    profiles: {
      keys: { bucket, credentials: { accessKeyId: 'AKIA-visible', secretAccessKey: 'SECRET-1', sessionToken: 'TOKEN-1' } },
      broker: { credentialsUrl: 'https://broker.example/creds?key=QUERY-1', credentialsUrlSecret: 'SECRET-2' }
    },
    defaultProfile: 'keys'
  })
  const text = JSON.stringify([...options.profiles.values()]) + inspect([...options.profiles.values()], { depth: 5 })
  for (const secret of ['SECRET-1', 'TOKEN-1', 'SECRET-2', 'QUERY-1']) t.notMatch(text, secret, secret)
  t.match(text, 'AKIA-visible', 'the key id is not a secret')
  t.equal(options.profiles.get('keys')!.credentials!.secretAccessKey, 'SECRET-1', 'still readable where it is used')
  t.equal(options.profiles.get('broker')!.broker!.secret, 'SECRET-2')
})
