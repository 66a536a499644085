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
 *   store per slot cost about 10 ns each, several times per G.
 * - The owner reads its own ring without Atomics.load (on Node 20 a builtin call of 6-10 ns
 *   here, not a plain move; bench/scheduler/atomics-cost.mjs): its tail from its own copy
 *   (`own`), the slots and runnext with plain loads. It wrote them itself, and thieves only move
 *   head forward and clear runnext, so a stale read of either can only fail the CAS that claims,
 *   whose result says where head really is. Thieves, which read another thread's writes, keep
 *   the atomic loads (acquire).
 * - `runnext` holds gid+1 (0 = empty); anyone may take it by CAS.
 * - Only unstarted Gs are ever in a queue: a started task is pinned to its M.
 *
 * Global queue: a ring of gqCap gids guarded by a spin lock (Go guards sched.runq with
 * sched.lock too). Everyone pushes and pulls in batches, so the lock is taken once per batch.
 *
 * Backlog: a second, larger ring per P for the children of a goAll batch that do not fit the
 * local ring (Go would send them to the global queue). Its protocol is the ring's: only the
 * P's holder pushes at its tail (inside the same spawn guard); the holder refilling its ring and
 * thieves take from its head by copy-then-CAS. Why not the global queue: there each M pulls its
 * share, about half of it the other Ms' children, and every such child's result must cross
 * threads; with two parents per M, goAll waves of 4096 ran at 5.3-5.7 M/s that way and 10.8-11.5
 * in the P's own backlog (2 procs). Thieves still take from backlogs, so nothing is stranded on
 * a busy P, and a backlog moves with its P on a hand-off. `go` keeps Go's rule (a full ring moves
 * half of itself to the global queue), as the design asks.
 */

import {
  BACKLOG, BACKLOG_MASK, H_GQ_HEAD, H_GQ_LOCK, H_GQ_SIZE, P_BACKLOG, P_BL_HEAD, P_BL_TAIL, P_HEAD, P_RING, P_RUNNEXT, P_TAIL, RING, RING_MASK,
  pOff, type Layout,
} from './layout.js'

export class RunQueues {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #gqMask: number
  /** Scratch for overflow batches; one per thread, never shared. */
  readonly #batch = new Int32Array(RING / 2 + 1)
  /**
   * Each P's tail as this thread last stored it, valid for the P it holds (`own` sets it when it
   * takes one). get() reads no tail from memory: after the monitor took the P in the middle of
   * an INTASK span, the new holder's tail and slots may not all be visible yet, but the slots
   * below our own last tail are ours, and a slot we wrote is rewritten only after head moves
   * past it, which fails our CAS.
   */
  readonly #tails: Int32Array

  constructor(I: Int32Array, l: Layout) {
    this.#I = I
    this.#l = l
    this.#gqMask = l.gqCap - 1
    this.#tails = new Int32Array(l.procs)
  }

  /** This thread now holds P `p` (it started with it, or adopted it): picks up its tail. */
  own(p: number): void {
    this.#tails[p] = Atomics.load(this.#I, pOff(this.#l, p) + P_TAIL)
  }

  #setTail(p: number, po: number, t: number): void {
    this.#tails[p] = t
    Atomics.store(this.#I, po + P_TAIL, t)
  }

  // ---- global queue ----

  #lock(): void {
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

  #unlock(): void {
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
    this.#lock()
    const head = I[H_GQ_HEAD]!
    const size = I[H_GQ_SIZE]!
    for (let i = 0; i < n; i++) I[base + ((head + size + i) & mask)] = gids[i]!
    Atomics.store(I, H_GQ_SIZE, size + n)
    this.#unlock()
  }

  /**
   * How many Gs P `p`, its ring empty, takes from the global queue: Go's size/procs + 1, but no
   * more than its even share of all the unstarted Gs (the global queue plus every other P's
   * ring), and at most half a ring. Go rebalances later by stealing; here a started G is pinned
   * to its M, so with Go's +1 the first M to wake to 4 long-lived parents on 2 Ps took 3 and
   * kept them for the rest of their lives, while the other M ran one. Taking more than Go (the
   * even share when the other rings are full) left less in the global queue near the end of a
   * run of uneven tasks and made (b) 3 points worse in 3 of 3 pairs.
   */
  globalShare(p: number): number {
    const I = this.#I
    const procs = this.#l.procs
    const size = Atomics.load(I, H_GQ_SIZE)
    let unstarted = size
    for (let v = 0; v < procs; v++) if (v !== p) unstarted += this.localSize(v)
    return Math.max(1, Math.min(Math.floor(size / procs) + 1, Math.ceil(unstarted / procs), RING / 2))
  }

  /**
   * Go's globrunqget: takes up to `max` Gs; returns the first and puts the rest in P `p`'s local
   * ring (which must be the caller's own P). Returns -1 when the queue is empty.
   */
  globalGet(p: number, max: number): { g: number; n: number } {
    const I = this.#I
    if (Atomics.load(I, H_GQ_SIZE) === 0) return NONE
    const base = this.#l.gqBase
    const mask = this.#gqMask
    const po = pOff(this.#l, p)
    const t = this.#tails[p]!
    const room = RING - ((t - Atomics.load(I, po + P_HEAD)) | 0)
    this.#lock()
    const size = I[H_GQ_SIZE]!
    let n = Math.min(size, max, room + 1)
    if (n <= 0) {
      this.#unlock()
      return NONE
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
    this.#unlock()
    if (n > 1) this.#setTail(p, po, (t + n - 1) | 0)
    return { g, n }
  }

  // ---- local ring (owner side) ----

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
        this.#setTail(p, po, (t + 1) | 0)
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
    if (k > 0) this.#setTail(p, po, (t + k) | 0)
    if (k === n) return
    const b = k + this.#backlogPush(po, gids, k, n)
    if (b < n) this.globalPush(gids.subarray(b, n), n - b)
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
  backlogRefill(p: number): number {
    return this.#backlogMove(p, p, false)
  }

  /** A thief on P `p` takes half of P `v`'s backlog (at most half a ring) into its own ring. Returns one of them, or -1. */
  backlogSteal(p: number, v: number): number {
    return this.#backlogMove(p, v, true)
  }

  /**
   * Moves Gs from the head of P `v`'s backlog into the caller's own P `p`'s ring: half a ring,
   * or with `half` half of what is there (at most half a ring). Returns the last one moved (or
   * -1); `stolen` reports how many moved.
   */
  #backlogMove(p: number, v: number, half: boolean): number {
    const I = this.#I
    const vo = pOff(this.#l, v)
    // Plain reads for the common empty case (a check on every empty ring and every victim probed):
    // a stale head can only make a backlog look fuller, which the atomic path below corrects, and
    // a stale tail only makes us miss work this round.
    if (I[vo + P_BL_TAIL] === I[vo + P_BL_HEAD]) {
      this.stolen = 0
      return -1
    }
    const po = pOff(this.#l, p)
    const t = this.#tails[p]!
    const room = RING - ((t - Atomics.load(I, po + P_HEAD)) | 0)
    for (;;) {
      const h = Atomics.load(I, vo + P_BL_HEAD)
      const vt = Atomics.load(I, vo + P_BL_TAIL)
      let n = (vt - h) | 0
      if (n <= 0) {
        this.stolen = 0
        return -1
      }
      if (n > BACKLOG) continue // read head and tail at different moments; retry
      n = Math.min(half ? n - (n >> 1) : n, RING / 2, room)
      if (n <= 0) {
        this.stolen = 0
        return -1
      }
      const g = this.#claimInto(p, po, t, vo + P_BACKLOG, BACKLOG_MASK, vo + P_BL_HEAD, h, n)
      if (g >= 0) return g
    }
  }

  /** Go's runqputslow: moves the older half of a full ring plus g to the global queue. */
  #putSlow(po: number, g: number, h: number): boolean {
    const I = this.#I
    const n = RING / 2
    const batch = this.#batch
    for (let i = 0; i < n; i++) batch[i] = Atomics.load(I, po + P_RING + ((h + i) & RING_MASK))
    if (Atomics.compareExchange(I, po + P_HEAD, h, (h + n) | 0) !== h) return false
    batch[n] = g
    this.globalPush(batch, n + 1)
    return true
  }

  /**
   * Go's runqget. Caller owns P `p`. Takes runnext first unless `skipNext` (the bounded LIFO slot:
   * after a few consecutive runnext runs the ring gets a turn, or a ping-pong pair starves it).
   * Returns gid, or -1. `fromNext` reports where it came from.
   */
  get(p: number, skipNext: boolean): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    // The owner's reads are plain (see the header); only the CASes claim.
    if (!skipNext) {
      const next = I[po + P_RUNNEXT]!
      if (next !== 0 && Atomics.compareExchange(I, po + P_RUNNEXT, next, 0) === next) {
        this.fromNext = true
        return next - 1
      }
    }
    this.fromNext = false
    const t = this.#tails[p]!
    let h = I[po + P_HEAD]!
    // Not `t !== h`: on a P the monitor took mid-span, others may have taken head past our tail.
    while (((t - h) | 0) > 0) {
      const g = I[po + P_RING + (h & RING_MASK)]!
      const seen = Atomics.compareExchange(I, po + P_HEAD, h, (h + 1) | 0)
      if (seen === h) return g
      h = seen // a thief took some: retry from where it left head
    }
    if (skipNext) {
      // The ring is empty: runnext is all there is, so take it after all.
      const next = I[po + P_RUNNEXT]!
      if (next !== 0 && Atomics.compareExchange(I, po + P_RUNNEXT, next, 0) === next) {
        this.fromNext = true
        return next - 1
      }
    }
    return -1
  }

  fromNext = false

  // ---- stealing (thief side) ----

  /**
   * Go's runqsteal: moves half of victim `v`'s ring into the caller's own P `p` and returns one
   * of the stolen Gs (or -1). `stealNext` also takes the victim's runnext when its ring is empty.
   * `stolen` reports how many Gs moved.
   */
  steal(p: number, v: number, stealNext: boolean): number {
    const I = this.#I
    const po = pOff(this.#l, p)
    const vo = pOff(this.#l, v)
    const t = this.#tails[p]!
    for (;;) {
      const h = Atomics.load(I, vo + P_HEAD)
      const vt = Atomics.load(I, vo + P_TAIL)
      let n = (vt - h) | 0
      n = n - (n >> 1)
      if (n === 0) {
        if (stealNext) {
          const next = Atomics.load(I, vo + P_RUNNEXT)
          if (next !== 0 && Atomics.compareExchange(I, vo + P_RUNNEXT, next, 0) === next) {
            this.stolen = 1
            return next - 1
          }
        }
        this.stolen = 0
        return -1
      }
      if (n > RING / 2) continue // read head and tail at different moments; retry
      const g = this.#claimInto(p, po, t, vo + P_RING, RING_MASK, vo + P_HEAD, h, n)
      if (g >= 0) return g
    }
  }

  /**
   * The thief's half of the queue protocol, for a ring or a backlog: copies entries [h, h+n) of
   * the queue whose slots start at word `slots` into the caller's own ring (P `p`, at its tail
   * `t`, with room for them), then claims them by CAS of the queue's head word `head` from h to
   * h+n. The queue's holder writes a slot again only after head has moved past it, so a successful
   * CAS proves the copy intact. Returns the newest G moved, to run now (the rest are published in
   * our ring), or -1 when the CAS lost: the caller reads head again and retries.
   */
  #claimInto(p: number, po: number, t: number, slots: number, mask: number, head: number, h: number, n: number): number {
    const I = this.#I
    for (let i = 0; i < n; i++) I[po + P_RING + ((t + i) & RING_MASK)] = Atomics.load(I, slots + ((h + i) & mask))
    if (Atomics.compareExchange(I, head, h, (h + n) | 0) !== h) return -1
    this.stolen = n
    const g = I[po + P_RING + ((t + n - 1) & RING_MASK)]!
    if (n > 1) this.#setTail(p, po, (t + n - 1) | 0)
    return g
  }

  stolen = 0
}

const NONE = { g: -1, n: 0 } as const
