/**
 * select / trySelect: Go's select statement, with and without a default case.
 *
 * Polling order: Go shuffles the cases and takes the first ready one. gort gets
 * the same distribution (uniform over the ready cases) with one pass of
 * reservoir sampling: the k-th ready case replaces the pick with probability
 * 1/k. No permutation array is built, and only the chosen case is committed.
 *
 * Invariants:
 * - Exactly one case completes per select; polling commits nothing except the
 *   chosen case.
 * - A `null` channel case is never ready and never parks (Go's nil channel).
 * - A send case on a closed channel counts as ready; if it is chosen the select
 *   rejects with ChanClosedError, as Go's select panics.
 * - When nothing is ready and the select parks, SelectOp (select-op.ts) withdraws
 *   every losing waiter the moment one case fires.
 */
import { ChanClosedError } from './errors.js'
import { Waiter } from './waitq.js'
import { parkSelect } from './park.js'
import { mustYield, held } from './yield.js'
import { SelectOp, type SelectOutcome } from './select-op.js'
import {
  Chan,
  type ChanCore,
  type OpOptions,
  sendNow,
  recvNow,
  takeRecvValue,
  recvOk,
  pendingFor,
  refuseBySignal,
  describeValue,
} from './chan.js'

/** A receive case: `recv(ch)`. */
export interface RecvCase<T> {
  readonly chan: Chan<T> | null
  readonly isSend: false
  readonly value: undefined
}

/** A send case: `send(ch, v)`. */
export interface SendCase<T> {
  readonly chan: Chan<T> | null
  readonly isSend: true
  readonly value: T
}

export type SelectCase = RecvCase<unknown> | SendCase<unknown>

function checkCaseChan(fn: string, chan: unknown): void {
  if (chan !== null && !(chan instanceof Chan)) {
    throw new TypeError(`${fn}: expected a Chan or null, got ${describeValue(chan)}`)
  }
}

/** A receive case for select. A `null` channel never fires. */
export function recv<T>(chan: Chan<T> | null): RecvCase<T> {
  checkCaseChan('recv', chan)
  return { chan, isSend: false, value: undefined }
}

/** A send case for select. A `null` channel never fires. */
export function send<T>(chan: Chan<T> | null, value: T): SendCase<T> {
  checkCaseChan('send', chan)
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

// xorshift32: select needs a fast, not a cryptographic, random source.
let seed = (Math.random() * 0x7fffffff) | 1
function randBelow(k: number): number {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % k
}

const CLOSED_SEND = -2

/** Polls the cases, commits one ready case chosen uniformly; its index, -1 or CLOSED_SEND. */
function poll(cases: readonly SelectCase[]): number {
  let ready = 0
  let pick = -1
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!
    const ch = c?.chan as ChanCore | null | undefined
    if (ch == null) {
      // recv()/send() only build cases whose chan is a Chan or null, so
      // anything else was not built by them: say which case, before any commit.
      if (ch === undefined) throw new TypeError(`select: case ${i} is not a recv() or send() case, got ${describeValue(c)}`)
      continue
    }
    const can = c.isSend
      ? ch._closed || ch._recvq.head !== null || ch._count < ch._cap
      : ch._count > 0 || ch._sendq.head !== null || ch._closed
    if (can && randBelow(++ready) === 0) pick = i
  }
  if (pick < 0) return -1
  const c = cases[pick]!
  const ch = c.chan as ChanCore
  if (c.isSend) {
    if (ch._closed) return CLOSED_SEND
    sendNow(ch, c.value)
  } else {
    recvNow(ch)
  }
  return pick
}

function outcome(cases: readonly SelectCase[], i: number): SelectOutcome {
  return cases[i]!.isSend ? { index: i, value: undefined, ok: true } : { index: i, value: takeRecvValue(), ok: recvOk }
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
  if (i === CLOSED_SEND) return Promise.reject(new ChanClosedError())
  const op = new SelectOp()
  const p = pendingFor<SelectResult<Cs>>(op)
  for (let j = 0; j < cases.length; j++) {
    const c = cases[j]!
    const ch = c.chan as ChanCore | null
    if (ch === null) continue
    const w = new Waiter(ch, c.isSend, c.value, op, j)
    op.waiters.push(w)
    ;(c.isSend ? ch._sendq : ch._recvq).enqueue(w)
  }
  parkSelect(op)
  if (signal !== undefined) {
    op.signal = signal
    op.onAbort = () => op.abort(signal.reason)
    signal.addEventListener('abort', op.onAbort, { once: true })
  }
  return p
}

/**
 * Go's select with a `default` case: completes a ready case (chosen uniformly)
 * and returns its result, or returns undefined at once when none is ready.
 */
export function trySelect<const Cs extends readonly SelectCase[]>(cases: Cs): SelectResult<Cs> | undefined {
  if (!Array.isArray(cases)) throw new TypeError(`trySelect: expected an array of cases, got ${describeValue(cases)}`)
  const i = poll(cases)
  if (i >= 0) return outcome(cases, i) as SelectResult<Cs>
  if (i === CLOSED_SEND) throw new ChanClosedError()
  return undefined
}
