/**
 * Waiters and wait queues: Go's sudog and waitq, for `Chan`.
 *
 * A Waiter is one blocked send or receive on one channel. A plain op owns its
 * waiter and its promise's resolvers; a select case's waiter points back to its
 * select through `sel` (the protocol's Selector, protocol.ts).
 *
 * Invariants:
 * - A waiter is in at most one queue; `q` is that queue while it is queued, and
 *   null (with next/prev null) whenever it is not.
 * - A queue is FIFO: enqueue at the tail, the partner takes from the head.
 * - `take()` is Go's dequeue: it claims a select waiter's select before
 *   returning it, and drops (unlinks, skips) a select waiter whose select is
 *   already claimed, so the caller only ever gets a waiter it owns.
 * - Removal from the middle is O(1) (doubly linked), which is what lets a
 *   select withdraw its losing cases and a cancelled op leave no trace.
 * - The queues are intrusive, so queue operations allocate nothing.
 * - A queue is listed in the park registry exactly while it is non-empty
 *   (park.ts): a plain op is parked exactly while its waiter is queued.
 */
import { Parked, listQueue, unlistQueue, type ParkQueue } from './park.js'
import type { Selector } from './protocol.js'

export class Waiter extends Parked {
  /** For a send: the value offered. For a receive: the value received, once woken. */
  value: unknown
  isSend: boolean
  /** The select this waiter is a case of, or null for a plain op. */
  sel: Selector | null
  /** The case index within `sel`. */
  index: number
  /** Set for plain ops; a select settles through `sel`. */
  resolve: ((v: never) => void) | null = null
  reject: ((e: unknown) => void) | null = null
  signal: AbortSignal | null = null
  onAbort: (() => void) | null = null
  next: Waiter | null = null
  prev: Waiter | null = null
  /** The queue this waiter is in, or null. */
  q: WaitQ | null = null

  constructor(isSend: boolean, value: unknown, sel: Selector | null, index: number) {
    super()
    this.isSend = isSend
    this.value = value
    this.sel = sel
    this.index = index
  }

  override waitReason(): string {
    return this.q?.reason ?? (this.isSend ? 'chan send' : 'chan receive')
  }

  override detail(): string {
    return this.q === null ? '' : String(this.q.owner)
  }
}

// A small free list of plain-op waiters. Parking is the hot path of every
// rendezvous (half the ops of a ping-pong park), and reusing the record saves
// an allocation and its GC; a waiter is recycled only once nothing else can
// reach it (settled, dequeued, unparked, no abort listener).
const pool: Waiter[] = []
const POOL_MAX = 256

/** A waiter for a plain (non-select) op, from the pool when possible. */
export function acquireWaiter(isSend: boolean, value: unknown): Waiter {
  const w = pool.pop()
  if (w === undefined) return new Waiter(isSend, value, null, 0)
  w.isSend = isSend
  w.value = value
  return w
}

/**
 * Precondition: w is a plain-op waiter that has been settled, dequeued and
 * unparked, and never had an abort listener.
 */
export function releaseWaiter(w: Waiter): void {
  if (pool.length >= POOL_MAX) return
  w.value = undefined
  w.resolve = w.reject = null
  w.g = null
  if (w.trace !== null) w.trace = null
  pool.push(w)
}

export class WaitQ implements ParkQueue {
  head: Waiter | null = null
  tail: Waiter | null = null
  /** Index in the park registry while non-empty, else -1 (see park.ts). */
  ri = -1
  /** The channel this queue belongs to; `String(owner)` names it in reports. */
  readonly owner: object
  /** What the deadlock report calls a plain wait here (Go's wait reason). */
  reason: string

  constructor(owner: object, reason: string) {
    this.owner = owner
    this.reason = reason
  }

  /** Precondition: w is not queued anywhere. */
  enqueue(w: Waiter): void {
    w.q = this
    const t = this.tail
    w.prev = t
    this.tail = w
    if (t !== null) t.next = w
    else {
      this.head = w
      listQueue(this)
    }
  }

  /** Takes the oldest waiter, or null when empty. */
  dequeue(): Waiter | null {
    const w = this.head
    if (w === null) return null
    const n = w.next
    this.head = n
    if (n !== null) {
      n.prev = null
      w.next = null
    } else {
      this.tail = null
      unlistQueue(this)
    }
    w.q = null
    return w
  }

  /**
   * Go's dequeue: the oldest waiter this caller may complete, or null. A select
   * waiter is returned only once its select is claimed for its case; one whose
   * select is already claimed (won elsewhere, or cancelled) is dropped.
   */
  take(): Waiter | null {
    for (;;) {
      const w = this.dequeue()
      if (w === null || w.sel === null || w.sel.claim(w.index)) return w
    }
  }

  /**
   * Whether take() would return a waiter. Claims nothing: a select waiter
   * counts while its select is unclaimed. A queue holding only stale waiters
   * (their select claimed) is not live.
   */
  hasLive(): boolean {
    const h = this.head
    if (h === null) return false
    return h.sel === null || !h.sel.claimed() || this.#liveAfter(h)
  }

  #liveAfter(h: Waiter): boolean {
    for (let w = h.next; w !== null; w = w.next) if (w.sel === null || !w.sel.claimed()) return true
    return false
  }

  /** Unlinks w if it is in this queue; a no-op when it is not. */
  remove(w: Waiter): void {
    if (w.q !== this) return
    const { next, prev } = w
    if (prev !== null) prev.next = next
    else this.head = next
    if (next !== null) next.prev = prev
    else this.tail = prev
    w.next = w.prev = null
    w.q = null
    if (this.head === null) unlistQueue(this)
  }

  /** Waiters queued now (walks the queue: diagnostics and tests only). */
  get size(): number {
    let n = 0
    for (let w = this.head; w !== null; w = w.next) n++
    return n
  }

  plainCount(): number {
    let n = 0
    for (let w = this.head; w !== null; w = w.next) if (w.sel === null) n++
    return n
  }

  plainWaiters(out: Parked[]): void {
    for (let w = this.head; w !== null; w = w.next) if (w.sel === null) out.push(w)
  }
}
