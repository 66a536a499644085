/**
 * One thread's side of result delivery: the G records it may allocate (its own range), the promise
 * of each G it spawned, and the draining of its completion ring.
 *
 * Invariants:
 * - Only this thread allocates or frees gids of its range; a gid is on the free stack iff its
 *   record is GS_FREE and no one else references it.
 * - A gid is freed only after its result was read (or it can never arrive), so a completion ring
 *   never holds more entries than the range has records.
 * - A ring slot is zeroed before its gid is freed, so a re-used gid cannot be read twice.
 */

import type { Group } from './batch.js'
import { isErrPayload, plainToError, readPayload } from './codec.js'
import { G_CANCEL, G_KIND, G_STATE, GS_FREE, K_SHARED, O_CR_HEAD, O_GHIGH, gOff, gRange, oOff } from './layout.js'
import type { Sched } from './sched.js'

type Settle = (value: unknown) => void
const noop: Settle = () => {}

export class Owner {
  readonly idx: number
  readonly first: number
  readonly count: number
  readonly #s: Sched
  readonly #cr: number
  readonly #headWord: number
  readonly #freeList: Int32Array
  #top: number
  /** O_GHIGH as this thread last wrote it: allocated gids are below first + #high. */
  #high = 0
  /**
   * The resolve function of each pending G's promise. Only resolve is kept: a rejection resolves
   * with a rejected promise, which the G's promise adopts. One function instead of two per pending
   * G halves the closures a burst of pending Gs pins in the heap (and the old-to-new references
   * the scavenger must visit).
   */
  readonly #res: (Settle | undefined)[]
  /** For a G spawned by goAll: its group, and its index there. */
  readonly #grp: (Group | undefined)[]
  readonly #grpIdx: Int32Array
  /** Gids spawned and not yet settled. */
  pending = 0
  /** Of those, the ones whose caller gave up (detach): nobody awaits their results. */
  detached = 0
  /** Called after a detach (the main thread re-checks whether anything is still awaited). */
  onDetach: (() => void) | undefined

  constructor(s: Sched, idx: number) {
    this.#s = s
    this.idx = idx
    const r = gRange(s.l, idx)
    this.first = r.first
    this.count = r.count
    this.#cr = r.cr
    this.#headWord = oOff(s.l, idx) + O_CR_HEAD
    this.#freeList = new Int32Array(r.count)
    // Lowest gids on top, so a small workload touches few cache lines.
    for (let i = 0; i < r.count; i++) this.#freeList[i] = r.first + r.count - 1 - i
    this.#top = r.count
    this.#res = new Array<Settle | undefined>(r.count)
    this.#grp = new Array<Group | undefined>(r.count)
    this.#grpIdx = new Int32Array(r.count)
  }

  /** A free gid of this thread's range, or -1 when all are in use. */
  alloc(): number {
    if (this.#top === 0) return -1
    const gid = this.#freeList[--this.#top]!
    if (gid - this.first >= this.#high) {
      // Lowest gids are handed out first, so this is rare: a new high, published before the gid is.
      this.#high = gid - this.first + 1
      Atomics.store(this.#s.I, oOff(this.#s.l, this.idx) + O_GHIGH, this.#high)
    }
    return gid
  }

  /** Returns an allocated gid that was never published. */
  unalloc(gid: number): void {
    if (this.#kept.size > 0) this.#kept.delete(gid)
    this.#freeList[this.#top++] = gid
  }

  /**
   * Holds `v` until `gid` settles: the arguments of a G that carries shared buffers by registry id,
   * so this thread's buffer objects outlive every G of theirs that may still run here (sharedbufs.ts).
   */
  keep(gid: number, v: unknown): void {
    this.#kept.set(gid, v)
  }

  readonly #kept = new Map<number, unknown>()

  /** Creates the promise for `gid`'s result. */
  wait(gid: number): Promise<unknown> {
    this.pending++
    this.#slot = gid - this.first
    return new Promise(this.#executor)
  }

  /** Makes `gid` child `k` of `group` (goAll): it settles the group, not a promise of its own. */
  join(gid: number, group: Group, k: number): void {
    this.pending++
    this.#grp[gid - this.first] = group
    this.#grpIdx[gid - this.first] = k
  }

  // One executor for every promise (it runs synchronously inside `new Promise`), so creating a
  // G's promise allocates no closure.
  #slot = 0
  readonly #executor = (resolve: Settle): void => {
    this.#res[this.#slot] = resolve
  }

  /**
   * The caller gave up on `gid` (its AbortSignal fired): reject its promise now and drop the
   * result when it comes. The record is freed when the G's completion arrives, as usual.
   */
  detach(gid: number, reason: unknown): void {
    const i = gid - this.first
    const f = this.#res[i]
    if (f === undefined || f === noop) return
    this.#res[i] = noop
    this.detached++
    f(Promise.reject(reason))
    this.onDetach?.()
  }

  has(gid: number): boolean {
    if (gid < this.first || gid >= this.first + this.count) return false
    return this.#res[gid - this.first] !== undefined || this.#grp[gid - this.first] !== undefined
  }

  /** Runs `fn` once when `gid` settles (cleanup of an AbortSignal listener). Rare path. */
  onSettle(gid: number, fn: () => void): void {
    this.#cleanups.set(gid, fn)
  }

  readonly #cleanups = new Map<number, () => void>()

  /** Pending Gs with a cleanup (those awaited with an AbortSignal): the deadlock check counts them as able to end. */
  get watched(): number {
    return this.#cleanups.size
  }

  /** Settles `gid` with a value that is already on this thread, and frees it. */
  settle(gid: number, value: unknown, isErr: boolean): void {
    const i = gid - this.first
    const g = this.#grp[i]
    if (g !== undefined) {
      this.#grp[i] = undefined
      this.#free(gid)
      g.done(this.#grpIdx[i]!, value, isErr)
      return
    }
    const f = this.#res[i]
    if (f === undefined) return // its owner gave up on it (e.g. the runtime closed)
    if (this.#cleanups.size > 0) {
      const c = this.#cleanups.get(gid)
      if (c !== undefined) {
        this.#cleanups.delete(gid)
        c()
      }
    }
    this.#res[i] = undefined
    this.#free(gid)
    // A detached G's result is dropped (a rejected promise nobody adopts would be unhandled).
    if (f !== noop) f(isErr ? Promise.reject(value) : value)
    else this.detached--
  }

  #free(gid: number): void {
    if (this.#kept.size > 0) this.#kept.delete(gid)
    this.pending--
    // Plain stores: a free record is this thread's alone until a queue push publishes it again.
    // A new generation of the cancel word: a late cancel or kill for this G never matches the next.
    const go = gOff(this.#s.l, gid)
    const I = this.#s.I
    I[go + G_CANCEL] = (I[go + G_CANCEL]! + 2) & ~1
    I[go + G_STATE] = GS_FREE
    this.#freeList[this.#top++] = gid
  }

  /** Rejects every pending G (runtime closing). Their records are abandoned, not freed. */
  failAll(err: unknown): void {
    for (let i = 0; i < this.count; i++) {
      const g = this.#grp[i]
      if (g !== undefined) {
        this.#grp[i] = undefined
        g.done(this.#grpIdx[i]!, err, true)
      }
      const f = this.#res[i]
      if (f === undefined) continue
      this.#res[i] = undefined
      if (f !== noop) f(Promise.reject(err))
    }
    this.pending = 0
    this.detached = 0
    this.#kept.clear()
  }

  /** True when the completion ring has an entry to drain. */
  ready(): boolean {
    const I = this.#s.I
    return Atomics.load(I, this.#cr + (I[this.#headWord]! & (this.count - 1))) !== 0
  }

  /** Drains the completion ring: reads each inline result and settles its promise. */
  drain(): number {
    const s = this.#s
    const I = s.I
    const mask = this.count - 1
    let h = I[this.#headWord]!
    let n = 0
    for (;;) {
      const slot = this.#cr + (h & mask)
      const v = Atomics.load(I, slot)
      if (v === 0) break
      // A plain store: the slot's next writer reserved it only after a chain of atomics that
      // starts after this drain (the gid freed below, spawned again, run, completed).
      I[slot] = 0
      h = (h + 1) | 0
      n++
      const gid = v - 1
      const go = gOff(s.l, gid)
      let value: unknown
      let isErr = isErrPayload(I, go)
      try {
        value = I[go + G_KIND] === K_SHARED ? s.bufs.takeResult(I, s.F, go) : readPayload(I, s.F, s.U8, go, false, s.arena)
        if (isErr) value = plainToError(value)
      } catch (e) {
        value = e
        isErr = true
      }
      this.settle(gid, value, isErr)
    }
    I[this.#headWord] = h
    return n
  }
}
