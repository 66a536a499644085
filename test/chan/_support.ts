/**
 * Helpers for the channel tests.
 * - flush(): lets every pending microtask and the yield macrotask run, by waiting
 *   two turns of setImmediate. It orders work; it is not a sleep and measures no time.
 * - woken(): an op that must already be settled, or a named failure;
 *   parkedOps(): withdraws such ops when the test ends, woken or not.
 * - runChild(): runs a fixture or example under `node --import tsx` and captures
 *   its exit code and output; the child is always waited for.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as path from 'node:path'

export const root = fileURLToPath(new URL('../../', import.meta.url))

export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
}

export interface ChildResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runChild(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(root, file), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A child that hangs (e.g. starved timers) is killed, so the test fails instead of hanging.
      timeout: 20_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * `p`'s value if it settles by the time the event loop has turned twice
 * (flush()), else an error saying that `what` was not woken. For an op that
 * must already have been woken (by close, a hand-off): a missing wake fails
 * the test by name at once, instead of parking forever. Not a timing
 * assertion: the op was settled synchronously or it never will be.
 */
export async function woken<T>(p: Promise<T>, what: string): Promise<T> {
  const NOT_YET = Symbol('not yet')
  const r = await Promise.race([p, flush().then(() => NOT_YET)])
  if (r === NOT_YET) throw new Error(`${what} was not woken`)
  return r as T
}

/**
 * Ops a test parks and must see woken. Give each op `signal` and pass it
 * through `track`; `release()` (in a `finally`) aborts whatever still waits,
 * so an op that was never woken fails only its own test: it leaves no waiter
 * for later tests and no unhandled rejection.
 */
export function parkedOps(): { signal: AbortSignal; track<T>(p: Promise<T>): Promise<T>; release(): void } {
  const ac = new AbortController()
  return {
    signal: ac.signal,
    track(p) {
      p.catch(() => {})
      return p
    },
    release: () => ac.abort(),
  }
}

export { rejection, thrown } from '../_support/rejection.js'
