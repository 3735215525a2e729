// Traversal in every encoding, sent over a real socket so no client library normalises the path first.
import t from 'tap'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { decodeBrowsePath } from '../src/browse/paths.js'
import { bucketName, buildApp, profileFor, s3Client, startS3 } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('trav')
await s3.createBucket(bucket)
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: { namespaces: { docs: { basePath: 'shared/docs' } } }
})
// Files the attacks aim at, outside the namespace's basePath.
await app.storage.operations().uploadFile('TOP-SECRET-CONTENT', 'secret.txt', { location: 'shared', preserveFilename: true })
await app.storage.operations().uploadFile('TOP-SECRET-CONTENT', 'root.txt', { preserveFilename: true })
await app.storage.operations().uploadFile('inside', 'ok.txt', { location: 'shared/docs', preserveFilename: true })
await app.listen({ port: 0, host: '127.0.0.1' })
const port = (app.server.address() as AddressInfo).port

function send (method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { accept: 'application/json', 'x-requested-with': 'test', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}

const attacks = [
  '../secret.txt', '../../root.txt', '..', '../', './ok.txt', 'a/../../secret.txt', 'a/./b', 'a//b', '.',
  '%2e%2e/secret.txt', '%2E%2E/secret.txt', '%2e%2e%2fsecret.txt', '..%2fsecret.txt', '..%2Fsecret.txt', '%2e./secret.txt',
  '.%2e/secret.txt', '%2e%2e%5csecret.txt', '..%5csecret.txt', '..\\secret.txt', 'a\\..\\..\\secret.txt',
  '%252e%252e/secret.txt', '%252e%252e%252fsecret.txt', '..%252fsecret.txt', '%25252e%25252e/x', '%252E%252E/secret.txt',
  '%c0%ae%c0%ae/secret.txt', '%c0%afsecret.txt', '%e0%80%ae%e0%80%ae/secret.txt', '%c1%9c', '%ff', '%',
  '%00', 'ok.txt%00.png', 'a%0ab', 'a%0d%0aSet-Cookie:x=1', '%7f', '%c2%85', 'a%09b', '%1b[31m',
  '%2f', '%2fetc/passwd', '%5c', 'x/%2e', 'x/%2e%2e', 'x/%2E', 'x%2f..%2f..%2fsecret.txt'
]

t.test(`${attacks.length} traversal encodings are refused with 400 and never resolve`, async (t) => {
  t.ok(attacks.length >= 40)
  for (const attack of attacks) {
    const res = await send('GET', '/docs/files/' + attack)
    t.equal(res.status, 400, `GET ${attack}`)
    t.notMatch(res.body, /TOP-SECRET-CONTENT/, `${attack}: no content from outside`)
    const json = JSON.parse(res.body)
    // Invalid UTF-8 never reaches the route: Fastify's router refuses it first, also with a 400.
    t.ok(json.code === 'FST_S3S_INVALID_KEY' || json.code === 'FST_ERR_BAD_URL', `${attack}: ${json.code}`)
  }
})

t.test('state-changing routes refuse the same paths and write nothing', async (t) => {
  for (const attack of ['../secret.txt', '%2e%2e/secret.txt', '%252e%252e/x/', '..%2f', 'a%00b']) {
    t.equal((await send('DELETE', '/docs/files/' + attack)).status, 400, `DELETE ${attack}`)
  }
  const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'shared/secret.txt' }))
  t.equal(head.ContentLength, 18, 'the target outside is untouched')
  for (const name of ['../x', '..', 'a/../../x', '%2e%2e']) {
    const res = await app.inject({ method: 'POST', url: '/docs/mkdir', payload: { path: '', name }, headers: { 'x-requested-with': 'test', accept: 'application/json' } })
    t.ok(res.statusCode === 400 || res.statusCode === 201, `mkdir ${name}: ${res.statusCode} ${res.body}`)
    if (res.statusCode === 201) t.notMatch(res.json().path, /\.\./, 'a dot-dot name can only become a harmless basename')
  }
  const parent = await app.inject({ method: 'POST', url: '/docs/mkdir', payload: { path: '../', name: 'x' }, headers: { 'x-requested-with': 'test' } })
  t.equal(parent.statusCode, 400)
})

t.test('ordinary names that look odd are fine', async (t) => {
  const ok = await send('GET', '/docs/files/ok.txt')
  t.equal(ok.status, 200)
  t.equal(ok.body, 'inside')
  t.same(decodeBrowsePath('v1..2.txt'), { path: 'v1..2.txt', folder: false })
  t.same(decodeBrowsePath('100%25.txt'), { path: '100%.txt', folder: false }, 'a literal percent sign')
  t.same(decodeBrowsePath('%ED%95%9C%EA%B8%80/'), { path: '한글/', folder: true })
  t.same(decodeBrowsePath('%E1%84%92%E1%85%A1%E1%86%AB'), { path: '한', folder: false }, 'NFD is normalised to NFC')
  t.same(decodeBrowsePath(''), { path: '', folder: true })
  t.equal((await send('GET', '/docs/files/..hidden')).status, 404, 'a name starting with two dots is just a name')
})
