/**
 * RWMutex: many readers or one writer, writer-preferring, after Go's sync.RWMutex.
 *
 * Invariants (single-threaded restatement of Go's counters):
 * - `#readers` is the number of readers holding the lock.
 * - `#writer` is true while a writer holds it; `#w` serialises writers.
 * - Once a writer is waiting (`#writerWaiting`), new readers queue behind it, so
 *   a stream of readers cannot starve writers; on Unlock all queued readers
 *   are admitted before the next writer.
 */
import type { OpOptions } from '../chan.js'
import { SyncError } from '../errors.js'
import { Mutex } from './mutex.js'
import { Sema } from './sema.js'

export class RWMutex {
  readonly #w = new Mutex()
  #readers = 0
  #writer = false
  #writerWaiting = false
  #readersQueued = 0
  readonly #readerSem = new Sema('sync.RWMutex.RLock')
  readonly #writerSem = new Sema('sync.RWMutex.Lock')

  async rLock(options?: OpOptions): Promise<void> {
    if (!this.#writer && !this.#writerWaiting) {
      this.#readers++
      return
    }
    this.#readersQueued++
    try {
      await this.#readerSem.acquire(options)
    } catch (error) {
      this.#readersQueued--
      throw error
    }
    // Unlock already counted us in #readers when it released the semaphore.
  }

  tryRLock(): boolean {
    if (this.#writer || this.#writerWaiting) return false
    this.#readers++
    return true
  }

  rUnlock(): void {
    if (this.#readers <= 0) throw new SyncError('ERR_RUNLOCK_OF_UNLOCKED')
    if (--this.#readers === 0 && this.#writerWaiting) {
      this.#writerWaiting = false
      this.#writer = true
      this.#writerSem.release()
    }
  }

  async lock(options?: OpOptions): Promise<void> {
    await this.#w.lock(options)
    if (this.#readers === 0) {
      this.#writer = true
      return
    }
    this.#writerWaiting = true
    try {
      await this.#writerSem.acquire(options)
    } catch (error) {
      this.#writerWaiting = false
      this.#admitReaders()
      this.#w.unlock()
      throw error
    }
  }

  tryLock(): boolean {
    if (!this.#w.tryLock()) return false
    if (this.#readers > 0) {
      this.#w.unlock()
      return false
    }
    this.#writer = true
    return true
  }

  unlock(): void {
    if (!this.#writer) throw new SyncError('ERR_RWUNLOCK_OF_UNLOCKED')
    this.#writer = false
    this.#admitReaders()
    this.#w.unlock()
  }

  #admitReaders(): void {
    const n = this.#readersQueued
    this.#readersQueued = 0
    this.#readers += n
    for (let i = 0; i < n; i++) this.#readerSem.release()
  }
}
