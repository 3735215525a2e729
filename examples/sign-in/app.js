// The file browser behind a sign-in, with a space and a quota per user: `npm run build && node examples/sign-in/app.js`,
// then open http://127.0.0.1:3000/ and sign in.
//
// With OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET set, it signs in with that provider (Keycloak,
// Okta, Auth0, Entra, Google…; register http://127.0.0.1:3000/auth/callback as the redirect URI there, and
// set ALLOWED_DOMAINS=your.domain). Without them it starts a local OpenID provider on 127.0.0.1:3001
// (oidc-provider, a devDependency of this repo) whose login page takes any name and password and signs
// you in as <name>@example.com. Files go to a local SeaweedFS (data under ./.data) unless S3_BUCKET is set.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import s3Storage from '../../dist/index.js'
import { startLocalS3 } from '../../dist/dev/local-s3.js'

const port = Number(process.env.PORT ?? 3000)
const origin = `http://127.0.0.1:${port}`

/** A local OpenID provider, for trying the sign-in without registering an app anywhere. */
async function localProvider () {
  const { default: Provider } = await import('oidc-provider')
  const issuer = 'http://127.0.0.1:3001'
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'file-browser', client_secret: 'local-secret', redirect_uris: [`${origin}/auth/callback`] }],
    // Whatever name is typed on its login page becomes <name>@example.com, verified.
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true }) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: [randomBytes(16).toString('hex')] }
  })
  const server = provider.listen(3001, '127.0.0.1')
  return { issuer, clientId: 'file-browser', clientSecret: 'local-secret', stop: () => server.close() }
}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
const idp = process.env.OIDC_ISSUER === undefined
  ? await localProvider()
  : { issuer: process.env.OIDC_ISSUER, clientId: process.env.OIDC_CLIENT_ID, clientSecret: process.env.OIDC_CLIENT_SECRET, stop: () => {} }
const s3 = process.env.S3_BUCKET === undefined ? await startLocalS3({ dataDir: '.data', buckets: ['demo'], log: (msg) => app.log.info(msg) }) : undefined
app.addHook('onClose', async () => {
  idp.stop()
  await s3?.stop()
})

await app.register(s3Storage, {
  profiles: {
    main: s3 === undefined
      ? { bucket: process.env.S3_BUCKET, region: process.env.AWS_REGION ?? 'us-east-1', endpoint: process.env.S3_ENDPOINT }
      : { bucket: 'demo', endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
  },
  browse: {
    namespaces: {
      // Everyone gets a folder of their own, 100 MiB and 1000 files.
      home: { basePath: (user) => `users/${user}/`, quota: { maxBytes: 100 * 1024 * 1024, maxFiles: 1000 } },
      // And one folder everyone shares.
      shared: { basePath: 'shared/' }
    },
    login: {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      redirectUri: `${origin}/auth/callback`,
      allowedDomains: (process.env.ALLOWED_DOMAINS ?? 'example.com').split(','),
      // Set SESSION_SECRET (32+ characters) to keep sessions across restarts.
      cookie: { secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex') }
    }
  }
})
app.get('/', async (_req, reply) => reply.redirect('/home/files/'))

await app.listen({ host: '127.0.0.1', port })
app.log.info(`open ${origin}/ and sign in${process.env.OIDC_ISSUER === undefined ? ' with any name and password' : ''}`)
