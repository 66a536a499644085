/**
 * The registry of parked operations: every channel op, select or sync wait that
 * is blocked right now, whoever started it. The deadlock detector reads it when
 * the event loop runs dry; tests read its size to prove nothing leaked.
 *
 * Where parked ops are found. A plain op (send, recv, and the sync waits built
 * on them) parks exactly by being in one of its channel's wait queues, so the
 * queues themselves are the registry: a wait queue is listed in `queues` exactly
 * while it is non-empty, and the report walks the listed queues. That costs the
 * rendezvous hot path one array push when a queue fills and one pop when it
 * drains, instead of a second linked list per op (~30-40 ns per round trip). A
 * select parks many waiters but is one op, so selects keep their own intrusive
 * list (`selHead`), which also covers a select with no non-null case (it waits
 * in no queue at all).
 *
 * Invariants:
 * - A queue is in `queues` (at index `q.ri`) exactly while it holds a waiter;
 *   `q.ri === -1` otherwise. A drained queue is dropped at once, so the registry
 *   never keeps an idle channel from being collected.
 * - A select is linked in the select list exactly while it is blocked: linked
 *   when it parks, unlinked before its promise settles.
 * - Every parked record gets `seq` from one counter when it parks, so the report
 *   lists ops oldest first, whichever list they are found in.
 * - `g` is the goroutine that was running when the op parked, when gort can
 *   know it (see goroutine.ts on why it cannot always), else null.
 */
import type { G } from './goroutine.js'
import { currentG, armDeadlockDetector } from './goroutine.js'

export abstract class Parked {
  /** The goroutine that parked, if known. */
  g: G | null = null
  /** A stack captured at park time when GORT_TRACEBACK=1 (diagnostics only). */
  trace: Error | null = null
  /** Park order, for listing oldest first. */
  seq = 0

  /** What the op waits on, as Go prints it: `chan receive`, `select`, `sync.Mutex.Lock`. */
  abstract waitReason(): string
  /** Extra detail for the deadlock report (which channel, which cases). */
  abstract detail(): string
}

/** A wait queue as the registry sees it (waitq.ts implements it). */
export interface ParkQueue {
  /** Index in `queues`, or -1 when not listed. */
  ri: number
  /** The plain (non-select) ops parked in this queue, oldest first. */
  plainWaiters(out: Parked[]): void
  /** How many plain ops are parked in this queue. */
  plainCount(): number
}

const queues: ParkQueue[] = []

/** A select's links in the select list. */
export abstract class ParkedSelect extends Parked {
  pnext: ParkedSelect | null = null
  pprev: ParkedSelect | null = null
  /** Whether this select is linked in the select list. */
  parked = false
}

let selHead: ParkedSelect | null = null
let selCount = 0
let seq = 0
// GORT_TRACEBACK=1 captures a stack per parked op (an Error each, so only on request). Read
// here, not in goroutine.ts: park.ts and goroutine.ts import each other.
const traceback = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['GORT_TRACEBACK'] === '1'

/** Whether stacks are being captured per park. */
export function tracing(): boolean {
  return traceback
}

/** Stamps a record as it parks: goroutine, order, optional stack. */
export function stamp(p: Parked): void {
  p.g = currentG
  p.seq = ++seq
  if (traceback) p.trace = new Error('parked here')
}

/** Precondition: q is not listed and has just received its first waiter. */
export function listQueue(q: ParkQueue): void {
  q.ri = queues.length
  queues.push(q)
  if (queues.length === 1) armDeadlockDetector()
}

/** Precondition: q is listed and has just lost its last waiter. */
export function unlistQueue(q: ParkQueue): void {
  const last = queues.pop()!
  if (last !== q) {
    queues[q.ri] = last
    last.ri = q.ri
  }
  q.ri = -1
}

/** Precondition: s is not parked. */
export function parkSelect(s: ParkedSelect): void {
  stamp(s)
  s.parked = true
  s.pprev = null
  s.pnext = selHead
  if (selHead !== null) selHead.pprev = s
  selHead = s
  if (++selCount === 1) armDeadlockDetector()
}

/** Idempotent: unparking a select that is not parked does nothing. */
export function unparkSelect(s: ParkedSelect): void {
  if (!s.parked) return
  s.parked = false
  const { pnext, pprev } = s
  if (pprev !== null) pprev.pnext = pnext
  else selHead = pnext
  if (pnext !== null) pnext.pprev = pprev
  s.pnext = s.pprev = null
  selCount--
}

/** How many operations are blocked right now (all channels, selects, sync waits). */
export function parkedCount(): number {
  // Not on any hot path: tests and the exit-time check call it.
  let n = selCount
  for (let i = 0; i < queues.length; i++) n += queues[i]!.plainCount()
  return n
}

/** How many wait queues are listed now (diagnostics and tests: 0 when nothing is parked in any queue). */
export function listedQueueCount(): number {
  return queues.length
}

/** A snapshot of the parked records, oldest first. */
export function parkedList(): Parked[] {
  const out: Parked[] = []
  for (let s = selHead; s !== null; s = s.pnext) out.push(s)
  for (let i = 0; i < queues.length; i++) queues[i]!.plainWaiters(out)
  return out.sort((a, b) => a.seq - b.seq)
}
