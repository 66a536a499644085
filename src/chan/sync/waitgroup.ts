/**
 * WaitGroup: wait for a collection of goroutines to finish (Go's sync.WaitGroup).
 *
 * Invariants:
 * - `#n` >= 0; an add/done that would make it negative throws SyncError
 *   "sync: negative WaitGroup counter" and leaves the counter unchanged.
 * - Waiters park on `#zero`, an unbuffered channel that is closed (waking them
 *   all with ok=false) when the counter reaches 0, then replaced so the group
 *   can be reused.
 */
import { Chan, type OpOptions, describeValue, setWaitLabel } from '../chan.js'
import { SyncError } from '../errors.js'

export class WaitGroup {
  #n = 0
  #zero: Chan<never> | null = null

  add(delta: number): void {
    if (!Number.isInteger(delta)) throw new RangeError(`sync: WaitGroup.add delta must be an integer, got ${describeValue(delta)}`)
    const n = this.#n + delta
    if (n < 0) throw new SyncError('ERR_NEGATIVE_WAITGROUP')
    this.#n = n
    if (n === 0 && this.#zero !== null) {
      this.#zero.close()
      this.#zero = null
    }
  }

  done(): void {
    this.add(-1)
  }

  /** The current counter (diagnostics). */
  get count(): number {
    return this.#n
  }

  /** Resolves when the counter is zero (at once if it already is). */
  async wait(options?: OpOptions): Promise<void> {
    if (this.#n === 0) return
    if (this.#zero === null) {
      this.#zero = new Chan<never>(0)
      setWaitLabel(this.#zero, 'sync.WaitGroup.Wait')
    }
    await this.#zero.recv(options)
  }
}
