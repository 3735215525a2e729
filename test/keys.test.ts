import t from 'tap'
import { buildKey, checkPath, extensionOf, hashKey, isExtension, normalizePrefix, parseS3Url, prefixPath, MAX_KEY_BYTES, MAX_SEGMENT_BYTES } from '../src/keys.js'

const rejected: Array<[string, string]> = [
  ['..', 'has a ".." segment'],
  ['../etc/passwd', 'has a ".." segment'],
  ['a/../b', 'has a ".." segment'],
  ['a/..', 'has a ".." segment'],
  ['.', 'has a "." segment'],
  ['a/./b', 'has a "." segment'],
  ['a//b', 'has an empty segment'],
  ['a/', 'has an empty segment'],
  ['/etc/passwd', 'must not start with "/"'],
  ['/a', 'must not start with "/"'],
  ['a\\..\\b', 'must not contain "\\"'],
  ['a\\b', 'must not contain "\\"'],
  ['a\u0000b', 'contains control characters'],
  ['a\nb', 'contains control characters'],
  ['a\rb', 'contains control characters'],
  ['a\tb', 'contains control characters'],
  ['a\u001bb', 'contains control characters'],
  ['a\u007fb', 'contains control characters'],
  ['a\u0085b', 'contains control characters'],
  ['a\u009fb', 'contains control characters'],
  ['', 'filename must not be empty']
]

t.test('buildKey rejects traversal, empty segments, absolute keys and control bytes', async (t) => {
  for (const [name, message] of rejected) {
    t.throws(() => buildKey('p/', 'loc', name), { code: 'FST_S3S_INVALID_KEY', statusCode: 400, message: new RegExp(escape(message)) }, JSON.stringify(name))
  }
})

t.test('the same rules hold for a location', async (t) => {
  for (const location of ['..', 'a/../b', 'a//b', '/abs', 'x\u0000', 'a\\b']) {
    t.throws(() => buildKey('', location, 'f.txt'), { code: 'FST_S3S_INVALID_KEY', message: /location/ }, JSON.stringify(location))
  }
})

t.test('keys longer than 1024 UTF-8 bytes are rejected, 1024 is fine', async (t) => {
  const long = (bytes: number): string => Array.from({ length: Math.ceil(bytes / 200) }, () => 'a'.repeat(199)).join('/').slice(0, bytes)
  t.equal(buildKey('', undefined, long(MAX_KEY_BYTES)).length, 1024)
  t.throws(() => buildKey('', undefined, long(MAX_KEY_BYTES + 1)), { code: 'FST_S3S_INVALID_KEY', message: /1024 bytes/ })
  // 342 three-byte characters are 1026 bytes though only 342 UTF-16 units.
  t.throws(() => buildKey('', undefined, Array.from({ length: 6 }, () => '한'.repeat(57)).join('/')), { code: 'FST_S3S_INVALID_KEY', message: /1024 bytes/ })
  t.throws(() => buildKey('p/'.repeat(300), undefined, 'a'.repeat(500)), { code: 'FST_S3S_INVALID_KEY' }, 'the prefix counts')
})

t.test('valid names are kept byte for byte', async (t) => {
  t.equal(buildKey('app1/', 'invoices', '2024/a.pdf'), 'app1/invoices/2024/a.pdf')
  t.equal(buildKey('', undefined, 'v1..2.txt'), 'v1..2.txt', 'dots inside a name are fine')
  t.equal(buildKey('', undefined, '..hidden'), '..hidden')
  t.equal(buildKey('', undefined, '.env'), '.env')
  const nfd = '한글.txt'.normalize('NFD')
  t.equal(buildKey('', undefined, nfd), nfd, 'NFD is kept: only the browse routes normalise what browsers send')
  t.equal(buildKey('', undefined, '😀 ünïcödé.png'), '😀 ünïcödé.png')
  t.equal(buildKey('p/', 'loc/', 'x'), 'p/loc/x', 'a trailing slash on a location is fine')
})

t.test('a segment over 255 UTF-8 bytes is refused, 255 is fine (the limit of path-backed stores)', async (t) => {
  t.equal(buildKey('', undefined, 'a'.repeat(MAX_SEGMENT_BYTES)).length, 255)
  t.throws(() => buildKey('', undefined, 'a'.repeat(MAX_SEGMENT_BYTES + 1)), { code: 'FST_S3S_INVALID_KEY', message: /longer than 255 bytes/ })
  // 86 three-byte characters are 258 bytes though only 86 UTF-16 units.
  t.throws(() => buildKey('', undefined, 'd/' + '한'.repeat(86) + '/f.txt'), { code: 'FST_S3S_INVALID_KEY', message: /filename has a name longer/ })
  t.throws(() => buildKey('', 'x'.repeat(300), 'f.txt'), { code: 'FST_S3S_INVALID_KEY', message: /location has a name longer/ })
  t.throws(() => buildKey('', undefined, 'x'.repeat(300) + '/', { folder: true }), { code: 'FST_S3S_INVALID_KEY' }, 'folders too')
})

t.test('folder keys', async (t) => {
  t.equal(buildKey('p/', 'loc', '', { folder: true }), 'p/loc/')
  t.equal(buildKey('p/', undefined, 'a/b/', { folder: true }), 'p/a/b/')
  t.equal(buildKey('', undefined, 'a/b', { folder: true }), 'a/b/')
  t.equal(buildKey('', undefined, '', { folder: true }), '')
  t.throws(() => buildKey('', undefined, 'a//', { folder: true }), { code: 'FST_S3S_INVALID_KEY' })
})

t.test('normalizePrefix makes "uploads", "uploads/" and "/uploads/" the same', async (t) => {
  t.equal(normalizePrefix('uploads'), 'uploads/')
  t.equal(normalizePrefix('uploads/'), 'uploads/')
  t.equal(normalizePrefix('/uploads/'), 'uploads/')
  t.equal(normalizePrefix(''), '')
  t.equal(normalizePrefix(undefined), '')
  t.throws(() => normalizePrefix('a/../b'), { code: 'FST_S3S_INVALID_KEY' })
})

t.test('checkPath allows a trailing slash only when asked', async (t) => {
  t.equal(checkPath('a/b/', 'prefix', { allowTrailingSlash: true }), 'a/b')
  t.throws(() => checkPath('a/b/', 'filename'), { code: 'FST_S3S_INVALID_KEY' })
})

t.test('static helpers', async (t) => {
  t.equal(prefixPath('invoices', 'a.pdf'), 'invoices/a.pdf')
  t.equal(prefixPath(undefined, 'a.pdf'), 'a.pdf')
  t.same(parseS3Url('s3://reports/2024/q1.csv'), { bucket: 'reports', key: '2024/q1.csv' })
  t.same(parseS3Url('s3://reports'), { bucket: 'reports', key: '' })
  t.same(parseS3Url('s3://b/team-1/'), { bucket: 'b', key: 'team-1/' })
  t.throws(() => parseS3Url('https://x/y'), { code: 'FST_S3S_INVALID_KEY' })
  t.throws(() => parseS3Url('s3:///key'), { code: 'FST_S3S_INVALID_KEY' })
  t.match(hashKey('invoices/a.pdf'), /^[0-9a-f]{16}$/)
  t.equal(hashKey('a'), hashKey('a'))
  t.not(hashKey('a'), hashKey('b'))
})

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

t.test('bidi overrides and line separators are refused (spoofed names such as "invoice\\u202Efdp.exe")', async (t) => {
  for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u2028', '\u2029']) {
    t.throws(() => buildKey('', undefined, `invoice${c}fdp.exe`), { code: 'FST_S3S_INVALID_KEY', message: /bidi or line-separator/ }, `U+${c.charCodeAt(0).toString(16)}`)
  }
  t.equal(buildKey('', undefined, 'עברית.txt'), 'עברית.txt', 'right-to-left text itself is fine')
})

t.test('one extension rule: last dot, plausible characters, case kept', async (t) => {
  const cases: Array<[string, string]> = [
    ['a/Report.PDF', 'PDF'], ['archive.tar.gz', 'gz'], ['.env', ''], ['noext', ''], ['dir.d/file', ''], ['a.', ''],
    ['photo.jpeg ', ''], ['x.p<g', ''], ['사진.한글', '한글'], ['a.' + 'x'.repeat(33), ''], ['folder/', '']
  ]
  for (const [name, ext] of cases) t.equal(extensionOf(name), ext, name)
  t.ok(isExtension('mp4'))
  t.notOk(isExtension('.mp4'), 'without the dot')
  t.notOk(isExtension(''))
})
