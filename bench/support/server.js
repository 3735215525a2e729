// A benchmark server in its own process, so the load generator in the parent does not share its event loop.
// Usage (forked): node bench/support/server.js <bare|plugin|req-storage>
// Sends { port } to the parent once it listens on 127.0.0.1; exits on the message 'close'.
import Fastify from 'fastify'
import s3Storage from '../../dist/index.js'
import { pluginOptions } from './profile.js'

const variant = process.argv[2]
const hello = { hello: 'world' }

const app = Fastify({ logger: false })

if (variant === 'bare') {
  app.get('/', async () => hello)
} else if (variant === 'plugin') {
  await app.register(s3Storage, pluginOptions())
  app.get('/', async () => hello)
} else if (variant === 'req-storage') {
  await app.register(s3Storage, pluginOptions())
  // Touches the lazy getter, so every request builds its StorageOperations; the body stays the same size.
  app.get('/', async (req) => {
    if (req.storage.profile !== 'main') throw new Error('unexpected profile ' + req.storage.profile)
    return hello
  })
} else {
  console.error(`unknown variant "${variant}"`)
  process.exit(2)
}

await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ port: app.server.address().port })
process.on('message', async (message) => {
  if (message !== 'close') return
  await app.close()
  process.disconnect()
})
// The parent went away without saying so: do not linger.
process.on('disconnect', () => process.exit(0))
