/**
 * Views over the runtime's SharedArrayBuffer plus the cross-thread primitives every thread uses:
 * ringing a thread's doorbell, publishing a completion to a G's owner, and Go's `wakep` (the
 * last two through park.ts, which owns doorbells and M states).
 *
 * Invariants:
 * - A completion is written to its owner's ring before the owner's doorbell is rung.
 */

import { Arena } from './arena.js'
import { Cancels } from './cancel.js'
import { G_FLAGS, GF_KILLABLE, O_CR_TAIL, gOff, gRange, layoutFromHeader, oOff, ownerOf, type Layout } from './layout.js'
import type { Owner } from './owner.js'
import { Waker, ring } from './park.js'
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
  /** This thread's slab of the payload arena (arena.ts), attached with the registry. */
  arena!: Arena
  /** This thread's wakep (park.ts). */
  readonly waker: Waker

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    this.I = new Int32Array(sab)
    this.F = new Float64Array(sab)
    this.U8 = new Uint8Array(sab)
    this.l = layoutFromHeader(this.I)
    this.q = new RunQueues(this.I, this.l)
    this.tasks = new TaskTable(this.I, this.U8, this.l)
    this.waker = new Waker(this.I, this.l)
  }

  /**
   * Joins the runtime's shared-buffer registry as thread `me` (see sharedbufs.ts), and takes this
   * thread's slab of the payload arena (arena.ts).
   */
  attachBufs(me: number, channel: string): SharedBufs {
    this.arena = new Arena(this.I, this.U8, this.l, me)
    this.bufs = new SharedBufs(this.I, this.l, me, channel)
    return this.bufs
  }

  /** Makes thread `owner` look again (wakes it if it waits on its doorbell). */
  ring(owner: number): void {
    ring(this.I, this.l, owner)
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
   * Cancels of running Gs (cancel.ts). Every runtime thread attaches it right after construction
   * (attachCancels), as it does the registry.
   */
  cancels!: Cancels

  /** Joins the runtime's cancel channel; `kill` asks the main thread to end the M running a G. */
  attachCancels(channel: string, kill: (gid: number, gen: number) => void): Cancels {
    this.cancels = new Cancels(this.I, this.l, channel, kill)
    return this.cancels
  }

  /**
   * Wires `signal` to G `gid` of `owner`: on abort the caller's promise rejects at once, a G still
   * queued is marked cancelled so no M runs it, and a running one is told (cancel.ts).
   */
  cancelOn(signal: AbortSignal, gid: number, owner: Owner, killAfterMs?: number): void {
    // Before the G is published (the caller pushes it to a queue after this): only a killable G's
    // body runs in a frame main may end, and only such a frame costs its M an atomic per call.
    if (killAfterMs !== undefined) this.I[gOff(this.l, gid) + G_FLAGS] = GF_KILLABLE
    this.cancels.watch(signal, gid, owner, killAfterMs)
  }

  /** Go's wakep: if Ps are idle and nobody spins, wake one parked M that holds a P (park.ts). */
  wakep(): void {
    this.waker.wakep()
  }

  /** Go's injectglist: wake up to one parked M per G just put on the global queue (park.ts). */
  wakeFor(n: number): void {
    this.waker.wakeFor(n)
  }
}
