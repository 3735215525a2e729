// Tables for the pure rules every route and operation relies on, one subtest per rule and one row per case:
// S3 errors onto the catalog, the Range grammar, multipart part sizes, listing pagination, the CORS diff.
import t from 'tap'
import { mapS3Error } from '../src/operations/s3-errors.js'
import { parseRange, toRangeHeader } from '../src/operations/range.js'
import { partSizeFor } from '../src/operations/transfer.js'
import { paginate } from '../src/browse/pages.js'
import { missingFor, planCors, uploadRule } from '../src/uploads/cors.js'
import { FST_S3S_NOT_FOUND } from '../src/errors.js'

/** An error as the SDK throws it: a name (S3's code), an HTTP status, maybe a Node network code. */
function sdkError (name: string, status?: number, code?: string): Error {
  const err = new Error(`${name} from S3`) as Error & { $metadata?: { httpStatusCode?: number }, code?: string }
  err.name = name
  if (status !== undefined) err.$metadata = { httpStatusCode: status }
  if (code !== undefined) err.code = code
  return err
}

t.test('mapS3Error: by S3 code first, by status only for bodiless answers', async (t) => {
  const rows: Array<[string, Error, string, number]> = [
    ['NoSuchKey', sdkError('NoSuchKey', 404), 'FST_S3S_NOT_FOUND', 404],
    ['NotFound (a HEAD)', sdkError('NotFound', 404), 'FST_S3S_NOT_FOUND', 404],
    ['NoSuchUpload', sdkError('NoSuchUpload', 404), 'FST_S3S_NOT_FOUND', 404],
    ['NoSuchVersion', sdkError('NoSuchVersion', 404), 'FST_S3S_NOT_FOUND', 404],
    ['NoSuchBucket is the deployment\'s', sdkError('NoSuchBucket', 404), 'FST_S3S_S3_ERROR', 502],
    ['versitygw unknown key (404)', sdkError('XAdminUserNotFound', 404), 'FST_S3S_ACCESS_DENIED', 403],
    ['InvalidAccessKeyId', sdkError('InvalidAccessKeyId', 403), 'FST_S3S_ACCESS_DENIED', 403],
    ['SignatureDoesNotMatch', sdkError('SignatureDoesNotMatch', 403), 'FST_S3S_ACCESS_DENIED', 403],
    ['ExpiredToken (a 400 on AWS)', sdkError('ExpiredToken', 400), 'FST_S3S_ACCESS_DENIED', 403],
    ['InvalidToken', sdkError('InvalidToken', 400), 'FST_S3S_ACCESS_DENIED', 403],
    ['AccessDenied', sdkError('AccessDenied', 403), 'FST_S3S_ACCESS_DENIED', 403],
    ['a bodiless 403 (HEAD)', sdkError('Unknown', 403), 'FST_S3S_ACCESS_DENIED', 403],
    ['a bodiless 403 named Forbidden', sdkError('Forbidden', 403), 'FST_S3S_ACCESS_DENIED', 403],
    ['a bodiless 404', sdkError('404', 404), 'FST_S3S_NOT_FOUND', 404],
    ['a bodiless 304', sdkError('Unknown', 304), 'FST_S3S_NOT_MODIFIED', 304],
    ['PreconditionFailed', sdkError('PreconditionFailed', 412), 'FST_S3S_PRECONDITION_FAILED', 412],
    ['InvalidRange', sdkError('InvalidRange', 416), 'FST_S3S_INVALID_RANGE', 416],
    ['EntityTooLarge', sdkError('EntityTooLarge', 400), 'FST_S3S_TOO_LARGE', 413],
    ['KeyTooLongError', sdkError('KeyTooLongError', 400), 'FST_S3S_INVALID_KEY', 400],
    ['ObjectParentIsFile (versitygw)', sdkError('ObjectParentIsFile', 409), 'FST_S3S_EXISTS', 409],
    ['ExistingObjectIsDirectory', sdkError('ExistingObjectIsDirectory', 409), 'FST_S3S_EXISTS', 409],
    ['ExistingObjectIsFile (SeaweedFS)', sdkError('ExistingObjectIsFile', 409), 'FST_S3S_EXISTS', 409],
    ['SlowDown after the retries', sdkError('SlowDown', 503), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['ServiceUnavailable', sdkError('ServiceUnavailable', 503), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['a bodiless 503', sdkError('Unknown', 503), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['a bodiless 429', sdkError('Unknown', 429), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['RequestTimeout', sdkError('RequestTimeout', 400), 'FST_S3S_S3_TIMEOUT', 504],
    ['the SDK\'s TimeoutError', sdkError('TimeoutError', undefined, 'ETIMEDOUT'), 'FST_S3S_S3_TIMEOUT', 504],
    ['connection refused', sdkError('Error', undefined, 'ECONNREFUSED'), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['connection reset', sdkError('Error', undefined, 'ECONNRESET'), 'FST_S3S_S3_UNAVAILABLE', 503],
    ['an unknown code, even with a 404', sdkError('NoSuchLifecycleConfiguration', 404), 'FST_S3S_S3_ERROR', 502],
    ['an unknown code with a 409', sdkError('OperationAborted', 409), 'FST_S3S_S3_ERROR', 502],
    ['InternalError', sdkError('InternalError', 500), 'FST_S3S_S3_ERROR', 502],
    ['a bodiless 500', sdkError('Unknown', 500), 'FST_S3S_S3_ERROR', 502]
  ]
  for (const [what, err, code, status] of rows) {
    const mapped = mapS3Error(err, 'a.txt') as Error & { code: string, statusCode: number }
    t.equal(mapped.code, code, `${what}: ${code}`)
    t.equal(mapped.statusCode, status, `${what}: ${status}`)
    t.equal(mapped.cause, err, `${what}: the SDK error is kept as cause`)
  }
  const ours = new FST_S3S_NOT_FOUND('x')
  t.equal(mapS3Error(ours, 'x'), ours, 'a catalog error passes through')
  const body = new Error('the client went away')
  t.equal(mapS3Error(body, 'x'), body, 'neither S3 nor the network: left as it is')
})

t.test('the Range grammar (RFC 9110 14.1.2): one range passes, huge numbers clamp, lists and other units are ignored', async (t) => {
  const rows: Array<[string | undefined, ReturnType<typeof parseRange>]> = [
    [undefined, { kind: 'none' }],
    ['bytes=0-9', { kind: 'single', header: 'bytes=0-9' }],
    ['bytes=5-', { kind: 'single', header: 'bytes=5-' }],
    ['bytes=-5', { kind: 'single', header: 'bytes=-5' }],
    ['BYTES = 1-2', { kind: 'single', header: 'bytes=1-2' }],
    ['bytes=007-009', { kind: 'single', header: 'bytes=7-9' }],
    ['bytes=0-99999999999999999999', { kind: 'single', header: 'bytes=0-' }],
    ['bytes=2-99999999999999999999', { kind: 'single', header: 'bytes=2-' }],
    ['bytes=-99999999999999999999', { kind: 'single', header: 'bytes=0-' }],
    ['bytes=0-1,', { kind: 'single', header: 'bytes=0-1' }],
    ['bytes=,0-1, ,', { kind: 'single', header: 'bytes=0-1' }],
    ['bytes=0-1,2-3', { kind: 'none' }],
    ['items=0-1', { kind: 'none' }],
    ['bytes=', { kind: 'unsatisfiable' }],
    ['bytes=,', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=9-1', { kind: 'unsatisfiable' }],
    ['bytes=abc', { kind: 'unsatisfiable' }],
    ['bytes=1-2,x', { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', { kind: 'unsatisfiable' }]
  ]
  for (const [header, expected] of rows) t.same(parseRange(header), expected, String(header))
  t.equal(toRangeHeader({ start: 0, end: 9 }), 'bytes=0-9')
  t.equal(toRangeHeader({ start: 3 }), 'bytes=3-')
  t.equal(toRangeHeader('bytes=-4'), 'bytes=-4', 'the API takes the same grammar')
  for (const bad of ['bytes=0-1,2-3', 'items=1-2', { start: -1 }, { start: 5, end: 2 }, { start: 1.5 }]) {
    t.throws(() => toRangeHeader(bad as string), { code: 'FST_S3S_INVALID_RANGE', statusCode: 416 }, JSON.stringify(bad))
  }
})

t.test('partSizeFor: 5 MiB under a limit, grown to fit 10,000 parts; 8 MiB without one', async (t) => {
  const MiB = 1024 * 1024
  const rows: Array<[number, number]> = [
    [1, 5 * MiB], [5 * MiB, 5 * MiB], [5 * 1024 ** 3, 5 * MiB], [50 * 1024 ** 3, Math.ceil(50 * 1024 ** 3 / 10_000)],
    [5 * 1024 ** 4, Math.ceil(5 * 1024 ** 4 / 10_000)], [Number.POSITIVE_INFINITY, 8 * MiB]
  ]
  for (const [limit, size] of rows) {
    t.equal(partSizeFor(limit), size, `limit ${limit}`)
    if (Number.isFinite(limit)) t.ok(Math.ceil(limit / partSizeFor(limit)) <= 10_000, 'fits in 10,000 parts')
  }
})

t.test('pagination: forward-only cursors carry a trail so Previous and First work', async (t) => {
  const listing = (next?: string): { folders: never[], files: never[], nextCursor?: string } => ({ folders: [], files: [], nextCursor: next })
  const sort = { by: 'name' as const, order: 'asc' as const }
  t.same(paginate('/f/', {}, listing('c1'), sort), { page: 1, count: 0, next: '/f/?cursor=c1&page=2' })
  t.same(paginate('/f/', {}, listing(), sort), { page: 1, count: 0, next: undefined }, 'one page only')
  t.same(paginate('/f/', { cursor: 'c1', page: '2' }, listing('c2'), sort), {
    page: 2, count: 0, first: '/f/', previous: '/f/', next: '/f/?cursor=c2&trail=c1&page=3'
  })
  t.same(paginate('/f/', { cursor: 'c2', trail: 'c1', page: '3' }, listing(), sort), {
    page: 3, count: 0, first: '/f/', previous: '/f/?cursor=c1&page=2', next: undefined
  })
  const bySize = paginate('/f/', { cursor: 'c2', trail: 'c1', page: '3' }, listing('c3'), { by: 'size', order: 'desc' })
  t.equal(bySize.next, '/f/?cursor=c3&trail=c1%2Cc2&page=4&sort=size&order=desc', 'the sort rides along')
  const hostile = paginate('/f/', { cursor: 'c9', trail: 'ok,<bad>,"x"', page: 'NaN' }, listing(), sort)
  t.equal(hostile.previous, '/f/?cursor=ok&page=2', 'trail entries that are not cursors are dropped; the page number is derived')
  const long = paginate('/f/', { cursor: 'z', trail: Array.from({ length: 60 }, (_, i) => `c${i}`).join(',') }, listing('n'), sort)
  t.equal(new URL(long.next!, 'http://x').searchParams.get('trail')!.split(',').length, 40, 'the trail is bounded')
})

t.test('the CORS diff: what the best matching rule lacks, and the one rule that adds it', async (t) => {
  const origin = 'https://app.example'
  const all = ['method:POST', 'method:PUT', 'header:content-type', 'expose:ETag']
  const rows: Array<[string, Parameters<typeof missingFor>[0], string[]]> = [
    ['no rules', [], ['origin', ...all]],
    ['another origin only', [{ AllowedOrigins: ['https://other'], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }], ['origin', ...all]],
    ['the upload rule', [uploadRule(origin)], []],
    ['a wildcard origin', [{ AllowedOrigins: ['https://*.example'], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['Content-Type'], ExposeHeaders: ['etag'] }], []],
    ['* for any origin', [{ AllowedOrigins: ['*'], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }], []],
    ['GET only', [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }], all],
    ['no ETag exposed', [{ AllowedOrigins: [origin], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['*'] }], ['expose:ETag']],
    ['the best of two rules', [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }, { AllowedOrigins: [origin], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['*'] }], ['expose:ETag']]
  ]
  for (const [what, rules, missing] of rows) t.same(missingFor(rules, origin), missing, what)
  t.same(missingFor([{ AllowedOrigins: ['https://*.example'], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }], 'https://example'), ['origin', ...all], 'a wildcard needs something in its place')
  const existing = [{ AllowedOrigins: ['https://other'], AllowedMethods: ['GET'] }]
  t.same(planCors(existing, { origin }), { report: { ok: false, missing: ['origin', ...all], applied: false, rule: uploadRule(origin) } }, 'report only')
  t.same(planCors(existing, { origin, apply: true }).write, [...existing, uploadRule(origin)], 'apply keeps the existing rules and adds one')
  t.equal(planCors([uploadRule(origin)], { origin, apply: true }).write, undefined, 'a second run writes nothing')
})
