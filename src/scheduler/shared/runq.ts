/**
 * Run queues in shared memory: each P's local ring (Go's p.runq/runnext) and the global queue.
 *
 * Local ring (after Go's runqput/runqget/runqgrab, tokio's queue.rs):
 * - `tail` is written only by the P's owner; `head` is advanced by CAS by the owner and by thieves.
 * - 0 <= tail - head <= RING at all times (int32 arithmetic, wrap-around safe).
 * - A thief copies entries [head, head+n) and then CASes head; the owner cannot overwrite them
 *   before head moves past them, so a successful CAS proves the copy is intact.
 * - Ring slots are written with plain stores: the Atomics.store of `tail` that follows publishes
 *   them (and the G record written before), and every other reader loads `tail` first. A seq-cst
 *   store per slot would cost several atomic stores per G.
 * - The owner reads its own ring without Atomics.load (on Node 20 a builtin call, not a plain
 *   move; bench/scheduler/atomics-cost.mjs): its tail from its own copy
 *   (`own`), the slots and runnext with plain loads. It wrote them itself, and thieves only move
 *   head forward and clear runnext, so a stale read of either can only fail the CAS that claims,
 *   whose result says where head really is. Thieves, which read another thread's writes, keep
 *   the atomic loads (acquire).
 * - `runnext` holds gid+1 (0 = empty); anyone may take it by CAS.
 * - Only unstarted Gs are ever in a queue: a started task is pinned to its M.
 *
 * Handles (tokio's Local/Steal): RunQueues is what any thread may do (sizes, pushes to the
 * global queue); a LocalQueue is the holder of a P (one per M: put, take, pull from the global
 * queue, refill from its backlog), and a Stealer moves Gs from other Ps into its M's LocalQueue.
 * Every operation returns what it took; what it moved into a P is counted in that P's counters.
 *
 * Global queue: a ring of gqCap gids guarded by a spin lock (Go guards sched.runq with
 * sched.lock too). Everyone pushes and pulls in batches, so the lock is taken once per batch.
 *
 * Backlog: a second, larger ring per P for the children of a goAll batch that do not fit the
 * local ring (Go would send them to the global queue). Its protocol is the ring's: only the
 * P's holder pushes at its tail (inside the same spawn guard); the holder refilling its ring and
 * thieves take from its head by copy-then-CAS. Why not the global queue: there each M pulls its
 * share, about half of it the other Ms' children, and every such child's result must cross
 * threads (measured about twice as slow for large goAll waves, bench/NOTES.md). Thieves still
 * take from backlogs, so nothing is stranded on a busy P, and a backlog moves with its P on a
 * hand-off. `go` keeps Go's rule (a full ring moves
 * half of itself to the global queue), as the design asks.
 */

import { InternalError } from '../../errors.js'
import {
  BACKLOG, BACKLOG_MASK, H_GQ_HEAD, H_GQ_LOCK, H_GQ_SIZE, P_BACKLOG, P_BL_HEAD, P_BL_TAIL, P_GLOBAL_PULLS, P_HEAD, P_RING, P_RUNNEXT,
  P_STEAL_TASKS, P_TAIL, RING, RING_MASK, pOff, type Layout,
} from './layout.js'
import { ASSERT } from './assert.js'

/** What every thread may do: read sizes, push to the global queue. */
export class RunQueues {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #gqMask: number

  constructor(I: Int32Array, l: Layout) {
    this.#I = I
    this.#l = l
    this.#gqMask = l.gqCap - 1
  }

  /** The owner's handle for the Ps this thread will hold (one per M). */
  local(): LocalQueue {
    return new LocalQueue(this.#I, this.#l, this)
  }

  // ---- global queue ----

  /** Takes the global queue's lock (LocalQueue.pullGlobal and globalPush only). */
  lockGlobal(): void {
    const I = this.#I
    let spins = 0
    while (Atomics.compareExchange(I, H_GQ_LOCK, 0, 1) !== 0) {
      // Critical sections are a few stores long; if the holder was descheduled, back off briefly
      // instead of burning the other core.
      if (++spins > 200) {
        Atomics.wait(I, H_GQ_LOCK, 1, 0.05)
        spins = 0
      }
    }
  }

  unlockGlobal(): void {
    Atomics.store(this.#I, H_GQ_LOCK, 0)
  }

  globalSize(): number {
    return Atomics.load(this.#I, H_GQ_SIZE)
  }

  /** Appends gids[0..n) to the global queue. */
  globalPush(gids: ArrayLike<number>, n: number): void {
    if (n === 0) return
    const I = this.#I
    const base = this.#l.gqBase
    const mask = this.#gqMask
    this.lockGlobal()
    const head = I[H_GQ_HEAD]!
    const size = I[H_GQ_SIZE]!
    if (ASSERT && size + n > this.#l.gqCap) throw new InternalError(`run queue: global queue over capacity (${size} + ${n} > ${this.#l.gqCap})`)
    for (let i = 0; i < n; i++) I[base + ((head + size + i) & mask)] = gids[i]!
    Atomics.store(I, H_GQ_SIZE, size + n)
    this.unlockGlobal()
  }

  /**
   * How many Gs P `p`, its ring empty, takes from the global queue: Go's size/procs + 1, but no
   * more than its even share of all the unstarted Gs (the global queue plus every other P's
   * ring), and at most half a ring. Go rebalances later by stealing; here a started G is pinned
   * to its M, so with Go's +1 the first M to wake to 4 long-lived parents on 2 Ps took 3 and
   * kept them for the rest of their lives, while the other M ran one. Taking more than Go (the
   * even share when the other rings are full) left less in the global queue near the end of a
   * run of uneven tasks and made the uneven-work makespan worse (bench/NOTES.md).
   */
  globalShare(p: number): number {
    const I = this.#I
    const procs = this.#l.procs
    const size = Atomics.load(I, H_GQ_SIZE)
    let unstarted = size
    for (let v = 0; v < procs; v++) if (v !== p) unstarted += this.localSize(v)
    return Math.max(1, Math.min(Math.floor(size / procs) + 1, Math.ceil(unstarted / procs), RING / 2))
  }

  /** Number of Gs in P's ring, runnext and backlog. Racy by nature; for heuristics and stats. */
  localSize(p: number): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    const n = (Atomics.load(I, po + P_TAIL) - Atomics.load(I, po + P_HEAD)) | 0
    return n + (Atomics.load(I, po + P_RUNNEXT) !== 0 ? 1 : 0) + this.backlogSize(p)
  }

  /** Number of Gs in P's backlog. Racy by nature. */
  backlogSize(p: number): number {
    const po = pOff(this.#l, p)
    return (Atomics.load(this.#I, po + P_BL_TAIL) - Atomics.load(this.#I, po + P_BL_HEAD)) | 0
  }

}

/**
 * The holder's handle: operations only the M that holds P `p` may do on it (each takes the P it
 * acts on, which must be the caller's own).
 */
export class LocalQueue {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #q: RunQueues
  /** Scratch for overflow batches; one per thread, never shared. */
  readonly #batch = new Int32Array(RING / 2 + 1)
  /**
    * Each P's tail as this thread last stored it, valid for the P it holds (`own` sets it when it
    * takes one). The take operations read no tail from memory: after the monitor took the P in the
    * middle of an INTASK span, the new holder's tail and slots may not all be visible yet, but the
    * slots below our own last tail are ours, and a slot we wrote is rewritten only after head
    * moves past it, which fails our CAS.
    */
  readonly #tails: Int32Array

  constructor(I: Int32Array, l: Layout, q: RunQueues) {
    this.#I = I
    this.#l = l
    this.#q = q
    this.#tails = new Int32Array(l.procs)
  }

  /** This thread now holds P `p` (it started with it, or adopted it): picks up its tail. */
  own(p: number): void {
    this.#tails[p] = Atomics.load(this.#I, pOff(this.#l, p) + P_TAIL)
  }

  /** Room left in P `p`'s ring, by our tail and its head. */
  room(p: number): number {
    return RING - ((this.#tails[p]! - Atomics.load(this.#I, pOff(this.#l, p) + P_HEAD)) | 0)
  }

  /** Stores P `p`'s new tail: publishes the slots written below it. */
  publish(p: number, po: number, t: number): void {
    if (ASSERT) {
      const n = (t - Atomics.load(this.#I, po + P_HEAD)) | 0
      if (n > RING) throw new InternalError(`run queue: P${p}'s ring would hold ${n} Gs (capacity ${RING})`)
    }
    this.#tails[p] = t
    Atomics.store(this.#I, po + P_TAIL, t)
  }

  /** Our tail of P `p`, for a Stealer filling our ring. */
  tail(p: number): number {
    return this.#tails[p]!
  }

  /**
   * Go's globrunqget: takes up to `max` Gs from the global queue; returns the first and puts the
   * rest in P `p`'s ring, counting them all in its global pulls. -1 when the queue is empty.
   */
  pullGlobal(p: number, max: number): number {
    const I = this.#I
    const q = this.#q
    if (q.globalSize() === 0) return -1
    const base = this.#l.gqBase
    const mask = this.#l.gqCap - 1
    const po = pOff(this.#l, p)
    const t = this.#tails[p]!
    const room = this.room(p)
    q.lockGlobal()
    const size = I[H_GQ_SIZE]!
    const n = Math.min(size, max, room + 1)
    if (n <= 0) {
      q.unlockGlobal()
      return -1
    }
    let head = I[H_GQ_HEAD]!
    const g = I[base + (head & mask)]!
    head++
    for (let i = 1; i < n; i++) {
      I[po + P_RING + ((t + i - 1) & RING_MASK)] = I[base + (head & mask)]!
      head++
    }
    I[H_GQ_HEAD] = head & mask
    Atomics.store(I, H_GQ_SIZE, size - n)
    q.unlockGlobal()
    if (n > 1) this.publish(p, po, (t + n - 1) | 0)
    Atomics.add(I, po + P_GLOBAL_PULLS, n)
    return g
  }

  /**
   * Go's runqput. Caller owns P `p`. With `next`, g goes to runnext and the G it displaces goes
   * to the tail. A full ring moves half of itself (plus g) to the global queue.
   */
  put(p: number, g: number, next: boolean): void {
    const I = this.#I
    const po = pOff(this.#l, p)
    if (next) {
      const old = Atomics.exchange(I, po + P_RUNNEXT, g + 1)
      if (old === 0) return
      g = old - 1
    }
    // A plain read of head: a stale one only understates the room (see the header).
    const t = this.#tails[p]!
    let h = I[po + P_HEAD]!
    for (;;) {
      if (((t - h) | 0) < RING) {
        I[po + P_RING + (t & RING_MASK)] = g
        this.publish(p, po, (t + 1) | 0)
        return
      }
      h = Atomics.load(I, po + P_HEAD)
      if (((t - h) | 0) < RING) continue
      if (this.#putSlow(po, g, h)) return
      // A thief moved head meanwhile: the ring has room now.
      h = Atomics.load(I, po + P_HEAD)
    }
  }

  /**
   * Go's runqputbatch for gids[0..n) in order (goAll): as many as fit go to the ring, published
   * with one tail store; the rest to the P's backlog, and what the backlog cannot take to the
   * global queue in one push.
   */
  putMany(p: number, gids: Int32Array, n: number): void {
    const I = this.#I
    const po = pOff(this.#l, p)
    const t = this.#tails[p]!
    const room = RING - ((t - Atomics.load(I, po + P_HEAD)) | 0)
    const k = Math.min(room, n)
    for (let i = 0; i < k; i++) I[po + P_RING + ((t + i) & RING_MASK)] = gids[i]!
    if (k > 0) this.publish(p, po, (t + k) | 0)
    if (k === n) return
    const b = k + this.#backlogPush(po, gids, k, n)
    if (b < n) this.#q.globalPush(gids.subarray(b, n), n - b)
  }

  /** Appends gids[from..to) to P's backlog (caller holds the P); returns how many fit. */
  #backlogPush(po: number, gids: Int32Array, from: number, to: number): number {
    const I = this.#I
    const t = Atomics.load(I, po + P_BL_TAIL) // written only by the holder (us; after a hand-off, our predecessor)
    const room = BACKLOG - ((t - Atomics.load(I, po + P_BL_HEAD)) | 0)
    const k = Math.min(room, to - from)
    for (let i = 0; i < k; i++) I[po + P_BACKLOG + ((t + i) & BACKLOG_MASK)] = gids[from + i]!
    // The slots above are published by this store (readers load the tail first).
    if (k > 0) Atomics.store(I, po + P_BL_TAIL, (t + k) | 0)
    return k
  }

  /** The holder of P `p` refills its ring: up to half a ring from the head of its own backlog. Returns one of them, or -1. */
  refillFromBacklog(p: number): number {
    return claimBacklog(this, this.#I, this.#l, p, p, false)
  }

  /** Go's runqputslow: moves the older half of a full ring plus g to the global queue. */
  #putSlow(po: number, g: number, h: number): boolean {
    const I = this.#I
    const n = RING / 2
    const batch = this.#batch
    for (let i = 0; i < n; i++) batch[i] = Atomics.load(I, po + P_RING + ((h + i) & RING_MASK))
    if (Atomics.compareExchange(I, po + P_HEAD, h, (h + n) | 0) !== h) return false
    batch[n] = g
    this.#q.globalPush(batch, n + 1)
    return true
  }

  /**
   * Go's runqget, the LIFO slot: takes P `p`'s runnext, or -1. The loop bounds how many runs in a
   * row come from here (a ping-pong pair would starve the ring).
   */
  takeNext(p: number): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    // The owner's reads are plain (see the header); only the CAS claims.
    const next = I[po + P_RUNNEXT]!
    if (next !== 0 && Atomics.compareExchange(I, po + P_RUNNEXT, next, 0) === next) return next - 1
    return -1
  }

  /** Go's runqget, the ring: takes the oldest G of P `p`'s ring, or -1. */
  takeRing(p: number): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    const t = this.#tails[p]!
    let h = I[po + P_HEAD]!
    // Not `t !== h`: on a P the monitor took mid-span, others may have taken head past our tail.
    while (((t - h) | 0) > 0) {
      const g = I[po + P_RING + (h & RING_MASK)]!
      const seen = Atomics.compareExchange(I, po + P_HEAD, h, (h + 1) | 0)
      if (seen === h) return g
      h = seen // a thief took some: retry from where it left head
    }
    return -1
  }
}

/** A thief: moves Gs from other Ps' rings and backlogs into its own M's LocalQueue. */
export class Stealer {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #dst: LocalQueue

  constructor(I: Int32Array, l: Layout, dst: LocalQueue) {
    this.#I = I
    this.#l = l
    this.#dst = dst
  }

  /**
   * Go's runqsteal: moves half of victim `v`'s ring (at most `max` Gs) into our own P `p` and
   * returns one of the stolen Gs (or -1), counting them in `p`'s steals. `stealNext` also takes
   * the victim's runnext when its ring is empty.
   */
  steal(p: number, v: number, stealNext: boolean, max = RING): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    const vo = pOff(this.#l, v)
    for (;;) {
      const h = Atomics.load(I, vo + P_HEAD)
      const vt = Atomics.load(I, vo + P_TAIL)
      let n = (vt - h) | 0
      n = n - (n >> 1)
      if (n === 0) {
        if (stealNext) {
          const next = Atomics.load(I, vo + P_RUNNEXT)
          if (next !== 0 && Atomics.compareExchange(I, vo + P_RUNNEXT, next, 0) === next) {
            Atomics.add(I, po + P_STEAL_TASKS, 1)
            return next - 1
          }
        }
        return -1
      }
      if (n > RING / 2) continue // read head and tail at different moments; retry
      n = Math.min(n, max)
      const g = claimInto(this.#dst, I, p, po, vo + P_RING, RING_MASK, vo + P_HEAD, h, n)
      if (g >= 0) {
        Atomics.add(I, po + P_STEAL_TASKS, n)
        return g
      }
    }
  }

  /** Takes half of P `v`'s backlog (at most half a ring, at most `max`) into our own P `p`; one of them, or -1. Counted in `p`'s steals. */
  stealBacklog(p: number, v: number, max = RING): number {
    return claimBacklog(this.#dst, this.#I, this.#l, p, v, true, max)
  }
}

/**
 * Moves Gs from the head of P `v`'s backlog into P `p`'s ring (held by `dst`'s thread): half a
 * ring, or with `half` half of what is there (at most half a ring). Returns the last one moved,
 * or -1. A steal (`v !== p`) counts them in `p`'s steals.
 */
function claimBacklog(dst: LocalQueue, I: Int32Array, l: Layout, p: number, v: number, half: boolean, max = RING): number {
  const vo = pOff(l, v)
  // Plain reads for the common empty case (a check on every empty ring and every victim probed):
  // a stale head can only make a backlog look fuller, which the atomic path below corrects, and
  // a stale tail only makes us miss work this round.
  if (I[vo + P_BL_TAIL] === I[vo + P_BL_HEAD]) return -1
  const po = pOff(l, p)
  const room = dst.room(p)
  for (;;) {
    const h = Atomics.load(I, vo + P_BL_HEAD)
    const vt = Atomics.load(I, vo + P_BL_TAIL)
    let n = (vt - h) | 0
    if (n <= 0) return -1
    if (n > BACKLOG) continue // read head and tail at different moments; retry
    n = Math.min(half ? n - (n >> 1) : n, RING / 2, room, max)
    if (n <= 0) return -1
    const g = claimInto(dst, I, p, po, vo + P_BACKLOG, BACKLOG_MASK, vo + P_BL_HEAD, h, n)
    if (g >= 0) {
      if (v !== p) Atomics.add(I, po + P_STEAL_TASKS, n)
      return g
    }
  }
}

/**
 * The thief's half of the queue protocol, for a ring or a backlog: copies entries [h, h+n) of
 * the queue whose slots start at word `slots` into `dst`'s P `p` (at its tail, with room for
 * them), then claims them by CAS of the queue's head word `head` from h to h+n. The queue's
 * holder writes a slot again only after head has moved past it, so a successful CAS proves the
 * copy intact. Returns the newest G moved, to run now (the rest are published in our ring), or
 * -1 when the CAS lost: the caller reads head again and retries.
 */
function claimInto(dst: LocalQueue, I: Int32Array, p: number, po: number, slots: number, mask: number, head: number, h: number, n: number): number {
  const t = dst.tail(p)
  for (let i = 0; i < n; i++) I[po + P_RING + ((t + i) & RING_MASK)] = Atomics.load(I, slots + ((h + i) & mask))
  if (Atomics.compareExchange(I, head, h, (h + n) | 0) !== h) return -1
  const g = I[po + P_RING + ((t + n - 1) & RING_MASK)]!
  if (n > 1) dst.publish(p, po, (t + n - 1) | 0)
  return g
}
