/**
 * Mutex: Go folklore's lock built on a channel of capacity 1.
 *
 * lock = send a token (blocks while the slot is full), unlock = take it back.
 * Because a receive from a full buffer refills it from the first parked sender,
 * unlock hands the lock straight to the longest waiter (FIFO, no barging).
 *
 * Invariants:
 * - Locked exactly when the channel's one slot is full.
 * - unlock of an unlocked mutex throws SyncError "sync: unlock of unlocked mutex".
 * - A mutex is not owned by a goroutine (as in Go): any code may unlock it.
 */
import { Chan, type OpOptions, recvDiscard, setWaitLabel } from '../chan.js'
import { SyncError } from '../errors.js'

export class Mutex {
  /** Full slot = locked. */
  readonly #ch = new Chan<undefined>(1)

  constructor() {
    setWaitLabel(this.#ch, 'sync.Mutex.Lock')
  }

  /** Waits for the lock. Aborting a waiting lock leaves the queue as it was. */
  lock(options?: OpOptions): Promise<void> {
    return this.#ch.send(undefined, options)
  }

  /** Takes the lock if it is free; never waits. */
  tryLock(): boolean {
    return this.#ch.trySend(undefined)
  }

  unlock(): void {
    // recvDiscard, not tryRecv: unlock is hot and must not allocate a result object.
    if (!recvDiscard(this.#ch as Chan<unknown>)) throw new SyncError('ERR_UNLOCK_OF_UNLOCKED')
  }

  /** Whether the mutex is held now (diagnostics; racy by nature in Go, exact here). */
  get locked(): boolean {
    return this.#ch.len === 1
  }
}
