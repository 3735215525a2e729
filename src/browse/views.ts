/**
 * The Eta engine of the browse pages: the bundled `views/` folder, with a host's `templateFolder` winning
 * file by file (anything it does not override falls back to the bundled template). Autoescape stays on.
 *
 * Template names are always relative to the views folder (`include('partials/file-list', it)`), from any
 * template: a host's `files.eta` can include a bundled partial it does not override, which Eta's own
 * resolver (relative to the including file, confined to one folder) could not do.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { FastifyReply } from 'fastify'
import { FST_S3S_INVALID_ARGUMENT } from '../errors.js'

/** The bundled templates (`views/` at the package root, from src/ and from dist/ alike). */
export const BUNDLED_VIEWS = fileURLToPath(new URL('../../views', import.meta.url))

/** The file a template name resolves to in `dir`, or undefined for a name that would leave it. */
function fileIn (dir: string, template: string): string | undefined {
  const name = template.replace(/^[/\\]+/, '') + (path.extname(template) === '' ? '.eta' : '')
  const file = path.resolve(dir, name)
  const relative = path.relative(dir, file)
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined
  return file
}

/** Builds the engine once per registration. */
export function createViewEngine (templateFolder?: string): Eta {
  const eta = new Eta({ views: BUNDLED_VIEWS, cache: true, autoEscape: true })
  const folders = templateFolder === undefined ? [BUNDLED_VIEWS] : [path.resolve(templateFolder), BUNDLED_VIEWS]
  // Pages are compiled once (production mode), so a name resolves once too.
  const resolved = new Map<string, string>()
  eta.resolvePath = function resolveHostFirst (template) {
    let file = resolved.get(template)
    if (file !== undefined) return file
    for (const dir of folders) {
      const candidate = fileIn(dir, template)
      if (candidate === undefined) throw new FST_S3S_INVALID_ARGUMENT(`template name "${template}" leaves the views folder`)
      if (existsSync(candidate) || dir === BUNDLED_VIEWS) {
        file = candidate
        break
      }
    }
    resolved.set(template, file!)
    return file!
  }
  return eta
}

/** The reply decorator our @fastify/view registration adds (encapsulated: the host's replies never get it). */
export const VIEW_PROPERTY = 'storageView'

/** Renders a browse template with the browse plugin's own @fastify/view instance. */
export function render (reply: FastifyReply, page: string, data: object): FastifyReply {
  return (reply as unknown as Record<typeof VIEW_PROPERTY, (page: string, data: object) => FastifyReply>)[VIEW_PROPERTY](page, data)
}

/** Renders a browse template to a string (the folder page's cache keeps it), with the same engine. */
export async function renderToString (reply: FastifyReply, page: string, data: object): Promise<string> {
  return await (reply as unknown as Record<string, (page: string, data: object) => Promise<string>>)[`${VIEW_PROPERTY}Async`](page, data)
}
