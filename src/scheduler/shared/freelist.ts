/**
 * The free list of waiter records that SharedChan (sharedchan.ts) and the shared sync queues
 * (sharedsync-queue.ts) keep in their shared memory, and the wait for a record when none is free.
 *
 * Words (their indices in the owner's Int32Array view): `free`, the head (record index + 1, 0 for
 * empty); `freeWait`, how many ops wait for a record; `freeSeq`, bumped (and notified) by each
 * push that sees a waiter. A record's next link is at its word offset + `next`.
 *
 * Invariants:
 * - Pops happen only under the owner's lock (one popper: no ABA); pushes are lock-free (CAS).
 * - A waiter counts itself in `freeWait` before it reads `freeSeq` and re-reads `free`, and a
 *   pusher links the record before it reads `freeWait`: either the waiter sees the record, or the
 *   pusher sees the waiter and bumps the sequence the waiter sleeps on. No wake-up is lost.
 */

import { sleepWhile, unlock, type SleepInfo } from './sharedchan-wait.js'

export class FreeList {
  constructor(
    readonly free: number,
    readonly freeWait: number,
    readonly freeSeq: number,
    /** Offset of a record's next link from its first word. */
    readonly next: number,
    /** Word offset of record `i` (0-based). */
    readonly recordAt: (i: number) => number,
  ) {}

  /** Pops a free record (its word offset), or -1. Precondition: the owner's lock is held. */
  pop(I: Int32Array): number {
    let h = Atomics.load(I, this.free)
    while (h !== 0) {
      const w = this.recordAt(h - 1)
      const seen = Atomics.compareExchange(I, this.free, h, I[w + this.next]!)
      if (seen === h) return w
      h = seen
    }
    return -1
  }

  /** Pushes record `idx` (1-based) at word offset `w`, lock-free, and wakes the ops waiting for one. */
  push(I: Int32Array, w: number, idx: number): void {
    for (;;) {
      const h = Atomics.load(I, this.free)
      I[w + this.next] = h
      if (Atomics.compareExchange(I, this.free, h, idx) === h) break
    }
    if (Atomics.load(I, this.freeWait) > 0) {
      Atomics.add(I, this.freeSeq, 1)
      Atomics.notify(I, this.freeSeq)
    }
  }

  /**
   * The slow path when every record is taken: sleep until one is freed (or `signal` aborts), then
   * run the op again from the start (`retry`). Precondition: the owner's lock is held (released
   * here). `info` is what the deadlock check reports of the wait.
   */
  waitThenRetry<R>(I: Int32Array, retry: () => Promise<R>, signal: AbortSignal | undefined, info: SleepInfo): Promise<R> {
    Atomics.add(I, this.freeWait, 1)
    const seq = Atomics.load(I, this.freeSeq)
    const again = Atomics.load(I, this.free) !== 0 // freed between the failed pop and the count: no bump came
    unlock(I)
    const done = (): void => void Atomics.sub(I, this.freeWait, 1)
    if (again) {
      done()
      return retry()
    }
    return new Promise<void>((resolve, reject) => {
      let over = false
      const onAbort = (): void => {
        if (over) return
        over = true
        Atomics.notify(I, this.freeSeq) // ends the wait below (others just look again)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort)
        if (over) return // the abort settled it (and counts it out)
        over = true
        resolve()
      }
      if (!sleepWhile(I, this.freeSeq, seq, -1, wake, info)) wake()
    }).then(() => {
      done()
      return retry()
    }, (e: unknown) => {
      done()
      throw e
    })
  }
}
