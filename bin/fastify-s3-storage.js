#!/usr/bin/env node
// fastify-s3-storage's command line: `scaffold` copies the browse templates (and with --with-static the
// stylesheet and script) into a folder of yours, to edit and use as `browse.templateFolder`.
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const VIEWS = path.join(root, 'views')
const ASSETS = path.join(root, 'assets')

const USAGE = `Usage: fastify-s3-storage scaffold <folder> [--with-static] [--force]

Copies the file browser's templates into <folder> for editing, then use it as
  browse: { templateFolder: '<folder>', namespaces: { … } }
Files you keep there replace the bundled ones one by one; delete the ones you do not change, so they
keep following the package's updates.

  --with-static   also copy browse.css, browse.js, multipart.js into <folder>/static/ (served in place of the
                  bundled ones, with their own content hash)
  --force         overwrite files that already exist in <folder>
`

/** Every file under `dir`, as paths relative to it. */
async function listFiles (dir, base = dir) {
  const out = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await listFiles(full, base))
    else if (entry.isFile()) out.push(path.relative(base, full))
  }
  return out.sort()
}

async function exists (file) {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}

/**
 * Copies the templates (and assets) into `target`. Refuses, copying nothing, when a file would be
 * overwritten without `force`. Returns the files written, relative to `target`.
 */
async function scaffold (target, { withStatic = false, force = false } = {}) {
  const plan = (await listFiles(VIEWS)).filter((f) => f.endsWith('.eta')).map((f) => [path.join(VIEWS, f), f])
  if (withStatic) {
    for (const f of await listFiles(ASSETS)) plan.push([path.join(ASSETS, f), path.join('static', f)])
  }
  if (!force) {
    const clashes = []
    for (const [, rel] of plan) if (await exists(path.join(target, rel))) clashes.push(rel)
    if (clashes.length > 0) {
      const err = new Error(`${clashes.length} file(s) already exist in ${target} (${clashes.slice(0, 5).join(', ')}${clashes.length > 5 ? ', …' : ''}); nothing was copied. Use --force to overwrite them.`)
      err.code = 'EEXIST'
      throw err
    }
  }
  for (const [from, rel] of plan) {
    await mkdir(path.dirname(path.join(target, rel)), { recursive: true })
    await copyFile(from, path.join(target, rel))
  }
  return plan.map(([, rel]) => rel)
}

async function main (argv) {
  const args = argv.filter((a) => !a.startsWith('--'))
  const flags = new Set(argv.filter((a) => a.startsWith('--')))
  if (flags.has('--help') || args.length === 0) {
    process.stdout.write(USAGE)
    return args.length === 0 && !flags.has('--help') ? 1 : 0
  }
  const unknown = [...flags].filter((f) => !['--with-static', '--force'].includes(f))
  if (args[0] !== 'scaffold' || args.length !== 2 || unknown.length > 0) {
    process.stderr.write(`${unknown.length > 0 ? `Unknown option ${unknown[0]}` : `Unknown command: ${args.join(' ')}`}\n\n${USAGE}`)
    return 1
  }
  const target = path.resolve(args[1])
  try {
    const written = await scaffold(target, { withStatic: flags.has('--with-static'), force: flags.has('--force') })
    process.stdout.write(`Copied ${written.length} files to ${target}:\n${written.map((f) => `  ${f}`).join('\n')}\n\n` +
      `Use it with:  browse: { templateFolder: ${JSON.stringify(path.relative(process.cwd(), target) || '.')}, namespaces: { … } }\n` +
      'Keep only the files you change: the others then follow the package\'s updates.\n')
    return 0
  } catch (err) {
    process.stderr.write(`${err.message}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
