/**
 * In-thread goroutines, panics, and deadlock detection.
 *
 * A goroutine here is an async function started with `go(fn, ...args)`: it runs
 * on the caller's thread, interleaving at its awaits. gort counts the live ones
 * so it can tell, when the event loop runs dry, that some never finished.
 *
 * Deadlock detection. Node emits `beforeExit` exactly when the event loop is
 * empty: no timer, socket, child or pending I/O is left that could run code. At
 * that moment a parked channel op can never be woken, and a goroutine that has
 * not returned never will. So if any op is parked or any goroutine is live, gort
 * prints Go's report (`fatal error: all goroutines are asleep - deadlock!`, then
 * each goroutine and what it waits on) and exits with code 2, as Go does. A
 * program that finishes has nothing parked and exits 0 without a word.
 *
 * Attribution (which goroutine owns which parked op) is best effort: JavaScript
 * has no cheap "current task" once an async function has awaited (async_hooks
 * and AsyncLocalStorage slow every promise in Node 20). gort knows the goroutine
 * while `go` runs its synchronous prefix, which covers the classic deadlocks; an
 * op parked later is shown as `goroutine ?`. Set GORT_TRACEBACK=1 to capture a
 * stack per park; V8's async stack traces then name the goroutine's function.
 *
 * Panics. A goroutine that throws (or rejects) and does not catch crashes the
 * process with that error, like an unrecovered Go panic: the error is re-thrown
 * from a fresh microtask, so Node reports it as an uncaught exception and exits 1.
 * To recover, catch inside the goroutine (Go's defer/recover), or install
 * `process.on('uncaughtException', ...)`, which sees the original error.
 *
 * Invariants:
 * - The live list (liveHead, liveCount) holds exactly the goroutines whose
 *   function has not returned or thrown.
 * - `currentG` is non-null only during the synchronous part of `go`.
 */
import { parkedCount, parkedList, tracing } from './park.js'

/** A goroutine record. Id 1 is reserved for the main program, as in Go. */
export class G {
  readonly id: number
  readonly fn: Function
  /** Links in the live list (intrusive: spawning allocates no Set entry). */
  next: G | null = null
  prev: G | null = null
  constructor(id: number, fn: Function) {
    this.id = id
    this.fn = fn
  }
  /** The function's name, read only when a report needs it. */
  get name(): string {
    return this.fn.name || 'func'
  }
}

/** The goroutine whose synchronous code is running, if gort knows it. */
export let currentG: G | null = null

let nextId = 2
let liveHead: G | null = null
let liveCount = 0
let armed = false
let detect = true

const proc: NodeJS.Process | undefined = (globalThis as { process?: NodeJS.Process }).process

function exitG(g: G): void {
  if (g.prev !== null) g.prev.next = g.next
  else liveHead = g.next
  if (g.next !== null) g.next.prev = g.prev
  g.next = g.prev = null
  liveCount--
}

function panic(g: G, error: unknown): void {
  exitG(g)
  queueMicrotask(() => {
    throw error
  })
}

/**
 * Starts `fn(...args)` as a goroutine. Like Go's `go` statement it returns
 * nothing: communicate results over channels. An uncaught throw crashes the
 * process (see the module comment for how to recover instead).
 */
export function go<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
  if (typeof fn !== 'function') throw new TypeError(`go: expected a function, got ${String(fn)}`)
  const g = new G(nextId++, fn)
  g.next = liveHead
  if (liveHead !== null) liveHead.prev = g
  liveHead = g
  liveCount++
  if (!armed) armDeadlockDetector()
  const prev = currentG
  currentG = g
  let r: unknown
  try {
    r = fn(...args)
  } catch (error) {
    currentG = prev
    panic(g, error)
    return
  }
  currentG = prev
  if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
    ;(r as PromiseLike<unknown>).then(
      () => exitG(g),
      (error: unknown) => panic(g, error),
    )
  } else {
    exitG(g)
  }
}

/** Goroutines started with `go` that have not finished. */
export function goroutineCount(): number {
  return liveCount
}

/**
 * Turns the exit-time deadlock check on or off (on by default). Turn it off in
 * hosts that keep parked ops on purpose at exit, or that own the exit code.
 */
export function setDeadlockDetection(on: boolean): void {
  detect = on
}

/** Installs the `beforeExit` check once; called on the first park or `go`. */
export function armDeadlockDetector(): void {
  if (armed) return
  armed = true
  if (typeof proc?.on === 'function') proc.on('beforeExit', onBeforeExit)
}

function onBeforeExit(): void {
  if (!detect || (parkedCount() === 0 && liveCount === 0)) return
  proc!.stderr.write(deadlockReport())
  proc!.exit(2)
}

/** Go's deadlock report for the current state (exported for tests and tools). */
export function deadlockReport(): string {
  const lines = ['fatal error: all goroutines are asleep - deadlock!', '']
  const shown = new Set<G>()
  let anonymous = false
  for (const p of parkedList()) {
    if (p.g === null) anonymous = true
    const who = p.g === null ? 'goroutine ?' : `goroutine ${p.g.id} (${p.g.name})`
    if (p.g !== null) shown.add(p.g)
    lines.push(`${who} [${p.waitReason()}]:`, `\t${p.detail()}`)
    if (p.trace?.stack !== undefined) {
      lines.push(...p.trace.stack.split('\n').slice(2).map((l) => `\t${l.trim()}`))
    }
    lines.push('')
  }
  const live: G[] = []
  for (let g = liveHead; g !== null; g = g.next) live.unshift(g)
  for (const g of live) {
    if (shown.has(g)) continue
    lines.push(`goroutine ${g.id} (${g.name}) [waiting]:`, '\tawaiting a channel op listed above or a promise nothing can settle', '')
  }
  if (anonymous && !tracing()) lines.push('(goroutine ?: the main program, or a goroutine past its first await; run with GORT_TRACEBACK=1 for a stack per blocked op)', '')
  return lines.join('\n')
}
