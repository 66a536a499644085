/**
 * Chan<T>: Go's hchan for one JavaScript thread.
 *
 * State: a ring buffer of at most `cap` slots (`_buf`, `_head`, `_count`), a
 * queue of parked receivers and one of parked senders (waitq.ts), and a closed flag.
 *
 * Invariants (Go's, restated for this code):
 * - At least one of `_recvq` and `_sendq` is empty. A receiver parks only when
 *   no value is available, a sender only when no receiver waits and the buffer
 *   is full; and every op drains the opposite queue before parking.
 * - For a buffered channel, `_recvq` non-empty implies the buffer is empty, and
 *   `_sendq` non-empty implies the buffer is full.
 * - Once `_closed`, both queues stay empty: close woke everyone, and no op parks
 *   on a closed channel (sends reject, receives drain then report ok=false).
 * - Direct hand-off: a send that finds a parked receiver gives it the value
 *   without touching the buffer; a receive from a full buffer takes the head and
 *   refills the tail from the first parked sender, so FIFO order holds.
 * - The ring is `_buf.length` slots, `_count <= _buf.length <= _cap`, and it
 *   grows only when full (so `_count === _buf.length`) and `_count < _cap`.
 *   Hence a full channel (`_count === _cap`, the only state in which senders
 *   park) has `_buf.length === _cap`, and a receive that refills the freed head
 *   slot from a parked sender never needs to grow.
 * - Fast path (the op completes now) allocates only the promise it returns
 *   (and a receive's `{ value, ok }`); a send returns one shared resolved
 *   promise. trySend/tryRecv that would block allocate nothing.
 *
 * The algorithms live in module functions (`sendNow`, `recvNow`, `wake*`) that
 * select.ts reuses, so a select case and a plain op take identical paths.
 *
 * Why the buffer grows instead of being allocated up front, as Go's is: an
 * array of `cap` slots costs time and memory at `new Chan(cap)` whether or not
 * the buffer ever fills, and V8 cannot allocate more than MAX_CHAN_CAP slots
 * at all (beyond that, an uncatchable out-of-memory abort or "Invalid array
 * length"). Growing by doubling costs an amortised copy per buffered value, and
 * only until the buffer reaches its high-water mark; the hot path pays one
 * `_buf.length` load in place of `_cap`. Rejected: a ring of fixed-size chunks,
 * which could exceed one array's limit but puts a second index on every op;
 * and shrinking when drained, which Go does not do and which would make a
 * bursty channel reallocate on every burst.
 */
import { describeValue } from '../errors.js'
import { ChanClosedError } from './errors.js'

export { describeValue }
import { Waiter, WaitQ, acquireWaiter, releaseWaiter } from './waitq.js'
import { stamp } from './park.js'
import { mustYield, held } from './yield.js'

/** Options for operations that can block. */
export interface OpOptions {
  /** Cancels a blocked op; the op rejects with `signal.reason` and leaves no trace. */
  signal?: AbortSignal | undefined
}

/** A receive's result: `ok === false` only when the channel is closed and drained. */
export type RecvResult<T> = { value: T; ok: true } | { value: undefined; ok: false }

export type ChanCore = Chan<unknown>

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

// Receive results travel through these two slots from recvNow to its caller,
// so the hot path returns a boolean instead of allocating a tuple.
export let recvValue: unknown = undefined
export let recvOk = false

/** Reads the received value and clears the slot, so it does not outlive its receive. */
export function takeRecvValue(): unknown {
  const v = recvValue
  recvValue = undefined
  return v
}

/** Builds a pending promise and stores its resolvers in `w`. */
export function pendingFor<R>(w: { resolve: ((v: never) => void) | null; reject: ((e: unknown) => void) | null }): Promise<R> {
  return new Promise<R>((res, rej) => { w.resolve = res as never; w.reject = rej })
}

export class Chan<T> implements AsyncIterable<T> {
  /** @internal ring buffer storage; grows (doubling, up to cap) only when full */
  _buf: (T | undefined)[]
  /** @internal index of the oldest buffered value */
  _head = 0
  /** @internal number of buffered values */
  _count = 0
  /** @internal */
  readonly _cap: number
  /** @internal parked receivers, FIFO */
  readonly _recvq = new WaitQ()
  /** @internal parked senders, FIFO */
  readonly _sendq = new WaitQ()
  /** @internal */
  _closed = false
  /** @internal what the deadlock report calls a wait here (sync primitives set it) */
  label: string | null = null
  /** @internal a small number naming the channel in reports */
  readonly _id: number

  /**
   * `capacity` 0 (the default) makes an unbuffered, rendezvous channel. The
   * buffer's memory is taken as it fills, not up front.
   */
  constructor(capacity = 0) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CHAN_CAP) {
      const limit = capacity > MAX_CHAN_CAP ? ` (at most ${MAX_CHAN_CAP})` : ''
      throw new RangeError(`makechan: size out of range: ${describeValue(capacity)}${limit}`)
    }
    this._cap = capacity
    this._buf = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS)).fill(undefined)
    this._id = nextChanId++
  }

  /** Values buffered now. */
  get len(): number {
    return this._count
  }

  /** Buffer capacity (0 for unbuffered). */
  get cap(): number {
    return this._cap
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
    if (this._closed) return Promise.reject(new ChanClosedError())
    if (sendNow(this as ChanCore, value)) return mustYield() ? held(undefined) : RESOLVED
    const w = acquireWaiter(this as ChanCore, true, value)
    const p = pendingFor<void>(w)
    stamp(w)
    this._sendq.enqueue(w)
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
    if (recvNow(this as ChanCore)) {
      const r = { value: takeRecvValue(), ok: recvOk } as RecvResult<T>
      return mustYield() ? held(r) : Promise.resolve(r)
    }
    const w = acquireWaiter(this as ChanCore, false, undefined)
    const p = pendingFor<RecvResult<T>>(w)
    stamp(w)
    this._recvq.enqueue(w)
    if (signal !== undefined) listen(w, signal)
    return p
  }

  /**
   * Sends only if that can happen now. False when it would block; throws
   * ChanClosedError on a closed channel (misuse panics, as in Go).
   */
  trySend(value: T): boolean {
    if (this._closed) throw new ChanClosedError()
    return sendNow(this as ChanCore, value)
  }

  /** Receives only if a value (or closure) is ready; undefined when it would block. */
  tryRecv(): RecvResult<T> | undefined {
    if (!recvNow(this as ChanCore)) return undefined
    return { value: takeRecvValue(), ok: recvOk } as RecvResult<T>
  }

  /**
   * Closes the channel: parked receivers get `ok: false` (after the buffer
   * drains, for later receivers), parked senders reject with ChanClosedError.
   * Closing twice throws ChanClosedError "close of closed channel".
   */
  close(): void {
    if (this._closed) throw new ChanClosedError('ERR_CLOSE_OF_CLOSED')
    this._closed = true
    let w: Waiter | null
    while ((w = this._recvq.dequeue()) !== null) wakeRecv(w, undefined, false)
    while ((w = this._sendq.dequeue()) !== null) failSend(w, new ChanClosedError())
  }

  /** `for await (const v of ch)`: receives until the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    const ch = this as ChanCore
    return {
      next(): Promise<IteratorResult<T, undefined>> {
        // Same fast path as recv, minus the intermediate { value, ok } object.
        if (recvNow(ch)) {
          const r = (recvOk ? { value: takeRecvValue(), done: false } : { value: undefined, done: true }) as IteratorResult<T, undefined>
          return mustYield() ? held(r) : Promise.resolve(r)
        }
        return ch.recv().then(toIterResult) as Promise<IteratorResult<T, undefined>>
      },
    }
  }

  /** @internal one line for reports: `chan#3 (cap 0, len 0)` */
  describe(): string {
    return `chan#${this._id} (cap ${this._cap}, len ${this._count}${this._closed ? ', closed' : ''})`
  }
}

function toIterResult<T>(r: RecvResult<T>): IteratorResult<T, undefined> {
  return r.ok ? { value: r.value, done: false } : { value: undefined, done: true }
}

/**
 * Completes a send now if it can: hand-off to the first parked receiver, else
 * into a free buffer slot. False when it would block.
 * Precondition: the channel is not closed.
 */
export function sendNow(c: ChanCore, value: unknown): boolean {
  const r = c._recvq.dequeue()
  if (r !== null) {
    wakeRecv(r, value, true)
    return true
  }
  const buf = c._buf
  const size = buf.length
  if (c._count < size) {
    let tail = c._head + c._count
    if (tail >= size) tail -= size
    buf[tail] = value
    c._count++
    return true
  }
  if (c._count < c._cap) {
    // Full ring below cap: grow, which puts the first free slot at `size`.
    grow(c)
    c._buf[size] = value
    c._count++
    return true
  }
  return false
}

/**
 * Doubles the ring (at most to cap), unwrapping it so the oldest value sits at
 * index 0 and the first free slot at the old size.
 * Precondition: the ring is full (`_count === _buf.length`) and `_count < _cap`.
 */
function grow(c: ChanCore): void {
  const old = c._buf
  const size = old.length
  const next = new Array<unknown>(Math.min(c._cap, Math.max(size * 2, 1))).fill(undefined)
  for (let i = 0, j = c._head; i < size; i++) {
    next[i] = old[j]
    j = j + 1 === size ? 0 : j + 1
  }
  c._buf = next
  c._head = 0
}

/**
 * Completes a receive now if it can, leaving the result in recvValue/recvOk.
 * Order as in Go's chanrecv: buffered value first (refilling from the first
 * parked sender), then a parked sender's value directly, then closure.
 */
export function recvNow(c: ChanCore): boolean {
  if (c._count > 0) {
    const buf = c._buf
    const h = c._head
    recvValue = buf[h]
    recvOk = true
    const s = c._sendq.dequeue()
    if (s !== null) {
      // Full buffer: the freed head slot becomes the new tail, given to the sender.
      buf[h] = s.value
      c._head = h + 1 === buf.length ? 0 : h + 1
      s.value = undefined
      wakeSend(s)
    } else {
      buf[h] = undefined
      c._head = h + 1 === buf.length ? 0 : h + 1
      c._count--
    }
    return true
  }
  const s = c._sendq.dequeue()
  if (s !== null) {
    recvValue = s.value
    recvOk = true
    s.value = undefined
    wakeSend(s)
    return true
  }
  if (c._closed) {
    recvValue = undefined
    recvOk = false
    return true
  }
  return false
}

/** Precondition: r has been dequeued. Settles a parked receiver (plain or select). */
export function wakeRecv(r: Waiter, value: unknown, ok: boolean): void {
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

/** Precondition: s has been dequeued and its value taken. */
export function wakeSend(s: Waiter): void {
  if (s.sel !== null) {
    s.sel.fire(s.index, undefined, true)
    return
  }
  const resolve = s.resolve!
  if (s.signal !== null) unlisten(s)
  else releaseWaiter(s)
  resolve(undefined as never)
}

/** Precondition: s has been dequeued. Rejects a parked sender (close). */
export function failSend(s: Waiter, error: unknown): void {
  if (s.sel !== null) {
    s.sel.fail(error)
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
    if (!w.queued) return
    ;(w.isSend ? w.chan._sendq : w.chan._recvq).remove(w)
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
  return {
    len: c._count,
    cap: c._cap,
    closed: c._closed,
    recvWaiters: c._recvq.size,
    sendWaiters: c._sendq.size,
  }
}
