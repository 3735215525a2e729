// Proxies in front of the S3 server for fault tests. The TCP one can delay every byte S3 sends, cut every
// connection and refuse new ones (S3 "down"), and come back on the same port; the HTTP one answers chosen
// requests with an S3 error of the test's choosing.
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
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

/** An S3 error to answer in place of the server. */
export interface InjectedError {
  status: number
  code: string
  message: string
  /** An answer body of the test's own instead of S3's `<Error>` document (a 200 DeleteResult listing failed keys, say). */
  body?: string
}

/** An HTTP proxy that can answer chosen requests with an S3 error (the rest reach S3 untouched). */
export interface HttpFaultProxy {
  /** `http://127.0.0.1:<port>`: point a profile's endpoint here. */
  endpoint: string
  /** Requests seen, as `METHOD path?query`, answered or forwarded. */
  seen: string[]
  close(): Promise<void>
}

/**
 * Starts an HTTP proxy to `target` that asks `inject` about every request: an error it returns is answered
 * as S3 would (XML body), anything else is forwarded with its headers unchanged (the Host header too, so
 * SigV4 signatures still verify).
 */
export async function startHttpFaultProxy (target: string, inject: (method: string, url: string, headers: IncomingHttpHeaders) => InjectedError | undefined): Promise<HttpFaultProxy> {
  const upstream = new URL(target)
  const seen: string[] = []
  const server = createHttpServer((req, res) => {
    const url = req.url ?? '/'
    seen.push(`${req.method} ${url}`)
    const error = inject(req.method ?? 'GET', url, req.headers)
    if (error !== undefined) {
      req.resume()
      req.on('end', () => {
        res.writeHead(error.status, { 'content-type': 'application/xml' })
        res.end(error.body ?? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>fault-proxy</RequestId></Error>`)
      })
      return
    }
    const headers = { ...req.headers }
    // Hop-by-hop and unsigned: the forwarded request is a new connection.
    delete headers.expect
    delete headers.connection
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
