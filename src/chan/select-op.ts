/**
 * SelectOp: one blocked `select`, owning one waiter per non-null case.
 *
 * The protocol (kept apart from select.ts so a shared-memory channel can follow
 * the same shape): park one waiter per case; the first partner to dequeue any of
 * them fires the op; firing withdraws every other waiter before anything else
 * runs, so a select completes exactly one case and leaves nothing queued.
 *
 * Invariants:
 * - `done` turns true once, in fire/fail/abort; after that no waiter of this op
 *   is queued and the op is not parked.
 * - fire/fail precondition: the partner has already dequeued the firing waiter
 *   (and, for a send case, taken its value).
 * - Single-threaded JavaScript makes "dequeue + fire + withdraw" atomic: no
 *   other op can observe the half-fired state, so Go's selectDone CAS is not needed.
 */
import { ParkedSelect, unparkSelect } from './park.js'
import type { Waiter } from './waitq.js'

/** A select's outcome: which case fired, and for a receive case what it got. */
export interface SelectOutcome {
  index: number
  value: unknown
  ok: boolean
}

export class SelectOp extends ParkedSelect {
  readonly waiters: Waiter[] = []
  resolve: ((v: never) => void) | null = null
  reject: ((e: unknown) => void) | null = null
  signal: AbortSignal | null = null
  onAbort: (() => void) | null = null
  done = false

  fire(index: number, value: unknown, ok: boolean): void {
    this.finish()
    this.resolve!({ index, value, ok } as never)
  }

  fail(error: unknown): void {
    this.finish()
    this.reject!(error)
  }

  abort(reason: unknown): void {
    if (this.done) return
    this.finish()
    this.reject!(reason)
  }

  private finish(): void {
    this.done = true
    const ws = this.waiters
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!
      if (w.queued) (w.isSend ? w.chan._sendq : w.chan._recvq).remove(w)
    }
    unparkSelect(this)
    if (this.signal !== null) {
      this.signal.removeEventListener('abort', this.onAbort!)
      this.signal = null
      this.onAbort = null
    }
  }

  override waitReason(): string {
    return this.waiters.length === 0 ? 'select (no cases)' : 'select'
  }

  override detail(): string {
    return this.waiters.map((w) => `case ${w.index}: ${w.isSend ? 'send to' : 'receive from'} ${w.chan.describe()}`).join('; ')
  }
}
