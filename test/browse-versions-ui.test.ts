// Versions in a real Chromium (Debian's, see test/browser.ts): the example app's file browser on a versioned
// bucket of the suite's S3 server. Open a file's versions, restore an older one, show deleted files,
// undelete; Replace after a 409 as one conditional overwrite, and what it says when someone was faster.
//
// Screenshots go to a temp folder (its path is printed as a comment). `S3S_DOCS_SCREENSHOTS=1` also
// refreshes the README's docs/screenshot-versions.png and docs/screenshot-deleted.png.
import t from 'tap'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { NAMESPACE, browseOptions, seedSamples } from '../examples/browse-setup.js'
import { buildApp, freshVersionedBucket, profileFor, s3Client, startS3, type Teardown } from './helper.js'
import { hasChromium, launchBrowser, CHROMIUM } from './browser.js'

if (!hasChromium()) {
  t.plan(0, `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does)`)
  process.exit(0)
}

// The page's globals, for the functions Playwright runs in the browser (the project's TypeScript has no DOM lib).
declare const document: any

const DOCS = process.env.S3S_DOCS_SCREENSHOTS === '1'
const s3 = await startS3(t)
const raw = s3Client(s3)
t.teardown(() => raw.destroy())
const bucket = await freshVersionedBucket(s3, 'uiver')
const shots = await mkdtemp(path.join(tmpdir(), 's3s-versions-screenshots-'))
t.comment(`screenshots: ${shots}`)

const options = browseOptions()
// Who uploads, as a host's sign-in would say.
const app = await buildApp(t, { profiles: { main: profileFor(s3, bucket) }, browse: { ...options, authenticate: () => 'ada@example.com' } })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening')
const origin = `http://127.0.0.1:${address.port}`
await seedSamples(app)
const home = `${origin}/${NAMESPACE}/files/`
const { context } = await launchBrowser(t)

interface Watched { page: Page, errors: string[] }

async function open (t: Teardown, url: string): Promise<Watched> {
  const page = await context.newPage()
  t.teardown(() => page.close())
  const errors: string[] = []
  // A 409 or 412 answer is what these tests provoke; the browser logs each as a failed load.
  page.on('console', (msg) => { if (msg.type() === 'error' && !/status of (409|412) /.test(msg.text())) errors.push(msg.text()) })
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(url)
  return { page, errors }
}

async function stored (key: string): Promise<string | undefined> {
  try {
    return await (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()
  } catch {
    return undefined
  }
}

async function upload (page: Page, name: string, body: string): Promise<void> {
  await page.setInputFiles('[data-file-input]', [{ name, mimeType: 'text/plain', buffer: Buffer.from(body) }])
}

const message = (page: Page, index: number) => page.locator('[data-upload-item]').nth(index).locator('.upload-message')

t.test('a file\'s versions: open them, restore an older one', async (t) => {
  const { page, errors } = await open(t, home)
  await upload(page, 'notes.txt', 'first draft')
  await message(page, 0).filter({ hasText: 'Uploaded' }).waitFor()
  await upload(page, 'notes.txt', 'second draft, better')
  await message(page, 1).filter({ hasText: 'A file named “notes.txt” is already here.' }).waitFor()
  await page.locator('[data-upload-item]').nth(1).getByRole('button', { name: 'Replace' }).click()
  await message(page, 1).filter({ hasText: 'Replaced' }).waitFor()
  t.equal(await stored('files/notes.txt'), 'second draft, better', 'Replace overwrote the file it was shown')

  await page.click('[data-clear-uploads]')
  const row = page.locator('tr[data-name="notes.txt"]')
  await row.waitFor()
  await row.locator('[data-action="versions"]').click()
  const dialog = page.locator('#versions-dialog')
  await dialog.locator('[data-version-id]').nth(1).waitFor()
  t.equal(await dialog.locator('[data-versions-name]').textContent(), 'notes.txt')
  const versions = dialog.locator('[data-version-id]')
  t.equal(await versions.count(), 2)
  t.match(await versions.nth(0).textContent(), /20 B\s*Current/, 'the current version on top, with its size')
  t.match(await versions.nth(1).textContent(), /11 B/)
  t.match(await versions.nth(1).locator('.version-meta').textContent(), /by ada@example\.com/, 'who uploaded it')
  t.equal(await versions.nth(0).locator('[data-restore-form]').count(), 0, 'the current version has no Restore')
  await page.screenshot({ path: path.join(shots, 'versions.png') })
  if (DOCS) await page.screenshot({ path: 'docs/screenshot-versions.png' })

  const download = await versions.nth(1).locator('[data-version-download]').getAttribute('href')
  t.equal(await (await page.request.get(origin + download)).text(), 'first draft', 'the older version downloads')

  await versions.nth(1).getByRole('button', { name: 'Restore' }).click()
  await page.locator('[data-toasts]').filter({ hasText: 'Restored that version of “notes.txt”' }).waitFor()
  await dialog.locator('[data-version-id]').nth(2).waitFor()
  t.equal(await dialog.locator('[data-version-id]').count(), 3, 'the panel shows the restored copy on top of both')
  t.equal(await stored('files/notes.txt'), 'first draft', 'the older content is current again')
  await page.waitForFunction(() => document.querySelector('tr[data-name="notes.txt"] .col-size')?.textContent.trim() === '11 B')
  t.pass('the listing shows the restored size')

  // Delete a version for good (with confirmation).
  await dialog.locator('[data-version-id]').nth(1).locator('[data-version-delete]').click()
  await page.locator('#confirm-dialog').filter({ hasText: 'will be deleted permanently' }).waitFor()
  await page.locator('#confirm-dialog [data-confirm-ok]').click()
  await page.locator('[data-toasts]').filter({ hasText: 'Deleted a version of “notes.txt” for good' }).waitFor()
  await page.waitForFunction(() => document.querySelectorAll('#versions-dialog [data-version-id]').length === 2)
  t.pass('two versions are left')
  await page.keyboard.press('Escape')
  t.ok(await dialog.isHidden())
  t.same(errors, [], 'no console errors')
})

t.test('show deleted files, undelete', async (t) => {
  await app.storage.operations('main').uploadFile('keep me', 'Reports/old plan.txt', { location: 'files', preserveFilename: true })
  const { page, errors } = await open(t, home + 'Reports/')
  const row = page.locator('tr[data-name="old plan.txt"]')
  await row.locator('[data-action="delete"]').click()
  await page.locator('#confirm-dialog [data-confirm-ok]').click()
  await row.waitFor({ state: 'detached' })
  t.equal(await stored('files/Reports/old plan.txt'), undefined, 'deleted')

  const toggle = page.locator('[data-show-deleted]')
  t.equal(await toggle.textContent().then((s) => s?.trim()), 'Show deleted files')
  await toggle.click()
  const panel = page.locator('#deleted')
  const item = panel.locator('.deleted-item[data-name="old plan.txt"]')
  await item.waitFor()
  t.equal(await toggle.getAttribute('aria-expanded'), 'true')
  t.match(await item.locator('.deleted-meta').textContent(), /Deleted .* · 7 B/, 'when, and the size undelete brings back')
  await page.screenshot({ path: path.join(shots, 'deleted.png') })
  if (DOCS) await page.screenshot({ path: 'docs/screenshot-deleted.png' })

  await item.getByRole('button', { name: 'Undelete old plan.txt' }).click()
  await page.locator('[data-toasts]').filter({ hasText: '“old plan.txt” is back' }).waitFor()
  await row.waitFor()
  t.pass('the file is listed again')
  t.equal(await stored('files/Reports/old plan.txt'), 'keep me')
  await panel.locator('[data-deleted-empty]').waitFor()
  t.match(await panel.textContent(), /No deleted files in Reports/, 'the panel has nothing left to undelete')
  await page.locator('[data-hide-deleted]').click()
  t.ok(await panel.isHidden())

  // A whole folder deleted: its parent's deleted files show it, and its own page brings files back.
  await app.storage.operations('main').uploadFile('minutes', 'Reports/2019/january.txt', { location: 'files', preserveFilename: true })
  await page.reload()
  const folder = page.locator('tr[data-name="2019"]')
  await folder.locator('[data-action="delete"]').click()
  t.match(await page.locator('#confirm-text').textContent(), /Their versions are kept/, 'the confirmation says a delete can be undone here')
  await page.locator('#confirm-dialog [data-confirm-ok]').click()
  await folder.waitFor({ state: 'detached' })
  await toggle.click()
  const gone = panel.locator('[data-folder-path="Reports/2019/"]')
  await gone.waitFor()
  t.match(await gone.textContent(), /Deleted folder/)
  await gone.getByRole('link', { name: 'Deleted files in 2019' }).click()
  await page.waitForURL(`${origin}/${NAMESPACE}/deleted/Reports/2019/`)
  t.equal(await page.locator('h1').textContent(), 'Deleted files in 2019')
  await page.getByRole('button', { name: 'Undelete january.txt' }).click()
  await page.locator('[data-deleted-empty]').waitFor()
  t.equal(await stored('files/Reports/2019/january.txt'), 'minutes', 'the file, and with it the folder, is back')
  t.same(errors, [])
})

t.test('Replace after someone else changed the file: nothing is overwritten, and the page says so', async (t) => {
  const { page, errors } = await open(t, home)
  await upload(page, 'shared.txt', 'mine')
  await message(page, 0).filter({ hasText: 'Uploaded' }).waitFor()
  await upload(page, 'shared.txt', 'my second thoughts')
  await message(page, 1).filter({ hasText: 'already here' }).waitFor()
  // Meanwhile a colleague saves a new version.
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'files/shared.txt', Body: 'colleague wins' }))
  await page.locator('[data-upload-item]').nth(1).getByRole('button', { name: 'Replace' }).click()
  await message(page, 1).filter({ hasText: 'Someone else changed or removed “shared.txt”' }).waitFor()
  t.equal(await stored('files/shared.txt'), 'colleague wins', "the colleague's version is not lost")
  const retry = page.locator('[data-upload-item]').nth(1).getByRole('button', { name: 'Retry the upload of shared.txt' })
  await retry.click()
  await message(page, 1).filter({ hasText: 'already here' }).waitFor()
  await page.locator('[data-upload-item]').nth(1).getByRole('button', { name: 'Replace' }).click()
  await message(page, 1).filter({ hasText: 'Replaced' }).waitFor()
  t.equal(await stored('files/shared.txt'), 'my second thoughts', 'after a fresh look, the replace goes through')
  t.same(errors, [])
})

t.test('the versions page works without the panel, and a phone-width screen has no sideways scrolling', async (t) => {
  const { page, errors } = await open(t, `${origin}/${NAMESPACE}/versions/hello.json`)
  t.equal(await page.locator('h1').textContent(), 'Versions of hello.json')
  t.equal(await page.locator('[data-version-id]').count(), 1)
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto(home)
  t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'nothing wider than the screen')
  t.ok(await page.locator('tr[data-name="hello.json"] [data-action="versions"]').isVisible(), 'Versions stays one tap away')
  const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'files/hello.json' }))
  t.ok(head.VersionId, 'the example seeded a versioned bucket')
  t.same(errors, [])
})
