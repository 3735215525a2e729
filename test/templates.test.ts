// The browse pages on the server side, through inject: templates and their overrides (templateFolder,
// extraHead, static), the hashed assets, the page headers, error pages, pagination and sort links, and the
// share-link route the page uses.
import t from 'tap'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyView from '@fastify/view'
import { Eta } from 'eta'
import s3Storage, { type AuditRecord, type BrowseOptions } from '../src/index.js'
import { pickEncoding } from '../src/browse/assets.js'
import { createViewEngine } from '../src/browse/views.js'
import { bucketName, buildApp, profileFor, startS3, type Teardown } from './helper.js'

const s3 = await startS3(t)
const bucket = bucketName('pages')
await s3.createBucket(bucket)

const JSON_ACCEPT = { accept: 'application/json' }

async function appWith (t: Teardown, browse: BrowseOptions): Promise<FastifyInstance> {
  return await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse })
}

async function tempDir (t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 's3s-views-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function put (dir: string, file: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
  await writeFile(path.join(dir, file), content)
}

const assetUrl = (html: string, ext: 'css' | 'js'): string => {
  const match = new RegExp(`"([^"]*/_s3s/assets/browse\\.[0-9a-f]{12}\\.${ext})"`).exec(html)
  if (match === null) throw new Error(`no ${ext} asset in the page`)
  return match[1]
}

t.test('the folder page: bundled templates, hashed assets, a strict CSP, escaped names', async (t) => {
  const app = await appWith(t, { namespaces: { p: { basePath: 'page' } } })
  await app.storage.operations().uploadFile('x', '<img src=x onerror=alert(1)>.png', { location: 'page', preserveFilename: true })
  await app.storage.operations().uploadFile('x', 'sub/readme.txt', { location: 'page', preserveFilename: true })
  const res = await app.inject({ url: '/p/files/', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/, 'scripts only from the page origin')
  t.match(csp, /style-src 'self'(;|$)/, 'no inline styles either')
  t.match(csp, /default-src 'none'/)
  t.match(csp, /frame-ancestors 'self'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  // Kept only by the user's own browser, and only shown after an ETag revalidation (test/warm-pages.test.ts).
  t.equal(res.headers['cache-control'], 'private, no-cache')
  t.notMatch(res.body, /<script>|<style>|\sstyle="|\son[a-z]+="/i, 'no inline script, style or handler anywhere')
  t.match(res.body, /&lt;img src=x onerror=alert\(1\)&gt;\.png/)
  t.notMatch(res.body, /<img src=x/)
  t.match(res.body, /<link rel="stylesheet" href="\/_s3s\/assets\/browse\.[0-9a-f]{12}\.css">/)
  t.match(res.body, /<script src="\/_s3s\/assets\/browse\.[0-9a-f]{12}\.js"><\/script>/)
  t.match(res.body, /data-folder-url="\/p\/files\/"/)
  t.match(res.body, /<nav class="crumbs" aria-label="Breadcrumb">/)
  t.match(res.body, /href="\/p\/files\/sub\/"/, 'folder rows link into the folder')
})

t.test('assets: immutable, content-hashed, compressed, 304 and 404', async (t) => {
  const app = await appWith(t, { prefix: '/storage', namespaces: { p: { basePath: 'page' } } })
  const page = await app.inject({ url: '/storage/p/files/', headers: { accept: 'text/html' } })
  const css = assetUrl(page.body, 'css')
  t.ok(css.startsWith('/storage/_s3s/assets/'), 'under the browse prefix')
  const plain = await app.inject({ url: css, headers: { 'accept-encoding': 'identity' } })
  t.equal(plain.statusCode, 200)
  t.equal(plain.headers['content-type'], 'text/css; charset=utf-8')
  t.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(plain.headers.vary, 'accept-encoding')
  t.equal(plain.headers['content-encoding'], undefined)
  t.match(plain.body, /prefers-color-scheme: dark/)
  const br = await app.inject({ url: css, headers: { 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(br.headers['content-encoding'], 'br')
  t.equal(brotliDecompressSync(br.rawPayload).toString(), plain.body)
  t.ok(br.rawPayload.length < plain.rawPayload.length / 2, 'compressed well')
  const gz = await app.inject({ url: css, headers: { 'accept-encoding': 'gzip, br;q=0' } })
  t.equal(gz.headers['content-encoding'], 'gzip')
  t.equal(gunzipSync(gz.rawPayload).toString(), plain.body)
  const etag = plain.headers.etag as string
  t.match(css, etag.replaceAll('"', ''), 'the ETag is the content hash in the name')
  t.equal((await app.inject({ url: css, headers: { 'if-none-match': etag } })).statusCode, 304)
  const js = await app.inject(assetUrl(page.body, 'js'))
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
  for (const url of ['/storage/_s3s/assets/browse.000000000000.css', '/storage/_s3s/assets/browse.css', '/storage/_s3s/assets/..%2fpackage.json']) {
    t.equal((await app.inject(url)).statusCode, 404, url)
  }
  t.equal(pickEncoding('gzip;q=0, br;q=0'), 'identity')
  t.equal(pickEncoding(undefined), 'identity')
})

t.test('templateFolder: the host files win, everything else falls back to the bundled templates', async (t) => {
  const dir = await tempDir(t)
  await put(dir, 'partials/file-list.eta', '<ul class="host-list"><% it.files.forEach(function (f) { %><li data-host-row><%= f.name %> (<%= f.sizeText %>)</li><% }) %></ul>')
  await put(dir, 'partials/extra-head.eta', '<meta name="host-extra" content="<%= it.namespace %>">\n<link rel="stylesheet" href="/host.css">')
  await put(dir, 'error.eta', '<% layout(\'layout\', { title: \'Oops\' }) %><h1>Host error <%= it.statusCode %></h1><p><%= it.hint %></p>')
  const app = await appWith(t, { templateFolder: dir, namespaces: { o: { basePath: 'override' } } })
  await app.storage.operations().uploadFile('hello', '"q" & <b>.txt', { location: 'override', preserveFilename: true })
  const page = await app.inject({ url: '/o/files/', headers: { accept: 'text/html' } })
  t.match(page.body, /<ul class="host-list"><li data-host-row>&quot;q&quot; &amp; &lt;b&gt;\.txt \(5 B\)<\/li><\/ul>/, 'the override renders, autoescaped')
  t.match(page.body, /<meta name="host-extra" content="o">\n<link rel="stylesheet" href="\/host.css">\n<\/head>|<meta name="host-extra" content="o">[\s\S]*<\/head>/, 'extraHead lands in <head>')
  t.match(page.body, /<header class="topbar">/, 'files.eta is still the bundled one')
  t.match(page.body, /<nav class="crumbs"/)
  t.match(page.body, /data-upload-form/, 'the bundled upload-form partial still renders')
  t.match(page.body, /<symbol id="i-folder"/, 'the bundled icon sprite still renders')
  const missing = await app.inject('/o/files/nope.txt')
  t.equal(missing.statusCode, 404)
  t.match(missing.body, /<h1>Host error 404<\/h1>/)
  t.match(missing.body, /moved, renamed or deleted/)
  t.match(missing.body, /<link rel="stylesheet" href="\/_s3s\/assets\/browse\.[0-9a-f]{12}\.css">/, 'the bundled layout wraps the host page')
})

t.test('a host page can include bundled partials and fill the extraHead block', async (t) => {
  const dir = await tempDir(t)
  await put(dir, 'files.eta', [
    '<% layout(\'layout\', { title: \'Host files\' }) %>',
    '<% block(\'extraHead\', () => { %><meta name="from-block" content="yes"><% }) %>',
    '<main id="main" data-app data-folder-url="<%= it.folderUrl %>"><h1>Host page for <%= it.folderName %></h1>',
    '<div data-listing><%~ include(\'partials/file-list\', it) %><%~ include(\'partials/pagination\', it) %></div></main>'
  ].join('\n'))
  const app = await appWith(t, { templateFolder: dir, namespaces: { h: { basePath: 'hostpage' } } })
  await app.storage.operations().uploadFile('x', 'a.txt', { location: 'hostpage', preserveFilename: true })
  const res = await app.inject({ url: '/h/files/', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 200)
  t.match(res.body, /<h1>Host page for h<\/h1>/)
  t.match(res.body, /data-name="a.txt"/, 'the bundled file-list partial, included from a host page')
  t.match(res.body, /<meta name="from-block" content="yes">[\s\S]*<\/head>/, 'the block lands in the layout head')
})

t.test('static overrides: <templateFolder>/static/browse.css replaces the bundled one, with its own hash', async (t) => {
  const dir = await tempDir(t)
  await put(dir, 'static/browse.css', ':root { --accent: #c0175d; }\n')
  const app = await appWith(t, { templateFolder: dir, namespaces: { s: { basePath: 'static' } } })
  const bundled = await appWith(t, { namespaces: { s: { basePath: 'static' } } })
  const page = await app.inject({ url: '/s/files/', headers: { accept: 'text/html' } })
  const css = assetUrl(page.body, 'css')
  t.not(css, assetUrl((await bundled.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body, 'css'), 'a different content hash')
  t.equal(assetUrl(page.body, 'js'), assetUrl((await bundled.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).body, 'js'), 'the script falls back to the bundled one')
  t.equal((await app.inject({ url: css, headers: { 'accept-encoding': 'identity' } })).body, ':root { --accent: #c0175d; }\n')
})

t.test('another @fastify/view user in the host app is unaffected, registered before or after the plugin', async (t) => {
  const hostViews = await tempDir(t)
  await put(hostViews, 'files.eta', '<p>Host files page: <%= it.who %></p>')
  await put(hostViews, 'layout.eta', '<div class="host-layout"><%~ it.body %></div>')
  for (const order of ['before', 'after']) {
    const app = Fastify()
    t.teardown(() => app.close())
    const registerHostView = async (): Promise<void> => {
      await app.register(fastifyView, { engine: { eta: new Eta() }, root: hostViews })
    }
    if (order === 'before') await registerHostView()
    await app.register(s3Storage, { profiles: { main: profileFor(s3, bucket) }, browse: { namespaces: { v: { basePath: 'view' } } } })
    if (order === 'after') await registerHostView()
    app.get('/host', async (_req, reply) => reply.view('files', { who: '<you>' }))
    app.get('/host-layout', async (_req, reply) => reply.view('files', { who: 'x' }, { layout: 'layout' }))
    const host = await app.inject('/host')
    t.equal(host.body, '<p>Host files page: &lt;you&gt;</p>', `${order}: the host's own files.eta`)
    t.equal((await app.inject('/host-layout')).body, '<div class="host-layout"><p>Host files page: x</p></div>', `${order}: the host's own layout`)
    const browse = await app.inject({ url: '/v/files/', headers: { accept: 'text/html' } })
    t.equal(browse.statusCode, 200)
    t.match(browse.body, /<header class="topbar">/, `${order}: the browse page is still ours`)
    t.notMatch(browse.body, /Host files page/)
    t.equal((await app.inject('/host')).body, host.body, `${order}: and the host's again after ours rendered`)
  }
})

t.test('the view engine resolves names inside its folders only', async (t) => {
  const dir = await tempDir(t)
  const eta = createViewEngine(dir)
  t.throws(() => eta.resolvePath!('../package.json', {}), { code: 'FST_S3S_INVALID_ARGUMENT' })
  t.throws(() => eta.resolvePath!('partials/../../x', {}), { code: 'FST_S3S_INVALID_ARGUMENT' })
  t.match(eta.resolvePath!('/layout', {}), /views[/\\]layout\.eta$/, 'a leading slash means the views root')
})

t.test('error pages: HTML with what to do for browsers, JSON for API clients', async (t) => {
  const app = await appWith(t, {
    namespaces: { e: { basePath: 'errors' } },
    authenticate: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    authorize: (user) => user === 'ok@example.com'
  })
  const cases: Array<[string, Record<string, string>, number, RegExp]> = [
    ['/e/files/', {}, 401, /Sign in/],
    ['/e/files/', { 'x-user': 'no@example.com' }, 403, /Ask whoever manages these files/],
    ['/e/files/a/missing.txt', { 'x-user': 'ok@example.com' }, 404, /moved, renamed or deleted/],
    ['/e/files/a%5cb.txt', { 'x-user': 'ok@example.com' }, 400, /address is not valid/]
  ]
  for (const [url, headers, status, hint] of cases) {
    const html = await app.inject({ url, headers })
    t.equal(html.statusCode, status, url)
    t.equal(html.headers['content-type'], 'text/html; charset=utf-8')
    t.match(html.headers['content-security-policy'], /script-src 'self'/)
    t.match(html.body, new RegExp(`<h1>${status}</h1>`))
    t.match(html.body, hint)
    const json = await app.inject({ url, headers: { ...headers, ...JSON_ACCEPT } })
    t.equal(json.statusCode, status)
    t.equal(json.json().statusCode, status)
  }
  const missing = await app.inject({ url: '/e/files/a/missing.txt', headers: { 'x-user': 'ok@example.com' } })
  t.match(missing.body, /href="\/e\/files\/a\/"/, 'back to the folder that held it')
  const bad = await app.inject({ url: '/e/files/a%5cb.txt', headers: { 'x-user': 'ok@example.com' } })
  t.match(bad.body, /href="\/e\/files\/"/, 'after a 400, back to the namespace root')
})

t.test('pagination: next, previous and first links over forward-only cursors; sort links', async (t) => {
  const app = await appWith(t, { namespaces: { pg: { basePath: 'pages', pageSize: 2 } } })
  for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']) {
    await app.storage.operations().uploadFile(name.repeat(name.charCodeAt(0) - 96), name, { location: 'pages', preserveFilename: true })
  }
  const names = (html: string): string[] => [...html.matchAll(/<tr class="row" data-kind="file" data-name="([^"]+)"/g)].map((m) => m[1])
  const link = (html: string, rel: string): string | undefined => {
    const match = new RegExp(`href="([^"]+)" rel="${rel}"`).exec(html)
    return match?.[1].replaceAll('&amp;', '&')
  }
  const one = (await app.inject({ url: '/pg/files/', headers: { accept: 'text/html' } })).body
  t.same(names(one), ['a.txt', 'b.txt'])
  t.match(one, /Page 1/)
  t.equal(link(one, 'prev'), undefined)
  const two = (await app.inject({ url: link(one, 'next')!, headers: { accept: 'text/html' } })).body
  t.same(names(two), ['c.txt', 'd.txt'])
  t.match(two, /Page 2/)
  t.equal(link(two, 'prev'), '/pg/files/', 'page 2 goes back to the first page')
  const three = (await app.inject({ url: link(two, 'next')!, headers: { accept: 'text/html' } })).body
  t.same(names(three), ['e.txt'])
  t.match(three, /Page 3/)
  t.equal(link(three, 'next'), undefined)
  const back = (await app.inject({ url: link(three, 'prev')!, headers: { accept: 'text/html' } })).body
  t.same(names(back), ['c.txt', 'd.txt'], 'previous from page 3 is page 2 again')
  t.match(back, /Page 2/)
  t.match(three, /href="\/pg\/files\/">First page<\/a>/)

  const bySize = (await app.inject({ url: '/pg/files/?sort=size&order=desc', headers: { accept: 'text/html' } })).body
  t.same(names(bySize), ['b.txt', 'a.txt'], 'the page is sorted by size, largest first')
  t.match(bySize, /<th scope="col" class="col-size" aria-sort="descending">/)
  t.match(bySize, /href="\/pg\/files\/\?sort=size"/, 'the active column flips its order')
  t.match(bySize, /Sorting orders the entries of this page/)
  t.same(names((await app.inject({ url: '/pg/files/?sort=bogus', headers: { accept: 'text/html' } })).body), ['a.txt', 'b.txt'], 'unknown sorts are by name')
})

t.test('share links: GET /<ns>/link/<key> returns a presigned URL, authorized and audited as a download', async (t) => {
  const app = await appWith(t, {
    namespaces: { l: { basePath: 'links' } },
    authorize: (user, action, ns, key) => !(action === 'download' && key === 'secret.txt')
  })
  const records: AuditRecord[] = []
  app.storageAudit.on('record', (r) => records.push(r))
  await app.storage.operations().uploadFile('shared body', '공유 파일.txt', { location: 'links', preserveFilename: true })
  await app.storage.operations().uploadFile('no', 'secret.txt', { location: 'links', preserveFilename: true })
  const res = await app.inject({ url: '/l/link/' + encodeURIComponent('공유 파일.txt') + '?minutes=1440', headers: JSON_ACCEPT })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const { url, expiresIn } = res.json()
  t.equal(expiresIn, 86400)
  t.match(url, /X-Amz-Signature=/)
  t.equal(await (await fetch(url)).text(), 'shared body', 'the link works without the app')
  t.equal((await app.inject('/l/link/' + encodeURIComponent('공유 파일.txt'))).json().expiresIn, 3600, 'an hour by default')
  t.equal(records.filter((r) => r.action === 'download' && r.result === 'ok').length, 2)
  t.equal((await app.inject('/l/link/missing.txt')).statusCode, 404)
  t.equal((await app.inject('/l/link/secret.txt')).statusCode, 403)
  t.equal(records.at(-1)?.result, 'denied')
  for (const bad of ['/l/link/folder/', '/l/link/x.txt?minutes=0', '/l/link/x.txt?minutes=99999', '/l/link/x.txt?minutes=abc', '/l/link/a%5cx.txt', '/l/link/a/%252e%252e/x.txt']) {
    t.equal((await app.inject(bad)).statusCode, 400, bad)
  }
})

t.test('presign namespaces allow the S3 endpoint in connect-src, others do not', async (t) => {
  const app = await appWith(t, { namespaces: { d: { uploadMode: 'presign', basePath: 'csp' }, s: { basePath: 'csp' }, c: { objectHostname: 'https://cdn.example/base' } } })
  const origin = new URL(s3.endpoint).origin
  t.match((await app.inject({ url: '/d/files/', headers: { accept: 'text/html' } })).headers['content-security-policy'], `connect-src 'self' ${origin}`)
  t.match((await app.inject({ url: '/s/files/', headers: { accept: 'text/html' } })).headers['content-security-policy'], /connect-src 'self';/)
  const cdn = String((await app.inject({ url: '/c/files/', headers: { accept: 'text/html' } })).headers['content-security-policy'])
  t.match(cdn, /img-src 'self' data: blob: https:\/\/cdn\.example;/, 'previews may load from the CDN')
  t.match(cdn, /media-src 'self' blob: https:\/\/cdn\.example;/)
})
