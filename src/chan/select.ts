/**
 * select / trySelect: Go's select statement, with and without a default case,
 * over any channel kind that implements the select protocol (protocol.ts):
 * `Chan` and the timer channels here, `SharedChan` in src/scheduler, or a
 * user's own. This file never looks inside a channel.
 *
 * Polling order (protocol.ts, pass 1): one scan reads each case's readiness
 * hint and reservoir-samples the ready ones, so the pick is uniform among them
 * with one pass, no permutation array and one random draw per ready case; only
 * the pick is polled (committed). Rejected: always polling in a random
 * permutation, as Go does. Same distribution, but it polls (calls into the
 * channel) case after case in an order the branch predictor cannot learn, and
 * cost a 4-case select more than the whole scan (docs/design/chan.md has the
 * numbers). The permutation walk remains as the fallback for a stale hint,
 * which only a channel shared with another thread can give.
 *
 * Invariants:
 * - Exactly one case completes per select; a poll that fails changes nothing.
 * - A select that throws or rejects has completed no case: polling stops at the
 *   first success, and an element that is not a case is refused before any poll.
 * - A `null` channel case is never polled and never parks (Go's nil channel).
 * - A send case on a closed channel counts as ready (its hint says so); if it
 *   is chosen its poll throws and the select rejects with that ChanClosedError,
 *   as Go's select panics.
 * - When nothing is ready the select enqueues one waiter per case through the
 *   protocol and parks; SelectOp (select-op.ts) withdraws every waiter the
 *   moment one case fires or the select is cancelled. If an enqueue completes
 *   the select at once (a channel on another thread became ready), enqueueing
 *   stops there.
 */
import { parkSelect } from './park.js'
import { mustYield, held } from './yield.js'
import { SelectOp, type SelectOutcome } from './select-op.js'
import { type OpOptions, pendingFor, refuseBySignal, describeValue } from './chan.js'
import {
  POLL_RECV,
  POLL_SEND,
  RECV_READY,
  SEND_READY,
  ENQUEUE_RECV,
  ENQUEUE_SEND,
  WITHDRAW,
  isReceivable,
  isSendable,
  type Receivable,
  type RecvSlot,
  type Sendable,
} from './protocol.js'

/** A receive case: `recv(ch)`. */
export interface RecvCase<T> {
  readonly chan: Receivable<T> | null
  readonly isSend: false
  readonly value: undefined
}

/** A send case: `send(ch, v)`. */
export interface SendCase<T> {
  readonly chan: Sendable<T> | null
  readonly isSend: true
  readonly value: T
}

export type SelectCase = RecvCase<unknown> | SendCase<unknown>

/** A receive case for select. A `null` channel never fires. */
export function recv<T>(chan: Receivable<T> | null): RecvCase<T> {
  if (chan !== null && !isReceivable(chan)) {
    throw new TypeError(`recv: expected a channel (a Chan or another Receivable) or null, got ${describeValue(chan)}`)
  }
  return { chan, isSend: false, value: undefined }
}

/** A send case for select. A `null` channel never fires. */
export function send<T>(chan: Sendable<T> | null, value: T): SendCase<T> {
  if (chan !== null && !isSendable(chan)) {
    throw new TypeError(`send: expected a channel (a Chan or another Sendable) or null, got ${describeValue(chan)}`)
  }
  return { chan, isSend: true, value }
}

type CaseResult<C, I extends number> =
  C extends RecvCase<infer T>
    ? { index: I; value: T; ok: true } | { index: I; value: undefined; ok: false }
    : { index: I; value: undefined; ok: true }

/** The result of a select: narrow on `index` to get the case's value type. */
export type SelectResult<Cs extends readonly SelectCase[]> = {
  [K in keyof Cs]: CaseResult<Cs[K], K extends `${infer N extends number}` ? N : number>
}[number]

// xorshift32: select needs a fast, not a cryptographic, random source. The
// state lives in an Int32Array, not a `let`: a module variable holding an int32
// outside the small-integer range is boxed, one heap number per store.
const rng = new Int32Array([(Math.random() * 0x7fffffff) | 1])

/**
 * A draw in [0, k) for k < 2^21. Scaled by a multiply (Lemire's method without
 * the rejection step), not `%`: the unsigned state is a double above 2^31, and a
 * double modulo is a library call. The bias is below k / 2^32, far under what
 * any fairness test can see.
 */
function randBelow(k: number): number {
  let x = rng[0]!
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  rng[0] = x
  return ((x >>> 0) * k * 2.3283064365386963e-10) | 0
}

// Where a successful receive poll leaves its result, read at once by outcome().
const slot: RecvSlot = { value: undefined, ok: false }

/**
 * Pass 1: completes one case that can proceed, chosen uniformly among the
 * cases whose readiness hint says so; its index, or -1 when none can. Throws
 * what a poll throws (a send on a closed channel).
 *
 * One scan reads every hint (reading changes nothing) and keeps one of the
 * ready cases by reservoir sampling (the k-th ready case replaces the pick
 * with probability 1/k); only the pick is polled. A hint can only be wrong for
 * a channel that another thread touches, and then only by a race: if the pick's
 * poll fails, pollShuffled() walks a fresh random permutation.
 *
 * Malformed cases: an element that is not a case object is a TypeError found
 * by the scan, before any poll. A case object over something that is not a
 * channel kind cannot come from recv()/send() (they check), nor pass the
 * types; its hint call throws a TypeError, also before any poll.
 */
function poll(cases: readonly SelectCase[]): number {
  let ready = 0
  let pick = -1
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]
    const ch = c?.chan
    if (ch == null) {
      if (ch === undefined) throw new TypeError(`select: case ${i} is not a recv() or send() case, got ${describeValue(c)}`)
      continue
    }
    if (c!.isSend ? (ch as Sendable<unknown>)[SEND_READY]() : (ch as Receivable<unknown>)[RECV_READY]()) {
      if (++ready === 1 || randBelow(ready) === 0) pick = i
    }
  }
  if (pick < 0) return -1
  if (pollCase(cases[pick]!)) return pick
  return pollShuffled(cases)
}

function pollCase(c: SelectCase): boolean {
  const ch = c.chan!
  return c.isSend ? (ch as Sendable<unknown>)[POLL_SEND](c.value) : (ch as Receivable<unknown>)[POLL_RECV](slot)
}

/**
 * Polls the cases in a uniformly random order (Go's pollorder), built lazily
 * (Fisher-Yates, one draw per case visited), and completes the first that can
 * proceed: its index, or -1. The first ready case in a uniform order is uniform
 * among the ready ones, whatever the hints said.
 */
function pollShuffled(cases: readonly SelectCase[]): number {
  const n = cases.length
  const order: number[] = []
  for (let i = 0; i < n; i++) order.push(i)
  for (let i = 0; i < n; i++) {
    const j = i + randBelow(n - i)
    const k = order[j]!
    order[j] = order[i]!
    const c = cases[k]!
    if (c.chan !== null && pollCase(c)) return k
  }
  return -1
}

function outcome(cases: readonly SelectCase[], i: number): SelectOutcome {
  if (cases[i]!.isSend) return { index: i, value: undefined, ok: true }
  const value = slot.value
  slot.value = undefined
  return { index: i, value, ok: slot.ok }
}

/**
 * Waits until one case can proceed and completes exactly that one. Ready cases
 * are chosen uniformly at random. Rejects with `signal.reason` on abort (no case
 * completes) and with ChanClosedError if a send case's channel is closed.
 */
export function select<const Cs extends readonly SelectCase[]>(cases: Cs, options?: OpOptions): Promise<SelectResult<Cs>> {
  if (!Array.isArray(cases)) return Promise.reject(new TypeError(`select: expected an array of cases, got ${describeValue(cases)}`))
  const signal = options?.signal
  if (signal !== undefined) {
    const refused = refuseBySignal('select', signal)
    if (refused !== null) return refused
  }
  let i: number
  try {
    i = poll(cases)
  } catch (error) {
    return Promise.reject(error)
  }
  if (i >= 0) {
    const r = outcome(cases, i) as SelectResult<Cs>
    return mustYield() ? held(r) : Promise.resolve(r)
  }
  const op = new SelectOp()
  const p = pendingFor<SelectResult<Cs>>(op)
  try {
    enqueue(op, cases)
  } catch (error) {
    // A channel kind whose enqueue throws breaks the protocol; take the select
    // down with its error rather than leave the other cases' waiters queued.
    op.abort(error)
    return p
  }
  if (op.finished) return p
  parkSelect(op)
  if (signal !== undefined) {
    op.signal = signal
    op.onAbort = () => op.abort(signal.reason)
    signal.addEventListener('abort', op.onAbort, { once: true })
  }
  return p
}

/** Pass 2: one waiter per non-null case, in case order, until done or an enqueue fires the op. */
function enqueue(op: SelectOp, cases: readonly SelectCase[]): void {
  const parked = op.cases
  for (let j = 0; j < cases.length; j++) {
    const c = cases[j]!
    const ch = c.chan
    if (ch === null) continue
    if (c.isSend) {
      const w = (ch as Sendable<unknown>)[ENQUEUE_SEND](op, j, c.value)
      parked.push(ch, w, j * 2 + 1)
      if (op.finished) return void (ch as Sendable<unknown>)[WITHDRAW](w)
    } else {
      const w = (ch as Receivable<unknown>)[ENQUEUE_RECV](op, j)
      parked.push(ch, w, j * 2)
      if (op.finished) return void (ch as Receivable<unknown>)[WITHDRAW](w)
    }
  }
}

/**
 * Go's select with a `default` case: completes a ready case (chosen uniformly)
 * and returns its result, or returns undefined at once when none is ready.
 */
export function trySelect<const Cs extends readonly SelectCase[]>(cases: Cs): SelectResult<Cs> | undefined {
  if (!Array.isArray(cases)) throw new TypeError(`trySelect: expected an array of cases, got ${describeValue(cases)}`)
  const i = poll(cases)
  return i >= 0 ? (outcome(cases, i) as SelectResult<Cs>) : undefined
}
