/**
 * SelectOp: one blocked `select`, the Selector that its cases' channels see
 * (protocol.ts), owning one waiter per non-null case.
 *
 * The claim is Go's selectDone. While every case is on a same-thread channel,
 * the state is a plain field: the claim, the fire and the withdrawal of every
 * other case run in one synchronous step, so no one can observe a half-fired
 * select. Once a channel whose partners live on other threads asks for the done
 * word, the state moves into that Int32Array cell and every claim becomes one
 * compareExchange, so a remote claimer and a local channel (or the abort) race
 * fairly and exactly one wins.
 *
 * Invariants:
 * - The state goes from DONE_OPEN to exactly one other value (`i + 1` for case
 *   i, DONE_CANCELLED for an abort) and never changes again.
 * - `finished` turns true once, in fire/fail/abort, and only after a successful
 *   claim; after that no waiter of this op is in any channel and the op is not
 *   parked.
 * - fire/fail precondition: the op is claimed for that case and the channel
 *   has already taken the case's waiter out (for a send, taken its value too).
 *   A fire for another case, or a second one, is a broken invariant.
 * - Between a remote claim and its fire, the op is claimed but not finished:
 *   local channels that meet its waiters drop them (WaitQ.take), and an abort
 *   does nothing (the op has completed; its result is on its way).
 */
import { InternalError } from '../errors.js'
import { ParkedSelect, unparkSelect } from './park.js'
import {
  DONE_CANCELLED,
  DONE_OPEN,
  DESCRIBE,
  WITHDRAW,
  type DoneWord,
  type Receivable,
  type SelectWaiter,
  type Selector,
} from './protocol.js'

/** A select's outcome: which case fired, and for a receive case what it got. */
export interface SelectOutcome {
  index: number
  value: unknown
  ok: boolean
}

export class SelectOp extends ParkedSelect implements Selector {
  /** Per enqueued case, three slots: its channel, its waiter, `index * 2 + (isSend ? 1 : 0)`. */
  readonly cases: unknown[] = []
  resolve: ((v: never) => void) | null = null
  reject: ((e: unknown) => void) | null = null
  signal: AbortSignal | null = null
  onAbort: (() => void) | null = null
  /** The state while `word` is null: DONE_OPEN, i + 1, or DONE_CANCELLED. */
  #state = DONE_OPEN
  /** The shared done word, once a channel has asked for it; it then holds the state. */
  #word: DoneWord | null = null
  /** True once settled; every waiter has then been withdrawn. */
  finished = false

  claim(index: number): boolean {
    return this.#claimAs(index + 1)
  }

  claimed(): boolean {
    return this.#stateNow() !== DONE_OPEN
  }

  #claimAs(state: number): boolean {
    const w = this.#word
    if (w === null) {
      if (this.#state !== DONE_OPEN) return false
      this.#state = state
      return true
    }
    return Atomics.compareExchange(w.cells, w.index, DONE_OPEN, state) === DONE_OPEN
  }

  #stateNow(): number {
    const w = this.#word
    return w === null ? this.#state : Atomics.load(w.cells, w.index)
  }

  fire(index: number, value: unknown, ok: boolean): void {
    this.#settling(index)
    this.#finish()
    this.resolve!({ index, value, ok } as never)
  }

  fail(index: number, error: unknown): void {
    this.#settling(index)
    this.#finish()
    this.reject!(error)
  }

  /** Cancels the select unless a case has already claimed it (then it completes as claimed). */
  abort(reason: unknown): void {
    if (!this.#claimAs(DONE_CANCELLED)) return
    this.#finish()
    this.reject!(reason)
  }

  doneWord(supply?: () => DoneWord): DoneWord {
    let w = this.#word
    if (w !== null) return w
    if (this.finished || this.#state !== DONE_OPEN) throw new InternalError('select: doneWord() asked for after the select was claimed')
    w = supply === undefined ? { cells: new Int32Array(new SharedArrayBuffer(4)), index: 0 } : supply()
    if (Atomics.load(w.cells, w.index) !== DONE_OPEN) throw new InternalError('select: a supplied done word must start DONE_OPEN')
    this.#word = w
    return w
  }

  #settling(index: number): void {
    if (this.finished || this.#stateNow() !== index + 1) {
      throw new InternalError(`select: case ${index} fired without holding the claim (state ${this.#stateNow()}, finished ${this.finished})`)
    }
  }

  #finish(): void {
    this.finished = true
    const cs = this.cases
    for (let i = 0; i < cs.length; i += 3) (cs[i] as Receivable<unknown>)[WITHDRAW](cs[i + 1] as SelectWaiter)
    unparkSelect(this)
    if (this.signal !== null) {
      this.signal.removeEventListener('abort', this.onAbort!)
      this.signal = null
      this.onAbort = null
    }
    // Every case is withdrawn, so no thread can reach the word through a waiter.
    this.#word?.release?.()
  }

  override waitReason(): string {
    return this.cases.length === 0 ? 'select (no cases)' : 'select'
  }

  override detail(): string {
    const parts: string[] = []
    const cs = this.cases
    for (let i = 0; i < cs.length; i += 3) {
      const code = cs[i + 2] as number
      parts.push(`case ${code >> 1}: ${code & 1 ? 'send to' : 'receive from'} ${(cs[i] as Receivable<unknown>)[DESCRIBE]()}`)
    }
    return parts.join('; ')
  }
}
