/**
 * The yield budget: how gort keeps a tight channel loop from starving timers and I/O.
 *
 * The trap (named in ts-chan's README): an op that can complete at once returns an
 * already-settled promise, and a waiter that is woken settles its promise, so two
 * goroutines ping-ponging on channels form an endless chain of microtasks. The
 * event loop never reaches its timers or poll phase, and a `setTimeout` never fires.
 *
 * Rejected designs:
 * - A macrotask (setImmediate) per operation: correct but costs ~1 µs per op, more
 *   than the whole op should cost.
 * - A time slice (check the clock every N ops): needs a clock read, and the
 *   interval is then hard to reason about in tests.
 *
 * Chosen: a budget of YIELD_BUDGET completing operations. Every op that completes
 * without parking spends one unit (a woken waiter needs some other op to complete
 * to wake it, so counting completions bounds every chain). When the budget is
 * spent, gort enters "yielding": every completing op, from any goroutine, settles
 * its promise in one shared macrotask instead of at once. The chain breaks, the
 * event loop turns (timers, I/O), and the macrotask refills the budget and settles
 * the held promises in order. Cost: one setImmediate per 1024 ops (~1 ns per op).
 *
 * Invariants:
 * - The op itself has already happened when its promise is held back: only the
 *   caller's continuation is delayed, never the channel's state change.
 * - budget < 0 exactly while a flush is scheduled; the flush resets it.
 */

/** Completing operations allowed between two turns of the event loop. */
export const YIELD_BUDGET = 1024

let budget = YIELD_BUDGET
let heldResolve: Array<(v: unknown) => void> = []
let heldValue: unknown[] = []
let resolveSlot: ((v: unknown) => void) | null = null

// Node: setImmediate runs after the poll phase (I/O) and lets due timers run on
// the next turn. Browsers: a MessageChannel message is a macrotask without
// setTimeout's 4 ms clamp. Last resort: setTimeout.
const macrotask: (fn: () => void) => void = pickMacrotask()

function pickMacrotask(): (fn: () => void) => void {
  if (typeof setImmediate === 'function') return (fn) => void setImmediate(fn)
  if (typeof MessageChannel === 'function') {
    const mc = new MessageChannel()
    // Where a port can hold a process open (Node without setImmediate, Deno), it
    // must do so exactly while a flush is pending: held promises are live work.
    const port = mc.port1 as typeof mc.port1 & { ref?: () => void; unref?: () => void }
    let pending: (() => void) | null = null
    port.addEventListener('message', () => {
      const fn = pending
      pending = null
      port.unref?.()
      fn?.()
    })
    port.start()
    port.unref?.()
    // Only one flush is ever scheduled at a time (budget === -1 guards it).
    return (fn) => {
      pending = fn
      port.ref?.()
      mc.port2.postMessage(null)
    }
  }
  return (fn) => void setTimeout(fn, 0)
}

let flushes = 0

/** How many times the budget ran out and gort yielded to the event loop (diagnostics). */
export function yieldCount(): number {
  return flushes
}

function flush(): void {
  flushes++
  budget = YIELD_BUDGET
  const rs = heldResolve
  const vs = heldValue
  heldResolve = []
  heldValue = []
  for (let i = 0; i < rs.length; i++) rs[i]!(vs[i])
}

/**
 * Spends one unit of budget. True means the caller must settle through `held`
 * instead of settling now.
 */
export function mustYield(): boolean {
  if (--budget >= 0) return false
  if (budget === -1) macrotask(flush)
  return true
}

function captureResolve(resolve: (v: unknown) => void): void {
  resolveSlot = resolve
}

/** A promise for `value` that settles in the yield macrotask. */
export function held<T>(value: T): Promise<T> {
  const p = new Promise<T>(captureResolve as (r: (v: T) => void) => void)
  heldResolve.push(resolveSlot!)
  heldValue.push(value)
  resolveSlot = null
  return p
}
