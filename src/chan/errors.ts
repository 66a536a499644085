/**
 * Errors thrown by channels and sync primitives.
 *
 * Invariants:
 * - These are Go's panics: misuse a caller can catch ("send on closed channel").
 *   Each has Go's message text verbatim and a stable `code` to branch on.
 * - Operations that would merely block never throw: trySend/tryRecv/trySelect
 *   report "not ready" through their return value instead.
 * - Every throw site makes a fresh error (`new`), so stacks point at the caller.
 */
import { GortError } from '../errors.js'

export type ChanErrorCode = 'ERR_SEND_ON_CLOSED' | 'ERR_CLOSE_OF_CLOSED'

/** A send on, or a second close of, a closed channel. */
export class ChanClosedError extends GortError {
  declare readonly code: ChanErrorCode
  constructor(code: ChanErrorCode = 'ERR_SEND_ON_CLOSED') {
    super(code, code === 'ERR_SEND_ON_CLOSED' ? 'send on closed channel' : 'close of closed channel')
  }
}

export type SyncErrorCode =
  | 'ERR_NEGATIVE_WAITGROUP'
  | 'ERR_UNLOCK_OF_UNLOCKED'
  | 'ERR_RUNLOCK_OF_UNLOCKED'
  | 'ERR_RWUNLOCK_OF_UNLOCKED'
  | 'ERR_SEMAPHORE_RELEASED_MORE'

const SYNC_MESSAGES: Record<SyncErrorCode, string> = {
  ERR_NEGATIVE_WAITGROUP: 'sync: negative WaitGroup counter',
  ERR_UNLOCK_OF_UNLOCKED: 'sync: unlock of unlocked mutex',
  ERR_RUNLOCK_OF_UNLOCKED: 'sync: RUnlock of unlocked RWMutex',
  ERR_RWUNLOCK_OF_UNLOCKED: 'sync: Unlock of unlocked RWMutex',
  ERR_SEMAPHORE_RELEASED_MORE: 'semaphore: released more than held', // golang.org/x/sync/semaphore
}

/** Misuse of a sync primitive (Go's `fatal error`s in package sync, made catchable). */
export class SyncError extends GortError {
  declare readonly code: SyncErrorCode
  constructor(code: SyncErrorCode) {
    super(code, SYNC_MESSAGES[code])
  }
}
