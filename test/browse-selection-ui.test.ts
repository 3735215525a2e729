// The browse page's selection (assets/selection.js) in a real Chromium against the real S3 server:
// shift-click ranges and select-all, a zip downloaded through the browser's own download manager (its
// entries read back with Python's zipfile), rename with F2 (and a name that is taken), move and copy into
// another folder through the folder picker (keyboard only), bulk delete, and a report of what failed.
// S3 itself is listed after each action. Each test works in a folder of its own.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import type { Page } from 'playwright-core'
import { hasChromium, launchBrowser } from './browser.js'
import { bucketName, buildApp, profileFor, s3Client, startS3, type Teardown } from './helper.js'

if (!hasChromium()) t.fail('chromium is missing: .ci/run installs it with apt-get install chromium')

declare const document: any
declare const window: any

const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = bucketName('selui')
await s3.createBucket(bucket)
const app = await buildApp(t, {
  profiles: { main: profileFor(s3, bucket) },
  browse: {
    authenticate: () => 'ann',
    namespaces: {
      box: { profile: 'main', basePath: 'box' },
      // The same folder with a zip limit of one file, and with no zip at all.
      tiny: { profile: 'main', basePath: 'box', zip: { maxFiles: 1 } },
      nozip: { profile: 'main', basePath: 'box', zip: false }
    }
  }
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening')
const origin = `http://127.0.0.1:${address.port}`

const dir = await mkdtemp(path.join(tmpdir(), 's3s-selui-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
// Screenshots are kept for looking at (not compared): the bar with a selection, the picker, a report.
const shots = await mkdtemp(path.join(tmpdir(), 's3s-selui-screenshots-'))
t.comment(`screenshots: ${shots}`)

/** Puts each `[path, body]` under the namespace's folder. */
async function seed (files: Array<[string, string]>): Promise<void> {
  for (const [name, body] of files) await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `box/${name}`, Body: body, ContentType: 'text/plain' }))
}

/** Every key under `box/<folder>`, relative to it, sorted. */
async function keys (folder: string): Promise<string[]> {
  const out: string[] = []
  let token: string | undefined
  do {
    const res = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `box/${folder}`, ContinuationToken: token }))
    for (const o of res.Contents ?? []) out.push(o.Key!.slice(`box/${folder}`.length))
    token = res.NextContinuationToken
  } while (token !== undefined)
  return out.sort()
}

/** What S3 lists in `box/<folder>` with a delimiter, folders first, as the page names its rows. */
async function listed (folder: string): Promise<string[]> {
  const res = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `box/${folder}`, Delimiter: '/' }))
  const folders = (res.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(`box/${folder}`.length, -1))
  const files = (res.Contents ?? []).map((o) => o.Key!.slice(`box/${folder}`.length)).filter((name) => name !== '')
  return [...folders.sort(), ...files.sort()]
}

const rowNames = async (page: Page): Promise<string[]> => await page.$$eval('tbody tr.row', (rows) => rows.map((r: any) => r.dataset.name))

const { context } = await launchBrowser(t)

async function open (t: Teardown, folder: string, namespace = 'box'): Promise<{ page: Page, errors: string[] }> {
  const page = await context.newPage()
  t.teardown(() => page.close())
  // Two cores shared with other test files: waits are generous, the assertions are not.
  page.setDefaultTimeout(60_000)
  const errors: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('dialog', (dialog) => {
    errors.push(`unexpected ${dialog.type()}: ${dialog.message()}`)
    dialog.dismiss().catch(() => {})
  })
  await page.goto(`${origin}/${namespace}/files/${folder}`)
  return { page, errors }
}

const row = (page: Page, name: string) => page.locator(`tbody tr.row[data-name="${name}"]`)
const box = (page: Page, name: string) => row(page, name).locator('input[data-select]')
const checked = async (page: Page): Promise<string[]> =>
  await page.$$eval('tbody tr.row', (rows) => rows.filter((r: any) => r.querySelector('input[data-select]').checked).map((r: any) => r.dataset.name))
const status = async (page: Page): Promise<string> => (await page.locator('[data-selection-status]').textContent()) ?? ''

t.test('without script the page is as before: the selection UI is script-only', async (t) => {
  await seed([['nojs/a.txt', 'a'], ['nojs/sub/b.txt', 'b']])
  const res = await app.inject({ url: '/box/files/nojs/', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 200)
  const html = res.body
  const cells = html.match(/<t[dh][^>]* class="col-select[^"]*"/g) ?? []
  t.equal(cells.length, 3, 'a checkbox cell per row and one in the header')
  t.ok(cells.every((c) => c.includes('js-only')), 'every checkbox cell is script-only')
  t.match(html, /<div class="selection-bar js-only"[^>]*data-selection-bar hidden>/, 'the bar is script-only and hidden')
  t.match(html, /<form class="js-only" method="post" action="\/box\/zip"[^>]*data-zip-form hidden>/)
  t.match(html, /aria-label="Select a\.txt"/, 'every checkbox has a label')
  t.match(html, /<a class="icon-btn" href="\/box\/files\/nojs\/a\.txt\?download=1" download/, 'downloads are plain links still')
  t.notMatch(html, /<script>/, 'no inline script')
})

t.test('shift-click selects a range, the header selects all, Escape clears; the count is announced', async (t) => {
  await seed(['a', 'b', 'c', 'd', 'e'].map((n) => [`range/${n}.txt`, n]))
  await seed([['range/folder/z.txt', 'z']])
  const { page, errors } = await open(t, 'range/')
  const bar = page.locator('[data-selection-bar]')
  t.notOk(await bar.isVisible(), 'no bar without a selection')
  await box(page, 'b.txt').click()
  await box(page, 'd.txt').click({ modifiers: ['Shift'] })
  t.same(await checked(page), ['b.txt', 'c.txt', 'd.txt'], 'b to d')
  t.equal(await status(page), '3 items selected')
  t.ok(await bar.isVisible())
  t.equal(await bar.locator('[data-selection-count]').textContent(), '3 items selected')
  t.ok(await row(page, 'c.txt').evaluate((r: any) => r.classList.contains('is-selected')))
  // Shift-click again from d up to a unticks nothing outside the range and ticks a.
  await box(page, 'a.txt').click({ modifiers: ['Shift'] })
  t.same(await checked(page), ['a.txt', 'b.txt', 'c.txt', 'd.txt'])
  t.ok(await page.locator('input[data-select-all]').evaluate((el: any) => el.indeterminate), 'the header shows a partial selection')
  await page.screenshot({ path: path.join(shots, 'selection.png') })

  await page.locator('input[data-select-all]').click()
  t.same(await checked(page), ['folder', 'a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'], 'all, folders too')
  t.equal(await status(page), '6 items selected')
  await page.keyboard.press('Escape')
  t.same(await checked(page), [])
  t.equal(await status(page), 'Selection cleared')
  t.notOk(await bar.isVisible())

  // Keyboard: Space on a focused checkbox.
  await box(page, 'e.txt').focus()
  await page.keyboard.press('Space')
  t.same(await checked(page), ['e.txt'])
  t.same(errors, [])
})

t.test('"Download as zip" streams a zip through the browser; its entries hold the files', async (t) => {
  await seed([['zipme/a.txt', 'alpha'], ['zipme/docs/x.txt', 'ex'], ['zipme/docs/sub/y é.txt', 'why'], ['zipme/left out.txt', 'no']])
  const { page, errors } = await open(t, 'zipme/')
  await box(page, 'a.txt').click()
  await box(page, 'docs').click()
  // The download, or the report of a refused zip (whose text then fails the test at once).
  const refused = page.locator('[data-job][data-state="error"]')
  const [download] = await Promise.all([
    Promise.race([
      page.waitForEvent('download'),
      refused.waitFor().then(async () => { throw new Error(`the zip was refused: ${await refused.textContent()}`) })
    ]),
    page.locator('[data-selection-bar]').getByRole('button', { name: 'Download as zip' }).click()
  ])
  t.match(download.suggestedFilename(), /\.zip$/)
  const file = path.join(dir, 'download.zip')
  await download.saveAs(file)
  const { stdout } = await promisify(execFile)('python3', ['-c', [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'print(json.dumps({i.filename: z.read(i).decode() for i in z.infolist() if not i.is_dir()}))'
  ].join('\n'), file])
  t.same(JSON.parse(stdout), { 'a.txt': 'alpha', 'docs/x.txt': 'ex', 'docs/sub/y é.txt': 'why' }, 'the selected files, with their folders')
  t.equal(page.url(), `${origin}/box/files/zipme/`, 'the page stayed')
  t.same(errors, [])
})

t.test('a zip over the namespace\'s limit is reported in the page, which stays; zip: false shows no zip', async (t) => {
  await seed([['toomany/a.txt', 'a'], ['toomany/b.txt', 'b']])
  const { page, errors } = await open(t, 'toomany/', 'tiny')
  let downloads = 0
  page.on('download', () => { downloads++ })
  await page.locator('input[data-select-all]').click()
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Download as zip' }).click()
  const refused = page.locator('[data-job][data-state="error"]')
  await refused.waitFor()
  t.match(await refused.locator('.upload-message').textContent(), /^Too much to put in one zip .*Select fewer files\.$/)
  t.equal(downloads, 0, 'nothing was downloaded')
  t.equal(page.url(), `${origin}/tiny/files/toomany/`, 'the page stayed')
  t.same(await checked(page), ['a.txt', 'b.txt'], 'the selection stays')
  // Chromium logs the frame's 413 itself; nothing else may show up.
  t.same(errors.filter((e) => !/status of 413/.test(e)), [])

  const html = (await app.inject({ url: '/nozip/files/toomany/', headers: { accept: 'text/html' } })).body
  t.notMatch(html, /Download as zip|data-zip-form/, 'no zip button, no zip form')
  t.match(html, /data-selection-action="move"/, 'the other actions stay')
  t.match(html, /data-zip-url=""/)
})

t.test('F2 renames in place; a taken name (409) or a refused one (400) is shown next to the field; Escape cancels', async (t) => {
  await seed([['ren/a.txt', 'a'], ['ren/b.txt', 'b'], ['ren/old/z.txt', 'z']])
  const { page, errors } = await open(t, 'ren/')
  await row(page, 'a.txt').locator('a.entry').focus()
  await page.keyboard.press('F2')
  const input = row(page, 'a.txt').locator('input.rename-input')
  t.ok(await input.evaluate((el: any) => el === document.activeElement), 'the field has the focus')
  t.equal(await input.evaluate((el: any) => el.value.slice(el.selectionStart, el.selectionEnd)), 'a', 'the name without its extension is selected')
  await page.keyboard.type('b')
  await page.keyboard.press('Enter')
  const error = row(page, 'a.txt').locator('.rename-error')
  await error.waitFor()
  t.match(await error.textContent(), /“b\.txt” is already taken here/)
  t.match(await input.getAttribute('aria-describedby'), new RegExp(await error.getAttribute('id') as string), 'the error describes the field')
  t.same(await keys('ren/'), ['a.txt', 'b.txt', 'old/z.txt'], 'nothing moved on S3')

  // A segment over 255 bytes (300 in UTF-8): the server's key rules refuse it with a 400.
  const refusals: number[] = []
  page.on('response', (res) => { if (new URL(res.url()).pathname === '/box/move') refusals.push(res.status()) })
  await input.fill('한'.repeat(100) + '.txt')
  await page.keyboard.press('Enter')
  await error.filter({ hasText: 'That name cannot be used' }).waitFor()
  t.same(refusals, [400], 'the server refused it')
  t.same(await keys('ren/'), ['a.txt', 'b.txt', 'old/z.txt'], 'still nothing moved')

  await input.fill('renamed.txt')
  await page.keyboard.press('Enter')
  await row(page, 'renamed.txt').waitFor()
  t.same(await keys('ren/'), ['b.txt', 'old/z.txt', 'renamed.txt'], 'renamed on S3')
  t.ok(await row(page, 'renamed.txt').locator('a.entry').evaluate((el: any) => el === document.activeElement), 'the renamed row has the focus')

  // A folder, from the row's Rename button; then Escape on another leaves it alone.
  await row(page, 'old').getByRole('button', { name: 'Rename folder old' }).click()
  await row(page, 'old').locator('input.rename-input').fill('new')
  await page.keyboard.press('Enter')
  await row(page, 'new').waitFor()
  t.same(await keys('ren/'), ['b.txt', 'new/z.txt', 'renamed.txt'], 'the folder moved with what it holds')
  await row(page, 'b.txt').locator('a.entry').focus()
  await page.keyboard.press('F2')
  await page.keyboard.type('zzz')
  await page.keyboard.press('Escape')
  t.equal(await row(page, 'b.txt').locator('input.rename-input').count(), 0, 'the field is gone')
  t.ok(await row(page, 'b.txt').locator('a.entry').isVisible())
  t.same(await keys('ren/'), ['b.txt', 'new/z.txt', 'renamed.txt'])
  // Chromium logs the refused request itself; nothing else may show up.
  t.same(errors.filter((e) => !/status of 400/.test(e)), [])
})

t.test('"Move to…" through the folder picker, by keyboard; the listing refreshes', async (t) => {
  await seed([['mv/c.txt', 'c'], ['mv/d.txt', 'd'], ['mv/stay.txt', 's'], ['mv/alpha/keep.txt', 'k'], ['mv/target/deep/q.txt', 'q']])
  const { page, errors } = await open(t, 'mv/')
  const answers: string[] = []
  page.on('response', (res) => { if (new URL(res.url()).pathname === '/box/move') answers.push(res.headers()['content-type'] ?? '') })
  await box(page, 'c.txt').click()
  await box(page, 'd.txt').click()
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Move to…' }).click()
  const picker = page.locator('#picker-dialog')
  await picker.locator('button.picker-folder').first().waitFor()
  t.equal(await picker.locator('[data-picker-title]').textContent(), 'Move 2 items to…')
  t.same(await picker.locator('.picker-name').allTextContents(), ['alpha', 'target'])
  t.ok(await picker.locator('[data-picker-ok]').isDisabled(), 'not into the folder they are in')
  t.ok(await picker.locator('button.picker-folder').first().evaluate((el: any) => el === document.activeElement), 'the first folder has the focus')
  // Down to "target", open it, look inside "deep", come back up with Backspace.
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await picker.locator('.picker-name', { hasText: 'deep' }).waitFor()
  t.match(await picker.locator('[data-picker-where]').textContent(), /box\/mv\/target\/$/)
  await page.keyboard.press('Enter')
  await picker.locator('.picker-empty', { hasText: 'No folders in here.' }).waitFor()
  await page.keyboard.press('Backspace')
  await picker.locator('.picker-name', { hasText: 'deep' }).waitFor()
  t.ok(await picker.locator('button.picker-folder', { hasText: 'deep' }).evaluate((el: any) => el === document.activeElement), 'back up, the folder we came from has the focus')
  await page.screenshot({ path: path.join(shots, 'picker.png') })
  await picker.getByRole('button', { name: 'Move here' }).click()
  const job = page.locator('[data-job]').first()
  await page.locator('[data-job][data-state="done"]').waitFor()
  t.match(await job.locator('.upload-message').textContent(), /^Moved 2 files to target$/)
  t.same(await keys('mv/'), ['alpha/keep.txt', 'stay.txt', 'target/c.txt', 'target/d.txt', 'target/deep/q.txt'], 'moved on S3')
  t.match(answers, [/^application\/x-ndjson/], 'the page followed the progress lines to the result')
  await row(page, 'c.txt').waitFor({ state: 'detached' })
  t.same(await rowNames(page), ['alpha', 'target', 'stay.txt'], 'the listing shows what S3 has')
  t.notOk(await page.locator('[data-selection-bar]').isVisible(), 'the selection is cleared')
  t.same(errors, [])
})

t.test('"Copy to…" copies a folder; a copy onto taken names lists what failed', async (t) => {
  await seed([['cp/docs/x.txt', 'x'], ['cp/docs/sub/y.txt', 'y'], ['cp/one.txt', '1'], ['cp/dest/one.txt', 'taken']])
  const { page, errors } = await open(t, 'cp/')
  await box(page, 'docs').click()
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Copy to…' }).click()
  const picker = page.locator('#picker-dialog')
  await picker.locator('button.picker-folder').first().waitFor()
  t.equal(await picker.locator('[data-picker-title]').textContent(), 'Copy “docs” to…')
  t.equal(await picker.locator('button.picker-folder', { hasText: 'docs' }).getAttribute('aria-disabled'), 'true', 'a folder cannot go into itself')
  await picker.locator('button.picker-folder', { hasText: 'dest' }).click()
  await picker.locator('.picker-empty', { hasText: 'No folders in here.' }).waitFor()
  await picker.getByRole('button', { name: 'Copy here' }).click()
  await page.locator('[data-job][data-state="done"]').waitFor()
  t.match(await page.locator('[data-job]').first().locator('.upload-message').textContent(), /^Copied 2 files to dest$/)
  t.same(await keys('cp/'), ['dest/docs/sub/y.txt', 'dest/docs/x.txt', 'dest/one.txt', 'docs/sub/y.txt', 'docs/x.txt', 'one.txt'], 'copied on S3, the sources kept')

  await box(page, 'one.txt').click()
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Copy to…' }).click()
  await picker.locator('button.picker-folder', { hasText: 'dest' }).click()
  await picker.locator('.picker-name', { hasText: 'docs' }).waitFor()
  await picker.getByRole('button', { name: 'Copy here' }).click()
  const failed = page.locator('[data-job][data-state="error"]')
  await failed.waitFor()
  t.match(await failed.locator('.upload-message').textContent(), /Copied 0 files to dest; 1 failed/)
  t.same(await failed.locator('.job-failures li').allTextContents(), ['cp/one.txtSomething with this name is already there.'], 'what failed, and why, as a list')
  t.ok(await failed.evaluate((el: any) => el === document.activeElement), 'the report has the focus')
  await page.screenshot({ path: path.join(shots, 'report.png') })
  t.ok(await box(page, 'one.txt').isChecked(), 'what failed stays selected')
  const stored = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'box/cp/dest/one.txt' }))
  t.equal(stored.Contents?.[0].Size, 'taken'.length, 'the taken name was not overwritten')
  t.same(errors, [])
})

t.test('bulk delete asks first, then deletes files and folders', async (t) => {
  await seed([['del/a.txt', 'a'], ['del/b.txt', 'b'], ['del/keep.txt', 'k'], ['del/old/x.txt', 'x'], ['del/old/y/z.txt', 'z']])
  const { page, errors } = await open(t, 'del/')
  await box(page, 'old').click()
  await box(page, 'a.txt').click()
  await box(page, 'b.txt').click({ modifiers: ['Shift'] })
  t.same(await checked(page), ['old', 'a.txt', 'b.txt'])
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Delete' }).click()
  const confirm = page.locator('#confirm-dialog')
  t.equal(await confirm.locator('#confirm-title').textContent(), 'Delete 3 items?')
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  t.same(await keys('del/'), ['a.txt', 'b.txt', 'keep.txt', 'old/x.txt', 'old/y/z.txt'], 'Cancel deletes nothing')
  await page.locator('[data-selection-bar]').getByRole('button', { name: 'Delete' }).click()
  await confirm.getByRole('button', { name: 'Delete 3 items' }).click()
  await page.locator('[data-job][data-state="done"]').waitFor()
  t.match(await page.locator('[data-job]').first().locator('.upload-message').textContent(), /^Deleted 4 files$/)
  t.same(await keys('del/'), ['keep.txt'], 'deleted on S3')
  await row(page, 'a.txt').waitFor({ state: 'detached' })
  // SeaweedFS keeps listing an emptied folder (a store difference): the page shows what S3 lists.
  t.same(await rowNames(page), await listed('del/'), 'the listing shows what S3 has')
  t.notOk(await row(page, 'b.txt').count(), 'the deleted files are gone from the page')
  t.same(errors, [])
})

t.test('on a phone-width screen the bar sits at the bottom and nothing scrolls sideways', async (t) => {
  await seed([['phone/a long file name that goes on and on.txt', 'a'], ['phone/b.txt', 'b'], ['phone/sub/c.txt', 'c']])
  const { page, errors } = await open(t, 'phone/')
  await page.setViewportSize({ width: 390, height: 760 })
  await box(page, 'b.txt').click()
  const bar = await page.locator('[data-selection-bar]').boundingBox()
  t.ok(bar !== null && bar.y + bar.height <= 760 && bar.y > 760 / 2, 'the bar is at the bottom of the screen')
  t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling')
  t.ok(await row(page, 'b.txt').getByRole('button', { name: 'Rename b.txt' }).isVisible(), 'Rename is there')
  await page.screenshot({ path: path.join(shots, 'phone.png') })
  t.same(errors, [])
})
