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
 * it calls MPark.resumed (park.ts's currentMPark) first, so the M is not counted parked.
 */

import { isMainThread } from 'node:worker_threads'
import { currentMPark } from './park.js'
import { waitAsync } from './wait.js'
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

let sleepers = 0
let keepAlive: ReturnType<typeof setInterval> | null = null
const noop = (): void => {}

function holdThread(): void {
  if (sleepers++ === 0) keepAlive = setInterval(noop, 2 ** 30)
}

function releaseThread(): void {
  if (--sleepers === 0) {
    clearInterval(keepAlive!)
    keepAlive = null
  }
}

/** Ops sleeping on this thread now (tests). */
export const sleeping = (): number => sleepers

/**
 * Sleeps until I[at] !== v, then calls `wake` from a fresh task. `sleepFlag` is the word the
 * waker reads to decide whether to notify (W_SLEEP), or -1 when every change is notified.
 * Returns false, without sleeping, if the word had changed already (the caller goes on at once).
 */
export function sleepWhile(I: Int32Array, at: number, v: number, sleepFlag: number, wake: () => void): boolean {
  if (sleepFlag >= 0) Atomics.store(I, sleepFlag, 1)
  const r = waitAsync(I, at, v)
  if (!r.async) return false
  holdThread()
  void r.value.then(() => {
    releaseThread()
    currentMPark?.resumed()
    wake()
  })
  return true
}
