/**
 * Go's package sync across threads: SharedMutex, SharedRWMutex, SharedWaitGroup and a weighted
 * SharedSemaphore (golang.org/x/sync/semaphore), each over one SharedArrayBuffer that any thread
 * of the process can attach to (`X.from(buffer)`): the main thread, any M, a plain Worker. Each
 * is registered as a handle, so passing one to a task gives the task the same lock, not a copy.
 * Words and states: sharedsync-layout.ts. Queues, the mutex and semaphore cores:
 * sharedsync-queue.ts. Design notes: docs/design/sharedsync.md.
 *
 * Invariants:
 * - A handle holds no state of its own beyond its views: two handles on one buffer, on one thread
 *   or two, are the same primitive.
 * - Waiting never blocks an event loop: a waiter spins briefly, then sleeps in Atomics.waitAsync
 *   (sharedchan-wait.ts's sleepWhile, which marks a parked M resumed before the continuation).
 * - Misuse throws Go's text as a SyncError and leaves the state as it was: unlock of an unlocked
 *   mutex, RUnlock/Unlock of an unlocked RWMutex, a negative WaitGroup counter, a release of
 *   more permits than were held.
 * - RWMutex is Go's algorithm: H_READERS counts readers in, minus MAX_READERS while a writer is
 *   in or waits (so new readers queue: writer preference); H_READERWAIT counts the readers a
 *   waiting writer still waits for, and the last of them releases writerSem.
 */

import { describeValue } from '../../errors.js'
import { SyncError } from '../../chan/errors.js'
import type { OpOptions } from '../../chan/chan.js'
import { held, mustYield } from '../../chan/yield.js'
import { SPIN, currentGoroutine, currentGoroutineName, sleepWhile, spinWhile, type SleepInfo } from './sharedchan-wait.js'
import { registerHandle } from './handles.js'
import { WaitQueue, checkCount, muLock, muTryLock, muUnlock, semAcquire, semRelease, semReleaseUpTo, semTryAcquire } from './sharedsync-queue.js'
import {
  DEFAULT_WAITERS, H_COUNT, H_GEN, H_KIND, H_MAGIC, H_NWAIT, H_READERS, H_READERWAIT, H_SIZE, HDR, KIND_MUTEX, KIND_NAMES,
  KIND_RWMUTEX, KIND_SEMAPHORE, KIND_WAITGROUP, MAGIC, MAX_READERS, MAX_WAITERS, MU_UNLOCKED, Q_LEN, Q_STATE, queueAt,
} from './sharedsync-layout.js'

export interface SharedSyncOptions {
  /** Waiter records per queue: ops that can wait at once before the (slower) overflow path. Default 256. */
  waiters?: number | undefined
}

const RESOLVED: Promise<void> = Promise.resolve()
const MAX_PERMITS = 2 ** 31 - 1

/** A new buffer: header, then `queues` queues (state words given). */
function make(kind: number, options: SharedSyncOptions | undefined, states: readonly number[]): SharedArrayBuffer {
  const nwait = options?.waiters ?? DEFAULT_WAITERS
  if (!Number.isInteger(nwait) || nwait < 1 || nwait > MAX_WAITERS) {
    throw new RangeError(`${KIND_NAMES[kind]}: waiters must be an integer in 1..${MAX_WAITERS}, got ${describeValue(nwait)}`)
  }
  const buf = new SharedArrayBuffer(queueAt(nwait, states.length) * 4)
  const I = new Int32Array(buf, 0, HDR)
  I[H_KIND] = kind
  I[H_NWAIT] = nwait
  states.forEach((s, i) => WaitQueue.init(buf, queueAt(nwait, i), nwait, s))
  Atomics.store(I, H_MAGIC, MAGIC)
  return buf
}

/** The header of a buffer made for `kind`, or a TypeError naming what it got. */
function attach(kind: number, buffer: unknown): Int32Array {
  const ok = buffer instanceof SharedArrayBuffer && buffer.byteLength >= HDR * 4
  const I = ok ? new Int32Array(buffer, 0, HDR) : null
  if (I === null || Atomics.load(I, H_MAGIC) !== MAGIC || I[H_KIND] !== kind) {
    throw new TypeError(`${KIND_NAMES[kind]}.from: not a ${KIND_NAMES[kind]}'s buffer: ${describeValue(buffer)}`)
  }
  return I
}

/** `options.signal` checked: the signal, or a rejection (bad type, or already aborted). */
function signalOf(what: string, options: OpOptions | undefined): AbortSignal | undefined | Promise<never> {
  const signal = options?.signal
  if (signal === undefined) return undefined
  if (!(signal instanceof AbortSignal)) {
    return Promise.reject(new TypeError(`${what}: options.signal must be an AbortSignal, got ${describeValue(signal)}`))
  }
  return signal.aborted ? Promise.reject(signal.reason) : signal
}

/**
 * Waits for `p` (which cannot be withdrawn), but rejects with the signal's reason if it aborts
 * first; `undo` then runs once `p` completes, so the abort leaves no trace.
 */
function abortable(p: Promise<void>, signal: AbortSignal | undefined, undo: () => void): Promise<void> {
  if (signal === undefined) return p
  return new Promise<void>((resolve, reject) => {
    let aborted = false
    const onAbort = (): void => {
      aborted = true
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    void p.then(() => {
      signal.removeEventListener('abort', onAbort)
      if (aborted) undo()
      else resolve()
    })
  })
}

// ---- SharedMutex ----

/** Go's sync.Mutex across threads: FIFO hand-off once anyone queues; not owned by a goroutine. */
export class SharedMutex {
  /** The mutex's memory: pass it (or the mutex itself) to a task or Worker. */
  readonly buffer: SharedArrayBuffer
  readonly #q: WaitQueue

  constructor(options?: SharedSyncOptions) {
    this.buffer = SharedMutex.#adopt ?? make(KIND_MUTEX, options, [MU_UNLOCKED])
    SharedMutex.#adopt = null
    const n = new Int32Array(this.buffer, 0, HDR)[H_NWAIT]!
    this.#q = new WaitQueue(this.buffer, queueAt(n, 0), n, 'sync.Mutex.Lock', 'a SharedMutex')
  }

  /** The buffer the next construction attaches to (set only by from(), for one call). */
  static #adopt: SharedArrayBuffer | null = null

  /** A handle on the mutex whose memory is `buffer` (from `m.buffer` on any thread). */
  static from(buffer: SharedArrayBuffer): SharedMutex {
    attach(KIND_MUTEX, buffer)
    SharedMutex.#adopt = buffer
    return new SharedMutex()
  }

  /** Waits for the lock. An abort while waiting leaves the queue as it was. */
  lock(options?: OpOptions): Promise<void> {
    const signal = signalOf('SharedMutex.lock', options)
    if (signal instanceof Promise) return signal
    return muLock(this.#q, signal)
  }

  /** Takes the lock if it is free; never waits. */
  tryLock(): boolean {
    return muTryLock(this.#q)
  }

  /** Unlocks (any thread may); throws SyncError "sync: unlock of unlocked mutex" if not locked. */
  unlock(): void {
    muUnlock(this.#q)
  }

  /** Whether it is held now (diagnostics; racy by nature). */
  get locked(): boolean {
    return Atomics.load(this.#q.I, Q_STATE) !== MU_UNLOCKED
  }

  /** Ops queued now (diagnostics). */
  get waiting(): number {
    return Atomics.load(this.#q.I, Q_LEN)
  }

  /** Records free (tests: all of them once nobody waits). */
  freeWaiters(): number {
    return this.#q.freeRecords()
  }
}

// ---- SharedSemaphore ----

/** golang.org/x/sync/semaphore's Weighted across threads: `size` permits, FIFO acquires. */
export class SharedSemaphore {
  readonly buffer: SharedArrayBuffer
  readonly #q: WaitQueue
  /** The total permits (fixed at construction). */
  readonly size: number

  static #adopt: SharedArrayBuffer | null = null

  constructor(size: number, options?: SharedSyncOptions) {
    const adopt = SharedSemaphore.#adopt
    SharedSemaphore.#adopt = null
    if (adopt === null) checkCount('SharedSemaphore', size, MAX_PERMITS, 'size')
    this.buffer = adopt ?? make(KIND_SEMAPHORE, options, [size])
    const H = new Int32Array(this.buffer, 0, HDR)
    if (adopt === null) H[H_SIZE] = size
    this.size = H[H_SIZE]!
    this.#q = new WaitQueue(this.buffer, queueAt(H[H_NWAIT]!, 0), H[H_NWAIT]!, 'semacquire', 'a SharedSemaphore')
  }

  static from(buffer: SharedArrayBuffer): SharedSemaphore {
    attach(KIND_SEMAPHORE, buffer)
    SharedSemaphore.#adopt = buffer
    return new SharedSemaphore(0)
  }

  /**
   * Waits for `n` permits (default 1), first come first served: a waiting request for many holds
   * back later requests for few. A request for more than `size` rejects with a RangeError at once
   * (x/sync would wait for the context to end).
   */
  acquire(n = 1, options?: OpOptions): Promise<void> {
    const signal = signalOf('SharedSemaphore.acquire', options)
    if (signal instanceof Promise) return signal
    try {
      checkCount('SharedSemaphore.acquire', n, this.size)
    } catch (e) {
      return Promise.reject(e)
    }
    return semAcquire(this.#q, n, signal)
  }

  /** Takes `n` permits only if nobody waits and they are free now. */
  tryAcquire(n = 1): boolean {
    checkCount('SharedSemaphore.tryAcquire', n, MAX_PERMITS)
    return n <= this.size && semTryAcquire(this.#q, n)
  }

  /** Returns `n` permits; throws SyncError "semaphore: released more than held" beyond `size`. */
  release(n = 1): void {
    checkCount('SharedSemaphore.release', n, MAX_PERMITS)
    if (!semReleaseUpTo(this.#q, n, this.size)) throw new SyncError('ERR_SEMAPHORE_RELEASED_MORE')
  }

  /** Permits free now (diagnostics). */
  get available(): number {
    return Atomics.load(this.#q.I, Q_STATE)
  }

  get waiting(): number {
    return Atomics.load(this.#q.I, Q_LEN)
  }

  freeWaiters(): number {
    return this.#q.freeRecords()
  }
}

// ---- SharedRWMutex ----

/** Go's sync.RWMutex across threads: many readers or one writer; a waiting writer holds back new readers. */
export class SharedRWMutex {
  readonly buffer: SharedArrayBuffer
  readonly #H: Int32Array
  /** Serialises writers. */
  readonly #w: WaitQueue
  /** A writer waits here for the readers in when it came to depart. */
  readonly #writerSem: WaitQueue
  /** Readers wait here for the writer to leave. */
  readonly #readerSem: WaitQueue

  static #adopt: SharedArrayBuffer | null = null

  constructor(options?: SharedSyncOptions) {
    this.buffer = SharedRWMutex.#adopt ?? make(KIND_RWMUTEX, options, [MU_UNLOCKED, 0, 0])
    SharedRWMutex.#adopt = null
    const H = (this.#H = new Int32Array(this.buffer, 0, HDR))
    const n = H[H_NWAIT]!
    this.#w = new WaitQueue(this.buffer, queueAt(n, 0), n, 'sync.RWMutex.Lock', 'a SharedRWMutex')
    this.#writerSem = new WaitQueue(this.buffer, queueAt(n, 1), n, 'sync.RWMutex.Lock', 'a SharedRWMutex')
    this.#readerSem = new WaitQueue(this.buffer, queueAt(n, 2), n, 'sync.RWMutex.RLock', 'a SharedRWMutex')
  }

  static from(buffer: SharedArrayBuffer): SharedRWMutex {
    attach(KIND_RWMUTEX, buffer)
    SharedRWMutex.#adopt = buffer
    return new SharedRWMutex()
  }

  /**
   * Waits to read. An abort rejects at once; if the reader was already counted in (a writer was
   * in), it leaves as soon as the writer lets it in, so the abort leaves no trace.
   */
  rLock(options?: OpOptions): Promise<void> {
    const signal = signalOf('SharedRWMutex.rLock', options)
    if (signal instanceof Promise) return signal
    if (Atomics.add(this.#H, H_READERS, 1) + 1 >= 0) return mustYield() ? held(undefined) : RESOLVED
    return abortable(semAcquire(this.#readerSem, 1, undefined), signal, () => this.rUnlock())
  }

  /** Takes a read lock if no writer is in or waiting; never waits. */
  tryRLock(): boolean {
    for (;;) {
      const c = Atomics.load(this.#H, H_READERS)
      if (c < 0) return false
      if (Atomics.compareExchange(this.#H, H_READERS, c, c + 1) === c) return true
    }
  }

  /** Ends a read; throws SyncError "sync: RUnlock of unlocked RWMutex" if no reader was in. */
  rUnlock(): void {
    const H = this.#H
    const r = Atomics.sub(H, H_READERS, 1) - 1
    if (r >= 0) return
    if (r + 1 === 0 || r + 1 === -MAX_READERS) {
      Atomics.add(H, H_READERS, 1)
      throw new SyncError('ERR_RUNLOCK_OF_UNLOCKED')
    }
    // A writer waits: the last reader it waits for lets it in.
    if (Atomics.sub(H, H_READERWAIT, 1) - 1 === 0) semRelease(this.#writerSem, 1)
  }

  /**
   * Waits to write: first for other writers, then for the readers already in. An abort while it
   * waits for writers leaves no trace at once; an abort while it waits for readers rejects at
   * once, and the write lock it then gets is released straight away.
   */
  async lock(options?: OpOptions): Promise<void> {
    const signal = signalOf('SharedRWMutex.lock', options)
    if (signal instanceof Promise) return signal
    await muLock(this.#w, signal)
    const H = this.#H
    // Announce to readers: from now on they queue.
    const r = Atomics.sub(H, H_READERS, MAX_READERS)
    if (r !== 0 && Atomics.add(H, H_READERWAIT, r) + r !== 0) {
      return abortable(semAcquire(this.#writerSem, 1, undefined), signal, () => this.unlock())
    }
  }

  /** Takes the write lock if nobody holds either lock; never waits. */
  tryLock(): boolean {
    if (!muTryLock(this.#w)) return false
    if (Atomics.compareExchange(this.#H, H_READERS, 0, -MAX_READERS) !== 0) {
      muUnlock(this.#w)
      return false
    }
    return true
  }

  /** Ends a write: lets in every reader that queued, then the next writer. */
  unlock(): void {
    const H = this.#H
    const r = Atomics.add(H, H_READERS, MAX_READERS) + MAX_READERS
    if (r >= MAX_READERS) {
      Atomics.sub(H, H_READERS, MAX_READERS)
      throw new SyncError('ERR_RWUNLOCK_OF_UNLOCKED')
    }
    if (r > 0) semRelease(this.#readerSem, r)
    muUnlock(this.#w, 'ERR_RWUNLOCK_OF_UNLOCKED')
  }

  /** Readers in now, and whether a writer is in or waiting (diagnostics). */
  get state(): { readers: number; writer: boolean } {
    const c = Atomics.load(this.#H, H_READERS)
    return c < 0 ? { readers: c + MAX_READERS, writer: true } : { readers: c, writer: false }
  }
}

// ---- SharedWaitGroup ----

/** Go's sync.WaitGroup across threads. */
export class SharedWaitGroup {
  readonly buffer: SharedArrayBuffer
  readonly #H: Int32Array

  static #adopt: SharedArrayBuffer | null = null

  constructor() {
    const adopt = SharedWaitGroup.#adopt
    SharedWaitGroup.#adopt = null
    this.buffer = adopt ?? make(KIND_WAITGROUP, { waiters: 1 }, [])
    this.#H = new Int32Array(this.buffer, 0, HDR)
  }

  static from(buffer: SharedArrayBuffer): SharedWaitGroup {
    attach(KIND_WAITGROUP, buffer)
    SharedWaitGroup.#adopt = buffer
    return new SharedWaitGroup()
  }

  /** Adds `delta` (may be negative); throws SyncError "sync: negative WaitGroup counter" below 0. */
  add(delta: number): void {
    if (!Number.isInteger(delta) || Math.abs(delta) > MAX_PERMITS) {
      throw new RangeError(`sync: WaitGroup.add delta must be an integer, got ${describeValue(delta)}`)
    }
    const H = this.#H
    const v = Atomics.add(H, H_COUNT, delta) + delta
    if (v < 0) {
      Atomics.sub(H, H_COUNT, delta)
      throw new SyncError('ERR_NEGATIVE_WAITGROUP')
    }
    if (v === 0 && delta !== 0) {
      // Every waiter can go on: bump the generation they sleep on and wake them all.
      Atomics.add(H, H_GEN, 1)
      Atomics.notify(H, H_GEN)
    }
  }

  done(): void {
    this.add(-1)
  }

  /** The counter now (diagnostics). */
  get count(): number {
    return Atomics.load(this.#H, H_COUNT)
  }

  /** Resolves once the counter is 0 (at once if it is). */
  wait(options?: OpOptions): Promise<void> {
    const signal = signalOf('SharedWaitGroup.wait', options)
    if (signal instanceof Promise) return signal
    const H = this.#H
    // The generation first: a counter read as non-zero after it means its zero crossing, if any,
    // comes later and bumps the generation we wait on.
    const gen = Atomics.load(H, H_GEN)
    if (Atomics.load(H, H_COUNT) === 0 || spinWhile(H, H_GEN, gen, SPIN) !== gen) return mustYield() ? held(undefined) : RESOLVED
    const info: SleepInfo = { reason: 'sync.WaitGroup.Wait', what: () => 'a SharedWaitGroup', g: currentGoroutine(), name: currentGoroutineName(), cancellable: signal !== undefined }
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const onAbort = (): void => {
        if (settled) return
        settled = true
        Atomics.notify(H, H_GEN) // ends our own waitAsync (other waiters look again and sleep on)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const wake = (): void => {
        if (settled) return
        if (Atomics.load(H, H_GEN) === gen) {
          if (!sleepWhile(H, H_GEN, gen, -1, wake, info)) wake()
          return
        }
        settled = true
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      wake()
    })
  }
}

// Each name carries this module's URL, as SharedChan's does: a thread may load two copies of this
// module (src under tsx and the built dist, when a job module imports the package), each with its
// own classes, and a handle name maps to one class per thread.
for (const [name, cls] of [
  ['gort.SharedMutex', SharedMutex], ['gort.SharedRWMutex', SharedRWMutex], ['gort.SharedWaitGroup', SharedWaitGroup],
  ['gort.SharedSemaphore', SharedSemaphore],
] as const) {
  registerHandle<{ buffer: SharedArrayBuffer }, SharedArrayBuffer>(`${name} ${import.meta.url}`, cls, {
    encode: (o) => o.buffer,
    decode: (b) => (cls as unknown as { from(b: SharedArrayBuffer): { buffer: SharedArrayBuffer } }).from(b),
  })
}
