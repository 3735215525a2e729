/**
 * `app.storage`: the profile registry plus the two ways to get operations from it. Lives above profiles/
 * and operations/ so that neither has to know the other.
 */
import type { FastifyBaseLogger } from 'fastify'
import { StorageOperations } from './operations/storage-operations.js'
import { ProfileRegistry } from './profiles/registry.js'
import { planCors, type CheckCorsOptions, type CorsReport } from './uploads/cors.js'
import { UploadService, type UploadServiceOptions } from './uploads/upload-service.js'

/** A StorageOperations subclass, as `use()` takes it. */
export type StorageOperationsClass<T extends StorageOperations> = new (registry: ProfileRegistry, options?: { profile?: string, location?: string, log?: FastifyBaseLogger }) => T

/** The registry decorated as `app.storage`. */
export class StorageRegistry extends ProfileRegistry {
  /**
   * Names of the browse namespaces mounted on this app, so other route sets (the upload routes) can refuse
   * to share one.
   * @internal
   */
  readonly browseNamespaces = new Set<string>()

  /**
   * Operations on a profile (the default one when none is given).
   *
   * @example
   * const archive = app.storage.operations('archive')
   * await archive.uploadFile(buffer, 'report.pdf', { location: 'reports' })
   */
  operations (profile?: string, log?: FastifyBaseLogger): StorageOperations {
    return new StorageOperations(this, { profile, log })
  }

  /**
   * An instance of a StorageOperations subclass, with its static `storageProfile`/`storageLocation`
   * defaults. Usable outside requests (it logs to the app's logger unless given one).
   *
   * @example
   * class Invoices extends StorageOperations { static storageLocation = 'invoices' }
   * const invoices = app.storage.use(Invoices)
   */
  use<T extends StorageOperations> (Subclass: StorageOperationsClass<T>, log?: FastifyBaseLogger): T {
    return new Subclass(this, { log })
  }

  /**
   * A direct-upload service: presigned POST tickets with limits, a confirm step and orphan cleanup.
   *
   * @example
   * const uploads = app.storage.uploads({ maxFileSize: 10 * 1024 * 1024, allowedContentTypes: ['image/png'] })
   * const ticket = await uploads.createUpload({ filename: 'photo.png', contentType: 'image/png' })
   */
  uploads (options: UploadServiceOptions, log?: FastifyBaseLogger): UploadService {
    return new UploadService(this, options, log)
  }

  /**
   * Reports what a profile's bucket CORS lacks for browser uploads from `origin`; `apply: true` adds the
   * missing rule without touching the others.
   */
  async checkCors (profile: string | undefined, options: CheckCorsOptions): Promise<CorsReport> {
    const ops = this.operations(profile)
    const { report, write } = planCors(await ops.bucketCors(), options)
    if (write !== undefined) await ops.setBucketCors(write)
    return report
  }
}
