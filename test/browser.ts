// Launches Debian's Chromium for the browser tests (never a downloaded browser): headless, sandbox off (CI
// containers run as root), nothing fetched in the background, a fresh profile in a temp folder per launch.
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import type { Teardown } from './helper.js'

/** Where `.ci/run` (apt-get install chromium) puts the browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Whether the browser is installed (the tests skip with a hint when it is not). */
export function hasChromium (): boolean {
  return existsSync(CHROMIUM)
}

/** A persistent context on a fresh temp profile, closed (and its profile removed) when the test ends. */
export async function launchBrowser (t: Teardown, options: { colorScheme?: 'light' | 'dark', viewport?: { width: number, height: number }, env?: Record<string, string> } = {}): Promise<{ context: BrowserContext, browser: Browser | null }> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 's3s-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    colorScheme: options.colorScheme ?? 'light',
    viewport: options.viewport ?? { width: 1280, height: 820 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
    env: options.env
  })
  t.teardown(async () => {
    await context.close().catch(() => {})
    await rm(userDataDir, { recursive: true, force: true })
  })
  return { context, browser: context.browser() }
}
