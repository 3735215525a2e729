// The package as users install it: what `npm pack` ships, whether its types resolve (are-the-types-wrong),
// and that an app wanting only req.storage never loads the browse routes or the packages only they need.
import t from 'tap'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = path.resolve('.')

t.test('npm pack ships the build, templates, assets and sources, and nothing of tests or caches', async (t) => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path)
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/dev/index.js', 'dist/dev/local-s3.js', 'views/files.eta', 'views/index.eta', 'assets/browse.js', 'bin/fastify-s3-storage.js', 'package.json', 'README.md']) {
    t.ok(files.includes(needed), needed)
  }
  const stray = files.filter((f) => /^(test|bench|scripts|examples|docs|types|\.cache|\.data|\.tap|coverage|node_modules)\//.test(f) || /\.test\.|\.tst\./.test(f))
  t.same(stray, [], 'no tests, benchmarks, caches or data')
})

t.test('are-the-types-wrong finds no problem for an ESM package (attw --pack --profile esm-only)', async (t) => {
  const { stdout } = await run('npx', ['attw', '--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped'], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  t.match(stdout, /node16 \(from ESM\)/)
  t.notMatch(stdout, /❌|🐛|🥴/u, 'no failed resolution, bug or masquerading types')
})

/**
 * Imports the built plugin in a child Node with a resolve hook recording every module it loads, registers
 * it (with `browse` when asked), and answers the resolved URLs.
 */
async function modulesLoaded (withBrowse: boolean): Promise<string[]> {
  const entry = pathToFileURL(path.join(root, 'dist/index.js')).href
  const options = JSON.stringify({ profiles: { main: { bucket: 'lazy-bucket', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'k', secretAccessKey: 's' } } }, ...(withBrowse ? { browse: { namespaces: { docs: {} } } } : {}) })
  const script = `
    import { registerHooks } from 'node:module'
    const seen = []
    registerHooks({ resolve (specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
    const { default: Fastify } = await import('fastify')
    const { default: s3Storage } = await import(${JSON.stringify(entry)})
    const app = Fastify()
    await app.register(s3Storage, ${options})
    await app.ready()
    await app.close()
    console.log(JSON.stringify(seen))
  `
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root })
  return JSON.parse(stdout) as string[]
}

const BROWSE_ONLY = /\/(@fastify\/(view|cookie|csrf-protection|multipart)|eta)\/|\/dist\/browse\//

t.test('without browse, the browse routes and their packages are never loaded', async (t) => {
  const plain = await modulesLoaded(false)
  t.ok(plain.some((url) => url.endsWith('/dist/index.js')), 'the plugin itself was loaded')
  t.same(plain.filter((url) => BROWSE_ONLY.test(url)), [], 'no @fastify/view, eta, cookie, CSRF, multipart or browse module')
  const browsing = await modulesLoaded(true)
  for (const name of ['@fastify/view', 'eta', '@fastify/csrf-protection', '@fastify/multipart', 'dist/browse/routes.js']) {
    t.ok(browsing.some((url) => url.includes(`/${name}`)), `with browse, ${name} is loaded`)
  }
})
