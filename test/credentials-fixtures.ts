// Real HTTP fixtures for the credential tests: a SeaweedFS that accepts extra key pairs, a recording proxy in
// front of it, a credentials broker and an STS speaking the AssumeRole Query API.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { startLocalS3, type LocalS3 } from '../src/dev/local-s3.js'
import { startVersityGw } from '../src/dev/versitygw.js'
import type { Teardown } from './helper.js'

/** A key pair SeaweedFS is told to accept. */
export interface KeyPair { accessKeyId: string, secretAccessKey: string }

/** A fresh key pair; the label shows in the access key id, to read assertions easily. */
export function keyPair (label: string): KeyPair {
  return {
    accessKeyId: `${label.toUpperCase()}${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: `secret-${label}-${randomBytes(12).toString('hex')}`
  }
}

/**
 * The local SeaweedFS (or versitygw with S3_TEST_SERVER=versitygw) with extra identities. These tests need
 * the server to accept keys the test makes up, so they always run against a local server (S3_TEST_ENDPOINT
 * does not apply).
 */
export async function startS3WithKeys (t: Teardown, keys: KeyPair[]): Promise<LocalS3> {
  const s3 = process.env.S3_TEST_SERVER === 'versitygw' ? await startVersityGw({ extraIdentities: keys }) : await startLocalS3({ extraIdentities: keys })
  t.teardown(() => s3.stop())
  return s3
}

function formParser (app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
}

async function listen (t: Teardown, app: FastifyInstance): Promise<string> {
  t.teardown(() => app.close())
  return await app.listen({ port: 0, host: '127.0.0.1' })
}

/** How the broker answers one call (the default: valid credentials). */
export type BrokerBehaviour = (reply: FastifyReply, call: number) => unknown

/** A credentials broker: checks the form-encoded secret, counts calls, hands out `keys` in turn. */
export interface Broker {
  /** Base URL, `http://127.0.0.1:PORT`; the broker answers on `/creds`. */
  url: string
  /** Calls that reached the handler (secret checked or not). */
  calls: number
  /** Bodies and content types of the calls. */
  received: Array<{ contentType?: string, body: Record<string, string> }>
  /** Lifetime of the credentials it hands out, in ms. */
  lifetimeMs: number
  /** `S3Folder` it answers with; undefined leaves it out. */
  folder?: string
  /** Adds a `SessionToken` to its answers. */
  sessionToken?: string
  /** Delay before answering, in ms. */
  delayMs: number
  /** Overrides the answer. */
  behaviour?: BrokerBehaviour
  /** The key pair the N-th successful answer carried (1-based). */
  issued: KeyPair[]
  /** Resets counters and behaviour between tests. */
  reset(): void
}

/** Starts a broker on 127.0.0.1 that accepts `secret` and hands out `keys` round-robin. */
export async function startBroker (t: Teardown, secret: string, keys: KeyPair[]): Promise<Broker> {
  const app = Fastify()
  formParser(app)
  const broker: Broker = {
    url: '',
    calls: 0,
    received: [],
    lifetimeMs: 60_000,
    delayMs: 0,
    issued: [],
    reset () {
      this.calls = 0
      this.received = []
      this.lifetimeMs = 60_000
      this.folder = undefined
      this.sessionToken = undefined
      this.delayMs = 0
      this.behaviour = undefined
      this.issued = []
    }
  }
  let next = 0
  app.post('/creds', async (req, reply) => {
    const call = ++broker.calls
    broker.received.push({ contentType: req.headers['content-type'], body: req.body as Record<string, string> })
    if (broker.delayMs > 0) await sleep(broker.delayMs)
    if ((req.body as Record<string, string> | undefined)?.secret !== secret) return reply.code(401).send({ error: 'bad secret' })
    if (broker.behaviour !== undefined) return await broker.behaviour(reply, call)
    const key = keys[next++ % keys.length]
    broker.issued.push(key)
    return {
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
      ...(broker.sessionToken !== undefined ? { SessionToken: broker.sessionToken } : {}),
      Expiration: new Date(Date.now() + broker.lifetimeMs).toISOString(),
      ...(broker.folder !== undefined ? { S3Folder: broker.folder } : {})
    }
  })
  broker.url = await listen(t, app)
  return broker
}

/** One AssumeRole call the local STS received. */
export interface StsCall {
  /** The Query API parameters (Action, Version, RoleArn, RoleSessionName, …). */
  params: Record<string, string>
  /** Access key id that signed the call, from the Authorization header. */
  accessKeyId?: string
  /** Region of the signature's credential scope. */
  region?: string
  /** Service of the credential scope (`sts`). */
  service?: string
  /** When it arrived (ms since epoch). */
  at: number
  /** Expiration of the credentials it returned. */
  expiration?: Date
  /** The key pair it returned. */
  issued?: KeyPair
}

/** A local STS that speaks the AssumeRole Query API and hands out `keys` in turn. */
export interface Sts {
  url: string
  calls: StsCall[]
  /** Lifetime of the credentials it returns, in ms. */
  lifetimeMs: number
  /** Adds a `SessionToken` to its answers. */
  sessionToken?: string
  /** Answer with this STS error code instead (status `errorStatus`). */
  errorCode?: string
  errorStatus: number
  reset(): void
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

/** Starts the STS. Answers are the documented AssumeRoleResponse XML. */
export async function startSts (t: Teardown, keys: KeyPair[]): Promise<Sts> {
  const app = Fastify()
  formParser(app)
  const sts: Sts = {
    url: '',
    calls: [],
    lifetimeMs: 3_600_000,
    errorStatus: 403,
    reset () {
      this.calls = []
      this.lifetimeMs = 3_600_000
      this.sessionToken = undefined
      this.errorCode = undefined
      this.errorStatus = 403
    }
  }
  let next = 0
  app.post('/', async (req, reply) => {
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '')
    const call: StsCall = { params: req.body as Record<string, string>, accessKeyId: scope?.[1], region: scope?.[2], service: scope?.[3], at: Date.now() }
    sts.calls.push(call)
    reply.type('text/xml')
    if (sts.errorCode !== undefined) {
      return reply.code(sts.errorStatus).send(`<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${sts.errorCode}</Code>` +
        `<Message>User is not authorized to perform sts:AssumeRole</Message></Error><RequestId>r-${sts.calls.length}</RequestId></ErrorResponse>`)
    }
    const key = keys[next++ % keys.length]
    call.issued = key
    call.expiration = new Date(Date.now() + sts.lifetimeMs)
    const params = call.params
    return `<AssumeRoleResponse xmlns="${STS_NS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:${params.RoleSessionName}</AssumedRoleId>
      <Arn>${params.RoleArn?.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${params.RoleSessionName}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${key.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>
      ${sts.sessionToken !== undefined ? `<SessionToken>${sts.sessionToken}</SessionToken>` : ''}
      <Expiration>${call.expiration.toISOString()}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>r-${sts.calls.length}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`
  })
  sts.url = await listen(t, app)
  return sts
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function closedPortUrl (): Promise<string> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** Waits until `date` (plus `extraMs`). */
export async function sleepUntil (date: Date | number, extraMs = 0): Promise<void> {
  const wait = (typeof date === 'number' ? date : date.getTime()) + extraMs - Date.now()
  if (wait > 0) await sleep(wait)
}
