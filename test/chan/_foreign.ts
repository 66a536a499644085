/**
 * A minimal channel kind that is not a Chan, for the select protocol tests: a
 * one-slot mailbox whose full and closed flags live in a SharedArrayBuffer, as
 * a SharedChan's would.
 *
 * `cap` 1 (the default) gives it its one buffer slot; `cap` 0 makes it
 * unbuffered: a send completes only by hand-off to a waiting receiver.
 *
 * `remote: true` makes it behave as a channel whose partners live on another
 * thread: its waiters claim their select through the select's done word (one
 * Atomics.compareExchange, exactly what the other thread would do), and the
 * fire reaches the select one macrotask later, as an agent woken by
 * Atomics.notify would deliver it. In between, the select is claimed but not
 * fired: the window in which same-thread channels must skip its waiters.
 *
 * `put`/`take`/`close` are the partner's side (another goroutine, or another
 * thread when remote); the symbol methods are what select drives.
 */
import {
  ChanClosedError,
  DESCRIBE,
  ENQUEUE_RECV,
  ENQUEUE_SEND,
  POLL_RECV,
  POLL_SEND,
  RECV_READY,
  SEND_READY,
  WITHDRAW,
  DONE_OPEN,
  claimDoneWord,
  type DoneWord,
  type Receivable,
  type RecvSlot,
  type Selector,
  type Sendable,
} from '../../src/index.js'

interface FWaiter<T> {
  sel: Selector
  index: number
  value: T | undefined
  /** The select's shared done word, when remote. */
  word: DoneWord | null
}

const FULL = 0
const CLOSED = 1
let ids = 0

export class SlotChan<T> implements Receivable<T>, Sendable<T> {
  readonly cells = new Int32Array(new SharedArrayBuffer(8))
  #value: T | undefined = undefined
  readonly recvq: FWaiter<T>[] = []
  readonly sendq: FWaiter<T>[] = []
  readonly id = ++ids
  /** How many fires are scheduled but not yet delivered (remote mode). */
  inFlight = 0

  constructor(
    readonly remote = false,
    readonly cap: 0 | 1 = 1,
  ) {}

  get full(): boolean {
    return Atomics.load(this.cells, FULL) === 1
  }

  get closed(): boolean {
    return Atomics.load(this.cells, CLOSED) === 1
  }

  /** Waiters still published (select waiters of either direction). */
  get waiters(): number {
    return this.recvq.length + this.sendq.length
  }

  // ---- the partner's side ----------------------------------------------------

  /** A send from the partner: hand-off to a select waiting here, else into the slot. False if full. */
  put(v: T): boolean {
    if (this.closed) throw new ChanClosedError()
    const w = this.#takeLive(this.recvq)
    if (w !== null) {
      this.#fire(w, v, true)
      return true
    }
    if (this.full || this.cap === 0) return false
    this.#value = v
    Atomics.store(this.cells, FULL, 1)
    return true
  }

  /** A receive by the partner: the slot, else a select's send case waiting here. */
  take(): { value: T | undefined; ok: boolean } | undefined {
    const slot: RecvSlot<T> = { value: undefined, ok: false }
    return this.#recv(slot) ? { value: slot.value, ok: slot.ok } : undefined
  }

  close(): void {
    if (Atomics.exchange(this.cells, CLOSED, 1) === 1) throw new ChanClosedError('ERR_CLOSE_OF_CLOSED')
    let w: FWaiter<T> | null
    while ((w = this.#takeLive(this.recvq)) !== null) this.#fire(w, undefined, false)
    while ((w = this.#takeLive(this.sendq)) !== null) {
      const sel = w.sel
      const i = w.index
      if (this.remote) {
        this.inFlight++
        setImmediate(() => {
          this.inFlight--
          sel.fail(i, new ChanClosedError())
        })
      } else sel.fail(i, new ChanClosedError())
    }
  }

  // ---- the select protocol ---------------------------------------------------

  [RECV_READY](): boolean {
    return this.full || this.closed || this.sendq.some((w) => this.#open(w))
  }

  [SEND_READY](): boolean {
    return this.closed || (this.cap === 1 && !this.full) || this.recvq.some((w) => this.#open(w))
  }

  [POLL_RECV](slot: RecvSlot<T>): boolean {
    return this.#recv(slot)
  }

  [POLL_SEND](value: T): boolean {
    if (this.closed) throw new ChanClosedError()
    return this.put(value)
  }

  [ENQUEUE_RECV](sel: Selector, index: number): object {
    const w: FWaiter<T> = { sel, index, value: undefined, word: this.remote ? sel.doneWord() : null }
    this.recvq.push(w)
    return w
  }

  [ENQUEUE_SEND](sel: Selector, index: number, value: T): object {
    const w: FWaiter<T> = { sel, index, value, word: this.remote ? sel.doneWord() : null }
    this.sendq.push(w)
    return w
  }

  [WITHDRAW](waiter: object): void {
    for (const q of [this.recvq, this.sendq]) {
      const i = q.indexOf(waiter as FWaiter<T>)
      if (i >= 0) q.splice(i, 1)
    }
  }

  [DESCRIBE](): string {
    return `slotchan#${this.id}`
  }

  // ---- internals ---------------------------------------------------------------

  #open(w: FWaiter<T>): boolean {
    return w.word === null ? !w.sel.claimed() : Atomics.load(w.word.cells, w.word.index) === DONE_OPEN
  }

  /** Go's dequeue: the first waiter whose select this caller wins; losers are dropped. */
  #takeLive(q: FWaiter<T>[]): FWaiter<T> | null {
    for (;;) {
      const w = q.shift()
      if (w === undefined) return null
      const won = w.word === null ? w.sel.claim(w.index) : claimDoneWord(w.word.cells, w.word.index, w.index)
      if (won) return w
    }
  }

  #recv(slot: RecvSlot<T>): boolean {
    if (this.full) {
      slot.value = this.#value
      slot.ok = true
      this.#value = undefined
      Atomics.store(this.cells, FULL, 0)
      const s = this.#takeLive(this.sendq)
      if (s !== null) {
        this.#value = s.value
        Atomics.store(this.cells, FULL, 1)
        this.#fire(s, undefined, true)
      }
      return true
    }
    const s = this.#takeLive(this.sendq)
    if (s !== null) {
      slot.value = s.value
      slot.ok = true
      this.#fire(s, undefined, true)
      return true
    }
    if (this.closed) {
      slot.value = undefined
      slot.ok = false
      return true
    }
    return false
  }

  /** Precondition: w came from #takeLive. Settles its select, a macrotask later when remote. */
  #fire(w: FWaiter<T>, value: unknown, ok: boolean): void {
    if (!this.remote) {
      w.sel.fire(w.index, value, ok)
      return
    }
    this.inFlight++
    setImmediate(() => {
      this.inFlight--
      w.sel.fire(w.index, value, ok)
    })
  }
}
