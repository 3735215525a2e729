import Fastify from 'fastify'
import { expect } from 'tstyche'
import s3Storage, {
  StorageOperations, StorageRegistry, Region, errors, BrowseActions, AuditLog, UploadService, s3UploadRoutes, roleSessionNameFor,
  type AuditRecord, type UploadTicket, type UploadRecord, type CorsReport,
  type S3StorageOptions, type UploadedFile, type DownloadedObject, type ListPage, type UploadPost, type StorageProfile
} from '../dist/index.js'

const app = Fastify()
await app.register(s3Storage, { profiles: { main: { bucket: 'b', region: Region.EuWest1 } } })

expect(app.storage).type.toBe<StorageRegistry>()
expect(app.storage.operations()).type.toBe<StorageOperations>()
expect(app.storage.profile('main')).type.toBe<StorageProfile>()

class Invoices extends StorageOperations {
  static override storageLocation = 'invoices'
  static override storageProfile = 'main'
  async total (): Promise<number> { return 1 }
}
expect(app.storage.use(Invoices)).type.toBe<Invoices>()

app.get('/', async (req) => {
  expect(req.storage).type.toBe<StorageOperations>()
  expect(req.storage.uploadFile(Buffer.from(''), 'a.txt')).type.toBe<Promise<UploadedFile>>()
  expect(req.storage.downloadFile('a.txt', { range: { start: 0, end: 9 } })).type.toBe<Promise<DownloadedObject>>()
  expect(req.storage.downloadFile('a.txt', { range: 'bytes=0-9' })).type.toBe<Promise<DownloadedObject>>()
  expect(req.storage.list({ prefix: 'a/' })).type.toBe<Promise<ListPage>>()
  expect(req.storage.getDownloadLink('a.txt', 5)).type.toBe<Promise<string>>()
  expect(req.storage.duplicateFile('a.txt')).type.toBe<Promise<string>>()
  expect(req.storage.createUploadPost('a.txt', { maxBytes: 10 })).type.toBe<Promise<UploadPost>>()
  expect(req.storage.exists('a.txt')).type.toBe<Promise<boolean>>()
  return 'ok'
})

expect(app.register).type.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } } })
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { prefix: 'p' } } })
expect<S3StorageOptions>().type.not.toBeAssignableFrom({ profiles: { main: { region: 'x' } } })
expect<S3StorageOptions>().type.not.toBeAssignableFrom({ profiles: { main: { bucket: 'b', checksums: 'ALWAYS' } } })
expect(StorageOperations.generateFilename('a.pdf')).type.toBe<string>()
expect(StorageOperations.parseS3Url('s3://b/k')).type.toBe<{ bucket: string, key: string }>()
expect(new errors.FST_S3S_NOT_FOUND('x').statusCode).type.toBe<number | undefined>()

// Browse and direct uploads.
const browsing = Fastify()
await browsing.register(s3Storage, {
  profiles: { main: { bucket: 'b' } },
  browse: {
    namespaces: { docs: { basePath: 'shared', allowedExtensions: ['pdf'], uploadMode: 'presign', cache: { ttlSeconds: 30 } } },
    authenticate: async (req) => req.headers['x-user'] as string ?? null,
    authorize: (user, action) => user !== null && action !== BrowseActions.delete
  }
})
expect(browsing.storageAudit).type.toBe<AuditLog>()
browsing.storageAudit.on('record', (record) => {
  expect(record).type.toBe<AuditRecord>()
})
expect(app.register).type.not.toBeCallableWith(s3Storage, { profiles: { main: { bucket: 'b' } }, browse: { namespaces: { docs: { uploadMode: 'ftp' } } } })

const uploads = app.storage.uploads({ maxFileSize: 1024, allowedContentTypes: ['image/png'] })
expect(uploads).type.toBe<UploadService>()
expect(uploads.createUpload({ filename: 'a.png', contentType: 'image/png' })).type.toBe<Promise<UploadTicket>>()
expect(uploads.confirmUpload('k')).type.toBe<Promise<UploadRecord | null>>()
expect(app.storage.checkCors('main', { origin: 'https://app.example' })).type.toBe<Promise<CorsReport>>()
expect(app.register).type.toBeCallableWith(s3UploadRoutes, { uploads: { maxFileSize: 10 } })
expect(roleSessionNameFor('user@example.com')).type.toBe<string>()
