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
 */

import { Group, writeRecord, writeRecords } from '../shared/batch.js'
import { RuntimeClosedError, UncloneableArgError } from '../errors.js'
import { H_CLOSED, P_INLINED, P_SPAWNS } from '../shared/layout.js'
import type { MParts } from './runner.js'
import type { Sched } from '../shared/sched.js'
import type { AnyTask, Spawner } from '../task.js'

export class MSpawner implements Spawner {
  readonly #m: MParts
  readonly #s: Sched
  readonly #I: Int32Array
  readonly #one = new Int32Array(1)

  constructor(m: MParts) {
    this.#m = m
    this.#s = m.s
    this.#I = m.s.I
  }

  spawn(ref: AnyTask, args: readonly unknown[], signal?: AbortSignal, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
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
      // Inline, on this thread: nothing crosses, so a transfer list has nothing to move.
      return Promise.resolve().then(() => ref.fn(...(args as never[])))
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
    if (signal !== undefined) s.cancelOn(signal, gid, this.#m.owner)
    this.#one[0] = gid
    this.#enqueue(this.#one, 1, true)
    return promise
  }

  spawnAll(ref: AnyTask, argsList: readonly (readonly unknown[])[], settled = false): Promise<unknown[]> {
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
    for (let k = gids.length; k < argsList.length; k++) group.follow(k, this.spawn(ref, argsList[k]!))
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
