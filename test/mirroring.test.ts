// Clients that mirror a tree by following links (wget --mirror, rclone's http backend) get the plain,
// complete index of every folder, whatever the page size: every file arrives, with its bytes.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { bucketName, buildApp, profileFor, startS3, type Teardown } from './helper.js'

const run = promisify(execFile)
const s3 = await startS3(t)
const bucket = bucketName('mirror')
await s3.createBucket(bucket)
// pageSize 2: the HTML page would show 2 entries and a cursor; mirroring clients must still see them all.
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: { namespaces: { tree: { basePath: 'tree', pageSize: 2 }, small: { basePath: 'tree', indexMaxEntries: 3 } } }
})
const origin = await app.listen({ port: 0, host: '127.0.0.1' })
const ops = app.storage.operations()
const FILES = ['a.txt', 'b.txt', 'c d.txt', 'résumé.txt', 'sub/x.txt', 'sub/y.txt', 'sub/deeper/z.txt', 'sub/deeper/한글.txt']
for (const name of FILES) await ops.uploadFile(`bytes of ${name}`, name, { location: 'tree', preserveFilename: true })

async function tempDir (t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-mirror-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function walk (dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir)) {
    const full = path.join(dir, entry)
    if ((await stat(full)).isDirectory()) out.push(...await walk(full, prefix + entry + '/'))
    else out.push(prefix + entry)
  }
  return out.sort()
}

t.test('the plain index: every entry of a folder, relative links, for clients without text/html', async (t) => {
  const res = await fetch(`${origin}/tree/files/`, { headers: { accept: '*/*' } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  const body = await res.text()
  for (const href of ['a.txt', 'b.txt', 'c%20d.txt', 'r%C3%A9sum%C3%A9.txt', 'sub/']) t.match(body, `<a href="${href}">`, href)
  t.notMatch(body, /<script/, 'no script')
  t.notMatch(body, /cursor=/, 'no pagination')
  const page = await fetch(`${origin}/tree/files/`, { headers: { accept: 'text/html,application/xhtml+xml' } })
  t.match(await page.text(), /cursor=/, 'browsers still get the paginated page')
  const forced = await fetch(`${origin}/tree/files/?format=index`, { headers: { accept: 'text/html' } })
  t.match(await forced.text(), /<a href="c%20d.txt">/, '?format=index asks for it explicitly')
  const json = await fetch(`${origin}/tree/files/`, { headers: { accept: 'application/json' } })
  t.ok(Array.isArray(((await json.json()) as { files?: unknown }).files), 'JSON clients get JSON')
})

t.test('the index is bounded by indexMaxEntries and says so', async (t) => {
  const res = await fetch(`${origin}/small/files/`)
  t.equal(res.headers.get('x-index-truncated'), '3')
  const body = await res.text()
  t.equal(body.match(/<a href="(?!\.\.\/)/g)?.length, 3, 'three entries')
  t.match(body, /Only the first 3 entries are listed/)
})

t.test('wget --mirror copies the whole tree', { skip: !existsSync('/usr/bin/wget') && 'needs wget' }, async (t) => {
  const dir = await tempDir(t)
  await run('wget', ['--mirror', '--no-parent', '--no-host-directories', '--cut-dirs=2', '--reject', 'index.html*', '-q', '-e', 'robots=off', `${origin}/tree/files/`], { cwd: dir }).catch((err: { code?: number }) => {
    // wget exits 8 when some request answered an error (none should): fail with its code.
    if (err.code !== 0) throw err
  })
  t.same(await walk(dir), [...FILES].sort())
  for (const name of FILES) t.equal(await readFile(path.join(dir, name), 'utf8'), `bytes of ${name}`, name)
})

t.test('rclone (http backend) lists and copies the whole tree', { skip: !existsSync('/usr/bin/rclone') && 'needs rclone' }, async (t) => {
  const env = { ...process.env, RCLONE_CONFIG: '/dev/null' }
  const { stdout } = await run('rclone', ['lsf', '-R', '--files-only', '--http-url', `${origin}/tree/files/`, ':http:'], { env })
  t.same(stdout.trim().split('\n').sort(), [...FILES].sort(), 'rclone lsf -R sees every file')
  const dir = await tempDir(t)
  await run('rclone', ['copy', '--http-url', `${origin}/tree/files/`, ':http:', dir], { env })
  t.same(await walk(dir), [...FILES].sort())
  for (const name of FILES) t.equal(await readFile(path.join(dir, name), 'utf8'), `bytes of ${name}`, name)
})
