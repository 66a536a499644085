/**
 * What a select on this thread keeps of its SharedChan cases (the logic is in sharedchan.ts,
 * which owns the memory; the protocol and why it is correct: docs/design/sharedchan.md).
 *
 * A select that publishes a case on a SharedChan gets one SelectAgent on its own thread: where
 * its done word is (W_DONE of its first shared case's waiter record, in that case's channel), the
 * waiters it published (SelWaiter: channel, record, case index), and whether it is over. The
 * agent waits on the done word (spin, then Atomics.waitAsync) for a partner on another thread
 * to claim a case; it then reads the case's outcome from the record and fires the select.
 *
 * Invariants:
 * - One agent per select, made by its first shared enqueue and dropped by `release` (the
 *   select's DoneWord.release), which withdraws every waiter the agent published before the
 *   record holding the done word is freed: no queue can then reach the word.
 * - A SelWaiter is withdrawn once (`gone`); WITHDRAW on it again is a no-op.
 * - Selector methods (claim, fire, fail, doneWord) are called on the agent's thread only.
 */

import { GortError } from '../../errors.js'
import type { Selector } from '../../chan/protocol.js'

/** A select could not publish a case: every waiter record of the channel is in use. */
export class SharedChanBusyError extends GortError {
  declare readonly code: 'ERR_SHAREDCHAN_BUSY'
  /** The channel's waiter records (SharedChanOptions.waiters). */
  readonly waiters: number

  constructor(waiters: number) {
    super('ERR_SHAREDCHAN_BUSY', `sharedchan: select needs a waiter record and all ${waiters} are in use (make the channel with more waiters)`)
    this.waiters = waiters
  }
}

/** One published case of a select: what select hands back to WITHDRAW. */
export class SelWaiter {
  /** True once withdrawn (or never published: GONE). */
  gone = false

  constructor(
    /** The SharedChan it waits on (null for GONE). */
    readonly ch: object | null,
    /** Word offset of its waiter record in that channel. */
    readonly w: number,
    readonly index: number,
    readonly isSend: boolean,
    /** A send case's value, offered again when the select looks at its cases again. */
    readonly value: unknown,
    /** Whether its record holds the select's done word (freed by release, not by withdraw). */
    readonly primary: boolean,
  ) {}
}

/** What an enqueue that completed at once (or found its select claimed) returns: nothing to withdraw. */
export const GONE: SelWaiter = new SelWaiter(null, -1, -1, false, undefined, false)
GONE.gone = true

export class SelectAgent {
  /** The cases published, in order. */
  readonly cases: SelWaiter[] = []
  /** Set by release: the select is settled and every case withdrawn. */
  done = false

  constructor(
    readonly sel: Selector,
    /** The channel (a SharedChan) whose record `w` holds the done word. */
    readonly home: object,
    readonly w: number,
    /** The done word: D[at]; D[at + 1] is its sleep flag. */
    readonly D: Int32Array,
    readonly at: number,
  ) {}

  /** The published case with this index, if any (a select has a handful of cases). */
  caseOf(index: number): SelWaiter | undefined {
    for (const c of this.cases) if (c.index === index) return c
    return undefined
  }
}

const agents = new WeakMap<Selector, SelectAgent>()

export const agentOf = (sel: Selector): SelectAgent | undefined => agents.get(sel)
export const setAgent = (a: SelectAgent): void => void agents.set(a.sel, a)
export const dropAgent = (a: SelectAgent): void => void agents.delete(a.sel)
