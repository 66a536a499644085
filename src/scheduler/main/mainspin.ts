/**
 * The main thread's short poll of its completion ring before it waits with Atomics.waitAsync.
 *
 * Why: a waitAsync wake-up reaches the main thread as a task posted to its event loop, which
 * costs several times what an M that is still spinning (it spins briefly after its last G) takes
 * to return a tiny G's result. Polling for a few µs first takes that wake-up out of a round trip
 * (the spawn-to-result figures are in bench/NOTES.md). It also spares the M its Atomics.notify:
 * Ms ring the main thread's doorbell only once it has set its waiting flag.
 *
 * Invariants:
 * - One poll blocks the event loop for at most the budget (at most 1 ms, default 10 µs).
 * - A result found by polling is taken in a microtask, so a caller awaiting one result after
 *   another could keep the event loop from its timers and I/O for as long as polls keep hitting.
 *   After CHAIN_MS of hits with no wait between them, the next wait goes through waitAsync (a
 *   task on the event loop) instead: the loop gets a turn at least about every CHAIN_MS.
 * - Adaptive, as adaptive mutexes spin: a poll that missed is judged when the result arrives. If
 *   it came within FAR_MS, the M was only waking up (its next round trip, started before it parks
 *   again, is a fast one): keep polling. Backing off there kept main and the Ms out of step, each
 *   waiting for the other's wake-up, for thousands of round trips. After MISS_LIMIT results in a
 *   row that took longer, only every PROBE-th wait polls, so work whose results take long pays
 *   about budget / PROBE per wait, until a poll hits or misses narrowly again.
 */

import { performance } from 'node:perf_hooks'

const MISS_LIMIT = 4
const PROBE = 16
/** A result later than this after a missed poll: the G was long, not the M asleep (ms). */
const FAR_MS = 0.1
/** The longest run of poll hits before one wait goes through the event loop (ms). */
const CHAIN_MS = 1

export class MainSpin {
  readonly #budgetMs: number
  readonly #now: () => number
  /** Misses in a row whose result took longer than FAR_MS. */
  #farMisses = 0
  #skipped = 0
  /** When the last poll gave up, while its result is still outstanding; -1: none. */
  #missAt = -1
  /** When the current run of hits began (no wait since); -1: none. */
  #chainStart = -1
  hits = 0
  misses = 0

  constructor(budgetUs: number, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetUs / 1000
    this.#now = now
  }

  /** Polls `ready()` for up to the budget when polling pays lately; true once it returned true. */
  poll(source: { ready(): boolean }): boolean {
    if (this.#budgetMs <= 0) return false
    const start = this.#now()
    if (this.#chainStart >= 0 && start - this.#chainStart >= CHAIN_MS) {
      this.#chainStart = -1
      return false // this wait goes through the event loop
    }
    if (this.#farMisses >= MISS_LIMIT && ++this.#skipped % PROBE !== 0) return false
    const until = start + this.#budgetMs
    let t = start
    do {
      if (source.ready()) {
        this.#farMisses = 0
        this.#skipped = 0
        if (this.#chainStart < 0) this.#chainStart = start
        this.hits++
        return true
      }
    } while ((t = this.#now()) < until)
    this.misses++
    this.#missAt = t
    this.#chainStart = -1
    return false
  }

  /** Results arrived after a wait (not a poll): judges the poll that missed before it, if any. */
  woke(): void {
    if (this.#missAt < 0) return
    const waited = this.#now() - this.#missAt
    this.#missAt = -1
    if (waited > FAR_MS) this.#farMisses++
    else {
      this.#farMisses = 0
      this.#skipped = 0
    }
  }
}
