/**
 * The Eta engine of the browse pages: the bundled `views/` folder, with a host's `templateFolder` winning
 * file by file (anything it does not override falls back to the bundled template). Autoescape stays on.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'

/** The bundled templates (`views/` at the package root, from src/ and from dist/ alike). */
export const BUNDLED_VIEWS = fileURLToPath(new URL('../../views', import.meta.url))

/** Builds the engine once per registration. */
export function createViewEngine (templateFolder?: string): Eta {
  const eta = new Eta({ views: BUNDLED_VIEWS, cache: true, autoEscape: true, cacheFilepaths: true })
  if (templateFolder !== undefined) {
    const hostViews = path.resolve(templateFolder)
    const bundledResolve = eta.resolvePath!.bind(eta)
    eta.resolvePath = function resolveHostFirst (template, options) {
      const file = template + (path.extname(template) === '' ? '.eta' : '')
      // Only plain names relative to the host folder: a template name never climbs out of it.
      if (!path.isAbsolute(file) && !file.split(/[/\\]/).includes('..')) {
        const candidate = path.join(hostViews, file)
        if (existsSync(candidate)) return candidate
      }
      return bundledResolve(template, options)
    }
  }
  return eta
}
