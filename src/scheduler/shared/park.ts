/**
 * M state and parking: the one module that writes an M's state word (O_MSTATE), the idle counts
 * (H_NPIDLE, each P's P_IDLE), the spinning count (H_NMSPINNING) and the doorbells that threads
 * sleep on. Every transition is a named function here, as in tokio's idle.rs and park.rs; other
 * files read states only through the predicates at the bottom.
 *
 * States of an M (one word per M, O_MSTATE):
 *
 *   DEAD ──start──▶ RUNNING ◀──────── closeSpan ──────── INTASK ◀─▶ SPAWNING (go() inside a task)
 *                    │  ▲  ╲────────── openSpan ─────────▶  │ ▲
 *       startSpinning│  │stopSpinning                takeP  │ │ resumed (a continuation ran
 *                    ▼  │                          (monitor)▼ │  while parked: the monitor's
 *                   SPINNING ◀── unpark ── WAKING          LOST │  kernel read, or the M itself)
 *                                            ▲              │   │
 *                    park ──▶ PARKED ────────┤ wakep     dropP    │
 *                    park ──▶ PARKED_LIVE ───┘──────────────────────┘
 *
 * - RUNNING: scheduler code; the M owns its P's queue. INTASK: user code may be running (a task
 *   body, a continuation, a module's evaluation); only from INTASK may the monitor take the P
 *   (INTASK -> LOST, takeP), and go() flips INTASK -> SPAWNING around its ring push so the P is
 *   never written by two owners.
 * - PARKED: asleep with no started task on this thread: nothing can run here until it is rung.
 *   PARKED_LIVE: asleep in Atomics.waitAsync with started tasks pinned here, whose continuations
 *   (timers, I/O, messages, results of children) may run at any moment. wakep prefers PARKED Ms.
 * - An M that runs user code is never counted parked. A continuation that runs while its M is
 *   PARKED_LIVE (a timer or I/O callback, a task's own wait) is seen by the monitor, which reads
 *   the thread's kernel state: running for two samples in a row while asleep by its state, it is
 *   marked INTASK (markResumed), and a wake it held passes to another M. Code of the M's own
 *   that knows a continuation is next (a result message for a task here) marks it at once
 *   (MPark.resumed). Callback or promise hooks were rejected: enabling one, even only while
 *   parked, sets V8's promise hooks, which turns off its fast paths for every await on the
 *   thread from then on (docs/design/scheduler.md).
 * - Leaving a parked state (PARKED, PARKED_LIVE, WAKING) is claimed by CAS on the state word; the
 *   winner, and only the winner, clears its P's idle mark (P_IDLE 1 -> 0 by exchange, then
 *   H_NPIDLE - 1). So H_NPIDLE counts exactly the Ps whose M sleeps, whoever wakes it.
 * - WAKING is counted in H_NMSPINNING by whoever woke it (wakep claims the slot first). An M that
 *   leaves WAKING for user code instead of spinning gives the slot back and passes the wake on.
 * - A doorbell is only ever incremented; a waiter reads it, sets its waiting flag, re-checks for
 *   work, then waits for it to change, so a ring between the check and the wait is never lost.
 */

import { InternalError } from '../../errors.js'
import { H_NMSPINNING, H_NPIDLE, O_DOORBELL, O_MSTATE, O_P, O_WAITING, P_IDLE, P_OWNER, P_PARKS, oOff, pOff, type Layout } from './layout.js'
import { ASSERT } from './assert.js'
import { waitAsync } from './wait.js'

export const MS_DEAD = 0
export const MS_RUNNING = 1
export const MS_INTASK = 2
export const MS_SPAWNING = 3
export const MS_SPINNING = 4
export const MS_PARKED = 5
export const MS_WAKING = 6
export const MS_LOST = 7
export const MS_PARKED_LIVE = 8

/** State names for errors and traces. */
export const MS_NAMES = ['DEAD', 'RUNNING', 'INTASK', 'SPAWNING', 'SPINNING', 'PARKED', 'WAKING', 'LOST', 'PARKED_LIVE'] as const


function broken(what: string, st: number): never {
  throw new InternalError(`M state: ${what} (state ${MS_NAMES[st] ?? st})`)
}

// ---- doorbells (any thread) ----

/**
 * An owner's waiting flag (O_WAITING): W_NONE, not waiting (a ring only moves the doorbell);
 * W_WAKE, waiting, every ring notifies; W_BATCH (the main thread only, main/resultbatch.ts):
 * waiting on a timer while every P is busy, so rings do not notify; an M about to park notifies
 * instead (markIdle), since its P then idles while results may wait.
 */
export const W_NONE = 0
export const W_WAKE = 1
export const W_BATCH = 2

/** Makes thread `owner` look again (wakes it if it waits on its doorbell). */
export function ring(I: Int32Array, l: Layout, owner: number): void {
  const o = oOff(l, owner)
  Atomics.add(I, o + O_DOORBELL, 1)
  // The waiting flag is left set: clearing it here (notify once per wait) lost wake-ups, because
  // a ring for a completion the owner had already drained could clear the flag just before the
  // owner started waiting, leaving the next ring with nobody to notify.
  if (Atomics.load(I, o + O_WAITING) === W_WAKE) Atomics.notify(I, o + O_DOORBELL)
}

/** Wakes the main thread whatever its waiting flag says (close, or an M going idle during a batched wait). */
export function wakeMain(I: Int32Array, l: Layout): void {
  const o = oOff(l, 0)
  Atomics.add(I, o + O_DOORBELL, 1)
  Atomics.notify(I, o + O_DOORBELL)
}

/**
 * The main thread (owner 0) is about to wait on its doorbell: sets its waiting flag and returns
 * the doorbell value to wait on. The caller re-checks for work after this and only then waits.
 */
export function mainBeginWait(I: Int32Array, l: Layout): number {
  const o = oOff(l, 0)
  Atomics.store(I, o + O_WAITING, W_WAKE)
  return Atomics.load(I, o + O_DOORBELL)
}

/**
 * The main thread would take its next results by a batched wait (main/resultbatch.ts): sets
 * W_BATCH, then checks that no P idles. False (flag back to W_WAKE) when one does: its M may
 * have parked before it could see W_BATCH, so nobody would nudge.
 *
 * With markIdle this is a store-then-load handshake on both sides (Dekker's): the main thread
 * stores W_BATCH then loads H_NPIDLE; an M adds to H_NPIDLE then loads the flag. Both seq-cst,
 * so at least one side sees the other's write: the main thread does not batch, or the M nudges.
 */
export function mainTryBatch(I: Int32Array, l: Layout): boolean {
  const o = oOff(l, 0)
  Atomics.store(I, o + O_WAITING, W_BATCH)
  if (Atomics.load(I, H_NPIDLE) === 0) return true
  Atomics.store(I, o + O_WAITING, W_WAKE)
  return false
}

/**
 * Whether the main thread's batched wait still stands: false once an M nudged it (markIdle's
 * CAS, which comes before its notify: a waiter registered after this reads true still gets it).
 */
export const mainBatching = (I: Int32Array, l: Layout): boolean => Atomics.load(I, oOff(l, 0) + O_WAITING) === W_BATCH

/** The main thread's doorbell now. */
export const mainBell = (I: Int32Array, l: Layout): number => Atomics.load(I, oOff(l, 0) + O_DOORBELL)

/**
 * An M is about to park: marks its P `po` idle, then, if the main thread waits on a batched
 * timer, turns that into a wake-up now (see mainTryBatch). The CAS lets one M of several notify.
 */
export function markIdle(I: Int32Array, l: Layout, po: number): void {
  Atomics.add(I, H_NPIDLE, 1)
  Atomics.store(I, po + P_IDLE, 1)
  const o = oOff(l, 0)
  if (Atomics.load(I, o + O_WAITING) === W_BATCH && Atomics.compareExchange(I, o + O_WAITING, W_BATCH, W_WAKE) === W_BATCH) {
    wakeMain(I, l)
  }
}

/** The main thread woke (or decided not to wait). */
export function mainEndWait(I: Int32Array, l: Layout): void {
  Atomics.store(I, oOff(l, 0) + O_WAITING, W_NONE)
}

/** Word index of an owner's doorbell, for Atomics.waitAsync. */
export const doorbell = (l: Layout, owner: number): number => oOff(l, owner) + O_DOORBELL

// ---- the idle count ----

/** Clears P `po`'s idle mark if set (idempotent: the winner of a transition out of park, or recovery). */
export function leaveIdle(I: Int32Array, po: number): void {
  if (Atomics.exchange(I, po + P_IDLE, 0) === 1) Atomics.sub(I, H_NPIDLE, 1)
}

// ---- other threads' transitions of an M ----

/**
 * Go's wakep and injectglist, with the choice of M: wakes parked Ms that hold a P. One per
 * process-wide Waker (each thread has its own; the rotation only spreads the choice).
 */
export class Waker {
  readonly #I: Int32Array
  readonly #l: Layout
  #start = 0

  constructor(I: Int32Array, l: Layout) {
    this.#I = I
    this.#l = l
  }

  /** Go's wakep: if Ps are idle and nobody spins, wake one parked M that holds a P. */
  wakep(): void {
    const I = this.#I
    if (Atomics.load(I, H_NPIDLE) <= 0 || Atomics.load(I, H_NMSPINNING) !== 0) return
    if (Atomics.compareExchange(I, H_NMSPINNING, 0, 1) !== 0) return
    if (!this.#wakeParked()) Atomics.sub(I, H_NMSPINNING, 1)
  }

  /**
   * Go's injectglist for `n` Gs just put on the global queue from outside any P: wakes up to one
   * parked M per G, as many as there are idle Ps, spinners or not. wakep's one-at-a-time chain
   * (each woken M wakes the next once it finds work) lets the first M pull the whole batch before
   * the second is even running, and a started G cannot move.
   */
  wakeFor(n: number): void {
    const I = this.#I
    if (n <= 1) return this.wakep()
    for (let i = 0; i < n && Atomics.load(I, H_NPIDLE) > 0; i++) {
      Atomics.add(I, H_NMSPINNING, 1)
      if (!this.#wakeParked()) {
        Atomics.sub(I, H_NMSPINNING, 1)
        return
      }
    }
  }

  /**
   * Marks one parked M that holds a P WAKING (the caller counted it in nmspinning already) and
   * rings it; false if none. A PARKED M is taken before a PARKED_LIVE one: the latter may be
   * running a continuation (a timer or I/O callback that computes) that the monitor has not seen yet.
   */
  #wakeParked(): boolean {
    return this.#wakeOne(MS_PARKED) || this.#wakeOne(MS_PARKED_LIVE)
  }

  #wakeOne(from: number): boolean {
    const I = this.#I
    const maxM = this.#l.maxM
    // Rotate the starting point so the same M is not always the one woken.
    const start = this.#start++ % maxM
    for (let i = 0; i < maxM; i++) {
      const m = 1 + ((start + i) % maxM)
      const o = oOff(this.#l, m)
      if (Atomics.load(I, o + O_P) === 0) continue
      if (Atomics.compareExchange(I, o + O_MSTATE, from, MS_WAKING) === from) {
        ring(I, this.#l, m)
        return true
      }
    }
    return false
  }
}

/** The monitor's handoffp: takes M `m`'s P while it runs user code (INTASK -> LOST). */
export function takeP(I: Int32Array, l: Layout, m: number): boolean {
  return Atomics.compareExchange(I, oOff(l, m) + O_MSTATE, MS_INTASK, MS_LOST) === MS_INTASK
}

/**
 * A continuation of a task computes, or is about to run, on M `m`, which is asleep by its state
 * (PARKED_LIVE, or WAKING and not yet looking): marks it INTASK, so wakep stops choosing it and
 * stats count it busy. Called by the M itself (MPark.resumed) and by the monitor when the kernel
 * says the thread runs. The winner of the CAS clears the idle mark of the P the M holds; a wake
 * it was given (WAKING) passes to another M. Its doorbell is rung, so its wait ends once the
 * continuation yields and it looks at its queues again. True if the mark was made.
 */
export function markResumed(I: Int32Array, l: Layout, m: number, waker: Waker): boolean {
  const o = oOff(l, m) + O_MSTATE
  let st = Atomics.load(I, o)
  for (;;) {
    if (st !== MS_PARKED_LIVE && st !== MS_WAKING) return false // woken or marked already
    const seen = Atomics.compareExchange(I, o, st, MS_INTASK)
    if (seen === st) break
    st = seen
  }
  for (let p = 0; p < l.procs; p++) if (Atomics.load(I, pOff(l, p) + P_OWNER) === m) leaveIdle(I, pOff(l, p))
  if (st === MS_WAKING) {
    // wakep chose it for work it cannot look at until the continuation yields: give the
    // spinning slot back and let another M have the wake.
    Atomics.sub(I, H_NMSPINNING, 1)
    waker.wakep()
  }
  ring(I, l, m)
  return true
}

/**
 * Crash recovery: M `m` is dead. Returns its state before, having given back the spinning slot
 * it held (SPINNING or WAKING). The caller clears the idle marks of the Ps it held.
 */
export function markDead(I: Int32Array, l: Layout, m: number): number {
  const prev = Atomics.exchange(I, oOff(l, m) + O_MSTATE, MS_DEAD)
  if (prev === MS_SPINNING || prev === MS_WAKING) Atomics.sub(I, H_NMSPINNING, 1)
  return prev
}

// ---- predicates (any thread) ----

export const mState = (I: Int32Array, l: Layout, m: number): number => Atomics.load(I, oOff(l, m) + O_MSTATE)
export const isDead = (st: number): boolean => st === MS_DEAD
/** Asleep on its doorbell (an M woken by wakep is on its way, so WAKING is not asleep). */
export const isParked = (st: number): boolean => st === MS_PARKED || st === MS_PARKED_LIVE
/** User code may be running on it: it cannot be trusted to look at its queues soon. */
export const inUserCode = (st: number): boolean => st === MS_INTASK || st === MS_LOST || st === MS_SPAWNING
/** May be on a core now: started, not asleep and not dead. */
export const mayRun = (st: number): boolean => !isParked(st) && st !== MS_DEAD

// ---- an M's own transitions ----

/** What an M holds while parked, as park() reports it back. */
export const UNPARK_RUNNING = 0
export const UNPARK_SPINNING = 1 // woken by wakep: counted in nmspinning, go and look for work
export const UNPARK_LOST = 2 // a continuation ran while parked and the monitor took the P
export const UNPARK_RESUMED = 3 // a continuation ran while parked (marked resumed): nobody asked it to look for work

export interface ParkHooks {
  /** True if something is already waiting for this M (checked after it is marked parked). */
  otherWork(): boolean
  /** Called right before it sleeps. */
  beforeSleep(): void
}

/**
 * The MPark of the M that runs on this thread, null on the main thread and in plain Workers. Set
 * once by the M's machine; read by code outside the machine that settles a task's continuation
 * from a wake-up of its own (SharedChan's Atomics.waitAsync), which calls resumed() first.
 */
export let currentMPark: MPark | null = null

export function setCurrentMPark(mp: MPark): void {
  currentMPark = mp
}

/**
 * The M side: every transition an M makes of its own state. Each M has one; it runs on that M's
 * thread only.
 */
export class MPark {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #oo: number
  readonly #me: number
  readonly #waker: Waker
  /** The P the M parked with (word offset), -1 when none: its idle mark is cleared on unpark. */
  #parkedPo = -1
  /** Set while the M waits in Atomics.waitAsync: a go() from a resumed task must ring it. */
  parkedAsync = false

  constructor(I: Int32Array, l: Layout, me: number, waker: Waker) {
    this.#I = I
    this.#l = l
    this.#oo = oOff(l, me)
    this.#me = me
    this.#waker = waker
  }

  #state(): number {
    return Atomics.load(this.#I, this.#oo + O_MSTATE)
  }

  /** DEAD -> RUNNING, with P `p` (-1: a spare) recorded for others to see. */
  start(p: number): void {
    if (p >= 0) Atomics.store(this.#I, this.#oo + O_P, p + 1)
    Atomics.store(this.#I, this.#oo + O_MSTATE, MS_RUNNING)
  }

  /** Records P `p` (handed over by the monitor or recovery) as held. */
  adoptP(p: number): void {
    Atomics.store(this.#I, this.#oo + O_P, p + 1)
  }

  /** The P is gone (taken while LOST, or given up): RUNNING with no P. */
  dropP(): void {
    Atomics.store(this.#I, this.#oo + O_P, 0)
    Atomics.store(this.#I, this.#oo + O_MSTATE, MS_RUNNING)
  }

  /**
   * RUNNING -> INTASK: user code may run from here on, and the monitor may take the P. Also from
   * SPINNING, for the continuations of results a spinning M delivers: it stays counted in
   * nmspinning until stopSpinning.
   */
  openSpan(): void {
    if (ASSERT && this.#state() !== MS_RUNNING && this.#state() !== MS_SPINNING) broken('openSpan outside RUNNING', this.#state())
    Atomics.store(this.#I, this.#oo + O_MSTATE, MS_INTASK)
  }

  /** INTASK -> RUNNING; false if the monitor took the P meanwhile (LOST): the caller drops it. */
  closeSpan(): boolean {
    const prev = Atomics.compareExchange(this.#I, this.#oo + O_MSTATE, MS_INTASK, MS_RUNNING)
    if (prev === MS_INTASK) return true
    if (prev === MS_LOST) return false
    return broken('closeSpan outside INTASK', prev)
  }

  /**
   * go() inside a task, before it writes the P's ring: 2 = INTASK -> SPAWNING (call leaveSpawn
   * after), 1 = the M is in scheduler code already (RUNNING), 0 = the P was LOST (dropped here;
   * use the global queue).
   */
  enterSpawn(): 0 | 1 | 2 {
    const prev = Atomics.compareExchange(this.#I, this.#oo + O_MSTATE, MS_INTASK, MS_SPAWNING)
    if (prev === MS_INTASK) return 2
    if (prev === MS_LOST) return 0
    return 1
  }

  /** SPAWNING -> INTASK. */
  leaveSpawn(): void {
    if (ASSERT && this.#state() !== MS_SPAWNING) broken('leaveSpawn outside SPAWNING', this.#state())
    Atomics.store(this.#I, this.#oo + O_MSTATE, MS_INTASK)
  }

  /**
   * RUNNING -> SPINNING if spinners are fewer than half the busy Ps (Go's rule that keeps
   * spinning from burning more CPU than the work it finds). False: do not spin.
   */
  startSpinning(): boolean {
    const I = this.#I
    const busy = this.#l.procs - Atomics.load(I, H_NPIDLE)
    if (2 * Atomics.load(I, H_NMSPINNING) >= busy) return false
    Atomics.add(I, H_NMSPINNING, 1)
    Atomics.store(I, this.#oo + O_MSTATE, MS_SPINNING)
    return true
  }

  /** SPINNING -> RUNNING; returns how many Ms still spin. */
  stopSpinning(): number {
    Atomics.store(this.#I, this.#oo + O_MSTATE, MS_RUNNING)
    return Atomics.sub(this.#I, H_NMSPINNING, 1) - 1
  }

  /**
   * Parks the M (Go's stopm): RUNNING -> PARKED (no started task here: the thread sleeps in
   * Atomics.wait) or PARKED_LIVE (`live`: started tasks are pinned here, so the event loop must
   * keep serving them: Atomics.waitAsync; see resumed and markResumed).
   * `async` forces waitAsync without `live` (a module import or payload on its way). `po` is the
   * P held (-1: none), marked idle while parked. Returns how the M comes back.
   */
  async park(po: number, live: boolean, async: boolean, hooks: ParkHooks): Promise<number> {
    const I = this.#I
    const oo = this.#oo
    if (ASSERT && this.#state() !== MS_RUNNING) broken('park outside RUNNING', this.#state())
    // Read the doorbell before anyone can see us parked: a wakep that marks us WAKING rings after
    // this read, so the wait below returns at once instead of sleeping on a spinning slot that
    // nobody else may take (a lost wake-up that stalls every M).
    const bell = Atomics.load(I, oo + O_DOORBELL)
    Atomics.store(I, oo + O_WAITING, W_WAKE)
    const parked = live ? MS_PARKED_LIVE : MS_PARKED
    Atomics.store(I, oo + O_MSTATE, parked)
    this.#parkedPo = po
    if (po >= 0) markIdle(I, this.#l, po)
    if (!hooks.otherWork()) {
      if (po >= 0) Atomics.add(I, po + P_PARKS, 1)
      hooks.beforeSleep()
      if (live || async) {
        await this.#sleepAsync(bell)
      } else {
        Atomics.wait(I, oo + O_DOORBELL, bell)
      }
    }
    Atomics.store(I, oo + O_WAITING, W_NONE)
    return this.#unpark(parked)
  }

  /**
   * Waits while gated (machine.ts: its live tasks fill its admission window while work waits
   * elsewhere). The M stays INTASK, not parked: its tasks' continuations run meanwhile and it
   * wants no work from outside its P, so wakep passes it over and its P is not idle. It sleeps on
   * its doorbell (children's results, its own tasks settling) for at most `timeoutMs`. False if
   * the monitor took the P meanwhile (LOST): the caller drops it.
   */
  async waitGated(timeoutMs: number, hooks: ParkHooks): Promise<boolean> {
    const I = this.#I
    const oo = this.#oo
    const bell = Atomics.load(I, oo + O_DOORBELL)
    Atomics.store(I, oo + O_WAITING, W_WAKE)
    this.openSpan()
    if (!hooks.otherWork()) await this.#sleepAsync(bell, timeoutMs)
    Atomics.store(I, oo + O_WAITING, W_NONE)
    return this.closeSpan()
  }

  /** Sleeps in Atomics.waitAsync until the doorbell moves from `bell` (or `timeoutMs` passes). */
  async #sleepAsync(bell: number, timeoutMs?: number): Promise<void> {
    this.parkedAsync = true
    const r = waitAsync(this.#I, this.#oo + O_DOORBELL, bell, timeoutMs)
    if (r.async) await r.value
    this.parkedAsync = false
  }

  /**
   * On this M's thread, from code that knows a continuation of a task is about to run while the
   * M may be parked (the M's message handlers that settle a task's promise; later, shared-channel
   * wake-ups): leave the parked state for INTASK before it runs, and ring our own doorbell so that
   * the M's wait ends (and it looks at its queues) once the continuation yields. A no-op unless
   * the M is PARKED_LIVE or WAKING.
   */
  resumed(): void {
    markResumed(this.#I, this.#l, this.#me, this.#waker)
  }

  /** Leaves the parked state after the wait: see the transitions in the header. */
  #unpark(parked: number): number {
    const I = this.#I
    const o = this.#oo + O_MSTATE
    const po = this.#parkedPo
    this.#parkedPo = -1
    let prev = Atomics.compareExchange(I, o, parked, MS_RUNNING)
    if (prev === parked) {
      if (po >= 0) leaveIdle(I, po)
      return UNPARK_RUNNING
    }
    if (prev === MS_WAKING) {
      prev = Atomics.compareExchange(I, o, MS_WAKING, MS_SPINNING)
      if (prev === MS_WAKING) {
        if (po >= 0) leaveIdle(I, po)
        return UNPARK_SPINNING // wakep counted us in nmspinning already
      }
    }
    // A continuation ran while we were parked (we or the monitor marked us INTASK, and
    // left the idle count), and may have lost the P or dropped it in a go().
    if (prev === MS_INTASK) prev = Atomics.compareExchange(I, o, MS_INTASK, MS_RUNNING)
    if (prev === MS_INTASK) return UNPARK_RESUMED
    if (prev === MS_RUNNING) return UNPARK_RUNNING
    if (prev === MS_LOST) return UNPARK_LOST
    return broken('unpark', prev)
  }
}

