/**
 * `fastify-s3-storage/dev`: real S3-compatible servers on 127.0.0.1 for your tests and examples, with real
 * keys so signatures are checked. Development-only: nothing in the library imports this module.
 */
export { startLocalS3, SEAWEEDFS_VERSION, type LocalS3, type LocalS3Options } from './local-s3.js'
export { startVersityGw, VERSITYGW_VERSION, type VersityGwOptions } from './versitygw.js'
