/**
 * `app.storage`: the profile registry plus the two ways to get operations from it. Lives above profiles/
 * and operations/ so that neither has to know the other.
 */
import type { FastifyBaseLogger } from 'fastify'
import { StorageOperations } from './operations/storage-operations.js'
import { ProfileRegistry } from './profiles/registry.js'

/** A StorageOperations subclass, as `use()` takes it. */
export type StorageOperationsClass<T extends StorageOperations> = new (registry: ProfileRegistry, options?: { profile?: string, location?: string, log?: FastifyBaseLogger }) => T

/** The registry decorated as `app.storage`. */
export class StorageRegistry extends ProfileRegistry {
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
}
