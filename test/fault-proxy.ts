// A TCP proxy in front of the S3 server for fault tests: it can delay every byte S3 sends, cut every
// connection and refuse new ones (S3 "down"), and come back on the same port.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** A controllable proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point a profile's endpoint here. */
  endpoint: string
  /** Delays every chunk from S3 by this many milliseconds (0: none). */
  setDelay(ms: number): void
  /** Destroys every open connection and stops listening: S3 is unreachable. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

/** Starts a proxy to `target` (an http://host:port endpoint) on a free 127.0.0.1 port. */
export async function startFaultProxy (target: string): Promise<FaultProxy> {
  const { hostname, port: targetPort } = new URL(target)
  const sockets = new Set<Socket>()
  let delay = 0
  let server: Server
  let port = 0

  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = connect(Number(targetPort), hostname)
      sockets.add(client)
      sockets.add(upstream)
      const drop = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
      client.on('error', drop)
      upstream.on('error', drop)
      client.on('close', drop)
      upstream.on('close', drop)
      client.pipe(upstream)
      upstream.on('data', (chunk: Buffer) => {
        if (delay === 0) {
          client.write(chunk)
          return
        }
        // Hold the upstream while this chunk waits, so order is kept and the delay is felt per chunk.
        upstream.pause()
        setTimeout(() => { if (!client.destroyed) client.write(chunk); upstream.resume() }, delay)
      })
      upstream.on('end', () => setTimeout(() => client.end(), delay))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => { port = (server.address() as AddressInfo).port; resolve() })
    })
  }
  await listen()

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setDelay (ms) { delay = ms },
    async cut () {
      await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy() })
      sockets.clear()
    },
    restore: listen,
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
