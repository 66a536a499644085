/**
 * A FIFO queue of waiter records in shared memory, and the two cores built on it that the shared
 * sync primitives share: a mutex (muLock/muUnlock) and a counting semaphore (semAcquire/
 * semRelease, Go's runtime sema and x/sync/semaphore at once). Words and states:
 * sharedsync-layout.ts. Lock, spin and sleep: sharedchan-wait.ts (reused, not copied).
 *
 * Invariants:
 * - Queue links, Q_LEN and R_QUEUED are written only under Q_LOCK. The free list is pushed
 *   lock-free (CAS on Q_FREE) and popped only under the lock (one popper: no ABA).
 * - A record leaves RS_WAITING only by CAS: to RS_DONE by a granter (under the lock, after popping
 *   it), or to RS_CANCELLED by its owner (abort). Exactly one wins: a lock or a permit is handed
 *   to exactly one op, and a withdrawn op is never granted later. A granter whose CAS fails moves
 *   on to the next record; the owner, holding the lock, unlinks its record if it is still queued.
 * - Only the owner frees its record, once the state left RS_WAITING: it spins and sleeps on that
 *   word, so a record reused while its owner might still read it would lose that owner's grant.
 * - A record is allocated only under the lock, so a granter that holds the lock notifies the
 *   owner of the record it just claimed, never a later one.
 * - Mutex (Q_STATE): MU_QUEUED exactly when held and the queue is not empty, as read under the
 *   lock. Outside the lock only two moves happen: UNLOCKED -> LOCKED (lock, tryLock) and
 *   LOCKED -> UNLOCKED (unlock with nobody queued), both by CAS; every move into or out of
 *   MU_QUEUED is made under the lock. An unlock that finds MU_QUEUED hands the lock to the head
 *   (the state stays held): FIFO hand-off, so a queued waiter is never overtaken (Go's starvation
 *   mode, always on once someone queues). Before queueing, a locker spins while the holder runs
 *   (Go's active spinning), which keeps short critical sections off the queue.
 * - Semaphore (Q_STATE = free permits): read and written only under the lock. An acquire takes
 *   permits only when nobody is queued; a release grants queued acquires in order while the head
 *   fits, and stops at the first that does not (x/sync/semaphore: a big request is not starved by
 *   small ones). A withdrawn head lets the ones behind it try again.
 */

import { describeValue } from '../../errors.js'
import { SyncError } from '../../chan/errors.js'
import { held, mustYield } from '../../chan/yield.js'
import { threadId } from 'node:worker_threads'
import { FreeList } from './freelist.js'
import { SPIN, currentGoroutine, currentGoroutineName, lock, sleepWhile, spinWhile, unlock, type SleepInfo } from './sharedchan-wait.js'
import {
  MU_LOCKED, MU_QUEUED, MU_UNLOCKED, Q_FREE, Q_FREESEQ, Q_FREEWAIT, Q_HEAD, Q_LEN, Q_STATE, Q_TAIL, R_ARG, R_NEXT, R_OWNER,
  R_PREV, R_QUEUED, R_SLEEP, R_STATE, RS_CANCELLED, RS_DONE, RS_FREE, RS_WAITING, RWORDS, queueWords, recordAt,
} from './sharedsync-layout.js'

const RESOLVED: Promise<void> = Promise.resolve()

/** CAS attempts on a held mutex before a locker queues (while the holder is not already queued on). */
const MU_SPIN = 100

/** Every queue's waiter records as freelist.ts sees them (the same words in each queue's own view). */
const FREE = new FreeList(Q_FREE, Q_FREEWAIT, Q_FREESEQ, R_NEXT, recordAt)

export class WaitQueue {
  /** The queue's own view: index 0 is Q_STATE. */
  readonly I: Int32Array

  /**
   * @param reason Go's wait reason for an op blocked here (`sync.Mutex.Lock`, `semacquire`), and
   * @param what the object it waits on (`a SharedMutex`), as the deadlock check reports them.
   */
  constructor(buffer: SharedArrayBuffer, word: number, nwait: number, readonly reason: string, readonly what: string) {
    this.I = new Int32Array(buffer, word * 4, queueWords(nwait))
  }

  /** What the deadlock check reports of an op that sleeps here (made once per blocked op). */
  #info(signal: AbortSignal | undefined, what: string): SleepInfo {
    return { reason: this.reason, what: () => what, g: currentGoroutine(), name: currentGoroutineName(), cancellable: signal !== undefined }
  }

  /** Threads the free list through all `nwait` records (a new buffer, before any thread sees it). */
  static init(buffer: SharedArrayBuffer, word: number, nwait: number, state: number): void {
    const I = new Int32Array(buffer, word * 4, queueWords(nwait))
    for (let i = 0; i < nwait; i++) I[recordAt(i) + R_NEXT] = i + 2 <= nwait ? i + 2 : 0
    I[Q_FREE] = 1
    I[Q_STATE] = state
  }

  // ---- under the lock ----

  /** Pops a free record for this thread (word offset), or -1. Precondition: lock held. */
  alloc(arg: number): number {
    const I = this.I
    const w = FREE.pop(I)
    if (w < 0) return -1
    I[w + R_SLEEP] = 0
    I[w + R_ARG] = arg
    I[w + R_OWNER] = threadId
    Atomics.store(I, w + R_STATE, RS_WAITING)
    return w
  }

  /** Appends `w` at the tail. Precondition: lock held, `w` just allocated. */
  enqueue(w: number): void {
    const I = this.I
    const idx = (w - recordAt(0)) / RWORDS + 1
    const t = I[Q_TAIL]!
    I[w + R_NEXT] = 0
    I[w + R_PREV] = t
    I[w + R_QUEUED] = 1
    if (t === 0) I[Q_HEAD] = idx
    else I[recordAt(t - 1) + R_NEXT] = idx
    I[Q_TAIL] = idx
    Atomics.store(I, Q_LEN, I[Q_LEN]! + 1)
  }

  /** Unlinks queued `w`. Precondition: lock held, R_QUEUED set. */
  unlink(w: number): void {
    const I = this.I
    const next = I[w + R_NEXT]!
    const prev = I[w + R_PREV]!
    if (prev === 0) I[Q_HEAD] = next
    else I[recordAt(prev - 1) + R_NEXT] = next
    if (next === 0) I[Q_TAIL] = prev
    else I[recordAt(next - 1) + R_PREV] = prev
    I[w + R_QUEUED] = 0
    Atomics.store(I, Q_LEN, I[Q_LEN]! - 1)
  }

  /** The head record (word offset), or -1. Precondition: lock held. */
  head(): number {
    const h = this.I[Q_HEAD]!
    return h === 0 ? -1 : recordAt(h - 1)
  }

  /**
   * Grants popped record `w`: RS_WAITING -> RS_DONE, and a notify if its owner sleeps. False when
   * its owner withdrew it first. Precondition: lock held, `w` just unlinked.
   */
  grant(w: number): boolean {
    const I = this.I
    if (Atomics.compareExchange(I, w + R_STATE, RS_WAITING, RS_DONE) !== RS_WAITING) return false
    if (Atomics.load(I, w + R_SLEEP) !== 0) Atomics.notify(I, w + R_STATE)
    return true
  }

  // ---- lock-free ----

  /** Pushes `w` on the free list. Precondition: its owner is done with it. */
  free(w: number): void {
    const I = this.I
    const idx = (w - recordAt(0)) / RWORDS + 1
    Atomics.store(I, w + R_STATE, RS_FREE)
    FREE.push(I, w, idx)
  }

  // ---- blocking (lock released) ----

  /**
   * Waits for queued record `w` to be granted: spin, then sleep in Atomics.waitAsync. An abort
   * withdraws it unless it was granted first (then the op completes); `withdrawn` runs under the
   * lock right after the owner unlinks the record itself, to repair what the queue's length
   * implies (not when a granter had popped it: the granter saw the queue without it).
   */
  wait(w: number, signal: AbortSignal | undefined, withdrawn: () => void): Promise<void> {
    const I = this.I
    if (spinWhile(I, w + R_STATE, RS_WAITING, SPIN) !== RS_WAITING) {
      this.#finish(w)
      return mustYield() ? held(undefined) : RESOLVED
    }
    const info = this.#info(signal, this.what)
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const onAbort = (): void => {
        if (settled) return
        if (Atomics.compareExchange(I, w + R_STATE, RS_WAITING, RS_CANCELLED) !== RS_WAITING) return // granted: the wake-up settles it
        settled = true
        lock(I)
        // Still queued: unlink it and repair what the queue's length implies. Else a granter
        // popped it and failed to claim it: that granter already went on to the next record (and
        // set the mutex's word from the queue it saw), so there is nothing to repair.
        if (I[w + R_QUEUED] === 1) {
          this.unlink(w)
          withdrawn()
        }
        unlock(I)
        Atomics.notify(I, w + R_STATE) // ends our own waitAsync (its callback sees `settled`)
        this.free(w)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const wake = (): void => {
        if (settled) return
        if (Atomics.load(I, w + R_STATE) === RS_WAITING) {
          if (!sleepWhile(I, w + R_STATE, RS_WAITING, w + R_SLEEP, wake, info)) wake()
          return
        }
        settled = true
        signal?.removeEventListener('abort', onAbort)
        this.#finish(w)
        resolve()
      }
      wake()
    })
  }

  #finish(w: number): void {
    this.free(w) // RS_DONE is the only way out of RS_WAITING but our own abort
  }

  /**
   * Every record is taken: sleep until one is freed, then `retry` the op from the start.
   * Precondition: lock held (released here).
   */
  whenRecordFree<R>(retry: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
    return FREE.waitThenRetry(this.I, retry, signal, this.#info(signal, `${this.what}: waiting for a free waiter record`))
  }

  /** Records free now (diagnostics; exact only when nobody is mid-op). */
  freeRecords(): number {
    const I = this.I
    lock(I)
    let n = 0
    for (let i = I[Q_FREE]!; i !== 0; i = I[recordAt(i - 1) + R_NEXT]!) n++
    unlock(I)
    return n
  }

  /** Queued ops whose owner sleeps (diagnostics). */
  sleepers(): number {
    const I = this.I
    lock(I)
    let n = 0
    for (let i = I[Q_HEAD]!; i !== 0; i = I[recordAt(i - 1) + R_NEXT]!) n += Atomics.load(I, recordAt(i - 1) + R_SLEEP)
    unlock(I)
    return n
  }
}

// ---- the mutex core ----

/** Takes the mutex if it is free; never waits. */
export function muTryLock(q: WaitQueue): boolean {
  return Atomics.compareExchange(q.I, Q_STATE, MU_UNLOCKED, MU_LOCKED) === MU_UNLOCKED
}

/** Waits for the mutex (FIFO once queued). Precondition: `signal`, if any, is a live AbortSignal. */
export function muLock(q: WaitQueue, signal: AbortSignal | undefined): Promise<void> {
  const I = q.I
  if (Atomics.compareExchange(I, Q_STATE, MU_UNLOCKED, MU_LOCKED) === MU_UNLOCKED) {
    return mustYield() ? held(undefined) : RESOLVED
  }
  for (let i = 0; i < MU_SPIN; i++) {
    const s = Atomics.load(I, Q_STATE)
    if (s === MU_QUEUED) break // others wait already: a spinner could not overtake them
    if (s === MU_UNLOCKED && Atomics.compareExchange(I, Q_STATE, MU_UNLOCKED, MU_LOCKED) === MU_UNLOCKED) {
      return mustYield() ? held(undefined) : RESOLVED
    }
  }
  lock(I)
  const w = q.alloc(0)
  if (w < 0) return q.whenRecordFree(() => muLock(q, signal), signal) // unlocks
  for (;;) {
    const s = Atomics.load(I, Q_STATE)
    if (s === MU_QUEUED) break
    if (Atomics.compareExchange(I, Q_STATE, s, s === MU_UNLOCKED ? MU_LOCKED : MU_QUEUED) !== s) continue
    if (s === MU_LOCKED) break
    unlock(I) // it was free: ours now
    q.free(w)
    return mustYield() ? held(undefined) : RESOLVED
  }
  q.enqueue(w)
  unlock(I)
  return q.wait(w, signal, () => {
    if (I[Q_LEN] === 0) Atomics.store(I, Q_STATE, MU_LOCKED) // still held by someone else
  })
}

/** Unlocks; hands the mutex to the first queued waiter if there is one. */
export function muUnlock(q: WaitQueue, code: 'ERR_UNLOCK_OF_UNLOCKED' | 'ERR_RWUNLOCK_OF_UNLOCKED' = 'ERR_UNLOCK_OF_UNLOCKED'): void {
  const I = q.I
  const s = Atomics.compareExchange(I, Q_STATE, MU_LOCKED, MU_UNLOCKED)
  if (s === MU_LOCKED) return
  if (s === MU_UNLOCKED) throw new SyncError(code)
  lock(I)
  for (let w = popHead(q); w >= 0; w = popHead(q)) {
    // The new holder may unlock at once: the state it will see must already be right.
    if (I[Q_LEN] === 0) Atomics.store(I, Q_STATE, MU_LOCKED)
    if (q.grant(w)) {
      unlock(I)
      return
    }
  }
  Atomics.store(I, Q_STATE, MU_UNLOCKED) // everyone queued had withdrawn
  unlock(I)
}

function popHead(q: WaitQueue): number {
  const w = q.head()
  if (w >= 0) q.unlink(w)
  return w
}

// ---- the semaphore core ----

/** Takes `n` permits if nobody is queued and they are free now. Precondition: n is a valid count. */
export function semTryAcquire(q: WaitQueue, n: number): boolean {
  const I = q.I
  if (Atomics.load(I, Q_STATE) < n) return false
  lock(I)
  const ok = I[Q_LEN] === 0 && I[Q_STATE]! >= n
  if (ok) Atomics.store(I, Q_STATE, I[Q_STATE]! - n)
  unlock(I)
  return ok
}

/** Waits for `n` permits, FIFO. Precondition: n is a valid count, `signal` live if given. */
export function semAcquire(q: WaitQueue, n: number, signal: AbortSignal | undefined): Promise<void> {
  const I = q.I
  lock(I)
  if (I[Q_LEN] === 0 && I[Q_STATE]! >= n) {
    Atomics.store(I, Q_STATE, I[Q_STATE]! - n)
    unlock(I)
    return mustYield() ? held(undefined) : RESOLVED
  }
  const w = q.alloc(n)
  if (w < 0) return q.whenRecordFree(() => semAcquire(q, n, signal), signal) // unlocks
  q.enqueue(w)
  unlock(I)
  return q.wait(w, signal, () => grantWaiters(q))
}

/** Returns `n` permits and grants queued acquires that now fit, in order. */
export function semRelease(q: WaitQueue, n: number): void {
  const I = q.I
  lock(I)
  Atomics.store(I, Q_STATE, I[Q_STATE]! + n)
  grantWaiters(q)
  unlock(I)
}

/** Releases `n` permits unless that would make more than `size` free; false then (nothing changed). */
export function semReleaseUpTo(q: WaitQueue, n: number, size: number): boolean {
  const I = q.I
  lock(I)
  if (I[Q_STATE]! + n > size) {
    unlock(I)
    return false
  }
  Atomics.store(I, Q_STATE, I[Q_STATE]! + n)
  grantWaiters(q)
  unlock(I)
  return true
}

/** Precondition: lock held. */
function grantWaiters(q: WaitQueue): void {
  const I = q.I
  for (let w = q.head(); w >= 0; w = q.head()) {
    const need = I[w + R_ARG]!
    if (I[Q_STATE]! < need) return
    q.unlink(w)
    if (q.grant(w)) Atomics.store(I, Q_STATE, I[Q_STATE]! - need)
  }
}

/** Validates a permit count: an integer in 0..max, else a RangeError echoing it. */
export function checkCount(what: string, n: unknown, max: number, name = 'n'): number {
  if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > max) {
    throw new RangeError(`${what}: ${name} must be an integer in 0..${max}, got ${describeValue(n)}`)
  }
  return n as number
}
