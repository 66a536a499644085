/**
 * Waiters and wait queues: Go's sudog and waitq.
 *
 * A Waiter is one blocked send or receive on one channel. A plain op owns its
 * waiter and its promise's resolvers; a select owns one waiter per case and a
 * single promise (select.ts), and the waiter points back to it through `sel`.
 *
 * Invariants:
 * - A waiter is in at most one queue; `queued` says whether it is, and next/prev
 *   are null whenever it is not.
 * - A queue is FIFO: enqueue at the tail, the partner takes from the head.
 * - Removal from the middle is O(1) (doubly linked), which is what lets a
 *   select withdraw its losing cases and a cancelled op leave no trace.
 * - The queues are intrusive, so queue operations allocate nothing.
 * - A queue is listed in the park registry exactly while it is non-empty
 *   (park.ts): a plain op is parked exactly while its waiter is queued.
 */
import { Parked, listQueue, unlistQueue, type ParkQueue } from './park.js'
import type { SelectOp } from './select-op.js'
import type { ChanCore } from './chan.js'

export class Waiter extends Parked {
  /** For a send: the value offered. For a receive: the value received, once woken. */
  value: unknown
  isSend: boolean
  chan: ChanCore
  /** The select this waiter is a case of, or null for a plain op. */
  sel: SelectOp | null
  /** The case index within `sel`. */
  index: number
  /** Set for plain ops; a select settles through `sel`. */
  resolve: ((v: never) => void) | null = null
  reject: ((e: unknown) => void) | null = null
  signal: AbortSignal | null = null
  onAbort: (() => void) | null = null
  next: Waiter | null = null
  prev: Waiter | null = null
  queued = false

  constructor(chan: ChanCore, isSend: boolean, value: unknown, sel: SelectOp | null, index: number) {
    super()
    this.chan = chan
    this.isSend = isSend
    this.value = value
    this.sel = sel
    this.index = index
  }

  override waitReason(): string {
    return this.chan.label ?? (this.isSend ? 'chan send' : 'chan receive')
  }

  override detail(): string {
    return this.chan.describe()
  }
}

// A small free list of plain-op waiters. Parking is the hot path of every
// rendezvous (half the ops of a ping-pong park), and reusing the record saves
// an allocation and its GC; a waiter is recycled only once nothing else can
// reach it (settled, dequeued, unparked, no abort listener).
const pool: Waiter[] = []
const POOL_MAX = 256

/** A waiter for a plain (non-select) op, from the pool when possible. */
export function acquireWaiter(chan: ChanCore, isSend: boolean, value: unknown): Waiter {
  const w = pool.pop()
  if (w === undefined) return new Waiter(chan, isSend, value, null, 0)
  w.chan = chan
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

  /** Precondition: w is not queued anywhere. */
  enqueue(w: Waiter): void {
    w.queued = true
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
    w.queued = false
    return w
  }

  /** Unlinks w if it is in this queue; a no-op when it is not queued. */
  remove(w: Waiter): void {
    if (!w.queued) return
    const { next, prev } = w
    if (prev !== null) prev.next = next
    else this.head = next
    if (next !== null) next.prev = prev
    else this.tail = prev
    w.next = w.prev = null
    w.queued = false
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
