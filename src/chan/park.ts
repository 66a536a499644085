/**
 * The registry of parked operations: every channel op, select or sync wait that
 * is blocked right now, whoever started it. The deadlock detector reads it when
 * the event loop runs dry; tests read its size to prove nothing leaked.
 *
 * Invariants:
 * - A Parked record is linked here exactly while its operation is blocked: it is
 *   linked when the operation parks and unlinked, before its promise settles,
 *   when the operation completes, is cancelled, or is woken by close.
 * - The list is intrusive (pnext/pprev on the record), so parking and
 *   unparking are O(1) and allocate nothing.
 * - `g` is the goroutine that was running when the op parked, when gort can
 *   know it (see goroutine.ts on why it cannot always), else null.
 */
import type { G } from './goroutine.js'
import { currentG, armDeadlockDetector } from './goroutine.js'

export abstract class Parked {
  /** Links in the global parked list; null when not parked. */
  pnext: Parked | null = null
  pprev: Parked | null = null
  /** Whether this record is linked in the parked list. */
  parked = false
  /** The goroutine that parked, if known. */
  g: G | null = null
  /** A stack captured at park time when GORT_TRACEBACK=1 (diagnostics only). */
  trace: Error | null = null

  /** What the op waits on, as Go prints it: `chan receive`, `select`, `sync.Mutex.Lock`. */
  abstract waitReason(): string
  /** Extra detail for the deadlock report (which channel, which cases). */
  abstract detail(): string
}

let head: Parked | null = null
let count = 0
// Read here, not in goroutine.ts: park.ts and goroutine.ts import each other, and
// this module's bindings must exist before anyone calls setTraceback.
let traceback = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['GORT_TRACEBACK'] === '1'

/** Enable capturing a stack per parked op (GORT_TRACEBACK=1); costs ~1 µs per park. */
export function setTraceback(on: boolean): void {
  traceback = on
}

/** Whether stacks are being captured per park. */
export function tracing(): boolean {
  return traceback
}

/** Precondition: p is not parked. */
export function park(p: Parked): void {
  p.parked = true
  p.g = currentG
  if (traceback) p.trace = new Error('parked here')
  p.pprev = null
  p.pnext = head
  if (head !== null) head.pprev = p
  head = p
  if (++count === 1) armDeadlockDetector()
}

/** Idempotent: unparking a record that is not parked does nothing. */
export function unpark(p: Parked): void {
  if (!p.parked) return
  p.parked = false
  const { pnext, pprev } = p
  if (pprev !== null) pprev.pnext = pnext
  else head = pnext
  if (pnext !== null) pnext.pprev = pprev
  p.pnext = p.pprev = null
  count--
}

/** How many operations are blocked right now (all channels, selects, sync waits). */
export function parkedCount(): number {
  return count
}

/** A snapshot of the parked records, oldest first. */
export function parkedList(): Parked[] {
  const out: Parked[] = []
  for (let p = head; p !== null; p = p.pnext) out.push(p)
  return out.reverse()
}
