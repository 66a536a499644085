/**
 * How the main thread waits for results while many of its Gs are in flight: by a short timer
 * instead of a wake-up per result.
 *
 * Why: a result reaches a waiting main thread through Atomics.notify and a task posted to its
 * event loop. When the Ms are busy, every such wake-up also preempts an M to run the main
 * thread, so a program that awaits thousands of Gs pays one wake-up, and one preemption, per
 * result, and that CPU comes out of the Ms' compute. While more Gs are in flight than the Ms can
 * run at once, no M waits for the main thread (each has queued work), so a result taken a little
 * later costs nobody anything; the main thread then sets its waiting flag to W_BATCH (rings skip
 * Atomics.notify) and looks again after `ms`, taking every result that arrived meanwhile in one
 * turn of its event loop.
 *
 * Invariants:
 * - A batched wait is taken only right after a wake-up that found results: when results stop
 *   coming (every in-flight G blocked on a channel, a lock or a long timer), the next timer finds
 *   none and the main thread waits for a wake-up again, so an idle program costs no timer turns.
 * - Only while more than `min` (four per P) Gs are awaited; below that a caller may be waiting on
 *   one result to feed the Ms, and every result is taken at once (the poll, then a wake-up).
 * - Only while no P idles (the caller checks, shared/park.ts mainTryBatch), and an M about to
 *   park ends the wait at once (markIdle): an idle P means the Ms may be waiting for the program,
 *   which may be waiting for these results.
 * - A result waits at most `ms` longer than it would have; 0 turns batching off.
 * - The timer is unref'd: the runtime's own keep-alive decides whether the process stays up.
 */

export class ResultBatch {
  /** The batched wait (ms); 0: off. */
  readonly ms: number
  /** Batch only while more Gs than this are awaited. */
  readonly #min: number
  /** Batched waits taken, and those a wake-up ended before their timer (an M going idle; close): for stats. */
  waits = 0
  cut = 0

  constructor(us: number, procs: number) {
    this.ms = us / 1000
    this.#min = 4 * procs
  }

  /** Whether the next wait, after a turn that took `took` results with `pending` Gs still awaited, may go by timer (the caller also checks that no P idles). */
  wants(pending: number, took: number): boolean {
    return this.ms > 0 && took > 0 && pending > this.#min
  }
}
