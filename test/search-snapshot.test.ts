// searchCache: repeat searches answered from a snapshot of the recursive listing (ListObjectsV2 calls
// counted at a proxy in front of the suite's real S3 server), still finding keys past the first 1,000;
// dropped by uploads, deletes and mkdir through the routes; per user space; bounded; Cache-Control: no-cache.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { mapBounded } from '../src/bounded.js'
import { buildApp, freshBucket, multipartBody, profileFor, recordingProxy, startS3 } from './helper.js'

const s3 = await startS3(t)
const bucket = await freshBucket(s3, 'snap')
const proxy = await recordingProxy(t, s3.endpoint)
const app = await buildApp(t, {
  profiles: { main: profileFor({ ...s3, endpoint: proxy.endpoint }, bucket) },
  browse: {
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    namespaces: {
      snap: { basePath: 'all', searchCache: {} },
      shared: { basePath: 'all', searchCache: {} },
      plain: { basePath: 'all' },
      small: { basePath: 'all', searchCache: { maxEntries: 100 } },
      brief: { basePath: 'all', searchCache: { ttlSeconds: 1 } },
      mine: { basePath: (user) => `users/${user ?? 'nobody'}/`, searchCache: {} }
    }
  }
})
const ops = app.storage.operations()
// 1,500 keys, then the ones a search must find: past the first 1,000 in listing order.
const BULK = Array.from({ length: 1500 }, (_, i) => `all/bulk/f-${String(i).padStart(4, '0')}.txt`)
await mapBounded([...BULK, 'all/zz/needle.txt', 'all/zz/needles/deep.txt', 'users/ann/needle-ann.txt', 'users/bob/needle-bob.txt'], 16,
  async (name) => await ops.uploadFile('x', name, { preserveFilename: true }))

const ANN = { 'x-user': 'ann', accept: 'application/json' }
const lists = (): number => proxy.requests.filter((r) => r.method === 'GET' && r.path.replace(/\/$/, '') === `/${bucket}`).length
async function found (url: string, headers: Record<string, string> = ANN, on: FastifyInstance = app): Promise<{ files: string[], folders: string[], lists: number }> {
  const before = lists()
  const res = await on.inject({ url, headers })
  t.equal(res.statusCode, 200, url)
  const body = res.json() as { files: Array<{ path: string }>, folders: Array<{ path: string }> }
  return { files: body.files.map((f) => f.path), folders: body.folders.map((f) => f.path), lists: lists() - before }
}

t.test('a repeat search lists S3 no more, and still finds keys past the first 1,000', async (t) => {
  const first = await found('/snap/files/?q=needle')
  t.same(first.files, ['zz/needle.txt'])
  t.same(first.folders, ['zz/needles/'])
  t.equal(first.lists, 2, 'the first search scans (1,502 keys: two pages)')
  const again = await found('/snap/files/?q=F-1499')
  t.same(again.files, ['bulk/f-1499.txt'], 'key 1,500 found, case-insensitively')
  t.equal(again.lists, 0, 'answered from the snapshot')
  const below = await found('/snap/files/bulk/?q=f-14')
  t.equal(below.files.length, 100)
  t.equal(below.lists, 0, 'a folder search reuses the complete snapshot of its ancestor')
  const within = await found('/snap/files/zz/?q=needle')
  t.same(within.files, ['zz/needle.txt'])
  t.same(within.folders, ['zz/needles/'], 'the root\'s own segments are not matched')
  const plain = await found('/plain/files/?q=needle')
  t.same(plain.files, ['zz/needle.txt'])
  t.equal(plain.lists, 2, 'without searchCache every search scans')
})

t.test('our own writes are seen by the next search; writes behind the routes need no-cache', async (t) => {
  await found('/snap/files/?q=needle')
  const { body, contentType } = await multipartBody([['file', new Blob(['y']), 'needle-two.txt']])
  const up = await app.inject({ method: 'POST', url: '/snap/files/zz/', payload: body, headers: { ...ANN, 'x-requested-with': 'fetch', 'content-type': contentType } })
  t.equal(up.statusCode, 201)
  const afterUpload = await found('/snap/files/?q=needle')
  t.same(afterUpload.files, ['zz/needle-two.txt', 'zz/needle.txt'].sort())
  t.ok(afterUpload.lists > 0, 'the upload dropped the snapshot')
  const del = await app.inject({ method: 'DELETE', url: '/snap/files/zz/needle-two.txt', headers: { ...ANN, 'x-requested-with': 'fetch' } })
  t.equal(del.statusCode, 204)
  t.same((await found('/snap/files/?q=needle')).files, ['zz/needle.txt'], 'the delete too')
  const mk = await app.inject({ method: 'POST', url: '/snap/mkdir', payload: { path: 'bulk/', name: 'needle-dir' }, headers: { ...ANN, 'x-requested-with': 'fetch' } })
  t.equal(mk.statusCode, 201)
  t.same((await found('/snap/files/?q=needle')).folders, ['bulk/needle-dir/', 'zz/needles/'], 'and a new folder')

  await ops.uploadFile('x', 'all/zz/needle-behind.txt', { preserveFilename: true })
  const cached = await found('/snap/files/?q=needle')
  t.notOk(cached.files.includes('zz/needle-behind.txt'), 'a write behind the routes waits for the TTL')
  t.equal(cached.lists, 0)
  const fresh = await found('/snap/files/?q=needle', { ...ANN, 'cache-control': 'no-cache' })
  t.ok(fresh.files.includes('zz/needle-behind.txt'), 'Cache-Control: no-cache scans S3')
  t.ok(fresh.lists > 0)
  const after = await found('/snap/files/?q=needle')
  t.ok(after.files.includes('zz/needle-behind.txt'), 'and refreshes the snapshot')
  t.equal(after.lists, 0)
})

t.test('per user space; bounded in entries; TTL', async (t) => {
  const ann = await found('/mine/files/?q=needle')
  t.same(ann.files, ['needle-ann.txt'])
  const bob = await found('/mine/files/?q=needle', { 'x-user': 'bob', accept: 'application/json' })
  t.same(bob.files, ['needle-bob.txt'], 'another user\'s space is its own snapshot')
  t.ok(bob.lists > 0)
  t.equal((await found('/mine/files/?q=needle')).lists, 0, 'and ann\'s is still there')

  await found('/small/files/?q=needle')
  const small = await found('/small/files/?q=needle')
  t.same(small.files.sort(), ['zz/needle-behind.txt', 'zz/needle.txt'])
  t.ok(small.lists > 0, 'a snapshot larger than maxEntries is not kept')

  await found('/brief/files/?q=needle')
  t.equal((await found('/brief/files/?q=needle')).lists, 0)
  await sleep(1100)
  t.ok((await found('/brief/files/?q=needle')).lists > 0, 'a snapshot past its TTL is scanned again')
})

t.test('concurrent first searches share one scan; no-cache never shares', async (t) => {
  let before = lists()
  const res = await Promise.all(Array.from({ length: 4 }, async () => await app.inject({ url: '/shared/files/?q=f-01', headers: ANN })))
  t.ok(res.every((r) => r.json().files.length === 100))
  t.equal(lists() - before, 2, 'four searches, one scan of two pages')
  before = lists()
  await Promise.all(Array.from({ length: 2 }, async () => await app.inject({ url: '/shared/files/?q=f-01', headers: { ...ANN, 'cache-control': 'no-cache' } })))
  t.equal(lists() - before, 4, 'each no-cache search scans')
})

t.test('searchCache is checked', async (t) => {
  for (const [searchCache, message] of [[5, /"searchCache" must be an object/], [{ ttlSeconds: 0 }, /"searchCache.ttlSeconds"/], [{ maxEntries: 1.5 }, /"searchCache.maxEntries"/]] as const) {
    await t.rejects(buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { x: { searchCache: searchCache as { ttlSeconds: number } } } } }), { code: 'FST_S3S_INVALID_OPTION', message })
  }
})
