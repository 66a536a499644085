/**
 * SharedChan<T>: Go's hchan in a SharedArrayBuffer, usable from every thread of the process (the
 * main thread, any M, plain Workers). Offsets and state names: sharedchan-layout.ts. Values:
 * sharedchan-codec.ts. Lock, spin and sleep: sharedchan-wait.ts. Channels inside channels:
 * sharedchan-registry.ts. What a select keeps on its own thread: sharedchan-select.ts.
 *
 * Invariants (Go's chan.go, restated for shared memory):
 * - Every field of the header and every queue link is written only under H_LOCK, except: the free
 *   list is pushed lock-free (CAS on H_FREE) and popped only under the lock (one popper: no ABA);
 *   a waiter's W_STATE leaves WAITING only by CAS; W_SLEEP is written by the record's owner; the
 *   ring's ends (below).
 * - The buffered fast path. "The lock" below means H_LOCK and, for a buffered channel, both side
 *   locks (H_SLOCK, H_RLOCK), taken in that order (#lock). H_TAIL and H_SHEAD are written only
 *   under H_SLOCK, H_HEAD and H_RTAIL only under H_RLOCK. A fast send holds only H_SLOCK, a fast
 *   receive only H_RLOCK; neither waits for anything while it holds it. H_GATE is written under
 *   the lock, from the queues and H_CLOSED, before the side locks are released (#unlockSides):
 *   G_NO_SEND while a receiver is queued or the channel is closed, G_NO_RECV while a sender is
 *   queued. A fast op reads the gate after taking its side lock, so it sees the gate of the last
 *   slow critical section, and runs only where the slow path would have done the same: into the
 *   ring with no receiver queued and the channel open, out of the ring with no sender queued.
 *   A fast send and a fast receive at once are a single-producer single-consumer ring: slot
 *   written, then H_TAIL stored; H_TAIL loaded, slot read, then H_HEAD stored. H_SHEAD and
 *   H_RTAIL are never ahead of H_HEAD and H_TAIL (refreshed by the slow path when it moves them),
 *   so a stale copy makes the ring look full or empty, never the reverse: that op retries with a
 *   fresh load, then takes the slow path. See docs/design/sharedchan.md, "The buffered fast path".
 * - At least one of the receive queue and the send queue is empty; for a buffered channel, a
 *   non-empty receive queue means the ring is empty and a non-empty send queue means it is full.
 *   Every op drains the opposite queue before it parks.
 * - Once closed, both queues stay empty: close woke everyone, and no op parks on a closed channel.
 * - A record is in at most one of: the free list, a queue, or its owner's hands (dequeued by a
 *   partner, or cancelled). WF_QUEUED says whether it is in a queue.
 * - Hand-off: the partner writes (or copies out) the value first, then claims the record by CAS
 *   WAITING -> DONE. The owner withdraws by CAS WAITING -> CANCELLED. Exactly one CAS wins:
 *   a value is delivered to, or taken from, exactly one op, and a cancelled op never delivers
 *   later. A partner whose CAS fails (the owner cancelled) moves on to the next waiter; the data it
 *   wrote into the cancelled record is never read.
 * - A record's owner frees it (state FREE, pushed on the free list) once the state left WAITING
 *   and it has read what it needs; a cancelled record is unlinked and freed under the lock, so a
 *   partner holding the lock can always still read a record it just failed to claim.
 * - A record is allocated only under the lock, so while a partner holds the lock the record it
 *   just claimed cannot be reused, and its notify (under the lock) reaches the right owner.
 * - A receive from a full ring with a parked sender takes the head and refills the same slot
 *   with the sender's value (head and tail both advance): FIFO in one step, as Go's recv().
 * - A select's waiter (WF_SELECT) is claimed through its select's done word, never by CAS on its
 *   W_STATE: a partner claims (DONE_OPEN -> case + 1) before any value moves, and only then
 *   moves the value and stores DONE/CLOSED under the lock. A failed claim drops the waiter
 *   (stale) or, while the select's own thread holds the word (DW_ENQ/DW_DIRTY), skips it and
 *   leaves it queued, marking the word DW_DIRTY (close drops it). A select's waiter never pairs
 *   with a waiter of the same select. The select's thread unlinks and frees its own waiters
 *   (WITHDRAW); the record holding the done word goes last (DoneWord.release). The protocol and
 *   why it is correct: docs/design/sharedchan.md, "Select".
 * - A partner never waits while it holds the lock: a done word in a channel this thread cannot
 *   see yet makes it unlock, learn that channel (#learn) and start the op again.
 *
 * Designs rejected:
 * - Waiter records in per-thread memory (each thread's own buffer): a waker on another thread
 *   needs that memory, and a SharedArrayBuffer can reach a thread only by message, so every first
 *   wake-up between two threads would wait for one. Records in the channel's buffer cost a fixed
 *   number per channel instead (`waiters`); an op that finds none free waits for one (slow path).
 * - Claiming before writing (CAS, then write the value): the owner, spinning, would see DONE
 *   before the value is there; it needs a third state or a lock on the owner's side.
 * - Freeing records under the lock: one more lock round trip on every wake-up.
 */

import { InternalError, describeValue } from '../../errors.js'
import { ChanClosedError } from '../../chan/errors.js'
import { held, mustYield } from '../../chan/yield.js'
import type { OpOptions, RecvResult } from '../../chan/chan.js'
import {
  DESCRIBE, DONE_CANCELLED, DONE_OPEN, ENQUEUE_RECV, ENQUEUE_SEND, POLL_RECV, POLL_SEND, RECV_READY, SEND_READY, WITHDRAW,
  type Receivable, type RecvSlot, type SelectWaiter, type Selector, type Sendable,
} from '../../chan/protocol.js'
import {
  CH_CLOSED, DEFAULT_SLOT_BYTES, DEFAULT_WAITERS, DW_DIRTY, DW_ENQ, DW_NAMES, G_NO_RECV, G_NO_SEND, H_CAP, H_CLOSED, H_FREE,
  H_FREESEQ, H_FREEWAIT, H_GATE, H_HEAD, H_ID, H_INFLIGHT, H_MAGIC, H_NRECVQ, H_NSENDQ, H_NWAIT, H_RECVQ, H_RLOCK, H_RTAIL, H_SENDQ,
  H_SHEAD, H_SLOCK, H_SLOT, H_TAIL, HDR, MAGIC, SL_FREE, SL_HELD,
  MAX_BUFFER_BYTES, MAX_SLOT_BYTES, MAX_WAITERS, W_CASE, W_DAT, W_DHI, W_DLO, W_DONE, W_DSLEEP, W_FLAGS, W_NEXT, W_OWNER, W_PREV,
  W_SLEEP, W_SLOT, W_STATE, W_WAKER, WF_QUEUED, WF_SELECT, WF_SEND, WS_CANCELLED, WS_CLOSED, WS_DONE, WS_FREE, WS_NAMES, WS_WAITING,
  chanLayout, readLayout, slotAt, waiterAt, type ChanLayout,
} from './sharedchan-layout.js'
import {
  copySlot, discardRead, dropPrepared, finishRead, prepare, readSlot, setChanHooks, unwriteSlot, viewsOf, writeSlot, type Views,
} from './sharedchan-codec.js'
import { currentGoroutine, currentGoroutineName, lock, sleepWhile, unlock, type SleepInfo } from './sharedchan-wait.js'
import { judgeMiss, missed, spinFor, type Miss } from './sharedchan-spin.js'
import { forget, handleOf, keyOf, remember, resolve, sent, unsent } from './sharedchan-registry.js'
import { GONE, SelWaiter, SelectAgent, SharedChanBusyError, agentOf, dropAgent, setAgent } from './sharedchan-select.js'
import { registerHandle } from './handles.js'
import { FreeList } from './freelist.js'
import { isMainThread, threadId } from 'node:worker_threads'

export interface SharedChanOptions {
  /** Data bytes per slot (rounded up to 8): the largest value it carries. Default 128. */
  slotBytes?: number | undefined
  /** Waiter records: ops that can be blocked on it at once before the slow path. Default 256. */
  waiters?: number | undefined
}

/** What inspect() reports (tests and diagnostics). */
export interface SharedChanState {
  len: number
  cap: number
  closed: boolean
  recvWaiters: number
  sendWaiters: number
  /** Queued ops whose owner sleeps in Atomics.waitAsync (past its spin). */
  sleeping: number
  freeWaiters: number
  /** Copies of this channel inside other channels' slots, not yet received. */
  inFlight: number
}

const RESOLVED: Promise<void> = Promise.resolve()

// Receive results travel from the locked helpers to their caller through these (no tuple).
let recvValue: unknown = undefined
let recvOk = false

// A select waiter whose done word is in a channel this thread has no handle on: #take leaves its
// id here and returns NEED; the public op unlocks, learns the channel (#learn) and runs again.
let unresolved = -1
const NEED = -2
// Handles learned that way, kept strongly (a few) so that the next claim finds them at once.
const learned = new Map<number, SharedChan<unknown>>()
const LEARNED_MAX = 64

// While a select on this thread publishes a case or looks at its cases again (its done word is
// DW_ENQ/DW_DIRTY), the word itself: its own waiters are skipped, never paired with (a select
// never rendezvous with itself).
let selfD: Int32Array | null = null
let selfAt = -1

// What #claimSel found.
const C_WON = 0 // claimed: this partner completes the case
const C_STALE = 1 // the select is won by another case or cancelled: drop the waiter
const C_KEEP = 2 // its select is busy on its own thread (DW_ENQ/DW_DIRTY), or it is our own: skip, keep queued
const C_NEED = 3 // its done word is in a channel this thread cannot see yet

// What a fast op (#fastSend, #fastRecv) did.
const F_DONE = 0
const F_SLOW = 1 // nothing done: take the slow path
const F_FULL = 2 // nothing done: full (a send) ...
const F_EMPTY = 3 // ... or empty (a receive), seen with the gate open

// What a select case's attempt (#attemptLocked) did.
const A_NO = 0 // would block
const A_RECV = 1 // received: recvValue/recvOk
const A_SENT = 2
const A_CLOSED = 3 // a send on a closed channel

/**
 * Moves a select's done word from DW_ENQ/DW_DIRTY (held by its own thread) to `index + 1`: it
 * cannot fail, since only the select's thread leaves those states.
 */
function own(a: SelectAgent, index: number): void {
  for (;;) {
    const s = Atomics.load(a.D, a.at)
    if (s !== DW_ENQ && s !== DW_DIRTY) throw new InternalError(`sharedchan: select done word ${DW_NAMES[s] ?? s} while its thread held it`)
    if (Atomics.compareExchange(a.D, a.at, s, index + 1) === s) return
  }
}

/** A blocked op that has gone to sleep: what its wake-up or its abort settles. */
interface Sleeper {
  readonly w: number
  readonly isSend: boolean
  readonly resolve: (v: never) => void
  readonly reject: (e: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | null
  settled: boolean
}

export class SharedChan<T> implements AsyncIterable<T>, Receivable<T>, Sendable<T> {
  /** The channel's memory. Pass it to a task or Worker and rebuild there with SharedChan.from. */
  readonly buffer: SharedArrayBuffer
  readonly #v: Views
  readonly #I: Int32Array
  readonly #l: ChanLayout
  /** The waiter records' free list (freelist.ts). */
  readonly #fl: FreeList
  readonly #key: number

  static #adopt: SharedArrayBuffer | null = null

  /** `capacity` 0 (the default): unbuffered, rendezvous. See SharedChanOptions for the rest. */
  constructor(capacity = 0, options?: SharedChanOptions) {
    const adopt = SharedChan.#adopt
    SharedChan.#adopt = null
    if (adopt !== null) {
      this.buffer = adopt
      this.#v = viewsOf(adopt)
      this.#I = this.#v.I
      this.#l = readLayout(this.#I)
      this.#fl = freeListOf(this.#l)
      this.#key = keyOf(this.#I[H_ID]!, this.#I[H_ID + 1]!)
      remember(this.#key, this)
      return
    }
    const slot = options?.slotBytes ?? DEFAULT_SLOT_BYTES
    const nwait = options?.waiters ?? DEFAULT_WAITERS
    if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT_BYTES) {
      throw new RangeError(`SharedChan: slotBytes must be an integer in 0..${MAX_SLOT_BYTES}, got ${describeValue(slot)}`)
    }
    if (!Number.isInteger(nwait) || nwait < 1 || nwait > MAX_WAITERS) {
      throw new RangeError(`SharedChan: waiters must be an integer in 1..${MAX_WAITERS}, got ${describeValue(nwait)}`)
    }
    const l = Number.isInteger(capacity) && capacity >= 0 ? chanLayout(capacity, (slot + 7) & ~7, nwait) : null
    if (l === null || l.words * 4 > MAX_BUFFER_BYTES) {
      const limit = l !== null ? ` (the buffer would be ${l.words * 4} bytes, at most ${MAX_BUFFER_BYTES})` : ''
      throw new RangeError(`makechan: size out of range: ${describeValue(capacity)}${limit}`)
    }
    this.buffer = new SharedArrayBuffer(l.words * 4)
    this.#v = viewsOf(this.buffer)
    this.#I = this.#v.I
    this.#l = l
    this.#fl = freeListOf(l)
    const I = this.#I
    const id = crypto.getRandomValues(new Int32Array(2))
    id[1] = id[1]! & 0x1fffff
    I[H_ID] = id[0]!
    I[H_ID + 1] = id[1]!
    I[H_CAP] = capacity
    I[H_SLOT] = l.slotBytes
    I[H_NWAIT] = nwait
    for (let i = 0; i < nwait; i++) I[waiterAt(l, i) + W_NEXT] = i + 2 < nwait + 1 ? i + 2 : 0
    I[H_FREE] = 1
    Atomics.store(I, H_MAGIC, MAGIC)
    this.#key = keyOf(id[0]!, id[1]!)
    remember(this.#key, this)
  }

  /**
   * This thread's handle on the channel whose memory is `buffer` (from `ch.buffer` on any thread).
   * The same object for the same channel on one thread.
   */
  static from<T>(buffer: SharedArrayBuffer): SharedChan<T> {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HDR * 4 || new Int32Array(buffer, 0, 1)[0] !== MAGIC) {
      throw new TypeError(`SharedChan.from: not a SharedChan's buffer: ${describeValue(buffer)}`)
    }
    const id = new Int32Array(buffer, H_ID * 4, 2)
    const known = handleOf<SharedChan<T>>(keyOf(id[0]!, id[1]!))
    if (known !== undefined) return known
    SharedChan.#adopt = buffer
    return new SharedChan<T>()
  }

  /** Values buffered now. */
  get len(): number {
    return this.#count()
  }

  /** Buffer capacity (0 for unbuffered). */
  get cap(): number {
    return this.#l.cap
  }

  /** Data bytes per slot: the largest value this channel carries. */
  get slotBytes(): number {
    return this.#l.slotBytes
  }

  /**
   * Sends `value`, resolving once a receiver has it (unbuffered) or it is buffered. Rejects with
   * ChanClosedError if the channel is closed before or while waiting, SharedChanValueError if the
   * value does not fit a slot, `signal.reason` if aborted first.
   */
  send(value: T, options?: OpOptions): Promise<void> {
    const signal = options?.signal
    if (signal !== undefined) {
      const refused = refuseBySignal('send', signal)
      if (refused !== null) return refused
    }
    try {
      prepare(value, this.#l.slotBytes)
    } catch (e) {
      return Promise.reject(e)
    }
    if (this.#l.cap !== 0 && this.#fastSend() === F_DONE) {
      dropPrepared()
      return mustYield() ? held(undefined) : RESOLVED
    }
    const I = this.#I
    this.#lock()
    for (;;) {
      if (I[H_CLOSED] === CH_CLOSED) {
        this.#unlock()
        dropPrepared()
        return Promise.reject(new ChanClosedError())
      }
      if (this.#sendLocked()) {
        this.#unlock()
        dropPrepared()
        return mustYield() ? held(undefined) : RESOLVED
      }
      if (unresolved < 0) break
      this.#learn()
    }
    const w = this.#alloc()
    if (w < 0) return this.#whenRecordFree(() => this.send(value, options), signal) // unlocks
    writeSlot(this.#v, w + W_SLOT)
    this.#enqueue(H_SENDQ, w, WF_SEND)
    this.#unlock()
    dropPrepared()
    return this.#block(w, true, signal) as Promise<void>
  }

  /** Receives a value; `{ ok: false }` once the channel is closed and drained. */
  recv(options?: OpOptions): Promise<RecvResult<T>> {
    const signal = options?.signal
    if (signal !== undefined) {
      const refused = refuseBySignal('recv', signal)
      if (refused !== null) return refused
    }
    if (this.#l.cap === 0 || this.#fastRecv() !== F_DONE) {
      this.#lock()
      while (!this.#recvLocked()) {
        if (unresolved < 0) {
          const w = this.#alloc()
          if (w < 0) return this.#whenRecordFree(() => this.recv(options), signal)
          this.#enqueue(H_RECVQ, w, 0)
          this.#unlock()
          return this.#block(w, false, signal) as Promise<RecvResult<T>>
        }
        this.#learn()
      }
      this.#unlock()
    }
    const r = { value: finishRead(recvValue), ok: recvOk } as RecvResult<T>
    recvValue = undefined
    return mustYield() ? held(r) : Promise.resolve(r)
  }

  /**
   * Sends only if that can happen now. False when it would block; throws ChanClosedError on a
   * closed channel (misuse panics, as in Go), SharedChanValueError for a value that does not fit.
   */
  trySend(value: T): boolean {
    const I = this.#I
    // Go's lock-free fast fail, unbuffered: open and no receiver waits (one word each). A
    // buffered channel's fullness is two words; #fastSend decides it under the senders' lock.
    if (this.#l.cap === 0 && Atomics.load(I, H_CLOSED) !== CH_CLOSED && Atomics.load(I, H_RECVQ) === 0) return false
    prepare(value, this.#l.slotBytes)
    if (this.#l.cap !== 0) {
      const f = this.#fastSend()
      if (f !== F_SLOW) {
        dropPrepared()
        return f === F_DONE
      }
    }
    this.#lock()
    for (;;) {
      if (I[H_CLOSED] === CH_CLOSED) {
        this.#unlock()
        dropPrepared()
        throw new ChanClosedError()
      }
      const ok = this.#sendLocked()
      if (ok || unresolved < 0) {
        this.#unlock()
        dropPrepared()
        return ok
      }
      this.#learn()
    }
  }

  /** Receives only if a value (or closure) is ready; undefined when it would block. */
  tryRecv(): RecvResult<T> | undefined {
    const I = this.#I
    let ok = false
    if (this.#l.cap === 0) {
      if (Atomics.load(I, H_CLOSED) !== CH_CLOSED && Atomics.load(I, H_SENDQ) === 0) return undefined
    } else {
      const f = this.#fastRecv()
      // Empty while open: closed only ever goes from 0 to 1, so open now means open when the
      // ring was seen empty.
      if (f === F_EMPTY && Atomics.load(I, H_CLOSED) !== CH_CLOSED) return undefined
      ok = f === F_DONE
    }
    if (!ok) {
      this.#lock()
      while (!(ok = this.#recvLocked()) && unresolved >= 0) this.#learn()
      this.#unlock()
    }
    if (!ok) return undefined
    const r = { value: finishRead(recvValue), ok: recvOk } as RecvResult<T>
    recvValue = undefined
    return r
  }

  /**
   * Closes the channel: parked receivers get `ok: false` (after the buffer drains, for later
   * receivers), parked senders reject with ChanClosedError, on whatever thread they wait.
   * Closing twice throws ChanClosedError "close of closed channel".
   */
  close(): void {
    const I = this.#I
    this.#lock()
    if (I[H_CLOSED] === CH_CLOSED) {
      this.#unlock()
      throw new ChanClosedError('ERR_CLOSE_OF_CLOSED')
    }
    Atomics.store(I, H_CLOSED, CH_CLOSED)
    for (const q of [H_RECVQ, H_SENDQ]) {
      for (;;) {
        // A select busy on its own thread (C_KEEP) is dropped here, not kept: it will look at
        // this case again before it opens (DW_DIRTY), and find the channel closed.
        const w = this.#take(q, true)
        if (w === NEED) this.#learn()
        else if (w < 0) break
        else this.#complete(w, WS_CLOSED)
      }
    }
    this.#unlock()
  }

  /** `for await (const v of ch)`: receives until the channel is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: (): Promise<IteratorResult<T, undefined>> =>
        this.recv().then((r) => (r.ok ? { value: r.value, done: false } : { value: undefined, done: true })),
    }
  }

  readonly #describeFn = (): string => this.describe()

  /** One line naming the channel, for reports: its id, capacity and whether it is closed. */
  describe(): string {
    const I = this.#I
    const id = ((I[H_ID + 1]! >>> 0) * 2 ** 32 + (I[H_ID]! >>> 0)).toString(16)
    const kind = this.#l.cap === 0 ? 'unbuffered' : `cap ${this.#l.cap}, len ${this.#count()}`
    return `SharedChan ${id} (${kind}${Atomics.load(I, H_CLOSED) === CH_CLOSED ? ', closed' : ''})`
  }

  /** Queue lengths and state, for tests and diagnostics (a snapshot under the lock). */
  inspect(): SharedChanState {
    const I = this.#I
    const l = this.#l
    this.#lock()
    let free = 0
    for (let i = Atomics.load(I, H_FREE); i !== 0; i = I[waiterAt(l, i - 1) + W_NEXT]!) free++
    let sleeping = 0
    for (const q of [H_RECVQ, H_SENDQ]) {
      for (let i = I[q]!; i !== 0; i = I[waiterAt(l, i - 1) + W_NEXT]!) sleeping += Atomics.load(I, waiterAt(l, i - 1) + W_SLEEP)
    }
    const r = {
      len: this.#count(), cap: l.cap, closed: I[H_CLOSED] === CH_CLOSED, recvWaiters: I[H_NRECVQ]!, sendWaiters: I[H_NSENDQ]!,
      sleeping, freeWaiters: free, inFlight: Atomics.load(I, H_INFLIGHT),
    }
    this.#unlock()
    return r
  }

  // ---- select (src/chan/protocol.ts) ----

  /** A hint: a buffered value, a queued sender (maybe a stale select's), or closed. */
  [RECV_READY](): boolean {
    const I = this.#I
    return this.#count() > 0 || Atomics.load(I, H_SENDQ) !== 0 || Atomics.load(I, H_CLOSED) === CH_CLOSED
  }

  /** A hint: room in the buffer, a queued receiver, or closed (the send would throw). */
  [SEND_READY](): boolean {
    const I = this.#I
    return Atomics.load(I, H_CLOSED) === CH_CLOSED || Atomics.load(I, H_RECVQ) !== 0 || this.#count() < this.#l.cap
  }

  [POLL_RECV](slot: RecvSlot<T>): boolean {
    const r = this.tryRecv()
    if (r === undefined) return false
    slot.value = r.value
    slot.ok = r.ok
    return true
  }

  [POLL_SEND](value: T): boolean {
    return this.trySend(value)
  }

  [ENQUEUE_RECV](sel: Selector, index: number): SelectWaiter {
    return this.#enqueueCase(sel, index, false, undefined)
  }

  [ENQUEUE_SEND](sel: Selector, index: number, value: T): SelectWaiter {
    prepare(value, this.#l.slotBytes)
    return this.#enqueueCase(sel, index, true, value)
  }

  /** Unpublishes a select's case: unlinks its record if still queued, frees it (idempotent). */
  [WITHDRAW](waiter: SelectWaiter): void {
    const c = waiter as SelWaiter
    if (c.gone) return
    c.gone = true
    const I = this.#I
    const w = c.w
    // Under the lock even when it is no longer queued: a partner that dropped it as stale may
    // still be in its critical section.
    this.#lock()
    const f = I[w + W_FLAGS]!
    if ((f & WF_QUEUED) !== 0) this.#unlink((f & WF_SEND) !== 0 ? H_SENDQ : H_RECVQ, w)
    if (c.isSend && I[w + W_STATE] !== WS_DONE) unwriteSlot(I, w + W_SLOT)
    this.#unlock()
    if (!c.primary) this.#free(w)
  }

  [DESCRIBE](): string {
    return `SharedChan(cap ${this.#l.cap}, id ${this.#key.toString(16)})`
  }

  /**
   * Publishes case `k` of `sel` (a send's value prepared), or completes it at once if it can.
   *
   * The first shared case of a select: nothing of the select is published on any thread, so it
   * tries the op as a plain one would and, if that completes, claims `sel` (no one else can).
   * Otherwise its record becomes the select's done word (Selector.doneWord) and is queued, in one
   * critical section, and the agent starts waiting once select returns.
   *
   * A later case: the select's other cases are published, so partners may claim it. It takes
   * its own done word (DONE_OPEN -> DW_ENQ): remote partners now skip its waiters, keeping them
   * queued, while it tries the op as a partner itself (skipping its own waiters); completing, it
   * moves the word to `k + 1`; else it queues the record, and #reopen opens the word again.
   */
  #enqueueCase(sel: Selector, k: number, isSend: boolean, value: unknown): SelectWaiter {
    const I = this.#I
    const agent = agentOf(sel)
    if (agent === undefined) {
      this.#lock()
      const r = this.#attemptLocked(isSend)
      if (r !== A_NO) {
        this.#unlock()
        if (isSend) dropPrepared()
        if (!sel.claim(k)) throw new InternalError('sharedchan: a select with no published case was claimed')
        this.#settleNow(sel, k, isSend, r)
        return GONE
      }
      const w = this.#alloc()
      if (w < 0) {
        this.#unlock()
        if (isSend) dropPrepared()
        throw new SharedChanBusyError(this.#l.nwait)
      }
      I[w + W_DONE] = DONE_OPEN
      I[w + W_DSLEEP] = 0
      const a = new SelectAgent(sel, this, w, I, w + W_DONE)
      const word = sel.doneWord(() => ({ cells: I, index: w + W_DONE, release: () => this.#release(a) }))
      if (word.cells !== I || word.index !== w + W_DONE) {
        this.#unlock()
        throw new InternalError('sharedchan: a select over a SharedChan has a done word outside shared channel memory')
      }
      setAgent(a)
      const c = this.#publish(a, w, k, isSend, value, true)
      this.#unlock()
      if (isSend) dropPrepared()
      // Who selects, taken here in the select's synchronous code (the agent runs from a microtask).
      const g = currentGoroutine()
      const name = currentGoroutineName()
      queueMicrotask(() => this.#await(a, g, name))
      return c
    }
    if (Atomics.compareExchange(agent.D, agent.at, DONE_OPEN, DW_ENQ) !== DONE_OPEN) {
      // A partner claimed the select since its last case was published: the agent settles it.
      if (isSend) dropPrepared()
      return GONE
    }
    selfD = agent.D
    selfAt = agent.at
    try {
      return this.#enqueueLater(agent, sel, k, isSend, value)
    } catch (e) {
      // Only #learn throws here (no thread knew a channel), with the lock released. Open the word
      // so that select's abort can cancel the select and withdraw what is published.
      const s = Atomics.load(agent.D, agent.at)
      if (s === DW_ENQ || s === DW_DIRTY) Atomics.store(agent.D, agent.at, DONE_OPEN)
      throw e
    } finally {
      selfD = null
      selfAt = -1
    }
  }

  /** #enqueueCase for a later case, its select's done word held (DW_ENQ). */
  #enqueueLater(agent: SelectAgent, sel: Selector, k: number, isSend: boolean, value: unknown): SelWaiter {
    this.#lock()
    const r = this.#attemptLocked(isSend)
    if (r !== A_NO) {
      this.#unlock()
      if (isSend) dropPrepared()
      own(agent, k)
      this.#settleNow(sel, k, isSend, r)
      return GONE
    }
    const w = this.#alloc()
    if (w < 0) {
      this.#unlock()
      if (isSend) dropPrepared()
      SharedChan.#reopen(agent)
      throw new SharedChanBusyError(this.#l.nwait)
    }
    const c = this.#publish(agent, w, k, isSend, value, false)
    this.#unlock()
    if (isSend) dropPrepared()
    SharedChan.#reopen(agent)
    return c
  }

  /** Tries a select case's op now, as a partner; A_*. Precondition: lock held; a send's value prepared. */
  #attemptLocked(isSend: boolean): number {
    const I = this.#I
    for (;;) {
      if (isSend) {
        if (I[H_CLOSED] === CH_CLOSED) return A_CLOSED
        if (this.#sendLocked()) return A_SENT
      } else if (this.#recvLocked()) {
        return A_RECV
      }
      if (unresolved < 0) return A_NO
      this.#learn()
    }
  }

  /** Settles a select whose case `k` this thread completed and claimed (outcome A_*). */
  #settleNow(sel: Selector, k: number, isSend: boolean, r: number): void {
    if (r === A_RECV) {
      const ok = recvOk
      const v = finishRead(recvValue)
      recvValue = undefined
      sel.fire(k, v, ok)
    } else if (r === A_SENT) {
      sel.fire(k, undefined, true)
    } else {
      sel.fail(k, new ChanClosedError())
    }
  }

  /** Queues record `w` as case `k` of the agent's select. Precondition: lock held, `w` allocated. */
  #publish(a: SelectAgent, w: number, k: number, isSend: boolean, value: unknown, primary: boolean): SelWaiter {
    const I = this.#I
    const home = (a.home as SharedChan<unknown>).#I
    I[w + W_CASE] = k
    I[w + W_DLO] = home[H_ID]!
    I[w + W_DHI] = home[H_ID + 1]!
    I[w + W_DAT] = a.at
    if (isSend) writeSlot(this.#v, w + W_SLOT)
    this.#enqueue(isSend ? H_SENDQ : H_RECVQ, w, (isSend ? WF_SEND : 0) | WF_SELECT)
    const c = new SelWaiter(this, w, k, isSend, value, primary)
    a.cases.push(c)
    return c
  }

  /**
   * Opens the select's done word again (DW_ENQ -> DONE_OPEN). If a partner came by meanwhile
   * (DW_DIRTY) it may have skipped a case and now wait in the opposite queue, so every published
   * case is tried again (its own waiters skipped) before the next attempt to open; one that
   * completes settles the select.
   */
  static #reopen(a: SelectAgent): void {
    for (;;) {
      if (Atomics.compareExchange(a.D, a.at, DW_ENQ, DONE_OPEN) === DW_ENQ) return
      Atomics.store(a.D, a.at, DW_ENQ) // DW_DIRTY: partners only read it, so no CAS is needed
      for (const c of a.cases) {
        if (!c.gone && (c.ch as SharedChan<unknown>).#recheck(a, c)) return
      }
    }
  }

  /** Tries published case `c` again as a partner (done word held); true if it completed. */
  #recheck(a: SelectAgent, c: SelWaiter): boolean {
    if (c.isSend) prepare(c.value, this.#l.slotBytes)
    this.#lock()
    const r = this.#attemptLocked(c.isSend)
    this.#unlock()
    if (c.isSend) dropPrepared()
    if (r === A_NO) return false
    own(a, c.index)
    this.#settleNow(a.sel, c.index, c.isSend, r)
    return true
  }

  /**
   * The agent: on the select's thread, waits for a partner to claim one of its shared cases
   * (spin, then sleep on the done word), then fires the select with that case's outcome.
   */
  #await(a: SelectAgent, g: number, name: string | undefined): void {
    if (a.done) return
    const D = a.D
    const at = a.at
    const s = spinFor(D, at, DONE_OPEN)
    if (s !== DONE_OPEN) return SharedChan.#claimed(a, s, null)
    const miss = missed()
    // For the deadlock check: a select with an AbortSignal may end without any thread acting (an
    // AbortSignal.timeout's timer is unref'd, so the check cannot see it). The report lists the
    // select from its own park record (src/chan), which names every case.
    const info: SleepInfo = {
      reason: 'select', what: () => `a select over ${(a.home as SharedChan<unknown>).describe()} and its other cases`, g, name,
      cancellable: a.sel.signal !== undefined && a.sel.signal !== null, listed: false,
    }
    const wake = (): void => {
      if (a.done) return
      const now = Atomics.load(D, at)
      if (now === DONE_OPEN) {
        if (!sleepWhile(D, at, DONE_OPEN, at + 1, wake, info)) wake()
        return
      }
      SharedChan.#claimed(a, now, miss)
    }
    if (!sleepWhile(D, at, DONE_OPEN, at + 1, wake, info)) wake()
  }

  /** The done word left DONE_OPEN (state `s`): fire the select if one of its shared cases won. */
  static #claimed(a: SelectAgent, s: number, miss: Miss | null): void {
    if (a.done || s === DONE_CANCELLED) return // settled already (the abort, or a same-thread case)
    const c = a.caseOf(s - 1)
    if (c === undefined) return // a case on a same-thread channel won; it fired at once
    const ch = c.ch as SharedChan<unknown>
    const I = ch.#I
    // The claimer stores the record's outcome under its channel's lock, maybe just after the
    // claim we saw: taking the lock waits for it.
    lock(I)
    const st = I[c.w + W_STATE]!
    const v = !c.isSend && st === WS_DONE ? readSlot(ch.#v, c.w + W_SLOT) : undefined
    const sameThread = I[c.w + W_WAKER] === threadId
    unlock(I)
    if (miss !== null) judgeMiss(miss, sameThread)
    if (st === WS_DONE) {
      a.sel.fire(c.index, c.isSend ? undefined : finishRead(v), true)
    } else if (st === WS_CLOSED) {
      if (c.isSend) a.sel.fail(c.index, new ChanClosedError())
      else a.sel.fire(c.index, undefined, false)
    } else {
      throw new InternalError(`sharedchan: select case ${c.index} claimed but its waiter is ${WS_NAMES[st] ?? st}`)
    }
  }

  /**
   * The select is settled (DoneWord.release, after select withdrew its cases): withdraws what
   * the agent published (an enqueue that completed at once returned GONE, so select may not know
   * the last one), ends the agent's sleep, frees the record holding the done word.
   */
  #release(a: SelectAgent): void {
    a.done = true
    for (const c of a.cases) (c.ch as SharedChan<unknown>)[WITHDRAW](c)
    dropAgent(a)
    Atomics.notify(a.D, a.at)
    this.#free(a.w)
  }

  // ---- the buffered fast path (see the header) ----

  /**
   * Values in the ring now, for len and the select hints: the two ends are read one after the
   * other, so it is a hint, not a moment's count (trySend/tryRecv decide by #fastSend/#fastRecv).
   */
  #count(): number {
    const cap = this.#l.cap
    if (cap === 0) return 0
    const I = this.#I
    const h = Atomics.load(I, H_HEAD)
    return Math.min(cap, ringCount(Atomics.load(I, H_TAIL), h, cap))
  }

  /**
   * A send into the ring holding only the senders' lock: F_DONE, or F_FULL (nothing done; the
   * ring was full at the moment H_HEAD was loaded, while the tail could not move, with no
   * receiver queued and the channel open: a trySend may return false), or F_SLOW (nothing done:
   * the lock was busy or the gate shut; the caller takes the slow path). Precondition: cap > 0,
   * value prepared.
   */
  #fastSend(): number {
    const I = this.#I
    if (Atomics.compareExchange(I, H_SLOCK, SL_FREE, SL_HELD) !== SL_FREE) return F_SLOW
    // Read after the CAS: a slow op that shut the gate held H_SLOCK while it did (see the header).
    if ((Atomics.load(I, H_GATE) & G_NO_SEND) !== 0) {
      Atomics.store(I, H_SLOCK, SL_FREE)
      return F_SLOW
    }
    const cap = this.#l.cap
    const t = I[H_TAIL]!
    // The cached head is never ahead of H_HEAD, so a ring that is not full by it is not full.
    if (ringCount(t, I[H_SHEAD]!, cap) === cap) {
      const h = Atomics.load(I, H_HEAD)
      I[H_SHEAD] = h
      if (ringCount(t, h, cap) === cap) {
        Atomics.store(I, H_SLOCK, SL_FREE)
        return F_FULL
      }
    }
    writeSlot(this.#v, slotAt(this.#l, t >= cap ? t - cap : t))
    // Publishes the slot: a receiver reads H_TAIL (Atomics.load) before it reads the slot.
    Atomics.store(I, H_TAIL, t + 1 === 2 * cap ? 0 : t + 1)
    Atomics.store(I, H_SLOCK, SL_FREE)
    return F_DONE
  }

  /**
   * A receive from the ring holding only the receivers' lock: F_DONE, the value in
   * recvValue/recvOk (call finishRead); F_EMPTY (nothing taken; the ring was empty at the moment
   * H_TAIL was loaded, while the head could not move, with no sender queued; closed is not
   * looked at); F_SLOW (the lock was busy or the gate shut: senders are queued and the slow path
   * refills from them). Precondition: cap > 0.
   */
  #fastRecv(): number {
    const I = this.#I
    if (Atomics.compareExchange(I, H_RLOCK, SL_FREE, SL_HELD) !== SL_FREE) return F_SLOW
    if ((Atomics.load(I, H_GATE) & G_NO_RECV) !== 0) {
      Atomics.store(I, H_RLOCK, SL_FREE)
      return F_SLOW
    }
    const cap = this.#l.cap
    const h = I[H_HEAD]!
    if (I[H_RTAIL] === h) {
      const t = Atomics.load(I, H_TAIL)
      I[H_RTAIL] = t
      if (t === h) {
        Atomics.store(I, H_RLOCK, SL_FREE)
        return F_EMPTY
      }
    }
    recvValue = readSlot(this.#v, slotAt(this.#l, h >= cap ? h - cap : h))
    recvOk = true
    // Frees the slot: a sender reads H_HEAD (Atomics.load) before it writes the slot again.
    Atomics.store(I, H_HEAD, h + 1 === 2 * cap ? 0 : h + 1)
    Atomics.store(I, H_RLOCK, SL_FREE)
    return F_DONE
  }

  /** The slow path's lock: H_LOCK, then (buffered) both side locks, so no fast op runs meanwhile. */
  #lock(): void {
    const I = this.#I
    lock(I)
    if (this.#l.cap === 0) return
    sideLock(I, H_SLOCK)
    sideLock(I, H_RLOCK)
  }

  #unlock(): void {
    this.#unlockSides()
    unlock(this.#I)
  }

  /**
   * Before the side locks are released: the gate is made from the queues and closed as they are
   * now, and the fast ops' cached ends are brought up to date (the slow path moved the ends).
   */
  #unlockSides(): void {
    if (this.#l.cap === 0) return
    const I = this.#I
    const g = (I[H_NRECVQ]! > 0 || I[H_CLOSED] === CH_CLOSED ? G_NO_SEND : 0) | (I[H_NSENDQ]! > 0 ? G_NO_RECV : 0)
    if (I[H_GATE] !== g) Atomics.store(I, H_GATE, g)
    I[H_SHEAD] = I[H_HEAD]!
    I[H_RTAIL] = I[H_TAIL]!
    Atomics.store(I, H_RLOCK, SL_FREE)
    Atomics.store(I, H_SLOCK, SL_FREE)
  }

  // ---- under the lock ----

  /**
   * Go's send(): hand-off to the first parked receiver that has not cancelled, else into the
   * ring. False when it would block. Precondition: lock held, open, value prepared.
   */
  #sendLocked(): boolean {
    const I = this.#I
    for (;;) {
      const r = this.#take(H_RECVQ, false)
      if (r < 0) {
        if (r === NEED) return false // unresolved is set: the caller learns the channel and retries
        break
      }
      writeSlot(this.#v, r + W_SLOT)
      if (this.#complete(r, WS_DONE)) return true
      unwriteSlot(I, r + W_SLOT) // it cancelled: try the next one
    }
    const l = this.#l
    const t = I[H_TAIL]!
    if (l.cap !== 0 && ringCount(t, I[H_HEAD]!, l.cap) < l.cap) {
      writeSlot(this.#v, slotAt(l, t >= l.cap ? t - l.cap : t))
      Atomics.store(I, H_TAIL, t + 1 === 2 * l.cap ? 0 : t + 1)
      return true
    }
    return false
  }

  /**
   * Go's chanrecv()/recv(): the ring's head (refilling its slot from the first parked sender),
   * else a parked sender's value, else closure. Leaves the result in recvValue/recvOk (call
   * finishRead after unlocking). False when it would block. Precondition: lock held.
   */
  #recvLocked(): boolean {
    const I = this.#I
    const l = this.#l
    const h = I[H_HEAD]!
    if (l.cap !== 0 && I[H_TAIL] !== h) {
      const at = slotAt(l, h >= l.cap ? h - l.cap : h)
      recvValue = readSlot(this.#v, at)
      recvOk = true
      let refilled = false
      for (;;) {
        const s = this.#take(H_SENDQ, false)
        if (s < 0) {
          if (s === NEED) {
            discardRead()
            return false
          }
          break
        }
        copySlot(I, s + W_SLOT, at)
        if (this.#complete(s, WS_DONE)) {
          refilled = true
          break
        }
      }
      // A refill from a full ring puts the sender's value in the slot just read: that slot is the
      // tail's too (tail = head + cap), so both move on.
      Atomics.store(I, H_HEAD, h + 1 === 2 * l.cap ? 0 : h + 1)
      if (refilled) {
        const t = I[H_TAIL]!
        Atomics.store(I, H_TAIL, t + 1 === 2 * l.cap ? 0 : t + 1)
      }
      return true
    }
    for (;;) {
      const s = this.#take(H_SENDQ, false)
      if (s < 0) {
        if (s === NEED) return false
        break
      }
      const v = readSlot(this.#v, s + W_SLOT)
      if (this.#complete(s, WS_DONE)) {
        recvValue = v
        recvOk = true
        return true
      }
      discardRead()
    }
    if (I[H_CLOSED] === CH_CLOSED) {
      recvValue = undefined
      recvOk = false
      return true
    }
    return false
  }

  /** Notifies a claimed record's owner if it sleeps. Precondition: lock held (the record cannot be reused). */
  #wake(w: number): void {
    if (Atomics.load(this.#I, w + W_SLEEP) !== 0) Atomics.notify(this.#I, w + W_STATE)
  }

  /** Pops a free record for this thread (word offset), or -1. Precondition: lock held (the only popper). */
  #alloc(): number {
    const I = this.#I
    const w = this.#fl.pop(I)
    if (w < 0) return -1
    I[w + W_SLEEP] = 0
    I[w + W_OWNER] = threadId
    Atomics.store(I, w + W_STATE, WS_WAITING)
    return w
  }

  /** Pushes record `w` on the free list (lock-free). Precondition: its owner is done with it. */
  #free(w: number): void {
    const I = this.#I
    const l = this.#l
    const idx = (w - l.waiters) / l.wWords + 1
    Atomics.store(I, w + W_STATE, WS_FREE)
    this.#fl.push(I, w, idx)
  }

  /** Appends record `w` to queue `q`. Precondition: lock held, `w` just allocated. */
  #enqueue(q: number, w: number, flags: number): void {
    const I = this.#I
    const l = this.#l
    const idx = (w - l.waiters) / l.wWords + 1
    const t = I[q + 1]!
    I[w + W_NEXT] = 0
    I[w + W_PREV] = t
    I[w + W_FLAGS] = flags | WF_QUEUED
    if (t === 0) Atomics.store(I, q, idx)
    else I[waiterAt(l, t - 1) + W_NEXT] = idx
    I[q + 1] = idx
    const nq = q === H_RECVQ ? H_NRECVQ : H_NSENDQ
    I[nq] = I[nq]! + 1
  }

  /** Unlinks queued record `w` from queue `q`. Precondition: lock held, WF_QUEUED set. */
  #unlink(q: number, w: number): void {
    const I = this.#I
    const l = this.#l
    const next = I[w + W_NEXT]!
    const prev = I[w + W_PREV]!
    if (prev === 0) Atomics.store(I, q, next)
    else I[waiterAt(l, prev - 1) + W_NEXT] = next
    if (next === 0) I[q + 1] = prev
    else I[waiterAt(l, next - 1) + W_PREV] = prev
    I[w + W_FLAGS] = I[w + W_FLAGS]! & ~WF_QUEUED
    const nq = q === H_RECVQ ? H_NRECVQ : H_NSENDQ
    I[nq] = I[nq]! - 1
  }

  /**
   * Takes the first waiter of queue `q` that a partner may complete, unlinked (word offset); -1
   * when there is none; NEED (with `unresolved` set) when a select waiter's done word is in a
   * channel this thread has no handle on. A plain waiter is taken as it is (the caller moves the
   * value and claims it by CAS on W_STATE, #complete). A select waiter is claimed here, through its
   * done word, before any value moves: a stale one (its select won elsewhere or cancelled) is
   * dropped, one whose select is busy on its own thread is skipped and stays queued (dropped
   * instead when `dropBusy`: close). Precondition: lock held.
   */
  #take(q: number, dropBusy: boolean): number {
    const I = this.#I
    const l = this.#l
    let idx = I[q]!
    while (idx !== 0) {
      const w = waiterAt(l, idx - 1)
      const next = I[w + W_NEXT]!
      if ((I[w + W_FLAGS]! & WF_SELECT) === 0) {
        this.#unlink(q, w)
        return w
      }
      const c = this.#claimSel(w)
      if (c === C_WON) {
        this.#unlink(q, w)
        return w
      }
      if (c === C_NEED) return NEED
      if (c === C_STALE || (dropBusy && c === C_KEEP)) this.#unlink(q, w)
      idx = next
    }
    return -1
  }

  /** Claims select waiter `w` through its done word (Go's selectDone CAS). Precondition: lock held. */
  #claimSel(w: number): number {
    const I = this.#I
    const D = this.#doneCells(w)
    if (D === null) return C_NEED
    const at = I[w + W_DAT]!
    if (D === selfD && at === selfAt) return C_KEEP
    const won = I[w + W_CASE]! + 1
    for (;;) {
      const s = Atomics.compareExchange(D, at, DONE_OPEN, won)
      if (s === DONE_OPEN) return C_WON
      if (s === DW_DIRTY) return C_KEEP
      if (s !== DW_ENQ) return C_STALE
      if (Atomics.compareExchange(D, at, DW_ENQ, DW_DIRTY) === DW_ENQ) return C_KEEP
    }
  }

  /** The cells holding select waiter `w`'s done word, or null (and `unresolved` set) if unknown here. */
  #doneCells(w: number): Int32Array | null {
    const I = this.#I
    const lo = I[w + W_DLO]!
    const hi = I[w + W_DHI]!
    if (lo === I[H_ID] && hi === I[H_ID + 1]) return I
    const key = keyOf(lo, hi)
    const h = handleOf<SharedChan<unknown>>(key) ?? learned.get(key)
    if (h !== undefined) return h.#I
    unresolved = key
    return null
  }

  /**
   * Completes waiter `w`, taken by #take, once its value has moved: state `st` (WS_DONE or
   * WS_CLOSED), and its owner woken. A plain waiter is claimed here by CAS and may have cancelled
   * (false: the caller undoes the move and takes the next). A select waiter was claimed by #take.
   * Precondition: lock held.
   */
  #complete(w: number, st: number): boolean {
    const I = this.#I
    // Read by the owner only once the state left WAITING (the CAS or store below publishes it).
    I[w + W_WAKER] = threadId
    if ((I[w + W_FLAGS]! & WF_SELECT) !== 0) {
      Atomics.store(I, w + W_STATE, st)
      const D = this.#doneCells(w)!
      const at = I[w + W_DAT]!
      if (Atomics.load(D, at + 1) !== 0) Atomics.notify(D, at) // at + 1: W_DSLEEP
      return true
    }
    if (Atomics.compareExchange(I, w + W_STATE, WS_WAITING, st) !== WS_WAITING) return false
    this.#wake(w)
    return true
  }

  /**
   * Learns the channel `unresolved` names (a select's done word lives there): unlocks, finds its
   * memory through the registry (which may wait for the thread that holds it), locks again.
   * Throws SharedChanLostError if no thread answers; the lock is then released and any prepared
   * value dropped. Precondition: lock held.
   */
  #learn(): void {
    const key = unresolved
    unresolved = -1
    this.#unlock()
    if (handleOf(key) === undefined && !learned.has(key)) {
      let buf: SharedArrayBuffer
      try {
        buf = resolve(key)
      } catch (e) {
        dropPrepared()
        throw e
      }
      learned.set(key, SharedChan.from<unknown>(buf))
      forget(key)
      if (learned.size > LEARNED_MAX) learned.delete(learned.keys().next().value!)
    }
    this.#lock()
  }

  // ---- blocking ----

  /** Waits for queued record `w` to be claimed: spin, then sleep. Precondition: lock released. */
  #block(w: number, isSend: boolean, signal: AbortSignal | undefined): Promise<unknown> {
    const I = this.#I
    const st = spinFor(I, w + W_STATE, WS_WAITING)
    if (st !== WS_WAITING) {
      const r = this.#finish(w, st, isSend)
      if (r instanceof Error) return Promise.reject(r)
      return mustYield() ? held(r) : Promise.resolve(r)
    }
    // What the deadlock check reports if this op sleeps forever (made once per blocked op).
    const info: SleepInfo = { reason: isSend ? 'chan send' : 'chan receive', what: this.#describeFn, g: currentGoroutine(), name: currentGoroutineName(), cancellable: signal !== undefined }
    const miss = missed()
    return new Promise((resolve, reject) => {
      const op: Sleeper = { w, isSend, resolve, reject, signal, onAbort: null, settled: false }
      if (signal !== undefined) {
        op.onAbort = () => this.#cancel(op)
        signal.addEventListener('abort', op.onAbort, { once: true })
      }
      const wake = (): void => {
        if (op.settled) return
        const s = Atomics.load(I, w + W_STATE)
        if (s === WS_WAITING) {
          if (!sleepWhile(I, w + W_STATE, WS_WAITING, w + W_SLEEP, wake, info)) wake()
          return
        }
        op.settled = true
        if (op.onAbort !== null) signal!.removeEventListener('abort', op.onAbort)
        judgeMiss(miss, I[w + W_WAKER] === threadId)
        const r = this.#finish(w, s, isSend)
        if (r instanceof Error) reject(r)
        else resolve(r as never)
      }
      wake()
    })
  }

  /**
   * The owner's side once its record left WAITING: reads a received value, frees the record.
   * Returns the op's result, or the error it rejects with.
   */
  #finish(w: number, st: number, isSend: boolean): unknown {
    const I = this.#I
    if (st === WS_DONE) {
      if (isSend) {
        this.#free(w)
        return undefined
      }
      const v = readSlot(this.#v, w + W_SLOT)
      this.#free(w)
      return { value: finishRead(v), ok: true }
    }
    if (st === WS_CLOSED) {
      if (isSend) {
        unwriteSlot(I, w + W_SLOT)
        this.#free(w)
        return new ChanClosedError()
      }
      this.#free(w)
      return { value: undefined, ok: false }
    }
    throw new InternalError(`sharedchan: waiter in state ${WS_NAMES[st] ?? st}`)
  }

  /** An abort while `op` sleeps: withdraw it unless a partner claimed it first (then it completes). */
  #cancel(op: Sleeper): void {
    const I = this.#I
    const w = op.w
    if (op.settled) return
    if (Atomics.compareExchange(I, w + W_STATE, WS_WAITING, WS_CANCELLED) !== WS_WAITING) return // claimed: its wake-up settles it
    op.settled = true
    this.#lock()
    if ((I[w + W_FLAGS]! & WF_QUEUED) !== 0) this.#unlink((I[w + W_FLAGS]! & WF_SEND) !== 0 ? H_SENDQ : H_RECVQ, w)
    if (op.isSend) unwriteSlot(I, w + W_SLOT)
    this.#unlock()
    Atomics.notify(I, w + W_STATE) // ends our own waitAsync (its callback sees `settled`)
    this.#free(w)
    op.reject(op.signal!.reason)
  }

  /**
   * The slow path when every waiter record is taken: sleep until one is freed, then run the op
   * again from the start. Precondition: lock held (released here).
   */
  #whenRecordFree<R>(retry: () => Promise<R>, signal: AbortSignal | undefined): Promise<R> {
    dropPrepared()
    this.#unlockSides() // waitThenRetry releases H_LOCK itself
    const info: SleepInfo = { reason: 'chan op', what: () => `${this.describe()}: waiting for a free waiter record`, g: currentGoroutine(), name: currentGoroutineName(), cancellable: signal !== undefined }
    return this.#fl.waitThenRetry(this.#I, retry, signal, info)
  }
}

// A SharedChan crosses as a task argument or result as a handle on the same memory, not a copy.
// The name carries this module's URL: a thread may load two copies of it (src under tsx and the
// built dist), each with its own class, and a handle name maps to one class per thread.
registerHandle(`gort.SharedChan ${import.meta.url}`, SharedChan, {
  encode: (c: SharedChan<unknown>) => c.buffer,
  decode: (b: SharedArrayBuffer) => SharedChan.from(b),
})

function refuseBySignal(op: string, signal: AbortSignal): Promise<never> | null {
  if (!(signal instanceof AbortSignal)) {
    return Promise.reject(new TypeError(`${op}: options.signal must be an AbortSignal, got ${describeValue(signal)}`))
  }
  return signal.aborted ? Promise.reject(signal.reason) : null
}

// A SharedChan crosses inside another as its id; the registry finds the memory on the other side.
setChanHooks({
  isChan: (v) => v instanceof SharedChan,
  sent(c, I, data) {
    const ch = c as SharedChan<unknown>
    const inner = new Int32Array(ch.buffer, 0, HDR)
    I[data] = inner[H_ID]!
    I[data + 1] = inner[H_ID + 1]!
    sent(inner, keyOf(inner[H_ID]!, inner[H_ID + 1]!), ch.buffer)
  },
  unsent(lo, hi) {
    const key = keyOf(lo, hi)
    unsent(new Int32Array(resolve(key), 0, HDR), key)
  },
  received(lo, hi) {
    const key = keyOf(lo, hi)
    const ch = SharedChan.from(resolve(key))
    unsent(new Int32Array(ch.buffer, 0, HDR), key)
    return ch
  },
})

/** A channel's waiter records as freelist.ts sees them. */
function freeListOf(l: ChanLayout): FreeList {
  return new FreeList(H_FREE, H_FREEWAIT, H_FREESEQ, W_NEXT, (i) => waiterAt(l, i))
}

/** Values between ring positions `head` and `tail` (both modulo 2 * cap). */
function ringCount(tail: number, head: number, cap: number): number {
  const d = tail - head
  return d < 0 ? d + 2 * cap : d
}

/** CAS attempts on a side lock before a worker thread yields its core between attempts. */
const SIDE_SPIN = 200

/**
 * Takes a side lock for the slow path. Its holder is a fast op (a few stores, no waiting) or
 * another slow op (which holds H_LOCK, so not while we do): it is always about to release it. A
 * worker yields its core between attempts once the spin is long (the holder may be descheduled);
 * the main thread only spins, as in lock().
 */
function sideLock(I: Int32Array, at: number): void {
  for (let i = 0; ; i++) {
    if (Atomics.compareExchange(I, at, SL_FREE, SL_HELD) === SL_FREE) return
    if (i >= SIDE_SPIN && !isMainThread) Atomics.wait(I, at, SL_HELD, 0.05)
  }
}
