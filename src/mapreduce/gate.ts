/**
 * When a task attempt's emit may write. A map's or reduce's emit (and a chunk job's
 * ctx.emitBytes) called from work the job started and did not await comes after its call
 * returned: while the buffer spills it would be mixed into the spill or lost, after the attempt's
 * last record it would never be written. So the attempt keeps a gate: open while it runs the
 * job's calls, closed while it spills and for good once its records are done. A call through a
 * closed gate is dropped: before the attempt ends, the attempt fails with it (AfterReturnError);
 * after the attempt committed, it is too late for that, so it is said once on stderr.
 */

import { AfterReturnError } from './errors.js'

const warned = new Set<string>()

export class EmitGate {
  /** Whether a call may write now. The task closes it while it spills, and for good after cleanup. */
  open = true
  /** The first call through the closed gate before the attempt ended: the attempt fails with it. */
  late: AfterReturnError | undefined
  #ended: 'no' | 'committed' | 'failed' = 'no'
  readonly #fn: 'map' | 'reduce'
  readonly #attemptId: string
  /** The key of the call the late work came from, as the error names it. */
  readonly #key: () => string

  constructor(fn: 'map' | 'reduce', attemptId: string, key: () => string) {
    this.#fn = fn
    this.#attemptId = attemptId
    this.#key = key
  }

  /**
   * A call through the closed gate: recorded (not thrown: thrown from a timer's callback it would
   * end the thread) while the attempt runs, warned once after it committed, dropped either way.
   */
  refuse(what: 'emit' | 'emitBytes'): void {
    if (this.#ended === 'no') this.late ??= new AfterReturnError(this.#fn, what, this.#key())
    else if (this.#ended === 'committed' && !warned.has(this.#attemptId)) {
      warned.add(this.#attemptId)
      process.emitWarning(`gort mapreduce: ${this.#attemptId}: emit was called after the attempt had ended and its output was committed: the pair is lost. Await (or return) the work that emits.`, { type: 'GortLateEmitWarning', code: 'GORT_LATE_EMIT' })
    }
  }

  /** The attempt's output is committed: later calls are warned of. */
  committed(): void {
    this.#ended = 'committed'
  }

  /** In the attempt's `finally`: closed for good; failed unless it committed (later calls go unsaid: the attempt is re-run). */
  end(): void {
    this.open = false
    if (this.#ended === 'no') this.#ended = 'failed'
  }
}
