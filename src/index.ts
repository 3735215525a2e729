/**
 * fastify-s3-storage: named S3 storage profiles, `app.storage` and a lazy `req.storage`.
 * Options are validated once here; nothing downstream reads raw options.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { FST_S3S_INVALID_OPTION } from './errors.js'
import { StorageOperations } from './operations/storage-operations.js'
import { validateOptions, type S3StorageOptions } from './options.js'
import { AuditLog } from './browse/audit.js'
import { validateBrowseOptions, type BrowseOptions } from './browse/options.js'
import { browseRoutes } from './browse/routes.js'
import { StorageRegistry } from './storage.js'
import { kRequestStorage } from './symbols.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage registry: `profile(name)`, `operations(profile?)`, `use(SubClass)`. */
    storage: StorageRegistry
  }
  interface FastifyInstance {
    /** Audit records of the browse routes (`on('record', fn)`); present when `browse` is configured. */
    storageAudit: AuditLog
  }
  interface FastifyRequest {
    /** Storage operations on the default profile, logging to `req.log`. Built on first use. */
    storage: StorageOperations
    [kRequestStorage]: StorageOperations | null
  }
}

/** Options of the plugin: the storage profiles, and optionally the browse routes. */
export interface FastifyS3StorageOptions extends S3StorageOptions {
  /** Mounts web file browsers over profiles. Off unless given. */
  browse?: BrowseOptions
}

const fastifyS3Storage: FastifyPluginAsync<FastifyS3StorageOptions> = async (fastify, opts) => {
  if (fastify.hasDecorator('storage')) throw new FST_S3S_INVALID_OPTION('the plugin is already registered on this instance')
  const options = validateOptions(opts)
  const browse = opts.browse === undefined ? undefined : validateBrowseOptions(opts.browse, [...options.profiles.keys()])
  const registry = new StorageRegistry(options, opts.logger ?? fastify.log)

  fastify.decorate('storage', registry)
  fastify.decorateRequest(kRequestStorage, null)
  // A getter, so routes that never touch req.storage pay nothing for it.
  fastify.decorateRequest('storage', {
    getter (this: FastifyRequest) {
      this[kRequestStorage] ??= registry.operations(undefined, this.log)
      return this[kRequestStorage]
    }
  })
  fastify.addHook('onClose', function destroyStorageClients (_instance, done) {
    registry.close()
    done()
  })

  if (browse !== undefined) {
    const audit = new AuditLog(fastify.log, { keyHashOnly: browse.auditKeyHashOnly })
    fastify.decorate('storageAudit', audit)
    // Not wrapped in fastify-plugin: the browse routes' error handler, parsers and views stay theirs.
    fastify.register(browseRoutes, { browse, registry, audit })
  }
}

/** The plugin. Register it with `app.register(s3Storage, { profiles, defaultProfile })`. */
export const s3Storage = fp(fastifyS3Storage, { fastify: '5.x', name: 'fastify-s3-storage' })
export default s3Storage
export { fastifyS3Storage }

export { StorageOperations } from './operations/storage-operations.js'
export type {
  CallOptions, CopiedFile, CopyFileOptions, DeleteFilesResult, DeleteItem, DownloadFileOptions, DownloadLinkOptions,
  FileInfo, ListedFile, ListedFolder, ListOptions, ListPage, StorageOperationsOptions, UploadedFile, UploadFileOptions,
  UploadLinkOptions, UploadPost, UploadPostOptions
} from './operations/storage-operations.js'
export type { DownloadedObject, UploadBody, DeleteFailure } from './operations/transfer.js'
export type { ByteRange } from './operations/range.js'
export { StorageRegistry, type StorageOperationsClass } from './storage.js'
export { ProfileRegistry, StorageProfile, type ProfileTarget } from './profiles/registry.js'
export {
  validateOptions, MAX_LINK_TTL_SECONDS, DEFAULT_REGION, DEFAULT_CHECKSUMS,
  DEFAULT_REFRESH_MARGIN_SECONDS, DEFAULT_BROKER_TIMEOUT_MS, DEFAULT_ROLE_SESSION_NAME, MIN_ROLE_DURATION_SECONDS, MAX_ROLE_DURATION_SECONDS,
  type S3StorageOptions, type ProfileOptions, type ProfileOptionsBase, type BucketProfileOptions, type BrokerProfileOptions,
  type StaticCredentials, type ChecksumPolicy, type LinkTtlPolicy, type TokenCodeCallback,
  type NormalizedOptions, type NormalizedProfile, type NormalizedBroker, type NormalizedAssumeRole
} from './options.js'
export { roleSessionNameFor } from './profiles/role-session-name.js'
export type { CredentialSource, CredentialSourceKind } from './profiles/credentials.js'
export { buildKey, checkPath, normalizePrefix, prefixPath, parseS3Url, hashKey, MAX_KEY_BYTES } from './keys.js'
export { Region, type RegionCode } from './regions.js'
export type { BrowseOptions, NamespaceOptions, UploadMode, Authenticate, Authorize } from './browse/options.js'
export { BrowseActions, allowList, type BrowseAction } from './browse/permissions.js'
export { AuditLog, type AuditRecord, type AuditResult } from './browse/audit.js'
export type { Listing, FileEntry, FolderEntry } from './browse/context.js'
export {
  UploadService, type UploadServiceOptions, type CreateUploadInput, type UploadTicket, type UploadRecord
} from './uploads/upload-service.js'
export { s3UploadRoutes, type UploadRoutesOptions } from './uploads/routes.js'
export { uploadRule, type CheckCorsOptions, type CorsReport } from './uploads/cors.js'
export * as errors from './errors.js'
export * from './errors.js'
