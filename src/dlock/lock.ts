/**
 * A Redis lock done right: a random token per acquisition, compare-and-delete
 * release, compare-and-pexpire extend, and a fencing token per acquisition.
 *
 * Invariants:
 * - A key is held by at most one token at a time (SET NX); the token is 128
 *   random bits from node:crypto, so no two acquisitions share one.
 * - Only the token's holder can release or extend (Lua compare-and-*), so a
 *   holder whose TTL lapsed gets LockLostError instead of deleting the next
 *   holder's lock, the flaw of the SETNX/DEL recipe.
 * - Each successful acquisition carries `fence`, from the counter `${key}:fence`
 *   moved up in the same script as the SET: strictly increasing per key across
 *   all clients. Pass it to the guarded resource and have it refuse fences lower
 *   than the highest it has seen; that is what makes a lapsed holder harmless.
 *   By default (fence 'time') the counter never falls below Redis's clock in
 *   microseconds, so a Redis restarted without persistence, which forgot the
 *   counter while an old holder's lease may still run, goes on above every fence
 *   it issued before (unless its clock went back across the restart).
 * - Keys and options are checked before any Redis call: a bad one is a gort
 *   error naming it, never the client's argument error.
 * - `validUntil` is conservative: measured from *before* the SET was sent, so
 *   the lock is held in Redis at least until then (clock drift aside).
 * - acquire retries with jittered exponential backoff until it gets the lock or
 *   its signal aborts; it never leaves a lock behind that it did not return: an
 *   attempt cut short (abort, timeout) is followed by a compare-and-delete of
 *   the attempt's token.
 *
 * Rejected design: Redlock over N independent masters. It needs N servers, and
 * without fencing it still cannot protect a resource from a paused holder
 * (Kleppmann, "How to do distributed locking"). One Redis plus fencing is
 * simpler and honest about what it guarantees.
 */
import { randomBytes } from 'node:crypto'
import { sleepMs } from '../sonyflake/clock.js'
import { DEFAULT_COMMAND_TIMEOUT_MS, type RedisClientLike, bounded } from './client.js'
import { InvalidLockOptionError, LockLostError, LockNotHeldError } from './errors.js'
import { ACQUIRE_COUNTER, ACQUIRE_TIME, EXTEND, RELEASE, type Script, runScript } from './scripts.js'
import { checkKey, checkMs, checkObject, checkSignal } from './validate.js'

export interface RetryOptions {
  /** First backoff ceiling in ms (default 10). */
  minDelay?: number
  /** Largest backoff ceiling in ms (default 250). */
  maxDelay?: number
}

export interface AcquireOptions {
  /** How long Redis keeps the lock unless extended, in ms (integer >= 1). */
  ttl: number
  /** acquire gives up when this aborts, rejecting with its reason. */
  signal?: AbortSignal
  retry?: RetryOptions
}

/**
 * How fences are made. 'time' (the default): max(counter + 1, Redis's clock in
 * microseconds), which stays increasing when Redis restarts without the counter
 * (no persistence) as long as Redis's clock does not go back across the restart.
 * 'counter': the counter alone (1, 2, 3, ...), increasing only while the fence
 * key survives, so only for a Redis that persists it (AOF with fsync always).
 */
export type FenceMode = 'time' | 'counter'

export interface RedisLockOptions {
  /** Bound on each Redis round trip, in ms (default 2000); past it: RedisConnectionError. */
  commandTimeout?: number
  /** How fences are made (default 'time'); see FenceMode. */
  fence?: FenceMode
}

const ACQUIRE_BY_MODE = new Map<unknown, Script>([
  ['time', ACQUIRE_TIME],
  ['counter', ACQUIRE_COUNTER],
])

/** Validates tryAcquire's and acquire's shared options. */
function acquireOptions(options: unknown): { ttl: number; signal: AbortSignal | undefined; bag: Record<string, unknown> } {
  const bag = checkObject('options', options, false) as Record<string, unknown>
  return { ttl: checkMs('ttl', bag['ttl'], 1), signal: checkSignal(bag['signal']), bag }
}

/** The fence counter's key for a lock key. Put a hash tag in `key` ({orders}) on Redis Cluster. */
export function fenceKey(key: string): string {
  return `${checkKey(key)}:fence`
}

/** Creates lock handles on one node-redis client. */
export class RedisLock {
  readonly #client: RedisClientLike
  readonly #timeout: number
  /** The acquire script of the fence mode chosen at construction. */
  readonly #acquire: Script

  constructor(client: RedisClientLike, options: RedisLockOptions = {}) {
    if (typeof (client as Partial<RedisClientLike> | null)?.evalSha !== 'function') {
      throw new InvalidLockOptionError('client', client, 'a connected node-redis client')
    }
    const bag = checkObject('options', options, true) ?? {}
    this.#client = client
    this.#timeout = checkMs('commandTimeout', bag['commandTimeout'] ?? DEFAULT_COMMAND_TIMEOUT_MS, 1)
    const acquire = ACQUIRE_BY_MODE.get(bag['fence'] ?? 'time')
    if (acquire === undefined) throw new InvalidLockOptionError('fence', bag['fence'], "'time' or 'counter'")
    this.#acquire = acquire
  }

  /**
   * One attempt: the lock, or null when someone else holds it.
   * Rejects with RedisConnectionError when Redis is unreachable.
   */
  async tryAcquire(key: string, options: { ttl: number; signal?: AbortSignal }): Promise<Lock | null> {
    checkKey(key)
    const { ttl, signal } = acquireOptions(options)
    return this.#attempt(key, ttl, signal)
  }

  /** Retries (with jitter) until the lock is ours or `signal` aborts. */
  async acquire(key: string, options: AcquireOptions): Promise<Lock> {
    checkKey(key)
    const { ttl, signal, bag } = acquireOptions(options)
    const retry = checkObject('retry', bag['retry'], true)
    const minDelay = checkMs('retry.minDelay', retry?.['minDelay'] ?? 10, 1)
    const maxDelay = checkMs('retry.maxDelay', retry?.['maxDelay'] ?? 250, minDelay)
    for (let attempt = 0; ; attempt++) {
      const lock = await this.#attempt(key, ttl, signal)
      if (lock !== null) return lock
      // Equal jitter: half the ceiling fixed, half random, so contenders spread out
      // but none spins; the ceiling doubles per failed attempt up to maxDelay.
      const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt, 30))
      await sleepMs(ceiling / 2 + Math.random() * (ceiling / 2), signal)
    }
  }

  async #attempt(key: string, ttl: number, signal: AbortSignal | undefined): Promise<Lock | null> {
    const token = randomBytes(16).toString('hex')
    const started = Date.now()
    const call = { keys: [key, fenceKey(key)], arguments: [token, String(ttl)] }
    let fence: unknown
    try {
      fence = await bounded(this.#client, `acquire "${key}"`, this.#timeout, signal, (c) => runScript(c, this.#acquire, call))
    } catch (err) {
      // The SET may have landed before we stopped waiting: take back this token's
      // lock, if any. Same connection, so it runs after the SET if the SET was sent.
      if (this.#client.isReady) {
        runScript(this.#client, RELEASE, { keys: [key], arguments: [token] }).catch(() => undefined)
      }
      throw err
    }
    if (fence === null) return null
    return new Lock(this.#client, this.#timeout, key, token, Number(fence), started + ttl)
  }
}

/** One acquisition of a lock. */
export class Lock {
  readonly #client: RedisClientLike
  readonly #timeout: number
  /** Set once release() succeeded; a released handle refuses release and extend. */
  #released = false
  #validUntil: number

  /** @internal Handles come from RedisLock.acquire/tryAcquire. */
  constructor(
    client: RedisClientLike,
    timeout: number,
    readonly key: string,
    readonly token: string,
    readonly fence: number,
    validUntil: number,
  ) {
    this.#client = client
    this.#timeout = timeout
    this.#validUntil = validUntil
  }

  /** Epoch ms until which Redis holds the lock for sure (unless released). */
  get validUntil(): number {
    return this.#validUntil
  }

  get released(): boolean {
    return this.#released
  }

  /** Deletes the lock if it is still ours; LockLostError if it is not. */
  async release(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = checkSignal(checkObject('options', options, true)?.['signal'])
    if (this.#released) throw new LockNotHeldError(this.key, 'release')
    const call = { keys: [this.key], arguments: [this.token] }
    const deleted = await bounded(this.#client, `release "${this.key}"`, this.#timeout, signal, (c) =>
      runScript(c, RELEASE, call),
    )
    if (Number(deleted) !== 1) throw new LockLostError(this.key, 'release')
    this.#released = true
  }

  /** Sets the lock's TTL to `ttl` ms from now if it is still ours; LockLostError if it is not. */
  async extend(ttl: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkMs('ttl', ttl, 1)
    const signal = checkSignal(checkObject('options', options, true)?.['signal'])
    if (this.#released) throw new LockNotHeldError(this.key, 'extend')
    const started = Date.now()
    const call = { keys: [this.key], arguments: [this.token, String(ttl)] }
    const ok = await bounded(this.#client, `extend "${this.key}"`, this.#timeout, signal, (c) =>
      runScript(c, EXTEND, call),
    )
    if (Number(ok) !== 1) throw new LockLostError(this.key, 'extend')
    this.#validUntil = started + ttl
  }
}
