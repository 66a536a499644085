/**
 * Whether a wake-up on an M marks the M resumed (MPark.resumed) before the continuation it
 * brings runs: only when this thread's last such continuation ran long.
 *
 * Why: the mark keeps the M's state honest while user code runs (not counted parked, its P not
 * idle), but it costs a turn of the M's schedule loop: it rings the M's own doorbell, so the M
 * leaves its park once the continuation yields, looks for work (and may spin for it) and parks
 * again. A continuation that only moves a value and blocks again (a ping-pong, an actor's short
 * method) pays that turn on every message, more than the message itself. Without the mark, such a
 * continuation runs as a timer or I/O callback on a parked M does: the monitor reads the thread's
 * kernel state and marks the M itself if it keeps running (park.ts, markResumed), and a wake that
 * chose the M meanwhile is taken as soon as the continuation yields.
 *
 * Rule: a continuation is timed from its wake-up to its end (the op it runs blocks again, or the
 * call it serves replies). The next wake-up is marked unless the last continuation ended within
 * QUICK_MS. The first is always marked. A continuation that runs long unmarked is at most one in a
 * row: its end makes the next one marked.
 */

import { performance } from 'node:perf_hooks'

/** A continuation that ended within this (ms) is quick: the next one is not marked. */
const QUICK_MS = 0.2

export class ResumeHint {
  /** When the continuation now running began; -1 when none is being timed. */
  #start = -1
  #quick = false
  readonly #now: () => number

  constructor(now: () => number = () => performance.now()) {
    this.#now = now
  }

  /** A continuation is about to run: true if the M should be marked resumed first. */
  begin(): boolean {
    this.#start = this.#now()
    return !this.#quick
  }

  /** The continuation being timed ended (blocked again, or replied). */
  end(): void {
    if (this.#start < 0) return
    this.#quick = this.#now() - this.#start < QUICK_MS
    this.#start = -1
  }
}
