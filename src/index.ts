/**
 * fastify-s3-storage: named S3 storage profiles, `app.storage` and a lazy `req.storage`.
 * Options are validated once here; nothing downstream reads raw options. The browse routes, and the
 * packages only they need (@fastify/view, eta, cookie, CSRF, multipart), are loaded only when `browse` is given.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { FST_S3S_INVALID_OPTION } from './errors.js'
import { AuditLog } from './http/audit.js'
import type { StorageOperations } from './operations/storage-operations.js'
import { validateOptions, type S3StorageOptions } from './options.js'
import type { BrowseOptions } from './browse/options.js'
import { StorageRegistry } from './storage-registry.js'
import { kRequestStorage } from './symbols.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage registry: `profile(name)`, `operations(profile?)`, `use(SubClass)`, `uploads(options)`. */
    storage: StorageRegistry
    /** Audit records of the browse and upload routes (`on('record', fn)`). */
    storageAudit: AuditLog
  }
  interface FastifyRequest {
    /** Storage operations on the default profile, logging to `req.log`. Built on first use. */
    storage: StorageOperations
  }
}

/** Options of the plugin: the storage profiles, and optionally the browse routes. */
export interface FastifyS3StorageOptions extends S3StorageOptions {
  /** Mounts web file browsers over profiles. Off unless given. */
  browse?: BrowseOptions
  /** Audit records carry only `keyHash`, not the key (browse and upload routes). Default false; `browse.auditKeyHashOnly` also sets it. */
  auditKeyHashOnly?: boolean
}

type RequestWithStorage = FastifyRequest & { [kRequestStorage]: StorageOperations | null }

const fastifyS3Storage: FastifyPluginAsync<FastifyS3StorageOptions> = async (fastify, opts) => {
  if (fastify.hasDecorator('storage')) throw new FST_S3S_INVALID_OPTION('the plugin is already registered on this instance')
  const options = validateOptions(opts)
  if (opts.auditKeyHashOnly !== undefined && typeof opts.auditKeyHashOnly !== 'boolean') throw new FST_S3S_INVALID_OPTION('"auditKeyHashOnly" must be a boolean')
  const browseModule = opts.browse === undefined ? undefined : await import('./browse/options.js')
  const browse = browseModule?.validateBrowseOptions(opts.browse, [...options.profiles.keys()])
  const registry = new StorageRegistry(options, opts.logger ?? fastify.log)

  fastify.decorate('storage', registry)
  fastify.decorate('storageAudit', new AuditLog(fastify.log, { keyHashOnly: opts.auditKeyHashOnly === true || browse?.auditKeyHashOnly === true }))
  fastify.decorateRequest(kRequestStorage, null)
  // A getter, so routes that never touch req.storage pay nothing for it.
  fastify.decorateRequest('storage', {
    getter (this: FastifyRequest) {
      const req = this as RequestWithStorage
      req[kRequestStorage] ??= registry.operations(undefined, req.log)
      return req[kRequestStorage]
    }
  })
  fastify.addHook('onClose', function destroyStorageClients (_instance, done) {
    registry.close()
    done()
  })

  if (browse !== undefined) {
    for (const name of browse.namespaces.keys()) registry.browseNamespaces.add(name)
    const { browseRoutes } = await import('./browse/routes.js')
    // Not wrapped in fastify-plugin: the browse routes' error handler, parsers and views stay theirs.
    fastify.register(browseRoutes, { browse, registry, audit: fastify.storageAudit })
  }
}

/** The plugin. Register it with `app.register(s3Storage, { profiles, defaultProfile })`. */
export const s3Storage = fp(fastifyS3Storage, { fastify: '5.x', name: 'fastify-s3-storage' })
export default s3Storage
export { fastifyS3Storage }

// Storage operations and their types.
export { StorageOperations } from './operations/storage-operations.js'
export type {
  CallOptions, CopiedFile, CopyFileOptions, DeleteFailure, DeleteFilesResult, DeleteItem, DownloadedObject, DownloadFileOptions,
  DownloadLinkOptions, FileInfo, ListedFile, ListedFolder, ListOptions, ListPage, MultipartUploadInfo, SignDownloadLinkOptions,
  SignedLink, StorageOperationsOptions, UploadBody, UploadedFile, UploadFileOptions, UploadLinkOptions, UploadPost, UploadPostOptions
} from './operations/storage-operations.js'
// Versions (versioned buckets).
export type {
  BucketVersioning, DeletedFile, DeletedPage, DeletedVersion, FileVersion, HeadOptions, ListDeletedOptions, ListVersionsOptions,
  RestoredVersion, UndeletedFile, VersionPage
} from './operations/storage-operations.js'
// Multipart uploads driven part by part (browsers straight to S3).
export type {
  CompletedPartInput, CompletedUpload, CompleteMultipartUploadOptions, CreateMultipartUploadOptions, MultipartUpload, SignUploadPartOptions,
  UploadedPart
} from './operations/storage-operations.js'
// Zip archives of folders and selections.
export type { ZipArchive, ZipEntry, ZipSelection, ZipStreamOptions } from './operations/storage-operations.js'
// Many files at once: moves, renames, folder moves and copies.
export type {
  CopyFolderResult, FolderTransferFailure, MovedFile, MoveFileOptions, MoveFolderOptions, MoveFolderResult, RenameFileOptions
} from './operations/storage-operations.js'
export type { ByteRange } from './operations/range.js'

// The registry (`app.storage`) and its profiles.
export type { StorageRegistry, StorageOperationsClass } from './storage-registry.js'
export type { StorageProfile, ProfileTarget } from './profiles/registry.js'
export type { CredentialSource, CredentialSourceKind } from './profiles/credentials.js'
export { roleSessionNameFor } from './profiles/role-session-name.js'
export { Region, type RegionCode } from './regions.js'

// Options.
export type {
  S3StorageOptions, ProfileOptions, ProfileOptionsBase, BucketProfileOptions, BrokerProfileOptions, StaticCredentials,
  ChecksumPolicy, LinkTtlPolicy, TokenCodeCallback, Timeouts
} from './options.js'
export type { BrowseOptions, NamespaceOptions, UploadMode, DownloadMode, BasePathFunction, QuotaOptions, QuotaLimit, ZipRouteOptions } from './browse/options.js'
export type { LoginOptions, LoginCookieOptions, SignInClaims } from './browse/login-options.js'

// Guards and audit, shared by the browse and upload routes.
export { BrowseActions, allowList, type BrowseAction, type Authenticate, type Authorize } from './http/guards.js'
export { AuditActions, type AuditAction, type AuditLog, type AuditRecord, type AuditResult } from './http/audit.js'
export type { Listing, FileEntry, FolderEntry } from './browse/context.js'
export type { VersionEntry, DeletedEntry } from './browse/version-routes.js'

// Direct uploads.
export type { UploadService, UploadServiceOptions, CreateUploadInput, UploadTicket, UploadRecord } from './uploads/upload-service.js'
export { s3UploadRoutes, type UploadRoutesOptions } from './uploads/routes.js'
export { uploadRule, type CheckCorsOptions, type CorsReport } from './uploads/cors.js'

// The error catalog.
export * as errors from './errors.js'
export * from './errors.js'
