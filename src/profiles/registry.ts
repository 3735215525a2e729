/**
 * The profile registry: named profiles, each with its normalised options, credential source and S3Client.
 * It knows nothing of operations; `StorageRegistry` (src/storage.ts) builds StorageOperations on top.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { FastifyBaseLogger } from 'fastify'
import type { NormalizedOptions, NormalizedProfile } from '../options.js'
import { FST_S3S_UNKNOWN_PROFILE } from '../errors.js'
import { createS3Client } from './client.js'
import { credentialSourceFor, type CredentialSource } from './credentials.js'

/**
 * Where a profile's keys live right now. A credentials broker's `S3Folder` sets it (the profile's own
 * `prefix` is kept under the folder); for other profiles it never changes.
 */
export interface ProfileTarget {
  /** The bucket. */
  bucket: string
  /** The profile prefix: `''` or a folder ending in `/`. */
  prefix: string
}

/** A configured profile, ready for use. */
export class StorageProfile {
  /** The profile's name. */
  readonly name: string
  /** Its options, validated and defaulted. */
  readonly options: NormalizedProfile
  /** Its client, shared by every operation on the profile. */
  readonly client: S3Client
  /** Where its credentials come from. */
  readonly credentialSource: CredentialSource
  private readonly staticTarget?: ProfileTarget

  /** `log` receives register-time warnings and credential refresh warnings. */
  constructor (options: NormalizedProfile, log: FastifyBaseLogger) {
    this.name = options.name
    this.options = options
    this.credentialSource = credentialSourceFor(options, log)
    this.client = createS3Client(options, this.credentialSource)
    if (options.bucket !== undefined) this.staticTarget = Object.freeze({ bucket: options.bucket, prefix: options.prefix })
  }

  /** The bucket and prefix when they never change (no credentials broker): lets callers skip an await. */
  get fixedTarget (): ProfileTarget | undefined {
    return this.credentialSource.folder === undefined ? this.staticTarget : undefined
  }

  /**
   * The bucket and prefix keys are built under. For a broker profile this may fetch credentials, and throws
   * `FST_S3S_CREDENTIALS` (502) when the broker fails.
   */
  async target (): Promise<ProfileTarget> {
    const folder = await this.credentialSource.folder?.()
    if (folder !== undefined) return { bucket: folder.bucket, prefix: folder.prefix + this.options.prefix }
    // A broker reply without S3Folder is refused when the profile has no bucket, so this is set here.
    return this.staticTarget as ProfileTarget
  }

  /**
   * When the credentials the client signs with expire, if they are temporary; `undefined` for long-lived
   * keys. Asks the client itself, so it sees what signing sees (clientConfig.credentials included).
   */
  async credentialsExpiry (): Promise<Date | undefined> {
    const identity = await this.client.config.credentials()
    return identity.expiration
  }

  /** Whether two profiles can copy server-side: the same store, reached the same way. */
  sameEndpointAs (other: StorageProfile): boolean {
    return this.options.endpoint === other.options.endpoint && this.options.region === other.options.region
  }

  /** Frees the client's sockets. */
  destroy (): void {
    this.client.destroy()
  }
}

/** Named profiles and the default one. */
export class ProfileRegistry {
  /** The profile used when a call names none. */
  readonly defaultProfile: string
  /** Logger for work done outside a request. */
  readonly log: FastifyBaseLogger
  private readonly profiles: Map<string, StorageProfile>

  constructor (options: NormalizedOptions, log: FastifyBaseLogger) {
    this.defaultProfile = options.defaultProfile
    this.log = log
    this.profiles = new Map()
    for (const [name, profile] of options.profiles) this.profiles.set(name, new StorageProfile(profile, log))
  }

  /** The names of every profile. */
  get names (): string[] {
    return [...this.profiles.keys()]
  }

  /** A profile by name (the default when none is given). Throws `FST_S3S_UNKNOWN_PROFILE`. */
  profile (name?: string): StorageProfile {
    const profile = this.profiles.get(name ?? this.defaultProfile)
    if (profile === undefined) throw new FST_S3S_UNKNOWN_PROFILE(String(name))
    return profile
  }

  /** Destroys every client; called from the app's onClose hook. */
  close (): void {
    for (const profile of this.profiles.values()) profile.destroy()
  }
}
