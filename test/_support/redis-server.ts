/**
 * Starts a throwaway `redis-server` for a test: loopback only, a free port, no
 * persistence (`--save '' --appendonly no`), its own temp dir.
 *
 * Invariants:
 * - `startRedis()` resolves only once the server has said it accepts connections;
 *   it waits on the server's own log line, not on a sleep.
 * - After `stop()` (SIGTERM) or `kill()` (SIGKILL) resolves, the child process has
 *   exited, its pipes are closed and its temp dir is gone: a test that calls one
 *   of them leaves nothing alive behind.
 * - A port taken between our probe and the server's bind (another test grabbed it)
 *   is retried on a new port, a few times. A missing redis-server is not retried:
 *   it fails at once with one line saying what to install or set.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REDIS, missingMessage, programPath } from './system-deps.js'

/** REDIS_SERVER when set, else redis-server on the PATH (npm test checks, or installs, it first). */
export const REDIS_SERVER = programPath(REDIS)

/** The server program is not there: one line, and no retry on another port. */
class MissingServerError extends Error {}

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Graceful shutdown (SIGTERM); resolves when the process has exited. */
  stop(): Promise<void>
  /** The server vanishing abruptly (SIGKILL); resolves when the process has exited. */
  kill(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('close', () => resolve()))
}

/** Spawns one server; resolves when it is ready, rejects (after it exited) if it is not. */
async function startOnce(port: number, dir: string, extraArgs: readonly string[]): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', ...extraArgs]
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  let missing = false
  const ready = await new Promise<boolean>((resolve) => {
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes('Ready to accept connections')) resolve(true)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES') missing = true
      log += String(err)
      resolve(false)
    })
    child.once('close', () => resolve(false))
  })
  if (ready) {
    // Keep draining output so a chatty server never blocks on a full pipe.
    return child
  }
  child.kill('SIGKILL')
  await exited(child)
  if (missing) throw new MissingServerError(missingMessage(REDIS))
  throw new Error(`redis-server on port ${port} did not start:\n${log.slice(-2000)}`)
}

export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gort-redis-'))
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    let child: ChildProcess
    try {
      child = await startOnce(port, dir, extraArgs)
    } catch (err) {
      if (err instanceof MissingServerError) {
        await rm(dir, { recursive: true, force: true })
        // No stack: the one line is the whole story.
        err.stack = `${err.message}`
        throw err
      }
      lastError = err
      continue
    }
    const end = async (signal: NodeJS.Signals): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited(child)
      await rm(dir, { recursive: true, force: true })
    }
    return { port, url: `redis://127.0.0.1:${port}`, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') }
  }
  await rm(dir, { recursive: true, force: true })
  throw lastError
}
