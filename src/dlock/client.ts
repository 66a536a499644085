/**
 * The slice of a node-redis client that dlock uses, and the one place where a
 * Redis call is bounded so that a vanished server is an error, never a hang.
 *
 * Invariants:
 * - Every call checks `isReady` first: a client that is disconnected (node-redis
 *   would park the command in its offline queue until a reconnect that may never
 *   come) fails at once with RedisConnectionError.
 * - Every call is bounded by a timeout; expiry rejects with RedisConnectionError
 *   and aborts the command in the client, so an unsent command leaves its queue.
 * - A failure while the client is no longer ready (the socket closed under an
 *   in-flight command) becomes RedisConnectionError with the client's error as
 *   `cause`. Errors Redis itself replied with (WRONGTYPE, a script error) pass
 *   through unchanged: the connection is fine, the request was wrong.
 * - The user's AbortSignal rejects the call with `signal.reason`.
 * - On return, no timer or abort listener of the call is left behind.
 *
 * dlock imports nothing from `redis` at run time: it is an optional peer
 * dependency, and any client with this shape (node-redis 5 or 6) works.
 */
import { RedisConnectionError } from './errors.js'

export interface ScriptCall {
  keys: string[]
  arguments: string[]
}

/** What dlock needs from a node-redis client (`createClient()` from `redis`). */
export interface RedisClientLike {
  readonly isReady: boolean
  eval(script: string, options: ScriptCall): Promise<unknown>
  evalSha(sha1: string, options: ScriptCall): Promise<unknown>
  sAdd(key: string, members: string): Promise<unknown>
  sRem(key: string, members: string): Promise<unknown>
  /** node-redis 5+: a view of the client whose commands carry this signal. */
  withAbortSignal?(signal: AbortSignal): RedisClientLike
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 2000

/** Marks errors produced by `bounded` itself, to tell them from the client's. */
class GuardError extends Error {
  constructor(readonly reason: unknown) {
    super('guard')
  }
}

/**
 * Runs `body` against the client with the invariants above.
 * `op` names the operation in error messages ("acquire \"k\"").
 */
export async function bounded<T>(
  client: RedisClientLike,
  op: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  body: (c: RedisClientLike) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted()
  if (!client.isReady) throw new RedisConnectionError(op, 'the redis client is not connected')

  const ac = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  let onAbort: (() => void) | undefined
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new RedisConnectionError(op, `redis did not answer within ${timeoutMs} ms`)
      ac.abort(err)
      reject(new GuardError(err))
    }, timeoutMs)
    if (signal !== undefined) {
      onAbort = () => {
        ac.abort(signal.reason)
        reject(new GuardError(signal.reason))
      }
      signal.addEventListener('abort', onAbort, { once: true })
    }
  })
  const view = client.withAbortSignal?.(ac.signal) ?? client
  try {
    return await Promise.race([body(view), guard])
  } catch (err) {
    if (err instanceof GuardError) throw err.reason
    if (!client.isReady) throw new RedisConnectionError(op, 'the connection to redis was lost', { cause: err })
    throw err
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
}
