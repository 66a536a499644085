/**
 * The tasks' own signals on an M (taskSignal()): an AbortSignal per running G that asked for one,
 * aborted by its caller's cancel (shared/cancel.ts) or the runtime's close.
 *
 * Why the signal reads shared memory: a task that computes without yielding never lets its
 * thread's event loop run, so no message (and no 'abort' event) reaches it. Its signal's
 * `aborted`, `reason` and `throwIfAborted()` are its own properties that first look at the G's
 * cancel word and the runtime's closed flag (two loads); when either is set they take the
 * reason from the cancel channel synchronously and abort the controller right there, so the
 * event fires at that read, in the task's own frame. While the task awaits, the channel's
 * message aborts it on the M's event loop as any message would.
 *
 * Why only before the task's first await: which G's continuation runs is invisible to this
 * thread without V8's promise hooks (AsyncLocalStorage on Node 20 sets them), and those turn
 * off V8's fast paths for every await on the thread (docs/design/scheduler.md). The runner knows
 * the G whose synchronous body it is calling; that is the G taskSignal() answers for.
 *
 * Invariants:
 * - A signal is made at most once per run of a G (keyed by gid and the record's generation) and
 *   dropped when the G settles, so a reused record never sees an earlier G's signal.
 * - A reason kept for a G that has not asked for its signal yet is kept only while that G runs
 *   on this M.
 */

import { NotInTaskError, RuntimeClosedError } from '../errors.js'
import { cancelFlagged, type CancelMsg, type Cancels } from '../shared/cancel.js'
import { G_CANCEL, G_M, G_STATE, GS_CLAIMED, GS_RUNNING, H_CLOSED, gOff, type Layout } from '../shared/layout.js'
import { INLINED, type MHold } from './runner.js'

const realAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!
const realReason = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!

/** The signal of a child that ran inline: it has no record, so nothing can cancel it. */
const neverAborts = new AbortController().signal

interface Entry {
  readonly gen: number
  readonly ctl: AbortController
}

export class TaskSignals {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #me: number
  readonly #hold: MHold
  readonly #cancels: Cancels
  /** Called before an abort runs listeners while the M may be parked (they are a continuation). */
  readonly #resumed: () => void
  /** Signals of the Gs running here that asked for one. */
  readonly #live = new Map<number, Entry>()
  /** Cancels of Gs running here that have not asked for their signal yet. */
  readonly #early = new Map<number, CancelMsg>()

  constructor(I: Int32Array, l: Layout, me: number, hold: MHold, cancels: Cancels, resumed: () => void) {
    this.#I = I
    this.#l = l
    this.#me = me
    this.#hold = hold
    this.#cancels = cancels
    this.#resumed = resumed
    cancels.onCancel = (msg) => this.#onCancel(msg, true)
  }

  /** taskSignal(): the signal of the G whose synchronous body runs now. */
  get(): AbortSignal {
    const gid = this.#hold.g
    if (gid === INLINED) return neverAborts
    if (gid < 0) throw new NotInTaskError()
    const go = gOff(this.#l, gid)
    const gen = this.#I[go + G_CANCEL]! >>> 1
    const had = this.#live.get(gid)
    if (had !== undefined && had.gen === gen) return had.ctl.signal
    const e: Entry = { gen, ctl: new AbortController() }
    this.#live.set(gid, e)
    const signal = e.ctl.signal
    const poll = (): boolean => this.#poll(gid, go, e)
    Object.defineProperties(signal, {
      aborted: { get: poll, configurable: true },
      reason: { get: () => (poll(), realReason.call(signal)), configurable: true },
      throwIfAborted: {
        value: (): void => {
          if (poll()) throw realReason.call(signal)
        },
        configurable: true,
      },
    })
    const early = this.#early.get(gid)
    if (early !== undefined) {
      this.#early.delete(gid)
      this.#onCancel(early, false)
    }
    return signal
  }

  /** G `gid` settled here: its signal goes (rare path: only Gs that asked for one). */
  done(gid: number): void {
    if (this.#live.size > 0) this.#live.delete(gid)
    if (this.#early.size > 0) this.#early.delete(gid)
  }

  /** The runtime is closing: every task's signal aborts. */
  closeAll(): void {
    for (const e of this.#live.values()) if (!realAborted.call(e.ctl.signal)) e.ctl.abort(new RuntimeClosedError())
  }

  /** The signal's `aborted`: the shared words first, so a task that never yields still sees it. */
  #poll(gid: number, go: number, e: Entry): boolean {
    const signal = e.ctl.signal
    if (realAborted.call(signal)) return true
    const I = this.#I
    if (!cancelFlagged(I, go) && Atomics.load(I, H_CLOSED) === 0) return false
    // Set: the reason was queued before the flag (cancel.ts); take it now, not on the next turn.
    this.#cancels.drain()
    if (realAborted.call(signal)) return true
    if (this.#live.get(gid) !== e) return false // the G settled: a stale signal kept past its task
    e.ctl.abort(Atomics.load(I, H_CLOSED) !== 0 ? new RuntimeClosedError() : new DOMException('This operation was aborted', 'AbortError'))
    return true
  }

  #onCancel(msg: CancelMsg, fromLoop: boolean): void {
    const e = this.#live.get(msg.gid)
    if (e === undefined) {
      // Not asked for yet: keep it if that G runs here now (it may ask later); else not ours.
      const go = gOff(this.#l, msg.gid)
      const st = Atomics.load(this.#I, go + G_STATE)
      if ((st === GS_RUNNING || st === GS_CLAIMED) && Atomics.load(this.#I, go + G_M) === this.#me && this.#I[go + G_CANCEL]! >>> 1 === msg.gen) {
        this.#early.set(msg.gid, msg)
      }
      return
    }
    if (e.gen !== msg.gen || realAborted.call(e.ctl.signal)) return
    // From the event loop, the listeners are a continuation of a task that may have parked here.
    if (fromLoop) this.#resumed()
    e.ctl.abort(msg.r === 1 ? msg.reason : new DOMException('This operation was aborted', 'AbortError'))
  }
}
