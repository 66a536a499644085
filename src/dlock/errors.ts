/**
 * Errors thrown by the Redis lock.
 *
 * Invariants:
 * - LockLostError means Redis no longer holds this holder's token under the key:
 *   the TTL lapsed (and maybe someone else took the lock). The critical section
 *   may have overlapped another holder's; fencing tokens are how a resource
 *   guards against that.
 * - LockNotHeldError is a misuse of a handle this process already released
 *   (Go's "sync: unlock of unlocked mutex"), not a Redis-side fact.
 * - RedisConnectionError means the outcome in Redis is unknown: the connection
 *   went away or Redis did not answer in time. `cause` holds the client's error.
 */
import { GortError, describeValue } from '../errors.js'

export class LockNotHeldError extends GortError {
  constructor(
    readonly key: string,
    op: string,
  ) {
    super('ERR_DLOCK_NOT_HELD', `dlock: ${op} of unheld lock "${key}" (already released)`)
  }
}

export class LockLostError extends GortError {
  constructor(
    readonly key: string,
    op: string,
  ) {
    super(
      'ERR_DLOCK_LOST',
      `dlock: ${op} failed: lock "${key}" is lost (its ttl lapsed; it is free or held by someone else)`,
    )
  }
}

export class RedisConnectionError extends GortError {
  constructor(
    readonly op: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('ERR_DLOCK_CONNECTION', `dlock: ${op}: ${detail}`, options)
  }
}

/** An option outside its domain; the message echoes the value. */
export class InvalidLockOptionError extends GortError {
  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super('ERR_DLOCK_INVALID_OPTION', `dlock: invalid ${option}: ${describeValue(value)} (${expected})`)
  }
}

/** A lock key (or a machine-id set's key) that is not a non-empty string; the message echoes it. */
export class InvalidLockKeyError extends GortError {
  constructor(readonly key: unknown) {
    super('ERR_DLOCK_INVALID_KEY', `dlock: invalid key: ${describeValue(key)} (must be a non-empty string)`)
  }
}
