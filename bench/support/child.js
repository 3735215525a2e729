// Benchmark servers in child processes, so the client in the parent never shares their event loop.
// A child sends { port } once it listens; it answers { type, ... } messages with { reply: type, ... }.
import { fork } from 'node:child_process'
import { once } from 'node:events'

/** Forks `path` with `args` (and node flags `execArgv`); resolves once it reports its port. */
export async function startChild (path, args = [], { execArgv = [] } = {}) {
  const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env }
  const child = fork(path, args, { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => { throw new Error(`${path} exited with code ${code} before listening`) })
  ])
  return { child, port: message.port, origin: `http://127.0.0.1:${message.port}` }
}

/** Sends { type, ...data } to the child and resolves with its reply of the same type. */
export async function ask ({ child }, type, data = {}) {
  const reply = new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.reply !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(message)
    }
    const onExit = (code) => {
      child.off('message', onMessage)
      reject(new Error(`child exited with code ${code} while asked "${type}"`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
  child.send({ type, ...data })
  return await reply
}

/** Asks the child to close and waits until it is gone (killed after 5 s). */
export async function stopChild (server) {
  const { child } = server ?? {}
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  if (child.connected) child.send({ type: 'close' })
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
