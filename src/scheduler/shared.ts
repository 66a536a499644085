/**
 * Views over the runtime's SharedArrayBuffer plus the cross-thread primitives every thread uses:
 * ringing a thread's doorbell, publishing a completion to a G's owner, and Go's `wakep`.
 *
 * Invariants:
 * - A doorbell is only ever incremented; a waiter reads it, re-checks for work, then waits for it
 *   to change, so a ring between the check and the wait is never lost. The waiting flag is set
 *   before the re-check and cleared only by the waiter.
 * - `wakep` wakes at most one parked M with a P, and only when no M is spinning: it claims the
 *   spinning slot first (nmspinning 0 -> 1), so the woken M starts out counted as spinning.
 */

import {
  G_STATE, GS_CANCELLED, GS_QUEUED, H_NMSPINNING, H_NPIDLE, MS_PARKED, MS_WAKING, O_CR_TAIL, O_DOORBELL, O_MSTATE, O_P, O_WAITING, gRange, layoutFromHeader,
  gOff, oOff, ownerOf, type Layout,
} from './layout.js'
import type { Owner } from './owner.js'
import { RunQueues } from './runq.js'
import { SharedBufs } from './sharedbufs.js'
import { TaskTable } from './tasktable.js'

export class Sched {
  readonly sab: SharedArrayBuffer
  readonly I: Int32Array
  readonly F: Float64Array
  readonly U8: Uint8Array
  readonly l: Layout
  readonly q: RunQueues
  readonly tasks: TaskTable
  /**
   * The shared-buffer registry of this thread. Every runtime thread attaches it right after
   * construction (attachBufs), before it spawns or runs a G; only the queue tests go without.
   */
  bufs!: SharedBufs
  #wakeStart = 0

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    this.I = new Int32Array(sab)
    this.F = new Float64Array(sab)
    this.U8 = new Uint8Array(sab)
    this.l = layoutFromHeader(this.I)
    this.q = new RunQueues(this.I, this.l)
    this.tasks = new TaskTable(this.I, this.U8, this.l)
  }

  /** Joins the runtime's shared-buffer registry as thread `me` (see sharedbufs.ts). */
  attachBufs(me: number, channel: string): SharedBufs {
    this.bufs = new SharedBufs(this.I, this.l, me, channel)
    return this.bufs
  }

  /** Makes thread `owner` look again (wakes it if it waits on its doorbell). */
  ring(owner: number): void {
    const o = oOff(this.l, owner)
    Atomics.add(this.I, o + O_DOORBELL, 1)
    // The waiting flag is left set: clearing it here (notify once per wait) lost wake-ups, because
    // a ring for a completion the owner had already drained could clear the flag just before the
    // owner started waiting, leaving the next ring with nobody to notify.
    if (Atomics.load(this.I, o + O_WAITING) !== 0) Atomics.notify(this.I, o + O_DOORBELL)
  }

  /** Publishes that G `gid` (result already written) is done, to the owner's completion ring. */
  complete(gid: number): void {
    const owner = ownerOf(this.l, gid)
    const r = gRange(this.l, owner)
    const pos = Atomics.add(this.I, oOff(this.l, owner) + O_CR_TAIL, 1)
    Atomics.store(this.I, r.cr + (pos & (r.count - 1)), gid + 1)
    this.ring(owner)
  }

  /** complete() for the gids in words [start, end), all owned by `owner`: one reservation, one ring. */
  completeMany(owner: number, words: Int32Array, start: number, end: number): void {
    const I = this.I
    const r = gRange(this.l, owner)
    const mask = r.count - 1
    const pos = Atomics.add(I, oOff(this.l, owner) + O_CR_TAIL, end - start)
    for (let i = start; i < end; i++) Atomics.store(I, r.cr + ((pos + i - start) & mask), words[i]! + 1)
    this.ring(owner)
  }

  /**
   * Wires `signal` to G `gid` of `owner`: on abort the caller's promise rejects at once, and a G
   * still queued is marked cancelled so no M runs it.
   */
  cancelOn(signal: AbortSignal, gid: number, owner: Owner): void {
    const onAbort = (): void => {
      Atomics.compareExchange(this.I, gOff(this.l, gid) + G_STATE, GS_QUEUED, GS_CANCELLED)
      owner.detach(gid, signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    // The listener must not outlive the G: drop it when the G settles either way.
    owner.onSettle(gid, () => signal.removeEventListener('abort', onAbort))
  }

  /** Go's wakep: if Ps are idle and nobody spins, wake one parked M that holds a P. */
  wakep(): void {
    const I = this.I
    if (Atomics.load(I, H_NPIDLE) <= 0 || Atomics.load(I, H_NMSPINNING) !== 0) return
    if (Atomics.compareExchange(I, H_NMSPINNING, 0, 1) !== 0) return
    if (!this.#wakeParked()) Atomics.sub(I, H_NMSPINNING, 1)
  }

  /**
   * Go's injectglist for `n` Gs just put on the global queue from outside any P: wakes up to one
   * parked M per G, as many as there are idle Ps, spinners or not. wakep's one-at-a-time chain
   * (each woken M wakes the next once it finds work) lets the first M pull the whole batch before
   * the second is even running, and a started G cannot move: a batch of long-lived parents then
   * runs 3 on one M and 1 on the other.
   */
  wakeFor(n: number): void {
    const I = this.I
    if (n <= 1) return this.wakep()
    for (let i = 0; i < n && Atomics.load(I, H_NPIDLE) > 0; i++) {
      Atomics.add(I, H_NMSPINNING, 1)
      if (!this.#wakeParked()) {
        Atomics.sub(I, H_NMSPINNING, 1)
        return
      }
    }
  }

  /** Marks one parked M that holds a P WAKING (already counted in nmspinning) and rings it; false if none. */
  #wakeParked(): boolean {
    const I = this.I
    const maxM = this.l.maxM
    // Rotate the starting point so the same M is not always the one woken.
    const start = this.#wakeStart++ % maxM
    for (let i = 0; i < maxM; i++) {
      const m = 1 + ((start + i) % maxM)
      const o = oOff(this.l, m)
      if (Atomics.load(I, o + O_P) === 0) continue
      if (Atomics.compareExchange(I, o + O_MSTATE, MS_PARKED, MS_WAKING) === MS_PARKED) {
        this.ring(m)
        return true
      }
    }
    return false
  }
}
