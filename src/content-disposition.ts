/**
 * The one rule for Content-Disposition and for which types may be shown inline, used by the download route
 * and by presigned links' `downloadName` alike.
 *
 * Every non-ASCII name gets an ASCII fallback in `filename` plus the exact name in `filename*` (RFC 6266,
 * RFC 8187). `filename` alone with a Latin-1 name is what mangles downloads: curl, wget, aria2c and HTTPie
 * read it as UTF-8 (`rýsumý.txt`), Chromium replaces what it cannot read (`_menu.pdf`).
 */
import contentDisposition from 'content-disposition'

/**
 * An ASCII stand-in for a name: accents dropped (`résumé` → `resume`), `ß` as `ss`, anything else outside
 * printable ASCII as `_`, and the characters a quoted string or a file system dislikes (`"`, `\`, `/`, `%`)
 * as `_` too.
 *
 * @example
 * asciiFallback('Grüße.txt') // 'Gruse.txt'
 */
export function asciiFallback (name: string): string {
  let ascii = ''
  // Character by character: a letter with accents keeps its base letter, anything else is one `_`.
  for (const char of name.normalize('NFC')) {
    const base = char === 'ß' ? 'ss' : char.normalize('NFKD').replace(/\p{M}+/gu, '')
    ascii += /^[\x20-\x7e]+$/.test(base) ? base : '_'
  }
  ascii = ascii.replace(/["\\/%]/g, '_').trim()
  return ascii === '' || /^[_.]+$/.test(ascii) ? 'download' + extensionHint(name) : ascii
}

// A fallback of only underscores says nothing; keep an ASCII extension if the name has one.
function extensionHint (name: string): string {
  const match = /\.([A-Za-z0-9]{1,16})$/.exec(name)
  return match === null ? '' : '.' + match[1]
}

/**
 * A Content-Disposition value: `inline` or `attachment`, `filename` in ASCII, and `filename*` with the
 * exact UTF-8 name whenever it is not plain ASCII.
 *
 * @example
 * dispositionHeader('café menu.pdf', 'attachment')
 * // `attachment; filename="cafe menu.pdf"; filename*=UTF-8''caf%C3%A9%20menu.pdf`
 */
export function dispositionHeader (name: string, type: 'inline' | 'attachment' = 'attachment'): string {
  const fallback = asciiFallback(name)
  // With a fallback that differs, the package writes both parameters; for plain ASCII, only `filename`.
  return contentDisposition(name, { type, fallback: fallback === name ? true : fallback })
}

// Types a browser would run, or render as a document on our origin (HTML, any XML, SVG, XSLT, scripts):
// never shown inline, whatever the sandbox CSP.
const ACTIVE_TYPE = /^(?:text\/html|application\/xhtml\+xml|[\w.+-]+\/(?:[\w.-]+\+)?xml|text\/xsl|text\/xslt|[\w.+-]+\/(?:x-)?(?:java|ecma)script|application\/wasm|application\/x-shockwave-flash)(?:\s*;|$)/i

/** Whether a type is safe to show inline on our origin (not HTML, XML-based, SVG or script-capable). */
export function isInlineSafe (contentType: string): boolean {
  return !ACTIVE_TYPE.test(contentType.trim())
}
