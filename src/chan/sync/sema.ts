/**
 * Sema: a counting semaphore (Go's runtime semacquire/semrelease), internal to sync.
 *
 * Invariants:
 * - `count` > 0 only while no one is parked on `#ch` (release hands a permit
 *   directly to a parked acquirer before it would bump the count).
 * - Waiters are served FIFO through the unbuffered channel's receive queue.
 */
import { Chan, type OpOptions, setWaitLabel } from '../chan.js'

export class Sema {
  #count = 0
  readonly #ch = new Chan<undefined>(0)

  constructor(label: string) {
    setWaitLabel(this.#ch, label)
  }

  async acquire(options?: OpOptions): Promise<void> {
    if (this.#count > 0) {
      this.#count--
      return
    }
    await this.#ch.recv(options)
  }

  release(): void {
    // An unbuffered trySend succeeds only by handing to a parked receiver.
    if (!this.#ch.trySend(undefined)) this.#count++
  }
}
