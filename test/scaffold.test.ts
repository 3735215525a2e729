// `npx fastify-s3-storage scaffold <folder> [--with-static]`: copies the templates (and the assets) for
// editing; the copy works as a templateFolder as it is, and edits to it show.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { BUNDLED_ASSETS } from '../src/browse/assets.js'
import { BUNDLED_VIEWS } from '../src/browse/views.js'
import { bucketName, buildApp, profileFor, startS3, type Teardown } from './helper.js'

const run = promisify(execFile)
const CLI = path.resolve('bin/fastify-s3-storage.js')

async function cli (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

async function tempDir (t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-scaffold-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function files (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort()
}

t.test('package.json exposes the command and ships what it copies', async (t) => {
  const pkg = JSON.parse(await readFile('package.json', 'utf8'))
  t.equal(pkg.bin['fastify-s3-storage'], './bin/fastify-s3-storage.js')
  for (const dir of ['bin', 'views', 'assets', 'dist']) t.ok(pkg.files.includes(dir), `files includes ${dir}`)
  t.match(await readFile(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/)
})

t.test('usage: --help, no arguments, unknown commands and options', async (t) => {
  const help = await cli('--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: fastify-s3-storage scaffold <folder> \[--with-static\]/)
  t.equal((await cli()).code, 1)
  const unknown = await cli('deploy', 'x')
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /Unknown command: deploy x/)
  const option = await cli('scaffold', 'x', '--colour')
  t.equal(option.code, 1)
  t.match(option.stderr, /Unknown option --colour/)
})

t.test('scaffold copies every template as it is, and refuses to overwrite without --force', async (t) => {
  const dir = await tempDir(t)
  const target = path.join(dir, 'my-views')
  const first = await cli('scaffold', target)
  t.equal(first.code, 0, first.stderr)
  // As many as there are bundled templates (each feature may add pages and partials).
  const bundled = (await files(BUNDLED_VIEWS)).filter((f) => f.endsWith('.eta'))
  t.match(first.stdout, new RegExp(`Copied ${bundled.length} files`))
  t.match(first.stdout, /templateFolder/)
  t.same(await files(target), bundled, 'every template, partials included, and nothing else')
  t.ok(bundled.includes(path.join('partials', 'file-list.eta')))
  for (const f of bundled) t.equal(await readFile(path.join(target, f), 'utf8'), await readFile(path.join(BUNDLED_VIEWS, f), 'utf8'), f)

  await writeFile(path.join(target, 'files.eta'), 'edited')
  const again = await cli('scaffold', target)
  t.equal(again.code, 1)
  t.match(again.stderr, new RegExp(`${bundled.length} file\\(s\\) already exist .*nothing was copied\\. Use --force`))
  t.equal(await readFile(path.join(target, 'files.eta'), 'utf8'), 'edited', 'nothing was overwritten')
  t.equal((await cli('scaffold', target, '--force')).code, 0)
  t.equal(await readFile(path.join(target, 'files.eta'), 'utf8'), await readFile(path.join(BUNDLED_VIEWS, 'files.eta'), 'utf8'))
})

t.test('--with-static adds the assets; the copy works as a templateFolder and edits to it show', async (t) => {
  const dir = await tempDir(t)
  const res = await cli('scaffold', dir, '--with-static')
  t.equal(res.code, 0, res.stderr)
  t.same((await files(dir)).filter((f) => f.startsWith('static')), ['static/browse.css', 'static/browse.js', 'static/multipart.js', 'static/selection.js'].map((f) => path.join(...f.split('/'))))
  t.equal(await readFile(path.join(dir, 'static', 'browse.js'), 'utf8'), await readFile(path.join(BUNDLED_ASSETS, 'browse.js'), 'utf8'))

  const s3 = await startS3(t)
  const bucket = bucketName('scaffold')
  await s3.createBucket(bucket)
  const options = (templateFolder?: string) => ({ profiles: { main: profileFor(s3, bucket) }, browse: { templateFolder, namespaces: { s: {} } } })
  const stripToken = (html: string): string => html.replace(/(_csrf=|name="_csrf" value=")[^"&]+/g, '$1')
  const bundled = await buildApp(t, options())
  const scaffolded = await buildApp(t, options(dir))
  t.equal(stripToken((await scaffolded.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body), stripToken((await bundled.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body), 'an unedited copy renders the same page')

  await writeFile(path.join(dir, 'partials', 'pagination.eta'), '<p class="mine">my footer for <%= it.folderName %></p>')
  await writeFile(path.join(dir, 'static', 'browse.css'), (await readFile(path.join(dir, 'static', 'browse.css'), 'utf8')) + '\n.mine { font-weight: 700; }\n')
  const edited = await buildApp(t, options(dir))
  const page = (await edited.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body
  t.match(page, /<p class="mine">my footer for s<\/p>/)
  const css = /href="([^"]+\.css)"/.exec(page)![1]
  t.notMatch((await bundled.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body, css, 'the edited stylesheet has a new hash')
  t.match((await edited.inject({ url: css, headers: { 'accept-encoding': 'identity' } })).body, /\.mine \{ font-weight: 700; \}/)
})
