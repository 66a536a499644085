/**
 * Once: run an action exactly once (Go's sync.Once).
 *
 * Invariants:
 * - `fn` of the first `do` runs; later calls never run their fn.
 * - Like Go, every `do` returns only after the first call's fn has finished
 *   (callers concurrent with a slow async fn wait for it).
 * - Like Go, a fn that throws still counts as done; the first caller sees the
 *   error, later callers do not.
 */
import { Mutex } from './mutex.js'

export class Once {
  #done = false
  readonly #m = new Mutex()

  async do(fn: () => unknown): Promise<void> {
    if (this.#done) return
    await this.#m.lock()
    try {
      if (!this.#done) {
        try {
          await fn()
        } finally {
          this.#done = true
        }
      }
    } finally {
      this.#m.unlock()
    }
  }

  /** Whether the action has run. */
  get done(): boolean {
    return this.#done
  }
}
