/**
 * How SharedChan waits: its lock, the spin before a park, and the park itself.
 *
 * The lock (H_LOCK) is Drepper's futex mutex (FREE, HELD, CONTENDED): a CAS to take it, a short
 * spin, and then, on a worker thread only, Atomics.wait on CONTENDED; unlock notifies one sleeper
 * when the word was CONTENDED. The main thread never sleeps on it (its event loop must not block):
 * it keeps spinning; the critical sections are a few dozen stores, no allocation and no user code.
 * A main thread that takes the word from FREE writes HELD, not CONTENDED; that is safe because a
 * worker always writes CONTENDED again before it sleeps, so the unlock that follows notifies it.
 *
 * A blocked op spins on its waiter record's state for a while (a partner on another core usually
 * arrives within a few microseconds, far less than an Atomics.waitAsync wake-up costs) and then
 * sleeps in Atomics.waitAsync, which leaves the event loop free for the thread's other goroutines.
 * Sleeping: the owner sets W_SLEEP, then waits while the state is still WAITING; a waker changes
 * the state (CAS) and then notifies if W_SLEEP is set. Both are sequentially consistent, so either
 * the waker sees the flag or the owner's wait sees the new state: no wake-up is lost.
 *
 * Atomics.waitAsync does not keep a Node thread alive. A thread with a sleeping op must stay alive
 * (its op will complete when another thread acts), so a ref'd interval is held while any op on
 * this thread sleeps. On an M, a wake-up is a continuation about to run while the M may be parked:
 * it calls MPark.resumed (park.ts's currentMPark) first, so the M is not counted parked, unless
 * this thread's last woken continuation blocked again at once (resume-hint.ts: the mark costs a
 * turn of the M's loop; the monitor marks an M whose unmarked continuation keeps running).
 *
 * Sleep accounting (for the cross-thread deadlock check, docs/design/deadlock.md): every sleeping
 * op is linked in this thread's sleeper list with what it waits on, from the moment its
 * Atomics.waitAsync is armed until its wake-up runs; the thread's epoch is bumped at both ends.
 * A sleeper whose word no longer holds the value it sleeps on has been claimed by a waker and will
 * run: a check counts that thread as about to wake.
 */

import { isMainThread } from 'node:worker_threads'
import { currentMPark } from './park.js'
import { waitAsync } from './wait.js'
import { ResumeHint } from './resume-hint.js'
import { H_LOCK, LK_CONTENDED, LK_FREE, LK_HELD } from './sharedchan-layout.js'

/** CAS attempts before a worker thread sleeps on the lock. */
const LOCK_SPIN = 200

export function lock(I: Int32Array): void {
  let c = Atomics.compareExchange(I, H_LOCK, LK_FREE, LK_HELD)
  if (c === LK_FREE) return
  for (let i = 0; i < LOCK_SPIN || isMainThread; i++) {
    if (Atomics.load(I, H_LOCK) === LK_FREE && (c = Atomics.compareExchange(I, H_LOCK, LK_FREE, LK_HELD)) === LK_FREE) return
  }
  if (c !== LK_CONTENDED) c = Atomics.exchange(I, H_LOCK, LK_CONTENDED)
  while (c !== LK_FREE) {
    Atomics.wait(I, H_LOCK, LK_CONTENDED)
    c = Atomics.exchange(I, H_LOCK, LK_CONTENDED)
  }
}

export function unlock(I: Int32Array): void {
  if (Atomics.exchange(I, H_LOCK, LK_FREE) === LK_CONTENDED) Atomics.notify(I, H_LOCK, 1)
}

// ---- spinning ----

/**
 * Polls of a waiter's state before it sleeps, always the full count. A budget that halved after
 * each miss (down to a quarter) made both sides of a ping-pong sleep every round once a few
 * spins had missed: a partner that slept needs a waitAsync wake-up, longer than the shrunken
 * spin, to answer, so the next spin missed too (bench/NOTES.md, 2026-12-05).
 */
export const SPIN = 2000

/** Spins while I[at] === v, at most `polls` times; the value last read. */
export function spinWhile(I: Int32Array, at: number, v: number, polls: number): number {
  let s = Atomics.load(I, at)
  for (let i = 0; s === v && i < polls; i++) s = Atomics.load(I, at)
  return s
}

// ---- sleeping ----

/**
 * What a sleeping op waits on, for the cross-thread deadlock check (main/checkdead.ts): made once
 * per blocked op by its caller and handed to every sleepWhile of that op.
 */
export interface SleepInfo {
  /** Go's wait reason: `chan send`, `chan receive`, `select`. */
  readonly reason: string
  /** One line naming what it waits on (the channel); called only when a report needs it. */
  readonly what: () => string
  /** The goroutine whose synchronous code started the op (the G's gid on an M), -1 when unknown. */
  readonly g: number
  /** That goroutine's name when the thread knows it (a local goroutine's function on main). */
  readonly name?: string | undefined
  /** The op has an AbortSignal: it may end without any thread acting (a timeout's timer is unref'd). */
  readonly cancellable: boolean
  /** false: the report lists the op from another record (a select's own park record, with every case). */
  readonly listed?: boolean
}

/** One sleep: the word and the value it sleeps on, and what for. Linked while it sleeps. */
interface Sleep {
  readonly I: Int32Array
  readonly at: number
  readonly v: number
  readonly info: SleepInfo | undefined
  next: Sleep | null
  prev: Sleep | null
}

/** A sleeping op as a deadlock check sees it. */
export interface SleepView {
  readonly info: SleepInfo | undefined
  /** Its word changed: a waker claimed it and its callback has not run yet (it is about to wake). */
  readonly woken: boolean
}

let sleepers = 0
/** Whether a wake-up marks this M resumed (resume-hint.ts); unused off an M. */
const hint = new ResumeHint()
let head: Sleep | null = null
/**
 * This thread's progress epoch: bumped when an op goes to sleep and when a sleeping op's wake-up
 * runs. Two deadlock samples that see the same epoch saw no sleep begin or end in between.
 */
let epoch = 0
let keepAlive: ReturnType<typeof setInterval> | null = null
const noop = (): void => {}
/** Told when this thread starts and stops holding itself alive for its sleepers (main/checkdead.ts). */
let holdHook: ((held: boolean) => void) | null = null
/** The goroutine running now, as the thread knows it (an M: the G whose synchronous body runs). */
let goroutineHint: (() => number) | null = null

function holdThread(): void {
  if (sleepers++ === 0) {
    keepAlive = setInterval(noop, 2 ** 30)
    holdHook?.(true)
  }
}

function releaseThread(): void {
  if (--sleepers === 0) {
    clearInterval(keepAlive!)
    keepAlive = null
    holdHook?.(false)
  }
}

/** Ops sleeping on this thread now (tests). */
export const sleeping = (): number => sleepers

/** This thread's progress epoch (see `epoch`). */
export const sleepEpoch = (): number => epoch

/** Ref'd timers this module holds on this thread now (0 or 1): a deadlock check discounts them. */
export const keepAliveTimers = (): number => (keepAlive !== null ? 1 : 0)

/** The sleeping ops of this thread, oldest first, each with whether its wake-up is on its way. */
export function sleepingOps(): SleepView[] {
  const out: SleepView[] = []
  for (let s = head; s !== null; s = s.next) out.unshift({ info: s.info, woken: Atomics.load(s.I, s.at) !== s.v })
  return out
}

/** Installs the hook told when the thread starts or stops holding itself alive for sleepers. */
export function setHoldHook(fn: ((held: boolean) => void) | null): void {
  holdHook = fn
}

/** Installs how the thread names the goroutine running now (an M: the G in its synchronous body). */
export function setGoroutineHint(fn: (() => number) | null): void {
  goroutineHint = fn
}

/** How the thread names a goroutine it numbered with the hint (main: a local goroutine's function). */
let goroutineNamer: (() => string | undefined) | null = null

/** Installs the namer that goes with the goroutine hint. */
export function setGoroutineNamer(fn: (() => string | undefined) | null): void {
  goroutineNamer = fn
}

/** The goroutine running now by the hint, -1 when unknown (for SleepInfo.g). */
export function currentGoroutine(): number {
  return goroutineHint !== null ? goroutineHint() : -1
}

/** Its name, when the thread knows it (for SleepInfo.name). */
export function currentGoroutineName(): string | undefined {
  return goroutineNamer !== null ? goroutineNamer() : undefined
}

/**
 * Sleeps until I[at] !== v, then calls `wake` from a fresh task. `sleepFlag` is the word the
 * waker reads to decide whether to notify (W_SLEEP), or -1 when every change is notified.
 * Returns false, without sleeping, if the word had changed already (the caller goes on at once).
 * `info` says what the op waits on, for the deadlock check.
 */
export function sleepWhile(I: Int32Array, at: number, v: number, sleepFlag: number, wake: () => void, info?: SleepInfo): boolean {
  hint.end()
  if (sleepFlag >= 0) Atomics.store(I, sleepFlag, 1)
  const r = waitAsync(I, at, v)
  if (!r.async) return false
  const s: Sleep = { I, at, v, info, next: head, prev: null }
  if (head !== null) head.prev = s
  head = s
  epoch++
  holdThread()
  void r.value.then(() => {
    if (s.prev !== null) s.prev.next = s.next
    else head = s.next
    if (s.next !== null) s.next.prev = s.prev
    epoch++
    releaseThread()
    if (currentMPark !== null && hint.begin()) currentMPark.resumed()
    wake()
  })
  return true
}
