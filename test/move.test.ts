// Moves, renames, copies and bulk deletes: StorageOperations (moveFile, renameFile, moveFolder, copyFolder)
// against the suite's S3 server, a 2,500-key folder moved through an HTTP proxy that fails some S3 calls
// (then moved again: every object ends at its target exactly once), and the browse routes
// POST <ns>/move, /copy and /delete through inject.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import { mapBounded } from '../src/bounded.js'
import { TRANSFER_BATCH } from '../src/operations/move.js'
import { copyObject } from '../src/operations/transfer.js'
import type { AuditRecord, BrowseOptions, StorageOperations } from '../src/index.js'
import { startHttpFaultProxy, type InjectedError } from './fault-proxy.js'
import { bucketName, buildApp, objectExists, profileFor, s3Client, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('move')
await s3.createBucket(bucket)
const XRW = { 'x-requested-with': 'fetch', accept: 'application/json' }
let folders = 0

async function put (key: string, body: string | Buffer): Promise<string> {
  const done = await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
  return done.ETag ?? ''
}

async function text (key: string): Promise<string> {
  const res = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return await (res.Body as { transformToString(): Promise<string> }).transformToString()
}

async function exists (key: string): Promise<boolean> {
  return await objectExists(raw, bucket, key)
}

/** Every key under `prefix` with its ETag, asked of S3 directly. */
async function listing (prefix: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  let token: string | undefined
  do {
    const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
    for (const o of page.Contents ?? []) found.set(o.Key!, (o.ETag ?? '').replaceAll('"', ''))
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return found
}

/** StorageOperations on a folder of its own (so tests never see each other's keys). */
async function opsApp (t: Teardown, endpoint?: string): Promise<{ app: FastifyInstance, ops: StorageOperations, root: string }> {
  const root = `ops${++folders}/`
  const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket, { prefix: root, ...(endpoint === undefined ? {} : { endpoint }) }) } })
  return { app, ops: app.storage.operations(), root }
}

t.test('moveFile and renameFile: copy then delete, never over an existing name unless asked', async (t) => {
  const { ops, root } = await opsApp(t)
  await put(`${root}docs/draft.txt`, 'draft')
  const renamed = await ops.renameFile('docs/draft.txt', 'final.txt')
  t.same(renamed, { key: `${root}docs/final.txt`, filename: 'docs/final.txt', method: 'server-side' })
  t.equal(await text(`${root}docs/final.txt`), 'draft', 'the new name holds the bytes')
  t.notOk(await exists(`${root}docs/draft.txt`), 'the old name is gone')
  await t.rejects(ops.renameFile('docs/final.txt', 'elsewhere/final.txt'), { code: 'FST_S3S_INVALID_ARGUMENT', statusCode: 400 }, 'a rename stays in its folder')

  const moved = await ops.moveFile('docs/final.txt', { toFilename: 'archive/2026/final.txt' })
  t.equal(moved.filename, 'archive/2026/final.txt')
  t.equal(await text(`${root}archive/2026/final.txt`), 'draft')
  t.notOk(await exists(`${root}docs/final.txt`))

  // Onto an existing name: refused, both files untouched; with overwrite: replaced.
  await put(`${root}a.txt`, 'A')
  await put(`${root}b.txt`, 'B')
  await t.rejects(ops.moveFile('a.txt', { toFilename: 'b.txt' }), { code: 'FST_S3S_EXISTS', statusCode: 409 })
  t.equal(await text(`${root}b.txt`), 'B', 'the existing target is untouched')
  t.equal(await text(`${root}a.txt`), 'A', 'the source stays')
  await ops.moveFile('a.txt', { toFilename: 'b.txt', overwrite: true })
  t.equal(await text(`${root}b.txt`), 'A', 'overwrite replaces the target')
  t.notOk(await exists(`${root}a.txt`))

  await t.rejects(ops.moveFile('b.txt', { toFilename: 'b.txt' }), { code: 'FST_S3S_INVALID_ARGUMENT', statusCode: 400, message: /onto itself/ })
  await t.rejects(ops.moveFile('missing.txt', { toFilename: 'x.txt' }), { code: 'FST_S3S_NOT_FOUND', statusCode: 404 })
  t.notOk(await exists(`${root}x.txt`))

  // A crashed earlier move: the copy is stored, the source was never deleted. Moving again finishes it.
  await put(`${root}half.txt`, 'half')
  await ops.copyFile('half.txt', { toFilename: 'done/half.txt' })
  await ops.moveFile('half.txt', { toFilename: 'done/half.txt' })
  t.notOk(await exists(`${root}half.txt`), 'the source of the finished copy is deleted')
  t.equal(await text(`${root}done/half.txt`), 'half')

  // Unicode and spaces, and another location.
  await put(`${root}Ünïcødé and spaces 😀.txt`, 'u')
  const far = await ops.moveFile('Ünïcødé and spaces 😀.txt', { toLocation: 'other place', toFilename: 'ço pie 😀.txt' })
  t.equal(far.key, `${root}other place/ço pie 😀.txt`)
  t.equal(await text(far.key), 'u')
})

t.test('copyFile with ifNoneMatch: an existing target is refused, the same bytes count as copied', async (t) => {
  const { ops, root } = await opsApp(t)
  await put(`${root}src.txt`, 'source')
  await put(`${root}taken.txt`, 'taken')
  await t.rejects(ops.copyFile('src.txt', { toFilename: 'taken.txt', ifNoneMatch: true }), { code: 'FST_S3S_EXISTS' })
  t.equal(await text(`${root}taken.txt`), 'taken')
  await ops.copyFile('src.txt', { toFilename: 'new.txt', ifNoneMatch: true })
  t.equal(await text(`${root}new.txt`), 'source')
  await ops.copyFile('src.txt', { toFilename: 'new.txt', ifNoneMatch: true })
  t.pass('copying again onto the same bytes succeeds')
  await t.rejects(ops.copyFile('src.txt', { toFilename: 'x.txt', ifNoneMatch: 'yes' as unknown as boolean }), { code: 'FST_S3S_INVALID_ARGUMENT' })
  await ops.copyFile('src.txt', { toFilename: 'taken.txt' })
  t.equal(await text(`${root}taken.txt`), 'source', 'without ifNoneMatch copyFile replaces, as before')
})

t.test('moveFolder and copyFolder: sub-folders and markers, conflicts, refusals', async (t) => {
  const { ops, root } = await opsApp(t)
  await ops.createFolder('tree/')
  await ops.createFolder('tree/empty/')
  for (const name of ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deep/c 😀.txt']) await put(root + name, name)

  const copied = await ops.copyFolder('tree/', 'copy/tree/')
  t.same(copied.failed, [])
  t.same(copied.copied.map((c) => c.to).sort(), ['copy/tree/', 'copy/tree/a.txt', 'copy/tree/empty/', 'copy/tree/sub/b.txt', 'copy/tree/sub/deep/c 😀.txt'])
  t.equal(await text(`${root}copy/tree/sub/deep/c 😀.txt`), 'tree/sub/deep/c 😀.txt')
  t.ok(await exists(`${root}tree/a.txt`), 'a copy keeps the sources')

  // One target is in the way: that file fails (and stays), the rest moves.
  await put(`${root}moved/tree/a.txt`, 'in the way')
  const progress: Array<[number, number]> = []
  const first = await ops.moveFolder('tree/', 'moved/tree/', { onProgress: (done, failed) => progress.push([done, failed]), concurrency: 2 })
  t.same(first.failed.map((f) => [f.from, f.code]), [['tree/a.txt', 'FST_S3S_EXISTS']])
  t.equal(await text(`${root}moved/tree/a.txt`), 'in the way', 'the existing target is untouched')
  t.ok(await exists(`${root}tree/a.txt`), 'the source whose move failed stays')
  t.notOk(await exists(`${root}tree/sub/b.txt`))
  t.equal(await text(`${root}moved/tree/sub/b.txt`), 'tree/sub/b.txt')
  t.same(progress[progress.length - 1], [first.moved.length, 1], 'progress counts every file')

  const again = await ops.moveFolder('tree/', 'moved/tree/', { overwrite: true })
  t.same(again.failed, [])
  t.equal(await text(`${root}moved/tree/a.txt`), 'tree/a.txt', 'overwrite replaces it')
  t.same([...(await listing(`${root}tree/`)).keys()], [], 'nothing is left of the source')

  await t.rejects(ops.moveFolder('moved/', 'moved/'), { code: 'FST_S3S_INVALID_ARGUMENT', message: /onto itself/ })
  await t.rejects(ops.moveFolder('moved/', 'moved/inner/'), { code: 'FST_S3S_INVALID_ARGUMENT', message: /into itself/ })
  await t.rejects(ops.copyFolder('moved/', 'moved/inner/'), { code: 'FST_S3S_INVALID_ARGUMENT', message: /copied into itself/ })
  await t.rejects(ops.moveFolder('moved/', 'x/', { concurrency: 0 }), { code: 'FST_S3S_INVALID_ARGUMENT', message: /concurrency/ })
  await t.rejects(ops.moveFolder('../up/', 'x/'), { code: 'FST_S3S_INVALID_KEY' })
  t.same(await ops.moveFolder('nothing-here/', 'x/'), { moved: [], failed: [] }, 'an empty folder moves nothing')
  // A target key past S3's 1024 bytes: that file fails, and stays.
  const deep = `${'d'.repeat(200)}/`.repeat(4)
  await put(`${root}long/${deep}f.txt`, 'long')
  const long = await ops.moveFolder('long/', `${'x'.repeat(250)}/`)
  t.same(long.failed.map((f) => f.code), ['FST_S3S_INVALID_KEY'])
  t.ok(await exists(`${root}long/${deep}f.txt`))
})

t.test('2,500 keys moved with S3 faults mid-way, then again: every object at its target exactly once', async (t) => {
  const N = 2500
  const marker = 'big/'
  const names = Array.from({ length: N }, (_, i) => `big/d${i % 5}/f${i}.txt`)
  let faults = false
  let deletes = 0
  const internal: InjectedError = { status: 500, code: 'InternalError', message: 'injected by the test' }
  const proxy = await startHttpFaultProxy(s3.endpoint, (method, url, headers) => {
    if (!faults) return undefined
    // One copy in ten fails, every attempt; so does the second DeleteObjects batch (with its retries).
    if (method === 'PUT' && headers['x-amz-copy-source'] !== undefined && /f\d*3\.txt$/.test(decodeURIComponent(url.split('?')[0]))) return internal
    if (method === 'POST' && /[?&]delete/.test(url)) {
      deletes++
      if (deletes >= 2 && deletes <= 4) return internal
    }
    return undefined
  })
  t.teardown(() => proxy.close())
  const { ops, root } = await opsApp(t, proxy.endpoint)
  await put(root + marker, '')
  const etags = new Map<string, string>()
  await mapBounded(names, 16, async (name) => {
    etags.set(name, (await put(root + name, `${name} ${randomBytes(8).toString('hex')}`)).replaceAll('"', ''))
  })
  const target = (name: string): string => `${root}done/${name}`

  // Stopped by its signal: the batch in progress is finished, nothing after it is started.
  const stop = new AbortController()
  await t.rejects(ops.moveFolder('big/', 'done/big/', { signal: stop.signal, onProgress: (done) => { if (done === 10) stop.abort() } }), { name: 'AbortError' })
  const afterAbort = await listing(`${root}big/`)
  t.equal(N + 1 - afterAbort.size, TRANSFER_BATCH, 'stopped after the batch in progress')

  faults = true
  const faulty = await ops.moveFolder('big/', 'done/big/')
  faults = false
  const sources = await listing(`${root}big/`)
  const targets = await listing(`${root}done/big/`)
  const copyFailures = names.filter((n) => /f\d*3\.txt$/.test(n))
  t.ok(faulty.failed.length >= copyFailures.length + 1, `${faulty.failed.length} failed`)
  t.ok(faulty.failed.every((f) => f.code === 'FST_S3S_S3_ERROR'), 'each failure says S3 failed')
  t.ok(faulty.failed.some((f) => !/f\d*3\.txt$/.test(f.from)), 'a failed delete batch is reported too')
  for (const name of copyFailures) {
    if (!afterAbort.has(root + name)) continue // moved before the faults began
    if (!sources.has(root + name) || targets.has(target(name))) {
      t.fail(`${name}: its copy failed, yet its source is gone or a target exists`)
      break
    }
  }
  let lost = 0
  for (const name of names) {
    const here = sources.has(root + name)
    const there = targets.get(target(name))
    if (!here && there !== etags.get(name)) lost++
  }
  t.equal(lost, 0, 'no object was lost: each is at its source, or at its target with its bytes')
  t.equal(faulty.moved.length + faulty.failed.length, afterAbort.size, 'every remaining key was tried once')

  const second = await ops.moveFolder('big/', 'done/big/')
  t.same(second.failed, [], 'the second run finishes the job')
  const end = await listing(`${root}done/big/`)
  t.equal(end.size, N + 1, 'every object at its target, and nothing more')
  t.ok(names.every((n) => end.get(target(n)) === etags.get(n)), 'with its bytes (ETag)')
  t.ok(end.has(`${root}done/big/`), 'the folder marker moved too')
  t.same([...(await listing(`${root}big/`)).keys()], [], 'no source left')
  t.ok(second.moved.length >= sources.size, 'the sources left by the faulty run are moved now')
})

// Routes.

interface RouteApp { app: FastifyInstance, folder: string, records: AuditRecord[], denied: Set<string> }

/** A namespace over a folder of its own; `denied` holds `action:path` pairs authorize refuses. */
async function routeApp (t: Teardown, extra: Partial<BrowseOptions['namespaces'][string]> = {}, endpoint?: string): Promise<RouteApp> {
  const folder = `routes${++folders}/`
  const denied = new Set<string>()
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, endpoint === undefined ? {} : { endpoint }) },
    browse: {
      namespaces: { ns: { basePath: folder, ...extra } },
      authorize: (_user, action, _ns, key) => !denied.has(`${action}:${key}`)
    }
  })
  const records: AuditRecord[] = []
  app.storageAudit.on('record', (r) => records.push(r))
  return { app, folder, records, denied }
}

async function post (app: FastifyInstance, route: string, payload: object, headers: Record<string, string> = XRW): Promise<{ statusCode: number, json: () => any, body: string, headers: Record<string, unknown> }> {
  return await app.inject({ method: 'POST', url: `/ns/${route}`, payload, headers })
}

t.test('POST <ns>/move: rename, into a folder, onto an existing name, overwrite, audit', async (t) => {
  const { app, folder, records } = await routeApp(t)
  await put(`${folder}a.txt`, 'A')
  await put(`${folder}b.txt`, 'B')
  await put(`${folder}sub/x.txt`, 'X')

  let res = await post(app, 'move', { from: ['a.txt'], to: 'renamed é.txt' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { moved: [{ from: 'a.txt', to: 'renamed é.txt' }], failed: [] })
  t.equal(await text(`${folder}renamed é.txt`), 'A')
  t.notOk(await exists(`${folder}a.txt`))

  res = await post(app, 'move', { from: ['renamed é.txt', 'sub/'], to: 'dest/' })
  t.same(res.json().failed, [])
  t.same(res.json().moved.map((m: { to: string }) => m.to).sort(), ['dest/renamed é.txt', 'dest/sub/x.txt'])
  t.equal(await text(`${folder}dest/sub/x.txt`), 'X')
  t.notOk(await exists(`${folder}sub/x.txt`))
  const moves = records.filter((r) => r.action === 'move')
  t.ok(moves.some((r) => r.key === `${folder}sub/x.txt` && r.result === 'ok'), 'one record per file moved')
  t.ok(moves.some((r) => r.key === `${folder}dest/`), 'and one for the request')

  // Onto an existing name: a 409 entry, the target untouched; then overwrite.
  res = await post(app, 'move', { from: ['b.txt'], to: 'dest/renamed é.txt' })
  t.equal(res.statusCode, 200)
  t.same(res.json().failed.map((f: { from: string, code: string }) => [f.from, f.code]), [['b.txt', 'FST_S3S_EXISTS']])
  t.equal(await text(`${folder}dest/renamed é.txt`), 'A')
  t.ok(moves.length < records.filter((r) => r.action === 'move').length)
  t.ok(records.some((r) => r.action === 'move' && r.key === `${folder}b.txt` && r.statusCode === 409), 'the refused file is audited')
  res = await post(app, 'move', { from: ['b.txt'], to: 'dest/renamed é.txt', overwrite: true })
  t.same(res.json(), { moved: [{ from: 'b.txt', to: 'dest/renamed é.txt' }], failed: [] })
  t.equal(await text(`${folder}dest/renamed é.txt`), 'B')

  res = await post(app, 'move', { from: ['gone.txt', 'gone/'], to: 'dest/' })
  t.same(res.json().failed.map((f: { code: string }) => f.code), ['FST_S3S_NOT_FOUND', 'FST_S3S_NOT_FOUND'], 'missing sources are reported')
})

t.test('POST <ns>/copy keeps the source; a copy that passes the quota is refused', async (t) => {
  const { app, folder } = await routeApp(t, { quota: { maxBytes: 100 } })
  await put(`${folder}one.txt`, 'x'.repeat(40))
  await put(`${folder}f/two.txt`, 'y'.repeat(10))
  let res = await post(app, 'copy', { from: ['one.txt', 'f/'], to: 'copies/' })
  t.equal(res.statusCode, 200)
  t.same(res.json().copied.map((c: { to: string }) => c.to).sort(), ['copies/f/two.txt', 'copies/one.txt'])
  t.equal(await text(`${folder}one.txt`), 'x'.repeat(40), 'the source stays')
  t.equal(await text(`${folder}copies/one.txt`), 'x'.repeat(40))
  // 100 B used now: another 40 B copy does not fit.
  res = await post(app, 'copy', { from: ['one.txt'], to: 'more/' })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'FST_S3S_QUOTA_EXCEEDED')
  t.notOk(await exists(`${folder}more/one.txt`), 'nothing copied')
  // A move inside the space adds nothing.
  res = await post(app, 'move', { from: ['one.txt'], to: 'more/' })
  t.same(res.json(), { moved: [{ from: 'one.txt', to: 'more/one.txt' }], failed: [] }, 'a move in a full space')
})

t.test('POST <ns>/move and /copy: permissions, CSRF, bad paths and limits refuse before anything moves', async (t) => {
  const { app, folder, denied } = await routeApp(t)
  await put(`${folder}keep.txt`, 'K')
  await put(`${folder}other.txt`, 'O')

  let res = await post(app, 'move', { from: ['keep.txt'], to: 'x/' }, { accept: 'application/json' })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FST_S3S_CSRF', 'no X-Requested-With, no token')

  denied.add('delete:keep.txt')
  res = await post(app, 'move', { from: ['other.txt', 'keep.txt'], to: 'x/' })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FST_S3S_FORBIDDEN')
  t.ok(await exists(`${folder}other.txt`), 'nothing moved, not even the allowed file')
  res = await post(app, 'copy', { from: ['keep.txt'], to: 'x/' })
  t.equal(res.statusCode, 200, 'a copy needs download, not delete')
  denied.clear()
  denied.add('upload:y/other.txt')
  res = await post(app, 'move', { from: ['other.txt'], to: 'y/' })
  t.equal(res.statusCode, 403, 'upload on the target is needed')
  t.ok(await exists(`${folder}other.txt`))
  denied.add('download:other.txt')
  res = await post(app, 'copy', { from: ['other.txt'], to: 'z/' })
  t.equal(res.statusCode, 403, 'a copy needs download on the source')
  // Replacing a file on a namespace that does not overwrite takes delete on the target.
  denied.clear()
  denied.add('delete:x/keep.txt')
  res = await post(app, 'copy', { from: ['keep.txt'], to: 'x/', overwrite: true })
  t.equal(res.statusCode, 403)

  const bad: Array<[string, object, RegExp]> = [
    ['move', { from: ['../escape.txt'], to: 'x/' }, /FST_S3S_INVALID_KEY/],
    ['move', { from: ['keep.txt'], to: '../../other-space/' }, /FST_S3S_INVALID_KEY/],
    ['move', { from: ['a//b.txt'], to: 'x/' }, /FST_S3S_INVALID_KEY/],
    ['move', { from: [''], to: 'x/' }, /root/],
    ['move', { from: [], to: 'x/' }, /"from" must be a list/],
    ['move', { from: 'keep.txt', to: 'x/' }, /"from" must be a list/],
    ['move', { from: [1], to: 'x/' }, /must hold strings/],
    ['move', { from: ['keep.txt'] }, /"to" must be a path/],
    ['move', { from: ['keep.txt'], to: 'x/', overwrite: 'yes' }, /"overwrite"/],
    ['move', { from: ['keep.txt', 'other.txt'], to: 'single.txt' }, /must be a folder/],
    ['move', { from: ['keep.txt', 'keep.txt'], to: 'x/' }, /listed twice/],
    ['move', { from: ['f/', 'f/a.txt'], to: 'x/' }, /is inside/],
    ['move', { from: ['keep.txt'], to: '' }, /onto itself/],
    ['move', { from: ['f/'], to: 'f/' }, /into itself/],
    ['copy', { from: ['f/'], to: 'f/sub/' }, /copied into itself/],
    ['move', { from: Array.from({ length: 1001 }, (_, i) => `f${i}.txt`), to: 'x/' }, /at most 1000 paths/],
    ['delete', { paths: Array.from({ length: 1001 }, (_, i) => `f${i}.txt`) }, /at most 1000 paths/],
    ['delete', { paths: ['../x'] }, /FST_S3S_INVALID_KEY/]
  ]
  for (const [route, body, message] of bad) {
    res = await post(app, route, body)
    t.equal(res.statusCode, 400, `${route} ${JSON.stringify(body).slice(0, 60)}`)
    t.match(`${res.json().code} ${res.json().message}`, message)
  }
  res = await app.inject({ method: 'POST', url: '/ns/move', payload: '[1]', headers: { ...XRW, 'content-type': 'application/json' } })
  t.equal(res.statusCode, 400)
  t.ok(await exists(`${folder}keep.txt`))
  t.ok(await exists(`${folder}other.txt`))
})

t.test('per-user spaces: a move cannot reach another user\'s folder', async (t) => {
  const base = `spaces${++folders}/`
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket) },
    browse: { namespaces: { home: { basePath: (user) => `${base}${user}/` } }, authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null }
  })
  await put(`${base}alice/mine.txt`, 'alice')
  await put(`${base}bob/his.txt`, 'bob')
  const as = (user: string): Record<string, string> => ({ ...XRW, 'x-user': user })
  let res = await app.inject({ method: 'POST', url: '/home/move', payload: { from: ['mine.txt'], to: '../bob/' }, headers: as('alice') })
  t.equal(res.statusCode, 400)
  res = await app.inject({ method: 'POST', url: '/home/move', payload: { from: ['../bob/his.txt'], to: 'stolen/' }, headers: as('alice') })
  t.equal(res.statusCode, 400)
  res = await app.inject({ method: 'POST', url: '/home/move', payload: { from: ['his.txt'], to: 'stolen/' }, headers: as('alice') })
  t.same(res.json().failed.map((f: { code: string }) => f.code), ['FST_S3S_NOT_FOUND'], 'bob\'s names mean nothing in alice\'s space')
  t.equal(await text(`${base}bob/his.txt`), 'bob')
  res = await app.inject({ method: 'POST', url: '/home/move', payload: { from: ['mine.txt'], to: 'kept/' }, headers: as('alice') })
  t.same(res.json().moved, [{ from: 'mine.txt', to: 'kept/mine.txt' }])
  t.equal(await text(`${base}alice/kept/mine.txt`), 'alice', 'inside alice\'s folder')
  res = await app.inject({ method: 'POST', url: '/home/delete', payload: { paths: ['his.txt'] }, headers: as('alice') })
  t.equal(res.statusCode, 200)
  t.ok(await exists(`${base}bob/his.txt`), 'a delete in alice\'s space leaves bob\'s file alone')
})

t.test('POST <ns>/delete: files and folders, permissions, audit', async (t) => {
  const { app, folder, denied, records } = await routeApp(t)
  for (const name of ['a.txt', 'b.txt', 'dir/x.txt', 'dir/sub/y.txt', 'keep/z.txt']) await put(folder + name, name)
  denied.add('delete:keep/')
  let res = await post(app, 'delete', { paths: ['a.txt', 'keep/'] })
  t.equal(res.statusCode, 403)
  t.ok(await exists(`${folder}a.txt`), 'nothing deleted')
  res = await post(app, 'delete', { paths: ['a.txt', 'dir/'] }, { accept: 'application/json' })
  t.equal(res.statusCode, 403, 'CSRF')
  res = await post(app, 'delete', { paths: ['a.txt', 'b.txt', 'dir/'] })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { deleted: 4, failed: [] })
  for (const name of ['a.txt', 'b.txt', 'dir/x.txt', 'dir/sub/y.txt']) t.notOk(await exists(folder + name), `${name} deleted`)
  t.ok(await exists(`${folder}keep/z.txt`))
  t.same(records.filter((r) => r.action === 'delete' && r.result === 'ok' && r.key !== folder).map((r) => r.key).sort(),
    [`${folder}a.txt`, `${folder}b.txt`, `${folder}dir/`], 'one record per path')
  res = await app.inject({ method: 'GET', url: '/ns/files/', headers: { accept: 'application/json' } })
  t.same(res.json().files.map((f: { name: string }) => f.name), [], 'the listing shows the change')
})

t.test('Accept: application/x-ndjson: progress lines, then the result', async (t) => {
  const { app, folder } = await routeApp(t)
  await mapBounded(Array.from({ length: 30 }, (_, i) => `job/f${i}.txt`), 8, async (name) => await put(folder + name, name))
  const res = await post(app, 'move', { from: ['job/'], to: 'after/' }, { ...XRW, accept: 'application/x-ndjson' })
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /^application\/x-ndjson/)
  const lines = res.body.trim().split('\n').map((l) => JSON.parse(l))
  const last = lines.pop()
  t.equal(last.result, true)
  t.equal(last.moved.length, 30)
  t.same(last.failed, [])
  t.ok(lines.length >= 2, `${lines.length} progress lines`)
  t.same(lines[lines.length - 1], { done: 30, failed: 0, total: 30 })
  t.ok(lines.every((l, i) => i === 0 || l.done >= lines[i - 1].done), 'counts only grow')
  t.equal((await listing(`${folder}after/job/`)).size, 30)
})

t.test('between endpoints: the bytes are streamed, with the same rules', async (t) => {
  const proxy = await startHttpFaultProxy(s3.endpoint, () => undefined)
  t.teardown(() => proxy.close())
  const root = `far${++folders}/`
  const app = await buildApp(t, {
    profiles: { main: profileFor(s3, bucket, { prefix: root }), far: profileFor(s3, bucket, { prefix: `${root}far/`, endpoint: proxy.endpoint }) },
    defaultProfile: 'main'
  })
  const ops = app.storage.operations()
  await put(`${root}one.txt`, 'one')
  await put(`${root}tree/a.txt`, 'a')
  await put(`${root}tree/b/c.txt`, 'c')
  const moved = await ops.moveFile('one.txt', { toProfile: 'far' })
  t.equal(moved.method, 'streamed')
  t.equal(await text(`${root}far/one.txt`), 'one')
  t.notOk(await exists(`${root}one.txt`))
  await put(`${root}one.txt`, 'another')
  await t.rejects(ops.moveFile('one.txt', { toProfile: 'far' }), { code: 'FST_S3S_EXISTS' })
  t.equal(await text(`${root}far/one.txt`), 'one', 'not overwritten')
  const folder = await ops.moveFolder('tree/', 'tree/', { toProfile: 'far' })
  t.same(folder.failed, [])
  t.same(folder.moved.map((m) => m.to).sort(), ['tree/a.txt', 'tree/b/c.txt'])
  t.equal(await text(`${root}far/tree/b/c.txt`), 'c')
  t.ok(proxy.seen.some((r) => r.startsWith('PUT ')), 'written through the other endpoint')
})

t.test('a file and a folder of one name: refused as FST_S3S_EXISTS where the store cannot hold both', async (t) => {
  const { ops, root } = await opsApp(t)
  await put(`${root}clash`, 'file')
  await put(`${root}dest/clash/inner.txt`, 'inner')
  // SeaweedFS answers the HEAD of `dest/clash` for its directory; versitygw refuses the copy (ExistingObjectIsDirectory).
  await t.rejects(ops.moveFile('clash', { toFilename: 'dest/clash' }), { code: 'FST_S3S_EXISTS', statusCode: 409 })
  t.equal(await text(`${root}clash`), 'file', 'the source stays')
  await put(`${root}tree/x/y.txt`, 'y')
  await put(`${root}to/tree/x`, 'a file where a folder goes')
  const folder = await ops.moveFolder('tree/', 'to/tree/')
  if (s3.kind === 'versitygw') {
    t.same(folder.failed.map((f) => [f.from, f.code]), [['tree/x/y.txt', 'FST_S3S_EXISTS']])
    t.match(folder.failed[0].message, /a file and a folder would share a name/)
    t.equal(await text(`${root}tree/x/y.txt`), 'y', 'the source stays')
  } else {
    t.same(folder.failed, [], 'SeaweedFS holds a file beside a folder of the same name')
    t.equal(await text(`${root}to/tree/x/y.txt`), 'y')
  }
})

t.test('over a real socket: a client that goes away stops the move after the batch in progress; the same request finishes it', async (t) => {
  const { app, folder } = await routeApp(t)
  const names = Array.from({ length: 1200 }, (_, i) => `gone/f${i}.txt`)
  await mapBounded(names, 16, async (name) => await put(folder + name, name))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  // The request's own audit record is written when its handler is done.
  const over = new Promise<AuditRecord>((resolve) => app.storageAudit.on('record', (r) => { if (r.action === 'move' && r.key === `${folder}away/`) resolve(r) }))
  await new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/ns/move', headers: { 'content-type': 'application/json', 'x-requested-with': 'test', accept: 'application/x-ndjson' } }, (res) => {
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', () => {})
    req.end(JSON.stringify({ from: ['gone/'], to: 'away/' }))
  })
  await over
  const left = await listing(`${folder}gone/`)
  const there = await listing(`${folder}away/gone/`)
  t.ok(left.size >= 200 && left.size < 1200, `${1200 - left.size} moved, then it stopped`)
  t.equal(left.size + there.size, 1200, 'none lost, none twice')
  const again = await post(app, 'move', { from: ['gone/'], to: 'away/' })
  t.same(again.json().failed, [])
  t.equal(again.json().moved.length, left.size, 'the second request moves what was left')
  t.equal((await listing(`${folder}away/gone/`)).size, 1200)
  t.equal((await listing(`${folder}gone/`)).size, 0)
})

t.test('S3 refusing deletes and HEADs: every path is reported, nothing is lost', async (t) => {
  let refuse: 'all' | 'one key' | 'none' = 'none'
  let refusedKey = ''
  const denied: InjectedError = { status: 403, code: 'AccessDenied', message: 'injected by the test' }
  const proxy = await startHttpFaultProxy(s3.endpoint, (method, url) => {
    if (refuse === 'none') return undefined
    if (method === 'POST' && /[?&]delete/.test(url)) {
      if (refuse === 'all') return denied
      // A 200 DeleteResult that lists one key as refused (S3 reports per-key failures so).
      return { ...denied, status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult><Error><Key>${refusedKey}</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>` }
    }
    if (method === 'HEAD' && url.includes('/blocked/')) return { ...denied, message: '' }
    return undefined
  })
  t.teardown(() => proxy.close())
  const { app, folder } = await routeApp(t, {}, proxy.endpoint)
  refusedKey = `${folder}refused.txt`
  for (const name of ['a.txt', 'dir/x.txt', 'refused.txt']) await put(folder + name, name)

  refuse = 'all'
  let res = await post(app, 'delete', { paths: ['a.txt', 'dir/'] })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    deleted: 0,
    failed: [{ path: 'a.txt', code: 'FST_S3S_ACCESS_DENIED', message: 'a.txt was not deleted (FST_S3S_ACCESS_DENIED)' }, { path: 'dir/', code: 'FST_S3S_ACCESS_DENIED', message: 'Access denied by S3: AccessDenied for dir/' }]
  })
  t.ok(await exists(`${folder}a.txt`))
  t.ok(await exists(`${folder}dir/x.txt`))

  refuse = 'one key'
  res = await post(app, 'delete', { paths: ['refused.txt'] })
  t.same(res.json().failed, [{ path: 'refused.txt', code: 'FST_S3S_ACCESS_DENIED', message: 'Access denied by S3: AccessDenied for refused.txt' }], 'a key S3 refused in a 200 answer')
  t.ok(await exists(refusedKey))

  // The target's HEAD refused: the file is not moved, and says why.
  res = await post(app, 'move', { from: ['a.txt'], to: 'blocked/' })
  t.same(res.json().failed.map((f: { from: string, code: string }) => [f.from, f.code]), [['a.txt', 'FST_S3S_ACCESS_DENIED']])
  res = await post(app, 'move', { from: ['dir/'], to: 'blocked/' })
  t.same(res.json().failed.map((f: { from: string, code: string }) => [f.from, f.code]), [['dir/x.txt', 'FST_S3S_ACCESS_DENIED']])
  refuse = 'none'
  t.ok(await exists(`${folder}a.txt`))
  t.ok(await exists(`${folder}dir/x.txt`))
})

t.test('a multipart copy (what objects over 5 GiB get) carries If-None-Match on its Complete', async (t) => {
  const root = `multipart${++folders}/`
  const big = randomBytes(6 * 1024 * 1024)
  await put(`${root}big.bin`, big)
  await put(`${root}taken.bin`, 'taken')
  const params = { multipartThreshold: 1, partSize: 5 * 1024 * 1024, ifNoneMatch: true }
  await t.rejects(copyObject(raw, { from: { bucket, key: `${root}big.bin` }, to: { bucket, key: `${root}taken.bin` }, ...params }), { name: 'PreconditionFailed' })
  t.equal(await text(`${root}taken.bin`), 'taken', 'the existing target is untouched')
  const copied = await copyObject(raw, { from: { bucket, key: `${root}big.bin` }, to: { bucket, key: `${root}new.bin` }, ...params })
  t.equal(copied.size, big.length)
  const res = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: `${root}new.bin` }))
  t.ok(Buffer.from(await res.Body!.transformToByteArray()).equals(big), 'every byte copied, in two parts')
})
