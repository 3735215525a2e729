// Type tests against the build (dist/): one expectation at least for every export of the package, and the
// declaration merging users see on Fastify's types (and nothing more).
import Fastify, { type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify'
import { expect } from 'tstyche'
import s3Storage, {
  StorageOperations, Region, errors, BrowseActions, AuditActions, s3UploadRoutes, roleSessionNameFor, allowList, uploadRule,
  fastifyS3Storage, isNotFound, isStorageError,
  FST_S3S_ACCESS_DENIED, FST_S3S_BAD_REQUEST, FST_S3S_CREDENTIALS, FST_S3S_CSRF, FST_S3S_EXISTS, FST_S3S_FOLDER_NOT_EMPTY,
  FST_S3S_FORBIDDEN, FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_INVALID_OPTION, FST_S3S_INVALID_RANGE,
  FST_S3S_NOT_FOUND, FST_S3S_NOT_MODIFIED, FST_S3S_PRECONDITION_FAILED, FST_S3S_S3_ERROR, FST_S3S_S3_TIMEOUT,
  FST_S3S_S3_UNAVAILABLE, FST_S3S_TOO_LARGE, FST_S3S_TYPE_NOT_ALLOWED, FST_S3S_UNAUTHENTICATED, FST_S3S_UNKNOWN_PROFILE,
  FST_S3S_QUOTA_EXCEEDED, FST_S3S_SIGN_IN_FAILED, FST_S3S_IDENTITY_PROVIDER,
  type AuditAction, type AuditLog, type AuditRecord, type AuditResult, type Authenticate, type Authorize, type BrokerProfileOptions,
  type BrowseAction, type BrowseOptions, type BucketProfileOptions, type ByteRange, type CallOptions, type CheckCorsOptions,
  type ChecksumPolicy, type CopiedFile, type CopyFileOptions, type CorsReport, type CreateUploadInput, type CredentialSource,
  type CredentialSourceKind, type DeleteFailure, type DeleteFilesResult, type DeleteItem, type DownloadFileOptions,
  type DownloadLinkOptions, type DownloadedObject, type FastifyS3StorageOptions, type FileEntry, type FileInfo, type FolderEntry,
  type LinkTtlPolicy, type ListOptions, type ListPage, type ListedFile, type ListedFolder, type Listing, type MultipartUploadInfo,
  type NamespaceOptions, type ProfileOptions, type ProfileOptionsBase, type ProfileTarget, type RegionCode, type S3StorageOptions,
  type SignDownloadLinkOptions, type SignedLink, type StaticCredentials, type StorageOperationsClass, type StorageOperationsOptions,
  type StorageProfile, type StorageRegistry, type Timeouts, type TokenCodeCallback, type UploadBody, type UploadFileOptions,
  type UploadLinkOptions, type UploadMode, type DownloadMode, type UploadPost, type UploadPostOptions, type UploadRecord, type UploadRoutesOptions,
  type UploadService, type UploadServiceOptions, type UploadTicket, type UploadedFile,
  type LoginOptions, type LoginCookieOptions, type SignInClaims, type BasePathFunction, type QuotaOptions, type QuotaLimit,
  FST_S3S_VERSIONING_DISABLED, FST_S3S_WRITE_CONFLICT,
  type BucketVersioning, type DeletedEntry, type DeletedFile, type DeletedPage, type DeletedVersion, type FileVersion, type HeadOptions,
  type ListDeletedOptions, type ListVersionsOptions, type RestoredVersion, type UndeletedFile, type VersionEntry, type VersionPage,
  type CompletedPartInput, type CompletedUpload, type CompleteMultipartUploadOptions, type CreateMultipartUploadOptions, type MultipartUpload,
  type SignUploadPartOptions, type UploadedPart,
  type ZipArchive, type ZipEntry, type ZipRouteOptions, type ZipSelection, type ZipStreamOptions,
  type CopyFolderResult, type FolderTransferFailure, type MovedFile, type MoveFileOptions, type MoveFolderOptions, type MoveFolderResult,
  type RenameFileOptions
} from '../dist/index.js'
import { startLocalS3, startVersityGw, SEAWEEDFS_VERSION, VERSITYGW_VERSION, type LocalS3, type LocalS3Options, type VersityGwOptions } from '../dist/dev/index.js'

const app = Fastify()
await app.register(s3Storage, { profiles: { main: { bucket: 'b', region: Region.EuWest1 } } })
expect(fastifyS3Storage).type.toBe<FastifyPluginAsync<FastifyS3StorageOptions>>()

// Declaration merging: app.storage, app.storageAudit and req.storage; nothing added to replies.
expect(app.storage).type.toBe<StorageRegistry>()
expect(app.storageAudit).type.toBe<AuditLog>()
expect<FastifyRequest>().type.toHaveProperty('storage')
expect<FastifyReply>().type.not.toHaveProperty('storageView')
expect(app.storage.operations()).type.toBe<StorageOperations>()
expect(app.storage.profile('main')).type.toBe<StorageProfile>()
expect(app.storage.profile('main').target()).type.toBe<Promise<ProfileTarget>>()
expect(app.storage.profile('main').credentialSource).type.toBe<CredentialSource>()
expect(app.storage.profile('main').credentialSource.kind).type.toBe<CredentialSourceKind>()

class Invoices extends StorageOperations {
  static override storageLocation = 'invoices'
  static override storageProfile = 'main'
  async total (): Promise<number> { return 1 }
}
expect(app.storage.use(Invoices)).type.toBe<Invoices>()
expect(Invoices).type.toBeAssignableTo<StorageOperationsClass<Invoices>>()
expect<StorageOperationsOptions>().type.toBeAssignableFrom({ profile: 'main', location: 'x' })

app.get('/', async (req) => {
  expect(req.storage).type.toBe<StorageOperations>()
  const upload: UploadFileOptions = { preserveFilename: true, metadata: { uploadedBy: 'u' }, maxBytes: 10 }
  const body: UploadBody = Buffer.from('')
  expect(req.storage.uploadFile(body, 'a.txt', upload)).type.toBe<Promise<UploadedFile>>()
  const range: ByteRange = { start: 0, end: 9 }
  const download: DownloadFileOptions = { range }
  expect(req.storage.downloadFile('a.txt', download)).type.toBe<Promise<DownloadedObject>>()
  expect(req.storage.downloadFile('a.txt', { range: 'bytes=0-9' })).type.toBe<Promise<DownloadedObject>>()
  const list: ListOptions = { prefix: 'a/', limit: 10 }
  expect(req.storage.list(list)).type.toBe<Promise<ListPage>>()
  expect((await req.storage.list()).files).type.toBe<ListedFile[]>()
  expect((await req.storage.list()).folders).type.toBe<ListedFolder[]>()
  expect(req.storage.listAll()).type.toBe<AsyncGenerator<ListedFile>>()
  const linkOptions: DownloadLinkOptions = { downloadName: 'résumé.pdf' }
  expect(req.storage.getDownloadLink('a.txt', 5, linkOptions)).type.toBe<Promise<string>>()
  const signOptions: SignDownloadLinkOptions = { expireSeconds: 60 }
  expect(req.storage.signDownloadLink('a.txt', signOptions)).type.toBe<Promise<SignedLink>>()
  const putOptions: UploadLinkOptions = { contentType: 'text/plain' }
  expect(req.storage.getUploadLink('a.txt', 5, putOptions)).type.toBe<Promise<string>>()
  expect(req.storage.duplicateFile('a.txt')).type.toBe<Promise<string>>()
  const copy: CopyFileOptions = { toLocation: 'b' }
  expect(req.storage.copyFile('a.txt', copy)).type.toBe<Promise<CopiedFile>>()
  const items: DeleteItem[] = ['a.txt', { filename: 'b.txt', location: 'x' }]
  expect(req.storage.deleteFiles(items)).type.toBe<Promise<DeleteFilesResult>>()
  expect((await req.storage.deleteFiles(items)).failed).type.toBe<DeleteFailure[]>()
  const post: UploadPostOptions = { maxBytes: 10 }
  expect(req.storage.createUploadPost('a.txt', post)).type.toBe<Promise<UploadPost>>()
  const call: CallOptions = { location: 'x' }
  expect(req.storage.head('a.txt', call)).type.toBe<Promise<FileInfo>>()
  expect(req.storage.exists('a.txt')).type.toBe<Promise<boolean>>()
  expect(req.storage.listMultipartUploads()).type.toBe<AsyncGenerator<MultipartUploadInfo>>()
  // Multipart uploads driven part by part.
  const start: CreateMultipartUploadOptions = { maxBytes: 50 * 1024 ** 3, size: 10, contentType: 'video/mp4', preserveFilename: true }
  expect(req.storage.createMultipartUpload('v.mp4', start)).type.toBe<Promise<MultipartUpload>>()
  const partOptions: SignUploadPartOptions = { expireSeconds: 900 }
  expect(req.storage.signUploadPart('k', 'id', 1, partOptions)).type.toBe<Promise<SignedLink>>()
  expect(req.storage.listUploadParts('k', 'id')).type.toBe<Promise<UploadedPart[]>>()
  const given: CompletedPartInput[] = [{ PartNumber: 1, ETag: '"e"' }]
  const finish: CompleteMultipartUploadOptions = { maxBytes: 10, ifNoneMatch: '*' }
  expect(req.storage.completeMultipartUpload('k', 'id', given, finish)).type.toBe<Promise<CompletedUpload>>()
  expect(req.storage.abortMultipartUpload('k', 'id')).type.toBe<Promise<void>>()
  expect(req.storage.abortStaleMultipartUploads({ prefix: 'docs/', olderThan: 3600 })).type.toBe<Promise<{ aborted: number }>>()
  expect(req.storage.signUploadPart).type.not.toBeCallableWith('k', 'id', '1')
  return 'ok'
})

expect(app.register).type.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } } })
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { prefix: 'p' } } })
expect<S3StorageOptions>().type.not.toBeAssignableFrom({ profiles: { main: { region: 'x' } } })
expect<S3StorageOptions>().type.not.toBeAssignableFrom({ profiles: { main: { bucket: 'b', checksums: 'ALWAYS' } } })
const checksums: ChecksumPolicy = 'WHEN_REQUIRED'
const ttlPolicy: LinkTtlPolicy = 'clamp'
const timeouts: Partial<Timeouts> = { connectMs: 1000 }
const credentials: StaticCredentials = { accessKeyId: 'a', secretAccessKey: 's' }
const tokenCode: TokenCodeCallback = async () => '123456'
const bucketProfile: BucketProfileOptions = { bucket: 'b', checksums, linkTtlPolicy: ttlPolicy, timeouts, credentials }
const brokerProfile: BrokerProfileOptions = { credentialsUrl: 'https://broker', credentialsUrlSecret: 's' }
const roleProfile: ProfileOptionsBase = { bucket: 'b', roleArn: 'arn:aws:iam::123456789012:role/x', mfaSerial: 'arn:aws:iam::123456789012:mfa/u', tokenCodeCallback: tokenCode }
expect<ProfileOptions>().type.toBeAssignableFrom(bucketProfile)
expect<ProfileOptions>().type.toBeAssignableFrom(brokerProfile)
expect<ProfileOptionsBase>().type.toBeAssignableFrom(roleProfile)
expect<RegionCode>().type.toBeAssignableFrom(Region.UsEast1)
expect<RegionCode>().type.not.toBeAssignableFrom('mars-north-1')
expect(StorageOperations.generateFilename('a.pdf')).type.toBe<string>()
expect(StorageOperations.parseS3Url('s3://b/k')).type.toBe<{ bucket: string, key: string }>()
expect(roleSessionNameFor('user@example.com')).type.toBe<string>()

// The error catalog, as a namespace and one by one, and its helpers.
expect(new errors.FST_S3S_NOT_FOUND('x').statusCode).type.toBe<number | undefined>()
for (const E of [FST_S3S_ACCESS_DENIED, FST_S3S_BAD_REQUEST, FST_S3S_CREDENTIALS, FST_S3S_EXISTS, FST_S3S_FOLDER_NOT_EMPTY,
  FST_S3S_FORBIDDEN, FST_S3S_INVALID_ARGUMENT, FST_S3S_INVALID_KEY, FST_S3S_INVALID_OPTION, FST_S3S_INVALID_RANGE, FST_S3S_NOT_FOUND,
  FST_S3S_NOT_MODIFIED, FST_S3S_PRECONDITION_FAILED, FST_S3S_S3_ERROR, FST_S3S_S3_TIMEOUT, FST_S3S_S3_UNAVAILABLE, FST_S3S_TOO_LARGE,
  FST_S3S_TYPE_NOT_ALLOWED, FST_S3S_UNKNOWN_PROFILE, FST_S3S_QUOTA_EXCEEDED, FST_S3S_SIGN_IN_FAILED, FST_S3S_IDENTITY_PROVIDER, FST_S3S_VERSIONING_DISABLED, FST_S3S_WRITE_CONFLICT]) {
  expect(new E('why').code).type.toBeAssignableTo<string>()
}
expect(new FST_S3S_NOT_FOUND('x').code).type.toBe<string>()
expect(new FST_S3S_CSRF().code).type.toBe<'FST_S3S_CSRF'>()
expect(new FST_S3S_UNAUTHENTICATED().code).type.toBe<'FST_S3S_UNAUTHENTICATED'>()
expect(new FST_S3S_NOT_FOUND()).type.toRaiseError()
const maybe: unknown = new Error('x')
if (isStorageError(maybe)) expect(maybe.statusCode).type.toBe<number>()
expect(isNotFound(maybe)).type.toBe<boolean>()

// Browse and its shapes.
const namespace: NamespaceOptions = { basePath: 'shared', allowedExtensions: ['pdf'], uploadMode: 'presign', cache: { ttlSeconds: 30 }, indexMaxEntries: 500, multipartThreshold: 64 * 1024 ** 2 }
const mode: UploadMode = 'stream'
const downloads: DownloadMode = 'redirect'
expect<NamespaceOptions>().type.toBeAssignableFrom({ downloadMode: downloads, redirectExpireSeconds: 60 })
expect<NamespaceOptions>().type.not.toBeAssignableFrom({ downloadMode: 'bounce' })
expect<NamespaceOptions>().type.toBeAssignableFrom({ searchCache: { ttlSeconds: 30, maxEntries: 100_000 } })
expect<NamespaceOptions>().type.not.toBeAssignableFrom({ searchCache: true })
expect<DownloadLinkOptions>().type.toBeAssignableFrom({ downloadName: 'a.pdf', disposition: 'inline' as const, cacheControl: 'private, no-cache' })
const authenticate: Authenticate = async (req) => req.headers['x-user'] as string ?? null
const authorize: Authorize = (user, action) => user !== null && action !== BrowseActions.delete
const browse: BrowseOptions = { namespaces: { docs: namespace, other: { uploadMode: mode } }, authenticate, authorize, uploadSecret: 'x'.repeat(32) }
const options: FastifyS3StorageOptions = { profiles: { main: { bucket: 'b' } }, browse, auditKeyHashOnly: true }
const browsing = Fastify()
await browsing.register(s3Storage, options)
browsing.storageAudit.on('record', (record) => {
  expect(record).type.toBe<AuditRecord>()
  expect(record.result).type.toBe<AuditResult>()
  expect(record.action).type.toBe<AuditAction>()
})
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { docs: { uploadMode: 'ftp' } } } })
expect(allowList({ domains: ['example.com'] })).type.toBeAssignableTo<(user: string | null) => boolean>()
expect<Listing['files'][number]>().type.toBe<FileEntry>()
expect<Listing['folders'][number]>().type.toBe<FolderEntry>()

// Sign-in, per-user spaces and quotas.
const login: LoginOptions = {
  issuer: 'https://accounts.google.com',
  clientId: 'id.apps.googleusercontent.com',
  clientSecret: 'secret',
  allowedDomains: ['example.com'],
  authorizationParams: { hd: 'example.com' },
  userFromClaims: (claims) => {
    expect(claims).type.toBe<SignInClaims>()
    return claims.email ?? null
  },
  cookie: { secret: ['new-secret-of-at-least-32-characters', 'old-secret-of-at-least-32-characters'], maxAgeSeconds: 3600 }
}
expect(login.cookie).type.toBe<LoginCookieOptions>()
const perUser: BasePathFunction = async (user) => `users/${user}/`
const limit: QuotaLimit = (user) => user === 'admin' ? undefined : 10 * 1024 ** 3
const quota: QuotaOptions = { maxBytes: limit, maxFiles: 10_000, usageTtlSeconds: 30 }
await Fastify().register(s3Storage, {
  profiles: { main: { bucket: 'b' } },
  browse: { namespaces: { home: { basePath: perUser, quota }, tenant: { basePath: (_user, req) => `tenants/${req.hostname}/` } }, login }
})
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { d: {} }, login: { issuer: 'https://x', clientId: 'y' } } })
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { d: { quota: { maxBytes: '1GB' } } } } })

// Direct uploads.
const serviceOptions: UploadServiceOptions = { maxFileSize: 1024, allowedContentTypes: ['image/png'] }
const uploads = app.storage.uploads(serviceOptions)
expect(uploads).type.toBe<UploadService>()
const input: CreateUploadInput = { filename: 'a.png', contentType: 'image/png', metadata: { uploadedBy: 'u' } }
expect(uploads.createUpload(input)).type.toBe<Promise<UploadTicket>>()
expect(uploads.confirmUpload('k')).type.toBe<Promise<UploadRecord | null>>()
expect(uploads.signDownloadLink('k')).type.toBe<Promise<SignedLink>>()
const cors: CheckCorsOptions = { origin: 'https://app.example' }
expect(app.storage.checkCors('main', cors)).type.toBe<Promise<CorsReport>>()
expect(uploadRule('https://app.example').ExposeHeaders).type.toBe<string[] | undefined>()
const routes: UploadRoutesOptions = { uploads: { maxFileSize: 10 }, namespace: 'direct', uploadSecret: ['a'.repeat(32)] }
expect(app.register).type.toBeCallableWith(s3UploadRoutes, routes)

// fastify-s3-storage/dev: the local servers.
expect(startLocalS3({ buckets: ['b'] })).type.toBe<Promise<LocalS3>>()
const versityOptions: VersityGwOptions = { buckets: ['b'] }
expect(startVersityGw(versityOptions)).type.toBe<Promise<LocalS3>>()
expect(SEAWEEDFS_VERSION).type.toBe<'4.48'>()
expect(VERSITYGW_VERSION).type.toBe<'1.8.0'>()
expect<LocalS3Options>().type.toBeAssignableFrom({ dataDir: '.data', allowFallback: true })

// Versions and conditional writes.
app.get('/versions', async (req) => {
  expect(req.storage.bucketVersioning()).type.toBe<Promise<BucketVersioning>>()
  expect(req.storage.bucketVersioning('main')).type.toBe<Promise<BucketVersioning>>()
  expect(req.storage.bucketVersioning({ profile: 'main' })).type.toBe<Promise<BucketVersioning>>()
  expect<BucketVersioning>().type.toBe<'Enabled' | 'Suspended' | 'Off'>()
  expect(req.storage.setBucketVersioning('Enabled')).type.toBe<Promise<void>>()
  expect(req.storage.setBucketVersioning).type.not.toBeCallableWith('Off')
  expect(req.storage.listVersions('a.txt', { limit: 10, cursor: 'c' })).type.toBe<Promise<VersionPage>>()
  expect<VersionPage['versions'][number]>().type.toBe<FileVersion>()
  expect(req.storage.restoreVersion('a.txt', 'v1')).type.toBe<Promise<RestoredVersion>>()
  expect(req.storage.undelete('a.txt', { location: 'x' })).type.toBe<Promise<UndeletedFile>>()
  expect(req.storage.deleteVersion('a.txt', 'v1')).type.toBe<Promise<DeletedVersion>>()
  expect(req.storage.listDeleted({ prefix: 'a/' })).type.toBe<Promise<DeletedPage>>()
  expect(req.storage.head('a.txt', { versionId: 'v1' })).type.toBe<Promise<FileInfo>>()
  expect(req.storage.downloadFile('a.txt', { versionId: 'v1' })).type.toBe<Promise<DownloadedObject>>()
  expect(req.storage.getDownloadLink('a.txt', 5, { versionId: 'v1' })).type.toBe<Promise<string>>()
  expect(req.storage.uploadFile('x', 'a.txt', { ifMatch: '"etag"' })).type.toBe<Promise<UploadedFile>>()
  expect(req.storage.uploadFile).type.toBeCallableWith('x', 'a.txt', { ifNoneMatch: '*' })
  expect(req.storage.uploadFile).type.toBeCallableWith('x', 'a.txt', { ifNoneMatch: true })
  expect(req.storage.uploadFile).type.not.toBeCallableWith('x', 'a.txt', { ifNoneMatch: 'etag' })
  return 'ok'
})
expect(BrowseActions.deleteVersion).type.toBe<'delete-version'>()
expect(AuditActions.move).type.toBe<'move'>()
expect<AuditAction>().type.toBeAssignableFrom<BrowseAction | 'zip' | 'move' | 'copy'>()
expect<BrowseAction>().type.not.toBeAssignableFrom<'zip'>()
expect<AuditRecord['action']>().type.toBe<AuditAction>()
expect<BrowseAction>().type.toBeAssignableFrom<'versions' | 'restore' | 'delete-version'>()
expect(new FST_S3S_VERSIONING_DISABLED('x').code).type.toBe<string>()
expect(new errors.FST_S3S_WRITE_CONFLICT('x').statusCode).type.toBe<number | undefined>()
const listOptions: ListVersionsOptions = { limit: 20, location: 'docs' }
const deletedOptions: ListDeletedOptions = { prefix: 'a/', limit: 5 }
const headOptions: HeadOptions = { versionId: 'v1' }
expect(app.storage.operations().listVersions('a.txt', listOptions)).type.toBe<Promise<VersionPage>>()
expect(app.storage.operations().listDeleted(deletedOptions)).type.toBe<Promise<DeletedPage>>()
expect(app.storage.operations().head('a.txt', headOptions)).type.toBe<Promise<FileInfo>>()
expect<DeletedPage['files'][number]>().type.toBe<DeletedFile>()
expect<VersionEntry['uploadedBy']>().type.toBe<string | undefined>()
expect<DeletedEntry['versionsUrl']>().type.toBe<string>()
expect(app.register).type.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { docs: { recordUploader: false } } } })

// Zip archives of folders and selections.
app.get('/zip', async (req, reply) => {
  const selection: ZipSelection = { filenames: ['a.txt', 'b/'] }
  const zipOptions: ZipStreamOptions = {
    maxFiles: 10,
    maxBytes: 1024,
    compression: 'deflate',
    signal: AbortSignal.timeout(1000),
    location: 'docs',
    checkFile: (file) => { expect(file).type.toBe<ZipEntry>() },
    onFile: (file, error) => { expect(file.key).type.toBe<string>(); expect(error).type.toBe<Error | undefined>() }
  }
  const archive = await req.storage.zipStream(selection, zipOptions)
  expect(archive).type.toBe<ZipArchive>()
  expect(archive.files).type.toBe<number>()
  expect(archive.bytes).type.toBe<number>()
  expect(archive.pipe).type.toBeCallableWith(process.stdout)
  expect(req.storage.zipStream({ prefix: 'reports/' })).type.toBe<Promise<ZipArchive>>()
  expect(req.storage.zipStream).type.not.toBeCallableWith({ prefix: 'a/' }, { compression: 'lzma' })
  expect(req.storage.zipStream).type.not.toBeCallableWith({ folder: 'a/' })
  expect<ZipEntry>().type.toBe<{ name: string, path: string, key: string, size: number, lastModified?: Date }>()
  return await reply.send(archive)
})
expect(AuditActions.zip).type.toBe<'zip'>()
const zipRoute: ZipRouteOptions = { maxFiles: 100, maxBytes: 1024 ** 3, compression: 'store' }
expect(app.register).type.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { docs: { zip: zipRoute }, off: { zip: false } } } })
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { docs: { zip: true } } } })

// Many files at once: moves, renames, folder moves and copies.
const moveOps = app.storage.operations()
const moveOptions: MoveFileOptions = { toFilename: 'b.txt', toLocation: 'x', toProfile: 'main', overwrite: true }
expect(moveOps.moveFile('a.txt', moveOptions)).type.toBe<Promise<MovedFile>>()
expect(moveOps.moveFile).type.not.toBeCallableWith('a.txt')
expect<MoveFileOptions>().type.not.toHaveProperty('ifNoneMatch')
expect<MovedFile['method']>().type.toBe<'server-side' | 'streamed'>()
const renameOptions: RenameFileOptions = { overwrite: false, location: 'x' }
expect(moveOps.renameFile('a.txt', 'b.txt', renameOptions)).type.toBe<Promise<MovedFile>>()
expect(moveOps.renameFile).type.toBeCallableWith('a.txt', 'b.txt', { overwrite: true })
const folderOptions: MoveFolderOptions = {
  toLocation: 'archive',
  overwrite: false,
  concurrency: 4,
  signal: AbortSignal.timeout(1000),
  onProgress: (done, failed) => { expect(done + failed).type.toBe<number>() },
  onFile: (entry, error) => { expect(entry).type.toBe<{ from: string, to: string }>(); expect(error).type.toBe<Error | undefined>() }
}
expect(moveOps.moveFolder('a/', 'b/', folderOptions)).type.toBe<Promise<MoveFolderResult>>()
expect(moveOps.copyFolder('a/', 'b/')).type.toBe<Promise<CopyFolderResult>>()
expect<MoveFolderResult['failed'][number]>().type.toBe<FolderTransferFailure>()
expect<CopyFolderResult['copied'][number]>().type.toBe<{ from: string, to: string }>()
expect<CopyFileOptions['ifNoneMatch']>().type.toBe<boolean | undefined>()
