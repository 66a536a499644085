/**
 * Chan<T>: Go's hchan for one JavaScript thread.
 *
 * State (all `#private`): a ring buffer of at most `cap` slots (`#buf`,
 * `#head`, `#count`), a queue of parked receivers and one of parked senders
 * (waitq.ts), and a closed flag. select reaches a Chan only through the select
 * protocol (protocol.ts), which Chan implements with the same algorithms as its
 * plain ops, so a select case and a plain op take identical paths.
 *
 * A waiter is *live* unless it belongs to a select that is already claimed (won
 * by another case, possibly on another thread and not yet fired, or cancelled).
 * Stale waiters are dropped by whoever meets them (`WaitQ.take`), so they never
 * complete an op; the invariants below are about live waiters.
 *
 * Invariants (Go's, restated for this code):
 * - At least one of `#recvq` and `#sendq` holds no live waiter. A receiver parks
 *   only when no value is available, a sender only when no receiver waits and
 *   the buffer is full; and every op drains the opposite queue before parking.
 * - For a buffered channel, a live waiter in `#recvq` implies the buffer is
 *   empty, and one in `#sendq` implies the buffer is full.
 * - Once `#closed`, both queues stay empty: close woke everyone, and no op parks
 *   on a closed channel (sends reject, receives drain then report ok=false).
 * - Direct hand-off: a send that finds a parked receiver gives it the value
 *   without touching the buffer; a receive from a full buffer takes the head and
 *   refills the tail from the first parked sender, so FIFO order holds.
 * - A select waiter's select is claimed before any value moves (`take()` claims
 *   it), so a lost claim leaves the value where it was.
 * - The ring is `#buf.length` slots, `#count <= #buf.length <= #cap`, and it
 *   grows only when full (so `#count === #buf.length`) and `#count < #cap`.
 *   Hence a full channel (`#count === #cap`, the only state in which senders
 *   park) has `#buf.length === #cap`, and a receive that refills the freed head
 *   slot from a parked sender never needs to grow.
 * - Fast path (the op completes now) allocates only the promise it returns
 *   (and a receive's `{ value, ok }`); a send returns one shared resolved
 *   promise. trySend/tryRecv that would block allocate nothing.
 *
 * Why the buffer grows instead of being allocated up front, as Go's is: an
 * array of `cap` slots costs time and memory at `new Chan(cap)` whether or not
 * the buffer ever fills, and V8 cannot allocate more than MAX_CHAN_CAP slots
 * at all (beyond that, an uncatchable out-of-memory abort or "Invalid array
 * length"). Growing by doubling costs an amortised copy per buffered value, and
 * only until the buffer reaches its high-water mark; the hot path pays one
 * `#buf.length` load in place of `#cap`. Rejected: a ring of fixed-size chunks,
 * which could exceed one array's limit but puts a second index on every op;
 * and shrinking when drained, which Go does not do and which would make a
 * bursty channel reallocate on every burst.
 */
import { describeValue } from '../errors.js'
import { ChanClosedError } from './errors.js'
import { Waiter, WaitQ, acquireWaiter, releaseWaiter } from './waitq.js'
import { stamp } from './park.js'
import { mustYield, held } from './yield.js'
import {
  POLL_RECV,
  POLL_SEND,
  RECV_READY,
  SEND_READY,
  ENQUEUE_RECV,
  ENQUEUE_SEND,
  WITHDRAW,
  DESCRIBE,
  type Receivable,
  type Sendable,
  type RecvSlot,
  type Selector,
  type SelectWaiter,
} from './protocol.js'

export { describeValue }

/** Options for operations that can block. */
export interface OpOptions {
  /** Cancels a blocked op; the op rejects with `signal.reason` and leaves no trace. */
  signal?: AbortSignal | undefined
}

/** A receive's result: `ok === false` only when the channel is closed and drained. */
export type RecvResult<T> = { value: T; ok: true } | { value: undefined; ok: false }

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * The largest capacity `new Chan` accepts: the most slots one V8 array holds
 * (FixedArray's maximum length on 64-bit builds). A larger buffer could never
 * be filled, so it is refused up front, as Go's makechan refuses a buffer it
 * could not allocate.
 */
export const MAX_CHAN_CAP = 2 ** 27 - 3

/** Slots allocated when a buffered channel is made; the ring doubles from here as it fills. */
const INITIAL_SLOTS = 64

/**
 * The check every blocking call makes before touching any queue: a rejected
 * promise if `signal` is already aborted (Go's ctx.Done() ready) or is not an
 * AbortSignal at all, else null. Checking first is what guarantees that a bad
 * option never leaves a waiter queued.
 */
export function refuseBySignal(op: string, signal: AbortSignal): Promise<never> | null {
  if (!(signal instanceof AbortSignal)) {
    return Promise.reject(new TypeError(`${op}: options.signal must be an AbortSignal, got ${describeValue(signal)}`))
  }
  return signal.aborted ? Promise.reject(signal.reason) : null
}

let nextChanId = 1

// Receive results travel through these two slots from a receive to its caller,
// so the hot path returns a boolean instead of allocating a tuple.
let recvValue: unknown = undefined
let recvOk = false

/** Reads the received value and clears the slot, so it does not outlive its receive. */
function takeRecvValue(): unknown {
  const v = recvValue
  recvValue = undefined
  return v
}

/** Builds a pending promise and stores its resolvers in `w`. */
export function pendingFor<R>(w: { resolve: ((v: never) => void) | null; reject: ((e: unknown) => void) | null }): Promise<R> {
  return new Promise<R>((res, rej) => { w.resolve = res as never; w.reject = rej })
}

// Module-private doors into a channel's private state, opened once by Chan's
// static block: the sync primitives and inspectChan use them, nothing else.
let recvNowOf: (c: Chan<unknown>) => boolean
let waitLabelOf: (c: Chan<unknown>, label: string) => void
let stateOf: (c: Chan<unknown>) => ChanState

export class Chan<T> implements AsyncIterable<T>, Receivable<T>, Sendable<T> {
  /** Ring storage: `#count <= #buf.length <= #cap`; grows (doubling) only when full. */
  #buf: (T | undefined)[]
  /** Index of the oldest buffered value. */
  #head = 0
  /** Buffered values; > 0 implies `#recvq` holds no live waiter. */
  #count = 0
  readonly #cap: number
  /** Parked receivers, FIFO; live ones only while the buffer is empty. */
  readonly #recvq: WaitQ
  /** Parked senders, FIFO; live ones only while the buffer is full. */
  readonly #sendq: WaitQ
  /** Set once by close; from then on no op parks here. */
  #closed = false
  /** A small number naming the channel in reports. */
  readonly #id: number

  static {
    recvNowOf = (c) => c.#recvNow()
    waitLabelOf = (c, label) => {
      c.#recvq.reason = label
      c.#sendq.reason = label
    }
    stateOf = (c) => ({ len: c.#count, cap: c.#cap, closed: c.#closed, recvWaiters: c.#recvq.size, sendWaiters: c.#sendq.size })
  }

  /**
   * `capacity` 0 (the default) makes an unbuffered, rendezvous channel. The
   * buffer's memory is taken as it fills, not up front.
   */
  constructor(capacity = 0) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CHAN_CAP) {
      const limit = capacity > MAX_CHAN_CAP ? ` (at most ${MAX_CHAN_CAP})` : ''
      throw new RangeError(`makechan: size out of range: ${describeValue(capacity)}${limit}`)
    }
    this.#cap = capacity
    this.#buf = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS)).fill(undefined)
    this.#recvq = new WaitQ(this, 'chan receive')
    this.#sendq = new WaitQ(this, 'chan send')
    this.#id = nextChanId++
  }

  /** Values buffered now. */
  get len(): number {
    return this.#count
  }

  /** Buffer capacity (0 for unbuffered). */
  get cap(): number {
    return this.#cap
  }

  /**
   * Sends `value`, resolving once a receiver has it (unbuffered) or it is buffered.
   * Rejects with ChanClosedError if the channel is closed before or while waiting.
   */
  send(value: T, options?: OpOptions): Promise<void> {
    const signal = options?.signal
    if (signal !== undefined) {
      const refused = refuseBySignal('send', signal)
      if (refused !== null) return refused
    }
    if (this.#closed) return Promise.reject(new ChanClosedError())
    if (this.#sendNow(value)) return mustYield() ? held(undefined) : RESOLVED
    const w = acquireWaiter(true, value)
    const p = pendingFor<void>(w)
    stamp(w)
    this.#sendq.enqueue(w)
    if (signal !== undefined) listen(w, signal)
    return p
  }

  /** Receives a value; `{ ok: false }` once the channel is closed and drained. */
  recv(options?: OpOptions): Promise<RecvResult<T>> {
    const signal = options?.signal
    if (signal !== undefined) {
      const refused = refuseBySignal('recv', signal)
      if (refused !== null) return refused
    }
    if (this.#recvNow()) {
      const r = { value: takeRecvValue(), ok: recvOk } as RecvResult<T>
      return mustYield() ? held(r) : Promise.resolve(r)
    }
    const w = acquireWaiter(false, undefined)
    const p = pendingFor<RecvResult<T>>(w)
    stamp(w)
    this.#recvq.enqueue(w)
    if (signal !== undefined) listen(w, signal)
    return p
  }

  /**
   * Sends only if that can happen now. False when it would block; throws
   * ChanClosedError on a closed channel (misuse panics, as in Go).
   */
  trySend(value: T): boolean {
    if (this.#closed) throw new ChanClosedError()
    return this.#sendNow(value)
  }

  /** Receives only if a value (or closure) is ready; undefined when it would block. */
  tryRecv(): RecvResult<T> | undefined {
    if (!this.#recvNow()) return undefined
    return { value: takeRecvValue(), ok: recvOk } as RecvResult<T>
  }

  /**
   * Closes the channel: parked receivers get `ok: false` (after the buffer
   * drains, for later receivers), parked senders reject with ChanClosedError.
   * Closing twice throws ChanClosedError "close of closed channel".
   */
  close(): void {
    if (this.#closed) throw new ChanClosedError('ERR_CLOSE_OF_CLOSED')
    this.#closed = true
    let w: Waiter | null
    while ((w = this.#recvq.take()) !== null) wakeRecv(w, undefined, false)
    while ((w = this.#sendq.take()) !== null) failSend(w, new ChanClosedError())
  }

  /** `for await (const v of ch)`: receives until the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    const ch = this
    return {
      next(): Promise<IteratorResult<T, undefined>> {
        // Same fast path as recv, minus the intermediate { value, ok } object.
        if (ch.#recvNow()) {
          const r = (recvOk ? { value: takeRecvValue(), done: false } : { value: undefined, done: true }) as IteratorResult<T, undefined>
          return mustYield() ? held(r) : Promise.resolve(r)
        }
        return ch.recv().then(toIterResult)
      },
    }
  }

  /** One line for reports: `chan#3 (cap 0, len 0)`. */
  toString(): string {
    return `chan#${this.#id} (cap ${this.#cap}, len ${this.#count}${this.#closed ? ', closed' : ''})`
  }

  // ---- the select protocol (protocol.ts) ----------------------------------

  /** Exact on one thread: a buffered value, a live parked sender, or closed. */
  [RECV_READY](): boolean {
    return this.#count > 0 || this.#closed || this.#sendq.hasLive()
  }

  /** Exact on one thread: closed (the poll will throw), a live parked receiver, or room. */
  [SEND_READY](): boolean {
    return this.#closed || this.#count < this.#cap || this.#recvq.hasLive()
  }

  /** A receive case's poll: the same path as tryRecv, result into `slot`. */
  [POLL_RECV](slot: RecvSlot<T>): boolean {
    if (!this.#recvNow()) return false
    slot.value = takeRecvValue() as T | undefined
    slot.ok = recvOk
    return true
  }

  /** A send case's poll: the same path as trySend. */
  [POLL_SEND](value: T): boolean {
    if (this.#closed) throw new ChanClosedError()
    return this.#sendNow(value)
  }

  /** Precondition (single thread): the case's poll just failed, so nothing is ready. */
  [ENQUEUE_RECV](sel: Selector, index: number): SelectWaiter {
    const w = new Waiter(false, undefined, sel, index)
    this.#recvq.enqueue(w)
    return w
  }

  /** Precondition (single thread): the case's poll just failed, so nothing is ready. */
  [ENQUEUE_SEND](sel: Selector, index: number, value: T): SelectWaiter {
    const w = new Waiter(true, value, sel, index)
    this.#sendq.enqueue(w)
    return w
  }

  [WITHDRAW](waiter: SelectWaiter): void {
    const w = waiter as Waiter
    const q = w.q
    if (q !== null) q.remove(w)
  }

  [DESCRIBE](): string {
    return this.toString()
  }

  // ---- the algorithms, shared by plain ops and select cases --------------

  /**
   * Completes a send now if it can: hand-off to the first live parked
   * receiver, else into a free buffer slot. False when it would block.
   * Precondition: the channel is not closed.
   */
  #sendNow(value: T): boolean {
    const r = this.#recvq.take()
    if (r !== null) {
      wakeRecv(r, value, true)
      return true
    }
    const buf = this.#buf
    const size = buf.length
    if (this.#count < size) {
      let tail = this.#head + this.#count
      if (tail >= size) tail -= size
      buf[tail] = value
      this.#count++
      return true
    }
    if (this.#count < this.#cap) {
      // Full ring below cap: grow, which puts the first free slot at `size`.
      this.#grow()
      this.#buf[size] = value
      this.#count++
      return true
    }
    return false
  }

  /**
   * Doubles the ring (at most to cap), unwrapping it so the oldest value sits at
   * index 0 and the first free slot at the old size.
   * Precondition: the ring is full (`#count === #buf.length`) and `#count < #cap`.
   */
  #grow(): void {
    const old = this.#buf
    const size = old.length
    const next = new Array<T | undefined>(Math.min(this.#cap, Math.max(size * 2, 1))).fill(undefined)
    for (let i = 0, j = this.#head; i < size; i++) {
      next[i] = old[j]
      j = j + 1 === size ? 0 : j + 1
    }
    this.#buf = next
    this.#head = 0
  }

  /**
   * Completes a receive now if it can, leaving the result in recvValue/recvOk.
   * Order as in Go's chanrecv: buffered value first (refilling from the first
   * live parked sender), then a parked sender's value directly, then closure.
   */
  #recvNow(): boolean {
    if (this.#count > 0) {
      const buf = this.#buf
      const h = this.#head
      recvValue = buf[h]
      recvOk = true
      const s = this.#sendq.take()
      if (s !== null) {
        // Full buffer: the freed head slot becomes the new tail, given to the sender.
        buf[h] = s.value as T
        this.#head = h + 1 === buf.length ? 0 : h + 1
        s.value = undefined
        wakeSend(s)
      } else {
        buf[h] = undefined
        this.#head = h + 1 === buf.length ? 0 : h + 1
        this.#count--
      }
      return true
    }
    const s = this.#sendq.take()
    if (s !== null) {
      recvValue = s.value
      recvOk = true
      s.value = undefined
      wakeSend(s)
      return true
    }
    if (this.#closed) {
      recvValue = undefined
      recvOk = false
      return true
    }
    return false
  }
}

function toIterResult<T>(r: RecvResult<T>): IteratorResult<T, undefined> {
  return r.ok ? { value: r.value, done: false } : { value: undefined, done: true }
}

/**
 * A receive that allocates nothing (for Mutex.unlock): true if it took a value
 * or saw closure, leaving nothing behind; false if it would block.
 */
export function recvDiscard(c: Chan<unknown>): boolean {
  if (!recvNowOf(c)) return false
  recvValue = undefined
  return true
}

/** Names this channel's waits in the deadlock report (`sync.Mutex.Lock`, ...). */
export function setWaitLabel(c: Chan<unknown>, label: string): void {
  waitLabelOf(c, label)
}

/**
 * Precondition: r came from `take()` (a plain waiter, or a select waiter whose
 * select is now claimed for it). Settles a parked receiver.
 */
function wakeRecv(r: Waiter, value: unknown, ok: boolean): void {
  if (r.sel !== null) {
    r.sel.fire(r.index, value, ok)
    return
  }
  const resolve = r.resolve!
  // A waiter with an abort listener is never pooled: the listener's closure
  // still references it.
  if (r.signal !== null) unlisten(r)
  else releaseWaiter(r)
  resolve({ value, ok } as never)
}

/** Precondition: s came from `take()` and its value has been taken. */
function wakeSend(s: Waiter): void {
  if (s.sel !== null) {
    s.sel.fire(s.index, undefined, true)
    return
  }
  const resolve = s.resolve!
  if (s.signal !== null) unlisten(s)
  else releaseWaiter(s)
  resolve(undefined as never)
}

/** Precondition: s came from `take()`. Rejects a parked sender (close). */
function failSend(s: Waiter, error: unknown): void {
  if (s.sel !== null) {
    s.sel.fail(s.index, error)
    return
  }
  if (s.signal !== null) {
    unlisten(s)
    s.reject!(error)
    return
  }
  s.reject!(error)
  releaseWaiter(s)
}

function listen(w: Waiter, signal: AbortSignal): void {
  w.signal = signal
  w.onAbort = () => {
    const q = w.q
    if (q === null) return
    q.remove(w)
    w.signal = null
    w.reject!(signal.reason)
  }
  signal.addEventListener('abort', w.onAbort, { once: true })
}

function unlisten(w: Waiter): void {
  w.signal!.removeEventListener('abort', w.onAbort!)
  w.signal = null
  w.onAbort = null
}

/** Queue sizes and buffer state of a channel, for tests and diagnostics. */
export interface ChanState {
  len: number
  cap: number
  closed: boolean
  recvWaiters: number
  sendWaiters: number
}

export function inspectChan(c: Chan<unknown>): ChanState {
  return stateOf(c)
}
