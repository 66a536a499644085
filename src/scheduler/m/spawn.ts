/**
 * `go` and `goAll` inside a task (Go's newproc): the new G's record comes from this M's own range,
 * and the G goes to the current P's runnext (go) or ring (goAll), or to the global queue when
 * the M holds no P.
 *
 * Invariants:
 * - Only the P's holder touches its ring tail: user code runs with the M in MS_INTASK, and a
 *   spawn flips INTASK -> SPAWNING around its pushes, so the monitor (which takes a P only by
 *   CAS INTASK -> LOST) cannot take the P in the middle of one. A P already LOST is given up
 *   first and the G goes to the global queue.
 * - When the M has no free G record the child runs inline on this thread instead of blocking
 *   (blocking could deadlock a deep fork-join); stats count these (`inlined`).
 * - A spawn that fails (uncloneable arguments) throws before anything is queued.
 * - A spawn from a task's synchronous body runs outside its frame (O_CUR 0), so main never ends
 *   the thread in the middle of one (main/kill.ts).
 */

import { Group, writeRecord, writeRecords } from '../shared/batch.js'
import { RuntimeClosedError, UncloneableArgError } from '../errors.js'
import { H_CLOSED, O_CUR, P_INLINED, P_SPAWNS, oOff } from '../shared/layout.js'
import { INLINED, leaveFrame, type MParts } from './runner.js'
import type { Sched } from '../shared/sched.js'
import type { AnyTask, Spawner } from '../task.js'

export class MSpawner implements Spawner {
  readonly #m: MParts
  readonly #s: Sched
  readonly #I: Int32Array
  readonly #one = new Int32Array(1)
  /** This M's O_CUR word. */
  readonly #cur: number

  constructor(m: MParts) {
    this.#m = m
    this.#s = m.s
    this.#I = m.s.I
    this.#cur = oOff(m.s.l, m.me) + O_CUR
  }

  /**
   * go() steps out of its caller's frame (O_CUR, see Runner.#enterFrame) while it writes shared
   * memory, so main never ends the thread in the middle of a spawn; called from a continuation,
   * there is no frame to step out of.
   */
  spawn(ref: AnyTask, args: readonly unknown[], signal?: AbortSignal, killAfterMs?: number, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
    const g = this.#m.hold.g
    if (g < 0) return this.#spawn(ref, args, signal, killAfterMs, transfer)
    this.#stepOut(g)
    try {
      return this.#spawn(ref, args, signal, killAfterMs, transfer)
    } finally {
      this.#stepIn(g)
    }
  }

  spawnAll(ref: AnyTask, argsList: readonly (readonly unknown[])[], settled = false): Promise<unknown[]> {
    const g = this.#m.hold.g
    if (g < 0) return this.#spawnAll(ref, argsList, settled)
    this.#stepOut(g)
    try {
      return this.#spawnAll(ref, argsList, settled)
    } finally {
      this.#stepIn(g)
    }
  }

  #stepOut(g: number): void {
    this.#m.hold.g = -1
    if (this.#m.hold.framed) leaveFrame(this.#I, this.#cur, g)
  }

  #stepIn(g: number): void {
    this.#m.hold.g = g
    if (this.#m.hold.framed) this.#I[this.#cur] = g + 1
  }

  #spawn(
    ref: AnyTask, args: readonly unknown[], signal: AbortSignal | undefined, killAfterMs: number | undefined, transfer: readonly ArrayBuffer[] | undefined,
  ): Promise<unknown> {
    const s = this.#s
    const I = this.#I
    // A plain read (Atomics.load is a builtin call on Node 20, not a move): a spawn that misses a
    // close() by a hair is queued on a runtime whose Ms are ending, like one made just before it.
    if (I[H_CLOSED] !== 0) return Promise.reject(new RuntimeClosedError())
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    const tid = s.tasks.idOfTask(ref)
    const gid = this.#m.owner.alloc()
    if (gid < 0) {
      if (this.#m.hold.p >= 0) Atomics.add(I, this.#m.hold.po + P_INLINED, 1)
      return Promise.resolve().then(() => {
        // No record, so nothing can cancel it: its taskSignal() is one that never aborts. Inline,
        // on this thread: nothing crosses, so a transfer list has nothing to move.
        const hold = this.#m.hold
        hold.g = INLINED
        try {
          return ref.fn(...(args as never[]))
        } finally {
          hold.g = -1
        }
      })
    }
    let payload
    try {
      payload = writeRecord(s, this.#m.owner, gid, tid, args, transfer)
    } catch (e) {
      this.#m.owner.unalloc(gid)
      throw new UncloneableArgError(ref.key, { cause: e })
    }
    if (payload !== undefined) this.#m.post({ t: 'stash', gid, payload })
    const promise = this.#m.owner.wait(gid)
    if (signal !== undefined) s.cancelOn(signal, gid, this.#m.owner, killAfterMs)
    this.#one[0] = gid
    this.#enqueue(this.#one, 1, true)
    return promise
  }

  #spawnAll(ref: AnyTask, argsList: readonly (readonly unknown[])[], settled: boolean): Promise<unknown[]> {
    const s = this.#s
    if (this.#I[H_CLOSED] !== 0) return Promise.reject(new RuntimeClosedError())
    if (argsList.length === 0) return Promise.resolve([])
    const gids = writeRecords(s, this.#m.owner, s.tasks.idOfTask(ref), ref.key, argsList, (gid, payload) => this.#m.post({ t: 'stash', gid, payload }))
    let group!: Group
    const all = new Promise<unknown[]>((resolve, reject) => (group = new Group(argsList.length, resolve, reject, settled)))
    for (let k = 0; k < gids.length; k++) this.#m.owner.join(gids[k]!, group, k)
    // FIFO into the ring, not runnext: no one child of a batch is more urgent.
    this.#enqueue(gids, gids.length, false)
    // Out of G records: the rest go one by one (each runs inline, see spawn).
    for (let k = gids.length; k < argsList.length; k++) group.follow(k, this.#spawn(ref, argsList[k]!, undefined, undefined, undefined))
    return all
  }

  /** Puts gids[0..n) in the P's runnext/ring (a full ring spills half to the global queue), then wakes an M. */
  #enqueue(gids: Int32Array, n: number, next: boolean): void {
    const s = this.#s
    const I = this.#I
    const guard = this.#enterSpawn()
    if (guard !== 0) {
      const p = this.#m.hold.p
      const local = this.#m.local
      if (next) for (let k = 0; k < n; k++) local.put(p, gids[k]!, true)
      else local.putMany(p, gids, n)
      const w = this.#m.hold.po + P_SPAWNS
      I[w] = I[w]! + n
      if (guard === 2) this.#m.hold.park.leaveSpawn()
    } else {
      s.q.globalPush(gids, n)
    }
    s.wakep()
    if (this.#m.hold.park.parkedAsync) s.ring(this.#m.me)
  }

  /** 0: no P (use the global queue); 1: P held; 2: P held and state must go back to INTASK. */
  #enterSpawn(): number {
    if (this.#m.hold.p < 0) return 0
    const guard = this.#m.hold.park.enterSpawn()
    if (guard === 0) this.#m.loseP()
    return guard
  }
}
