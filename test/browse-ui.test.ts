// The file browser in a real Chromium (Debian's, see test/browser.ts), against the example app's plugin
// setup (examples/browse-setup.js) on the suite's S3 server, listening on 127.0.0.1.
//
// Screenshots go to a temp folder, kept for looking at (its path is printed as a comment). `S3S_DOCS_SCREENSHOTS=1` also refreshes the
// README's docs/screenshot-light.png and docs/screenshot-dark.png from the freshly seeded sample folder.
import t from 'tap'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { NAMESPACE, browseOptions, seedSamples } from '../examples/browse-setup.js'
import { bucketName, buildApp, profileFor, s3Client, startS3, type Teardown } from './helper.js'
import { hasChromium, launchBrowser, CHROMIUM } from './browser.js'

if (!hasChromium()) {
  t.plan(0, `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does)`)
  process.exit(0)
}

// The page's globals, for the functions Playwright runs in the browser (the project's TypeScript has no DOM lib).
declare const document: any
declare const navigator: any
declare const localStorage: any
declare const getComputedStyle: (el: unknown) => { backgroundColor: string, color: string }
declare const DataTransfer: new () => any
declare const File: new (parts: string[], name: string, options?: { type?: string }) => unknown

const DOCS = process.env.S3S_DOCS_SCREENSHOTS === '1'
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('ui')
await s3.createBucket(bucket)

const shots = await mkdtemp(path.join(tmpdir(), 's3s-ui-screenshots-'))
t.comment(`screenshots: ${shots}`)

/** The example's plugin setup, plus two namespaces for the upload rules and presign mode. */
async function exampleApp (templateFolder?: string): Promise<{ app: FastifyInstance, origin: string }> {
  const options = browseOptions({ templateFolder })
  options.namespaces.strict = { profile: 'main', basePath: 'strict', allowedExtensions: ['txt', 'png'], maxUploadBytes: 1024 }
  options.namespaces.direct = { profile: 'main', basePath: 'direct', uploadMode: 'presign' }
  const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: options })
  app.get('/', async (_req, reply) => reply.redirect(`/${NAMESPACE}/files/`))
  app.get('/host.css', async (_req, reply) => reply.type('text/css').send(':root { --accent: rgb(200, 30, 90); }\n'))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening')
  return { app, origin: `http://127.0.0.1:${address.port}` }
}

const { app, origin } = await exampleApp()
await seedSamples(app)
const home = `${origin}/${NAMESPACE}/files/`

// Documentation screenshots use Inter (and Nanum for Hangul) when installed, close to what macOS and
// Windows readers see; the tests themselves run with whatever fonts the machine has.
let env: Record<string, string> | undefined
if (DOCS) {
  const conf = path.join(shots, 'fonts.conf')
  await writeFile(conf, '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>' +
    ['system-ui', 'sans-serif'].map((f) => `<alias binding="strong"><family>${f}</family><prefer><family>Inter</family><family>NanumGothic</family></prefer></alias>`).join('') +
    '</fontconfig>')
  env = { ...process.env as Record<string, string>, FONTCONFIG_FILE: conf }
}
const { context } = await launchBrowser(t, { env })

interface Watched { page: Page, errors: string[], dialogs: string[] }

/** A new tab that records console errors, page errors and any dialog (dismissed). */
async function open (t: Teardown, url: string): Promise<Watched> {
  const page = await context.newPage()
  t.teardown(() => page.close())
  const errors: string[] = []
  const dialogs: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    dialog.dismiss().catch(() => {})
  })
  await page.goto(url)
  return { page, errors, dialogs }
}

async function objectExists (key: string): Promise<boolean> {
  try {
    await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return true
  } catch {
    return false
  }
}

/** Drops files on the page as a user dragging them from the desktop would. */
async function dropFiles (page: Page, target: string, files: Array<[string, string]>): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer()
    for (const [name, body] of list) dt.items.add(new File([body], name, { type: 'text/plain' }))
    return dt
  }, files)
  await page.dispatchEvent(target, 'dragenter', { dataTransfer })
  await page.dispatchEvent(target, 'dragover', { dataTransfer })
  await page.dispatchEvent(target, 'drop', { dataTransfer })
}

const rowNames = async (page: Page): Promise<string[]> => await page.$$eval('tbody tr.row', (rows) => rows.map((r: any) => r.dataset.name ?? ''))

t.test('the page loads with no console errors, under a strict CSP, and looks right', async (t) => {
  const { page, errors } = await open(t, origin + '/')
  t.equal(page.url(), home, '/ leads to the namespace')
  t.equal(await page.locator('h1').textContent(), NAMESPACE)
  t.same(await rowNames(page), ['Music', 'Photos', 'Reports', 'hello.json', 'logo.svg', 'README.md', 'sunset.png', '한글 이름.txt'])
  t.equal(await page.evaluate(() => document.documentElement.className), 'js', 'the script ran (from self, under the CSP)')
  t.match(await page.locator('time').first().getAttribute('title'), /\d/, 'dates are localised')
  const response = await page.request.get(home)
  t.match(response.headers()['content-security-policy'], /script-src 'self'/)
  t.same(errors, [], 'no console errors')
  await page.screenshot({ path: path.join(shots, 'light.png') })
  if (DOCS) {
    await mkdir('docs', { recursive: true })
    await page.screenshot({ path: 'docs/screenshot-light.png' })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.waitForTimeout(300)
    await page.screenshot({ path: 'docs/screenshot-dark.png' })
    await page.emulateMedia({ colorScheme: 'light' })
  }
})

t.test('drag and drop three files: three progress bars reach 100% and the files appear', async (t) => {
  const { page, errors } = await open(t, home + 'Reports/')
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer()
    dt.items.add(new File(['x'], 'probe.txt'))
    return dt
  })
  await page.dispatchEvent('[data-dropzone]', 'dragenter', { dataTransfer })
  t.ok(await page.locator('[data-drop-overlay]').isVisible(), 'dragging files over the page shows where they will go')
  await page.dispatchEvent('[data-dropzone]', 'dragleave', { dataTransfer })
  t.notOk(await page.locator('[data-drop-overlay]').isVisible())

  await dropFiles(page, '[data-dropzone]', [['minutes.txt', 'a'.repeat(70_000)], ['budget 2025.csv', 'q,v\n1,2\n'], ['todo.md', '- ship it\n']])
  // Wait for the server's answers, not only for the bytes to be sent: a bar reaches 100% before the
  // upload is stored, and only the answer turns it into "Uploaded".
  await page.waitForFunction(() => {
    const items: any[] = Array.from(document.querySelectorAll('[data-upload-item]'))
    return items.length === 3 && items.every((item) => item.querySelector('.upload-message')?.textContent === 'Uploaded')
  })
  t.same(await page.$$eval('[data-upload-item] progress', (bars: any[]) => bars.map((bar) => bar.value)), [100, 100, 100])
  const status = await page.$$eval('[data-upload-item] .upload-bytes', (els) => els.map((e) => e.textContent))
  t.same(status.map((s) => /· 100%$/.test(s ?? '')), [true, true, true], 'each shows bytes and 100%')
  t.match(status[0], /68 KB of 68 KB/)
  t.same(await page.$$eval('[data-upload-item] .upload-message', (els) => els.map((e) => e.textContent)), ['Uploaded', 'Uploaded', 'Uploaded'])
  await page.waitForSelector('tr[data-name="budget 2025.csv"]')
  await page.waitForSelector('tr[data-name="todo.md"]')
  t.ok(await page.locator('tr[data-name="minutes.txt"]').isVisible(), 'the listing refreshed in place')
  t.ok(await objectExists('files/Reports/budget 2025.csv'))
  t.match(await page.locator('[data-upload-summary]').textContent(), '3 uploaded')
  await page.screenshot({ path: path.join(shots, 'uploads.png') })
  await page.click('[data-clear-uploads]')
  t.ok(await page.locator('#uploads').isHidden(), 'clearing finished uploads hides the panel')
  t.same(errors, [])
})

t.test('open a folder and come back by the breadcrumb', async (t) => {
  const { page } = await open(t, home)
  await page.click('tr[data-name="Photos"] a.entry')
  await page.waitForURL(home + 'Photos/')
  t.equal(await page.locator('h1').textContent(), 'Photos')
  t.same(await page.$$eval('nav.crumbs .crumb', (els) => els.map((e) => e.textContent?.trim())), [NAMESPACE, 'Photos'])
  t.equal(await page.locator('nav.crumbs [aria-current="page"]').textContent(), 'Photos')
  await page.click(`nav.crumbs a:has-text("${NAMESPACE}")`)
  await page.waitForURL(home)
  t.equal(await page.locator('h1').textContent(), NAMESPACE)
})

t.test('search as you type: an NFC query finds a Korean name uploaded in NFD', async (t) => {
  const nfd = '회의록 최종.txt'.normalize('NFD')
  await app.storage.operations('main').uploadFile('minutes', 'Reports/' + nfd, { location: 'files', preserveFilename: true })
  const { page, errors } = await open(t, home)
  const input = page.locator('[data-search-input]')
  await page.keyboard.press('/')
  t.ok(await input.evaluate((el) => el === document.activeElement), '"/" focuses the search box')
  await page.keyboard.type('회의록'.normalize('NFC'), { delay: 20 })
  await page.waitForSelector(`tr[data-name="${nfd}"]`)
  t.same(await rowNames(page), [nfd], 'only the match, from a subfolder')
  t.match(await page.locator('[data-result-count]').textContent(), /1 match for “회의록” in demo/)
  t.match(await page.locator(`tr[data-name="${nfd}"] .entry-path`).textContent(), 'in Reports/')
  t.equal(new URL(page.url()).searchParams.get('q'), '회의록', 'the address follows the search')
  await input.press('Escape')
  await page.waitForSelector('tr[data-name="Photos"]')
  t.equal(new URL(page.url()).search, '', 'Escape clears it')
  await input.fill('zzz-nothing')
  await page.waitForSelector('[data-empty]')
  t.match(await page.locator('[data-empty]').textContent(), /Check the spelling/)
  t.same(errors, [])
})

t.test('delete with confirmation: cancel keeps the file, confirm deletes it', async (t) => {
  await app.storage.operations('main').uploadFile('bye', 'old draft.txt', { location: 'files', preserveFilename: true })
  const { page } = await open(t, home)
  const row = page.locator('tr[data-name="old draft.txt"]')
  await row.locator('[data-action="delete"]').click()
  const dialog = page.locator('#confirm-dialog')
  t.ok(await dialog.isVisible())
  t.match(await dialog.textContent(), /“old draft.txt” will be deleted for everyone/)
  await page.screenshot({ path: path.join(shots, 'confirm.png') })
  await page.keyboard.press('Escape')
  t.ok(await dialog.isHidden())
  t.ok(await objectExists('files/old draft.txt'), 'cancelling deletes nothing')
  await row.locator('[data-action="delete"]').click()
  await dialog.locator('[data-confirm-ok]').click()
  await row.waitFor({ state: 'detached' })
  t.notOk(await objectExists('files/old draft.txt'))
  t.match(await page.locator('[data-toasts]').textContent(), 'Deleted “old draft.txt”')
})

t.test('a file named <img src=x onerror=alert(1)>.png shows as text and no dialog opens', async (t) => {
  const name = '<img src=x onerror=alert(1)>.png'
  const { page, dialogs } = await open(t, home)
  await dropFiles(page, '[data-dropzone]', [[name, 'not really a png']])
  const row = page.locator('tbody tr.row').filter({ hasText: 'onerror' })
  await row.waitFor()
  t.equal(await row.locator('.entry-name').textContent(), name, 'the name is text')
  await page.reload()
  await row.waitFor()
  t.equal(await row.locator('.entry-name').textContent(), name, 'and so after a full render')
  await page.locator('[data-search-input]').fill('onerror')
  await page.waitForSelector('[data-result-count]')
  t.equal(await row.locator('.entry-name').textContent(), name, 'and in live search results')
  await row.locator('a.entry').click()
  await page.waitForSelector('#preview-dialog[open]')
  t.equal(await page.locator('[data-preview-title]').textContent(), name, 'and in the preview')
  await page.waitForTimeout(300)
  t.equal(await page.locator('img[src="x"]').count(), 0, 'no element came from the name')
  t.same(dialogs, [], 'no dialog opened')
})

t.test('dark mode follows the system, and the toggle is remembered', async (t) => {
  const { page, errors } = await open(t, home)
  const background = async (): Promise<string> => await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
  await page.emulateMedia({ colorScheme: 'dark' })
  t.equal(await background(), 'rgb(13, 15, 19)', 'dark when the system is dark')
  t.equal(await page.locator('tr[data-name="hello.json"] .entry-name').evaluate((el) => getComputedStyle(el).color), 'rgb(238, 240, 244)', 'text turns light at once, no fading')
  await page.screenshot({ path: path.join(shots, 'dark.png') })
  const toggle = page.locator('[data-theme-toggle]')
  t.equal(await toggle.getAttribute('aria-label'), 'Switch to light theme')
  await toggle.click()
  t.equal(await background(), 'rgb(244, 245, 248)', 'the toggle switches to light')
  await page.reload()
  t.equal(await background(), 'rgb(244, 245, 248)', 'remembered across visits')
  t.equal(await page.locator('[data-theme-toggle]').getAttribute('aria-label'), 'Switch to dark theme')
  await page.locator('[data-theme-toggle]').click()
  await page.emulateMedia({ colorScheme: 'light' })
  t.equal(await background(), 'rgb(13, 15, 19)', 'a chosen theme wins over the system')
  await page.evaluate(() => localStorage.clear())
  t.same(errors, [])
})

t.test('preview in place: image, text with arrow keys, Escape returns focus', async (t) => {
  const { page } = await open(t, home)
  await page.click('tr[data-name="sunset.png"] a.entry')
  const dialog = page.locator('#preview-dialog')
  await page.waitForFunction(() => document.querySelector('#preview-dialog img')?.naturalWidth === 480)
  t.equal(await page.locator('[data-preview-title]').textContent(), 'sunset.png')
  await page.screenshot({ path: path.join(shots, 'preview-image.png') })
  await page.keyboard.press('ArrowRight')
  await page.waitForSelector('#preview-dialog pre')
  t.match(await dialog.locator('pre').textContent(), /Unicode names round-trip exactly/, 'the next file, a Korean-named text file')
  await page.keyboard.press('ArrowLeft')
  await page.waitForSelector('#preview-dialog img')
  await page.keyboard.press('Escape')
  t.ok(await dialog.isHidden())
  t.ok(await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.name === 'sunset.png'), 'focus is back on the row')
  await page.goto(home + 'Music/')
  await page.click('tr[data-name="chime.wav"] a.entry')
  await page.waitForFunction(() => document.querySelector('#preview-dialog audio')?.duration === 2)
  t.pass('audio plays in place')
})

t.test('share a presigned link; new folder; sort by size', async (t) => {
  const { page } = await open(t, home)
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
  await page.click('tr[data-name="hello.json"] [data-action="share"]')
  const input = page.locator('[data-share-url]')
  await page.waitForFunction(() => document.querySelector('[data-share-url]').value !== '')
  const url = await input.inputValue()
  t.match(url, /X-Amz-Signature=/)
  t.match(await page.locator('[data-share-status]').textContent(), 'Link copied to the clipboard. It works for 1 hour.')
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), url)
  t.match(await (await fetch(url)).text(), /"hello": "world"/, 'the link works on its own')
  await page.selectOption('[data-share-expiry]', '10080')
  await page.waitForFunction((old) => document.querySelector('[data-share-url]').value !== old && document.querySelector('[data-share-url]').value !== '', url)
  t.match(await page.locator('[data-share-status]').textContent(), 'It works for 7 days.')
  await page.keyboard.press('Escape')

  await page.click('[data-mkdir] summary')
  await page.waitForFunction(() => document.activeElement?.id === 'mkdir-name')
  await page.keyboard.type('Invoices 2025')
  await page.keyboard.press('Enter')
  await page.waitForSelector('tr[data-name="Invoices 2025"]')
  t.ok(await objectExists('files/Invoices 2025/'))

  await page.click('[data-sort="size"]')
  const sizes = await page.$$eval('tbody tr.row[data-kind="file"]', (rows) => rows.map((r: any) => Number(r.dataset.size)))
  t.same(sizes, [...sizes].sort((a, b) => a - b), 'files by size, smallest first')
  t.equal((await rowNames(page))[0], 'Invoices 2025', 'folders stay first')
  t.equal(await page.locator('th.col-size').getAttribute('aria-sort'), 'ascending')
  t.equal(new URL(page.url()).searchParams.get('sort'), 'size')
  await page.click('[data-sort="size"]')
  t.equal(await page.locator('th.col-size').getAttribute('aria-sort'), 'descending')
  await page.reload()
  const reloaded = await page.$$eval('tbody tr.row[data-kind="file"]', (rows) => rows.map((r: any) => Number(r.dataset.size)))
  t.same(reloaded, [...reloaded].sort((a, b) => b - a), 'the server sorts the same way on reload')
})

t.test('upload failures say what to do: extension, size, and 409 with keep both / replace', async (t) => {
  await app.storage.operations('main').uploadFile('original', 'taken.txt', { location: 'strict', preserveFilename: true })
  const { page } = await open(t, `${origin}/strict/files/`)
  t.match(await page.locator('[data-dropzone]').textContent(), /\.txt, \.png · max 1\.0 KB/, 'the limits are shown up front')
  const message = (name: string) => page.locator('[data-upload-item]').filter({ hasText: name }).locator('.upload-message')
  await page.setInputFiles('[data-file-input]', [
    { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') },
    { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(2048, 'x') },
    { name: 'taken.txt', mimeType: 'text/plain', buffer: Buffer.from('second') }
  ])
  t.equal(await message('tool.exe').textContent(), '“.exe” files are not accepted here. Allowed: .txt, .png.')
  t.equal(await message('big.txt').textContent(), 'Too large: this folder accepts files up to 1.0 KB.')
  await page.waitForFunction(() => document.querySelector('[data-upload-item]:nth-child(3) .upload-message')?.textContent === 'A file named “taken.txt” is already here.')
  await page.screenshot({ path: path.join(shots, 'upload-errors.png') })
  const conflict = page.locator('[data-upload-item]').nth(2)
  await conflict.getByRole('button', { name: 'Keep both' }).click()
  await page.waitForSelector('tr[data-name="taken (1).txt"]')
  t.equal(await conflict.locator('.upload-name').textContent(), 'taken (1).txt')
  await page.setInputFiles('[data-file-input]', [{ name: 'taken.txt', mimeType: 'text/plain', buffer: Buffer.from('third') }])
  const again = page.locator('[data-upload-item]').nth(3)
  await again.getByRole('button', { name: 'Replace' }).click()
  // One conditional overwrite of the file the 409 named (browse-versions-ui.test.ts has the lost race).
  await page.waitForFunction(() => document.querySelector('[data-upload-item]:nth-child(4) .upload-message')?.textContent === 'Replaced')
  const file = await app.storage.operations('main').downloadFile('taken.txt', { location: 'strict' })
  t.equal(Buffer.concat(await file.body.toArray()).toString(), 'third', 'replaced after the reader chose to')
})

t.test('cancel an upload in flight, then retry it', async (t) => {
  const { page } = await open(t, home + 'Photos/')
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  // Holds the upload request in the browser, so the cancel lands while it is in flight.
  const folderPost = (url: URL): boolean => url.pathname.endsWith('/Photos/')
  await page.route(folderPost, async (route) => {
    if (route.request().method() !== 'POST') return await route.continue()
    await held
    await route.continue().catch(() => {})
  })
  await page.setInputFiles('[data-file-input]', [{ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('slow') }])
  const item = page.locator('[data-upload-item]')
  await item.locator('.upload-message', { hasText: 'Uploading…' }).waitFor()
  await item.getByRole('button', { name: 'Cancel the upload of slow.txt' }).click()
  t.equal(await item.locator('.upload-message').textContent(), 'Canceled')
  release()
  await page.waitForTimeout(200)
  t.notOk(await objectExists('files/Photos/slow.txt'), 'nothing was stored')
  await page.unroute(folderPost)
  await item.getByRole('button', { name: 'Retry the upload of slow.txt' }).click()
  await item.locator('.upload-message', { hasText: 'Uploaded' }).waitFor()
  t.ok(await objectExists('files/Photos/slow.txt'), 'the retry went through')
})

t.test('presign mode: the browser posts straight to S3 and still shows progress', async (t) => {
  const cors = await app.storage.checkCors('main', { origin, apply: true })
  t.ok(cors.ok || cors.applied)
  const { page, errors } = await open(t, `${origin}/direct/files/`)
  await page.setInputFiles('[data-file-input]', [{ name: 'direct upload.txt', mimeType: 'text/plain', buffer: Buffer.alloc(300_000, 'd') }])
  await page.waitForFunction(() => document.querySelector('[data-upload-item] progress')?.value === 100)
  t.match(await page.locator('[data-upload-item] .upload-bytes').textContent(), /293 KB of 293 KB · 100%/)
  await page.waitForSelector('tr[data-name="direct upload.txt"]')
  t.ok(await objectExists('direct/direct upload.txt'))
  t.same(errors, [])
})

t.test('a phone-width screen: no sideways scrolling, the essentials stay', async (t) => {
  const { page } = await open(t, home)
  await page.setViewportSize({ width: 390, height: 844 })
  t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'nothing wider than the screen')
  t.ok(await page.locator('label[for="file-input"]').isVisible(), 'upload is one tap away')
  t.ok(await page.locator('tr[data-name="hello.json"] .entry-meta').isVisible(), 'size and date under the name')
  t.ok(await page.locator('th.col-size').isHidden())
  await page.screenshot({ path: path.join(shots, 'phone.png'), fullPage: true })
})

t.test('a template override shows, and the rest falls back to the bundled templates', async (t) => {
  const views = await mkdtemp(path.join(tmpdir(), 's3s-ui-views-'))
  t.teardown(() => rm(views, { recursive: true, force: true }))
  await mkdir(path.join(views, 'partials'))
  await writeFile(path.join(views, 'partials', 'extra-head.eta'), '<link rel="stylesheet" href="/host.css">\n')
  await writeFile(path.join(views, 'partials', 'pagination.eta'), '<p class="host-footer">Files of <%= it.folderName %>, served by the host\'s own template</p>\n')
  const custom = await exampleApp(views)
  const { page, errors } = await open(t, `${custom.origin}/${NAMESPACE}/files/`)
  t.equal(await page.locator('.host-footer').textContent(), `Files of ${NAMESPACE}, served by the host's own template`)
  t.equal(await page.locator('label[for="file-input"]').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(200, 30, 90)', 'host CSS from extraHead applies')
  t.ok(await page.locator('tr[data-name="hello.json"]').isVisible(), 'the bundled file list still renders')
  await page.locator('[data-search-input]').fill('hello')
  await page.waitForSelector('[data-result-count]')
  t.match(await page.locator('.host-footer').textContent(), 'served by the host', 'live search swaps in the host template too')
  await page.screenshot({ path: path.join(shots, 'override.png') })
  t.same(errors, [])
})
