/**
 * Sonyflake: 63-bit IDs that sort by time, after github.com/sony/sonyflake v2.
 *
 *   | time (bitsTime) | sequence (bitsSequence) | machine id (bitsMachine) |   default 39 | 8 | 16
 *
 * Invariants:
 * - The generator's state is one 64-bit word, `elapsed << bitsSequence | stored`,
 *   where `stored = (sequence + 1) & mask`. The +1 makes the all-zero word mean
 *   "elapsed 0, sequence at its maximum", Go's initial state, so a freshly zeroed
 *   SharedArrayBuffer is a valid initial state with no initialisation race.
 * - The state only moves forward: every successful compare-and-swap installs a
 *   (elapsed, sequence) pair strictly greater than the one it replaced. Hence no
 *   two calls — in this thread or in any thread sharing the buffer — get the
 *   same pair, and IDs issued one after another strictly increase.
 * - The time part never decreases, even if the clock goes back: when the clock
 *   reads at or before the stored elapsed time, the sequence advances instead.
 * - The state never holds a tick that has not begun: a CAS installs a new tick
 *   only after reading a clock at or past its start (the clock's current tick,
 *   or on sequence overflow the stored tick + 1 once the clock has reached it).
 *   Hence no ID leaves before its tick has begun and no tick holds more than
 *   2^bitsSequence IDs of this state, whoever shares it; a generator restarted
 *   with the same machine id in a later tick repeats none of them.
 * - On overflow the call waits for the clock to reach the next tick and tries
 *   again, as Go's NextID sleeps. If the clock went back, that wait lasts until
 *   it catches up, as in Go.
 * - Within one generator, calls made while one waits queue behind it (#queue)
 *   and are served in call order by one pump with one sleep, as Go's mutex holds
 *   them during its sleep. Across generators sharing a state word the CAS alone
 *   keeps the rules above; who wins a new tick there is not ordered.
 * - An elapsed time that needs more than bitsTime bits fails with
 *   OverTimeLimitError and does not move the state.
 *
 * Rejected: installing the next tick at once on overflow and making only that
 * call wait. Every call made meanwhile, here or in another thread, then took
 * the future tick's sequence and resolved before the tick began, a generator
 * ran ticks ahead of the clock under load, and a fast restart repeated IDs.
 *
 * Why a CAS loop rather than a plain field: the same code then serves one
 * thread (an ArrayBuffer) and many (a SharedArrayBuffer) with no lock; Atomics on
 * a non-shared BigInt64Array are ordinary loads and stores.
 */
import { type Clock, systemClock } from './clock.js'
import {
  InvalidMachineIdError,
  InvalidSequenceError,
  OverTimeLimitError,
  SharedStateMismatchError,
  TimeBeforeStartError,
} from './errors.js'
import { lower16BitPrivateIp } from './machine-id.js'
import { type Layout, type SonyflakeSettings, resolveLayout } from './settings.js'

/** The parts of an ID, as `decompose` returns them. */
export interface SonyflakeParts {
  readonly id: bigint
  /** Ticks since the start time. */
  readonly time: bigint
  readonly sequence: number
  readonly machine: number
}

/** Slot 0: the state word. Slot 1: a fingerprint of the settings bound to the buffer (0 = unbound). */
const STATE = 0
const FINGERPRINT = 1
const STATE_BYTES = 16

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** FNV-1a over the settings that must agree between sharers; never 0 (0 means "unbound"). */
function fingerprint(layout: Layout, machine: number): bigint {
  const text = `${layout.bitsSequence}/${layout.bitsMachine}/${layout.timeUnit}/${layout.startUnits}/${machine}`
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i))
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return BigInt.asIntN(64, h | 1n)
}

/** A nextId() call waiting in the generator's queue. */
interface Waiter {
  readonly resolve: (id: bigint) => void
  readonly reject: (err: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

export class Sonyflake {
  /** Validated bit lengths, tick and epoch; immutable. */
  readonly #layout: Layout
  readonly #clock: Clock
  /** [state word, settings fingerprint]; over a SharedArrayBuffer when shared. */
  readonly #words: BigInt64Array
  /** 2^bitsSequence - 1 as a bigint, to mask the stored sequence. */
  readonly #seqMask: bigint
  /** The machine id; -1 until an async machineId/checkMachineId has settled. */
  #machine = -1
  /** Pending while an async machineId/checkMachineId runs; null once the id is accepted (stays rejected if refused). */
  #pending: Promise<void> | null = null
  /** Calls waiting for a tick to begin, in call order; while it is non-empty new calls join it. */
  readonly #queue: Waiter[] = []
  /** True while #pump runs; at most one pump per generator. */
  #pumping = false
  /** Aborts the pump's sleep; set only while it sleeps. */
  #pumpAbort: AbortController | null = null
  /** Set by #take when it returns null: ms until the tick it needs begins (>= 1). */
  #wakeIn = 0

  /**
   * Validates the settings. Invalid bit lengths, time unit or start time throw
   * here. If `machineId` and `checkMachineId` are synchronous their errors also
   * throw here; if either is async, its errors reject `ready()` and `nextId()`.
   */
  constructor(settings: SonyflakeSettings = {}) {
    this.#clock = settings.clock ?? systemClock
    this.#layout = resolveLayout(settings, this.#clock)
    this.#seqMask = (1n << BigInt(this.#layout.bitsSequence)) - 1n
    this.#words = new BigInt64Array(settings.sharedState ?? new ArrayBuffer(STATE_BYTES), 0, 2)

    const machine = this.#resolveMachine(settings)
    if (isPromise(machine)) {
      this.#pending = machine.then((id) => {
        this.#bind(id)
        this.#pending = null
      })
      // Nobody may ever await this; the error resurfaces from ready()/nextId().
      this.#pending.catch(() => undefined)
    } else {
      this.#bind(machine)
    }
  }

  /** Creates a generator and waits until an async machine id has been found and checked. */
  static async create(settings: SonyflakeSettings = {}): Promise<Sonyflake> {
    const sf = new Sonyflake(settings)
    await sf.ready()
    return sf
  }

  /** A zeroed buffer for `sharedState`: post it to workers so their generators act as one. */
  static sharedState(): SharedArrayBuffer {
    return new SharedArrayBuffer(STATE_BYTES)
  }

  /** Resolves when the machine id is known and accepted; rejects with the reason it was not. */
  async ready(): Promise<this> {
    if (this.#pending !== null) await this.#pending
    return this
  }

  get machineId(): number {
    return this.#machine
  }

  get bitsTime(): number {
    return this.#layout.bitsTime
  }

  get bitsSequence(): number {
    return this.#layout.bitsSequence
  }

  get bitsMachineId(): number {
    return this.#layout.bitsMachine
  }

  get timeUnit(): number {
    return this.#layout.timeUnit
  }

  get startTime(): Date {
    return new Date(this.#layout.startTime)
  }

  /**
   * The next ID. Resolves at once unless this tick's sequence is used up, in
   * which case it waits for the next tick, and calls made meanwhile on this
   * generator queue behind it in call order (Go holds the generator's mutex
   * while it sleeps). Aborting the wait rejects with `signal.reason` and takes
   * nothing. Rejects with OverTimeLimitError once the time no longer fits in
   * bitsTime bits.
   */
  async nextId(options: { signal?: AbortSignal } = {}): Promise<bigint> {
    if (this.#pending !== null) await this.#pending
    const { signal } = options
    signal?.throwIfAborted()
    if (this.#queue.length === 0) {
      const id = this.#take()
      if (id !== null) return id
    }
    return this.#enqueue(signal)
  }

  /**
   * One attempt at the next (elapsed, sequence) pair: the ID, or null when the
   * tick after the stored one is needed and has not begun; #wakeIn then holds
   * the ms until it does. Throws OverTimeLimitError without moving the state.
   */
  #take(): bigint | null {
    const layout = this.#layout
    const seqBits = BigInt(layout.bitsSequence)
    const now = this.#clock.now()
    const current = Math.floor(now / layout.timeUnit) - layout.startUnits
    for (;;) {
      const old = Atomics.load(this.#words, STATE)
      const oldElapsed = Number(old >> seqBits)
      let elapsed: number
      let sequence: bigint
      if (oldElapsed < current) {
        elapsed = current
        sequence = 0n
      } else {
        // The stored tick has begun (whoever stored it saw the clock there), even
        // if the clock has since gone back: its sequence goes on.
        elapsed = oldElapsed
        sequence = old & this.#seqMask // the stored sequence is sequence + 1
        if (sequence === 0n) {
          // Overflow. The next tick may be taken only once the clock reaches it;
          // storing it earlier would let every sharer hand out IDs from the future.
          elapsed++
          if (elapsed >= 2 ** layout.bitsTime) throw new OverTimeLimitError(elapsed, layout.bitsTime)
          const wait = Math.ceil((layout.startUnits + elapsed) * layout.timeUnit - now)
          if (wait > 0) {
            this.#wakeIn = wait
            return null
          }
        }
      }
      if (elapsed >= 2 ** layout.bitsTime) throw new OverTimeLimitError(elapsed, layout.bitsTime)
      const next = (BigInt(elapsed) << seqBits) | ((sequence + 1n) & this.#seqMask)
      if (Atomics.compareExchange(this.#words, STATE, old, next) === old) return this.#toId(BigInt(elapsed), sequence, this.#machine)
    }
  }

  /** Queues a call behind the ones already waiting; starts the pump if it is idle. */
  #enqueue(signal: AbortSignal | undefined): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter)
          if (i >= 0) this.#queue.splice(i, 1)
          if (this.#queue.length === 0) this.#pumpAbort?.abort()
          reject(signal.reason)
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#queue.push(waiter)
      if (!this.#pumping) void this.#pump()
    })
  }

  /**
   * Serves the queue head first, sleeping until the tick it needs begins. One
   * pump per generator at most (#pumping); it ends when the queue is empty, and
   * its sleep is cut short when the last waiter aborts, so no timer outlives it.
   */
  async #pump(): Promise<void> {
    this.#pumping = true
    try {
      while (this.#queue.length > 0) {
        let id: bigint | null
        try {
          id = this.#take()
        } catch (err) {
          this.#settle()?.reject(err)
          continue
        }
        if (id !== null) {
          this.#settle()?.resolve(id)
          continue
        }
        const ac = new AbortController()
        this.#pumpAbort = ac
        try {
          await this.#clock.sleep(this.#wakeIn, ac.signal)
        } catch {
          // Aborted because the queue emptied; the loop condition ends the pump.
        } finally {
          this.#pumpAbort = null
        }
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Removes the queue head and its abort listener, for the caller to settle. */
  #settle(): Waiter | undefined {
    const waiter = this.#queue.shift()
    if (waiter?.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort)
    return waiter
  }

  /** Splits an ID into its parts (no validation: any non-negative bigint decomposes). */
  decompose(id: bigint): SonyflakeParts {
    const { bitsSequence, bitsMachine } = this.#layout
    const machineMask = (1n << BigInt(bitsMachine)) - 1n
    return {
      id,
      time: id >> BigInt(bitsSequence + bitsMachine),
      sequence: Number((id >> BigInt(bitsMachine)) & this.#seqMask),
      machine: Number(id & machineMask),
    }
  }

  /** The time an ID was generated, to the tick. */
  toTime(id: bigint): Date {
    const ticks = this.decompose(id).time
    return new Date((this.#layout.startUnits + Number(ticks)) * this.#layout.timeUnit)
  }

  /** Builds an ID from its parts; every part is range-checked. */
  compose(time: Date | number, sequence: number, machineId: number): bigint {
    const layout = this.#layout
    const ms = typeof time === 'number' ? time : time.getTime()
    const elapsed = Math.floor(ms / layout.timeUnit) - layout.startUnits
    if (!Number.isFinite(elapsed) || elapsed < 0) throw new TimeBeforeStartError(ms, layout.startTime)
    if (elapsed >= 2 ** layout.bitsTime) throw new OverTimeLimitError(elapsed, layout.bitsTime)
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= 2 ** layout.bitsSequence) {
      throw new InvalidSequenceError(sequence, layout.bitsSequence)
    }
    this.#checkRange(machineId)
    return this.#toId(BigInt(elapsed), BigInt(sequence), machineId)
  }

  #toId(elapsed: bigint, sequence: bigint, machine: number): bigint {
    const { bitsSequence, bitsMachine } = this.#layout
    return (elapsed << BigInt(bitsSequence + bitsMachine)) | (sequence << BigInt(bitsMachine)) | BigInt(machine)
  }

  #checkRange(machine: number): void {
    if (!Number.isInteger(machine) || machine < 0 || machine >= 2 ** this.#layout.bitsMachine) {
      throw new InvalidMachineIdError(machine, `must be an integer in 0..${2 ** this.#layout.bitsMachine - 1}`)
    }
  }

  /** Finds the machine id and runs checkMachineId; synchronous when both are. */
  #resolveMachine(settings: SonyflakeSettings): number | Promise<number> {
    const source: unknown = settings.machineId
    let found: number | Promise<number>
    if (source === undefined) found = lower16BitPrivateIp()
    else if (typeof source === 'number') found = source
    else if (typeof source === 'function') found = (source as () => number | Promise<number>)()
    else throw new InvalidMachineIdError(source, 'must be a number or a function that returns one')
    const check = (id: number): number | Promise<number> => {
      this.#checkRange(id)
      if (settings.checkMachineId === undefined) return id
      const verdict = settings.checkMachineId(id)
      const judge = (ok: boolean): number => {
        if (!ok) throw new InvalidMachineIdError(id, 'rejected by checkMachineId')
        return id
      }
      return isPromise(verdict) ? verdict.then(judge) : judge(verdict)
    }
    return isPromise(found) ? found.then(check) : check(found)
  }

  /** Records the machine id and claims (or verifies) the state buffer's fingerprint. */
  #bind(machine: number): void {
    const fp = fingerprint(this.#layout, machine)
    const prev = Atomics.compareExchange(this.#words, FINGERPRINT, 0n, fp)
    if (prev !== 0n && prev !== fp) throw new SharedStateMismatchError()
    this.#machine = machine
  }
}
