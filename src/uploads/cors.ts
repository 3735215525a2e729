/**
 * What a bucket's CORS configuration lacks for browser uploads from one origin, and the one rule that adds
 * it. Existing rules are kept as they are; a second run finds nothing to add.
 */
import type { CORSRule } from '@aws-sdk/client-s3'

/** Options of `checkCors`. */
export interface CheckCorsOptions {
  /** The page's origin, e.g. `https://app.example`. */
  origin: string
  /** Add the missing rule to the bucket. Default false (report only). */
  apply?: boolean
}

/** What `checkCors` found (and did). */
export interface CorsReport {
  /** The bucket lets that origin upload. */
  ok: boolean
  /** What is missing: `origin`, `method:POST`, `method:PUT`, `header:content-type`, `expose:ETag`. */
  missing: string[]
  /** A rule was added. */
  applied: boolean
  /** The rule a bucket needs, for copying into infrastructure code. */
  rule: CORSRule
}

/** The rule browser uploads need: POST (presigned POST) and PUT (presigned PUT), any header, ETag exposed. */
export function uploadRule (origin: string): CORSRule {
  return { AllowedOrigins: [origin], AllowedMethods: ['GET', 'HEAD', 'POST', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 }
}

const originMatches = (pattern: string, origin: string): boolean => {
  if (pattern === '*' || pattern === origin) return true
  // S3 allows one "*" wildcard in an origin, e.g. https://*.example.com.
  const star = pattern.indexOf('*')
  return star !== -1 && origin.startsWith(pattern.slice(0, star)) && origin.endsWith(pattern.slice(star + 1)) && origin.length >= pattern.length - 1
}

const headerAllowed = (rule: CORSRule, header: string): boolean =>
  (rule.AllowedHeaders ?? []).some((h) => h === '*' || h.toLowerCase() === header)

/** What the best matching rule lacks (the empty list when one rule covers everything). */
export function missingFor (rules: CORSRule[], origin: string): string[] {
  let best: string[] | undefined
  for (const rule of rules) {
    if (!(rule.AllowedOrigins ?? []).some((o) => originMatches(o, origin))) continue
    const missing: string[] = []
    for (const method of ['POST', 'PUT']) if (!(rule.AllowedMethods ?? []).includes(method)) missing.push(`method:${method}`)
    if (!headerAllowed(rule, 'content-type')) missing.push('header:content-type')
    if (!(rule.ExposeHeaders ?? []).some((h) => h.toLowerCase() === 'etag')) missing.push('expose:ETag')
    if (best === undefined || missing.length < best.length) best = missing
  }
  return best ?? ['origin', 'method:POST', 'method:PUT', 'header:content-type', 'expose:ETag']
}

/**
 * What to do about a bucket's CORS rules for `origin`: the report, and the rules to write back when a rule is
 * missing and `apply` is set (the existing ones kept as they are, plus one complete rule).
 */
export function planCors (rules: CORSRule[], options: CheckCorsOptions): { report: CorsReport, write?: CORSRule[] } {
  const rule = uploadRule(options.origin)
  const missing = missingFor(rules, options.origin)
  if (missing.length === 0 || options.apply !== true) return { report: { ok: missing.length === 0, missing, applied: false, rule } }
  return { report: { ok: true, missing, applied: true, rule }, write: [...rules, rule] }
}
