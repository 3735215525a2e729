/** Private keys on Fastify objects. */

/** Holder of the lazily built `req.storage`. */
export const kRequestStorage = Symbol('fastify-s3-storage.requestStorage')
