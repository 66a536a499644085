/**
 * The monitor (Go's sysmon + handoffp) and the schedtrace printer, on the main thread.
 *
 * Nothing preempts JavaScript, so an M that runs a long synchronous task (or blocks in
 * Atomics.wait) cannot serve its P's queue. Every MONITOR_MS the monitor samples each P's tick;
 * a P whose tick has not moved for `handoffMs` while its M is in user code and work waits (its
 * ring, or the global queue) is handed to a spare M, which was started ahead of time because a
 * Worker takes tens of ms to boot. Only a blocked M's P moves: while the stuck M is computing (the
 * kernel's state of its thread, or failing that the process's CPU time) it keeps its P, since a
 * spare would run beyond `procs` computing threads, as Go hands off the Ps of Ms in syscalls and
 * never those of Ms running code.
 *
 * Invariants:
 * - The monitor takes a P only by CAS on the M's state INTASK -> LOST, so it never races an M
 *   that is inside scheduler code or go().
 * - Its timers are unref'd; the sampling timer runs only while there is work or a busy M, so an
 *   idle runtime costs no CPU.
 */

import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { H_NMSPINNING, H_NPIDLE, O_CUR, O_HANDOFF, O_LOADING, O_P, O_TID, P_HANDOFFS, P_OWNER, P_TICK, oOff, pOff } from '../shared/layout.js'
import { MS_INTASK, MS_PARKED_LIVE, MS_WAKING, isParked, mState, markResumed, takeP } from '../shared/park.js'
import { flushFor } from '../shared/outbox.js'
import type { Sched } from '../shared/sched.js'
import { ThreadStates, mComputing } from './threadstate.js'

const MONITOR_MS = 2
// Without the kernel's word on a stuck M, and with every core busy, hand off only a P whose M
// has been stuck this many times handoffMs.
const OVERSUB_FACTOR = 20
// An M importing a task module keeps its P this many times handoffMs (see #sample).
const COMPUTING_FACTOR = 100
// A woken M normally runs within microseconds; on a loaded machine the OS may take a few ms.
// Work that has waited this long with every P asleep means a wake-up was lost.
const RESCUE_MS = 100

export interface MonitorHost {
  /** An alive, started M holding no P and not in user code, or 0. */
  findSpare(): number
  /** Asks for another spare M to be started (bounded by the runtime). */
  wantSpare(): void
  /** Work outstanding from the main thread. */
  pending(): number
  threads(): number
  /** Ms that may be running now (alive and not parked), LOST ones included. */
  runningMs(): number
  /** Whether M `m` runs a cancelled G past its kill deadline outside its body (main/kill.ts). */
  abandoned(m: number): boolean
}

// Window for telling a computing M from a blocked one by the process's CPU time.
const CPU_WINDOW_MS = 10
const CPU_SAMPLES = 16

export class Monitor {
  readonly #s: Sched
  readonly #host: MonitorHost
  readonly #handoffMs: number
  readonly #cores = availableParallelism()
  readonly #lastTick: Int32Array
  readonly #lastChange: Float64Array
  readonly #states: ThreadStates
  #timer: NodeJS.Timeout | undefined
  #trace: NodeJS.Timeout | undefined
  #idleSamples = 0
  #stalledSince = 0
  /** Per M: consecutive samples in which it was asleep by its state while its thread ran (see #asleepButRunning). */
  readonly #awake: Uint8Array
  /** Times the safety net had to ring sleeping Ms (should stay 0; reported in stats). */
  rescues = 0
  /**
   * Tests turn the safety net off (GORT_NO_RESCUE=1 when the runtime starts): a lost wake-up then
   * hangs the test that meets it, by its deadline, instead of costing 100 ms and a count that a
   * slow OS wake-up on a loaded machine could be mistaken for.
   */
  readonly #rescueMs = process.env['GORT_NO_RESCUE'] === '1' ? Infinity : RESCUE_MS

  constructor(s: Sched, host: MonitorHost, handoffMs: number) {
    this.#s = s
    this.#host = host
    this.#handoffMs = handoffMs
    this.#lastTick = new Int32Array(s.l.procs)
    this.#lastChange = new Float64Array(s.l.procs)
    this.#states = new ThreadStates(s.l.maxM)
    this.#awake = new Uint8Array(s.l.maxM + 1)
  }

  /** Makes sure the sampler runs (called whenever work is submitted). */
  kick(): void {
    this.#idleSamples = 0
    // Runs with hand-offs off too (handoffMs 0): it also flushes stuck Ms' outboxes and rescues.
    if (this.#timer !== undefined) return
    const now = performance.now()
    this.#lastChange.fill(now)
    this.#cpuN = 0 // CPU samples from an earlier busy spell would stretch the window
    this.#timer = setInterval(() => this.#sample(), MONITOR_MS)
    this.#timer.unref()
  }

  stop(): void {
    this.#states.close()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.#trace !== undefined) clearInterval(this.#trace)
    this.#timer = undefined
    this.#trace = undefined
  }

  /**
   * The CPU time (ms) of every thread but this one, at the last CPU_SAMPLES samples, with their
   * times: a ring. This thread's share is taken out (its event loop's active time), so a busy main
   * thread does not make a blocked M look computing.
   */
  readonly #cpuMs = new Float64Array(CPU_SAMPLES)
  readonly #cpuAt = new Float64Array(CPU_SAMPLES)
  #cpuN = 0

  #recordCpu(now: number): void {
    const u = process.cpuUsage()
    const i = this.#cpuN++ % CPU_SAMPLES
    this.#cpuMs[i] = (u.user + u.system) / 1000 - performance.eventLoopUtilization().active
    this.#cpuAt[i] = now
  }

  /** Threads of this process other than this one busy on average over about the last `windowMs` (NaN: too few samples). */
  #busyThreads(now: number, windowMs: number): number {
    const n = Math.min(this.#cpuN, CPU_SAMPLES)
    if (n < 2) return NaN
    const last = (this.#cpuN - 1) % CPU_SAMPLES
    let first = last
    for (let k = 1; k < n; k++) {
      const i = (this.#cpuN - 1 - k) % CPU_SAMPLES
      first = i
      if (now - this.#cpuAt[i]! >= windowMs) break
    }
    const wall = this.#cpuAt[last]! - this.#cpuAt[first]!
    return wall > 0 ? (this.#cpuMs[last]! - this.#cpuMs[first]!) / wall : NaN
  }

  #sample(): void {
    const s = this.#s
    const I = s.I
    const now = performance.now()
    // The CPU-time guess is only needed where the kernel's view of a thread cannot be read.
    if (!this.#states.readable) this.#recordCpu(now)
    let busy = false
    // A P is healthy when its M ticked within the threshold: it will reach the global queue and
    // steal from stuck Ps by itself, so handing a P to a spare would only add a thread (which on
    // a busy machine oversubscribes the cores and runs on a cold JIT).
    let healthy = 0
    for (let p = 0; p < s.l.procs; p++) {
      const po = pOff(s.l, p)
      if (Atomics.load(I, po + P_TICK) !== this.#lastTick[p] || now - this.#lastChange[p]! < this.#handoffMs) healthy++
    }
    for (let p = 0; p < s.l.procs; p++) {
      const po = pOff(s.l, p)
      const owner = Atomics.load(I, po + P_OWNER)
      if (owner === 0) {
        // Orphaned by a dead M with no spare at the time.
        busy = true
        this.handTo(p, 0)
        continue
      }
      const tick = Atomics.load(I, po + P_TICK)
      const state = mState(I, s.l, owner)
      if (!isParked(state)) busy = true
      if ((state === MS_PARKED_LIVE || state === MS_WAKING) && this.#asleepButRunning(owner)) markResumed(I, s.l, owner, s.waker)
      if (tick !== this.#lastTick[p]) {
        this.#lastTick[p] = tick
        this.#lastChange[p] = now
        continue
      }
      const stale = now - this.#lastChange[p]!
      // Results the stuck M finished before it went into this task must not wait for it.
      if (state === MS_INTASK && stale >= MONITOR_MS) flushFor(s, owner)
      if (this.#handoffMs <= 0 || stale < this.#handoffMs / 2 || state !== MS_INTASK) continue
      const local = s.q.localSize(p)
      if (local === 0 && s.q.globalSize() === 0) continue
      // Another P ticks: its M reaches the global queue and steals from this one by itself, so
      // no hand-off is due, and the kernel's view is not needed (a /proc read per sample).
      if (healthy - (stale < this.#handoffMs ? 1 : 0) > 0) {
        if (stale >= this.#handoffMs) this.#retake()
        continue
      }
      // The kernel's view of the M's thread, read from half the threshold on, so that readings
      // of this stall exist when the threshold passes.
      const runnable = this.#states.runnable(owner, Atomics.load(I, oOff(s.l, owner) + O_TID), now, this.#lastChange[p]!)
      if (stale < this.#handoffMs) continue
      if (this.#retake()) continue
      // Go hands off only a *blocked* M's P (one in a syscall), never a running one's: `procs`
      // caps the threads computing user code, as GOMAXPROCS does. A computing M's queue is
      // stolen by the first M that finishes anyway, and a spare would be one thread too many,
      // time-sliced against the others with a cold JIT. So the stuck M is judged: by the
      // kernel's state of its thread where it can be read (threadstate.ts), else by the
      // process's CPU time. Computing, it keeps its P however long it computes (it once lost it
      // after COMPUTING_FACTOR x handoffMs, and a job of multi-second tasks ran up to 2 x procs
      // threads at once). Blocked, it holds no core, and its P moves now; only the CPU-time
      // guess cannot tell blocked from computing while every core has a running M, and then it
      // moves the P after OVERSUB_FACTOR x handoffMs (two Ms both blocked on queued work must
      // still get it), which may put one thread too many on the cores when the guess is wrong.
      const running = this.#host.runningMs()
      if (Atomics.load(I, oOff(s.l, owner) + O_LOADING) !== 0) {
        // An M importing a task module: a spare would have to import it too before running
        // anything (under tsx each first import blocked its M for tens of ms and cost 1-2
        // hand-offs in a fresh runtime's first call). A module that never finishes loading
        // still loses its queue after COMPUTING_FACTOR x handoffMs.
        if (stale < COMPUTING_FACTOR * this.#handoffMs) continue
      } else if (Atomics.load(I, oOff(s.l, owner) + O_CUR) === 0 && this.#host.abandoned(owner)) {
        // Outside any task's body, with a task cancelled past its kill deadline: it computes (or
        // waits) in a continuation of a task its caller gave up on, which main cannot end safely
        // (main/kill.ts) and which may never return: a spare takes the P, one thread beyond
        // `procs` for as long as that runs, rather than the queue waiting on it for good (a
        // one-thread MapReduce job whose timed-out attempt looped after an await hung).
      } else {
        // The kernel can say, but this stall has one reading so far: wait for the next sample
        // rather than guess (a monitor starved for a few hundred ms meets a stall past every
        // threshold at its first reading, and the CPU-time guess then took computing Ms for blocked).
        if (!Number.isFinite(runnable) && Number.isFinite(this.#states.lastRead)) continue
        const kernelSays = Number.isFinite(runnable)
        const busy = kernelSays ? NaN : this.#busyThreads(now, Math.min(stale, CPU_WINDOW_MS))
        if (mComputing(runnable, busy, running)) continue
        if (!kernelSays && running >= this.#cores && stale < OVERSUB_FACTOR * this.#handoffMs) continue
      }
      if (this.handTo(p, owner, stale >= 10 * this.#handoffMs)) this.#lastChange[p] = now
    }
    // Safety net: work has waited RESCUE_MS while every P sleeps.
    // wakep should make this impossible; ringing every P's M directly keeps the runtime live
    // even if a wake-up was lost (each woken M simply looks again). It counts only lost ones: an
    // M that wakep marked WAKING and whose thread is runnable was woken and waits for the OS to
    // run it (a loaded machine can take longer than RESCUE_MS for that): slow, not lost;
    // so is one that got going meanwhile (no longer PARKED or WAKING: this check races it). One
    // that is WAKING but asleep in the kernel missed its ring (off Linux, where the state cannot
    // be read, WAKING is taken as on its way).
    if (s.q.globalSize() > 0 && Atomics.load(I, H_NPIDLE) >= s.l.procs) {
      if (this.#stalledSince === 0) this.#stalledSince = now
      else if (now - this.#stalledSince >= this.#rescueMs) {
        this.#stalledSince = 0
        let onItsWay = false
        for (let p = 0; p < s.l.procs; p++) {
          const owner = Atomics.load(I, pOff(s.l, p) + P_OWNER)
          if (owner === 0) continue
          const o = oOff(s.l, owner)
          const st = mState(I, s.l, owner)
          if (!isParked(st) && (st !== MS_WAKING || this.#states.stateNow(Atomics.load(I, o + O_TID)) !== 0)) onItsWay = true
          s.ring(owner)
        }
        if (!onItsWay) this.rescues++
      }
    } else this.#stalledSince = 0
    if (!busy && this.#host.pending() === 0 && s.q.globalSize() === 0) {
      if (++this.#idleSamples > 50 && this.#timer !== undefined) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    } else this.#idleSamples = 0
  }

  /**
   * Go's retake: if other Ms are idle or spinning they can take the work behind a stuck M
   * themselves (global work directly, ring work by stealing), so wake one instead of adding a
   * thread. True if it did.
   */
  #retake(): boolean {
    const I = this.#s.I
    if (Atomics.load(I, H_NPIDLE) === 0 && Atomics.load(I, H_NMSPINNING) === 0) return false
    this.#s.wakep()
    return true
  }

  /**
   * An M that is asleep by its state (PARKED_LIVE, or WAKING and not yet looking) while its thread
   * runs in the kernel, for two samples in a row: a continuation of one of its tasks (a timer or
   * I/O callback) is computing there, or a woken M cannot get a core. Either way it should not
   * count as idle or hold a wake (park.ts, markResumed). One read of the thread's kernel
   * state per such M and sample; NaN (not Linux) reads as asleep.
   */
  #asleepButRunning(m: number): boolean {
    const s = this.#s
    if (this.#states.stateNow(Atomics.load(s.I, oOff(s.l, m) + O_TID)) !== 1) {
      this.#awake[m] = 0
      return false
    }
    if (++this.#awake[m]! < 2) return false
    this.#awake[m] = 0
    return true
  }

  /**
   * Go's handoffp: gives P `p` to a spare M. `from` is the M stuck in user code (taken from it by
   * CAS to LOST), or 0 when the P has no owner (its M died).
   */
  handTo(p: number, from: number, mayStartM = true): boolean {
    const s = this.#s
    const I = s.I
    const spare = this.#host.findSpare()
    if (spare === 0) {
      // Starting a Worker costs tens of ms of CPU: only for a dead M's P, or an M stuck for long
      // (a stuck M usually comes back soon and becomes the next spare itself).
      if (mayStartM) this.#host.wantSpare()
      return false
    }
    const po = pOff(s.l, p)
    if (from !== 0) {
      const fo = oOff(s.l, from)
      if (!takeP(I, s.l, from)) return false
      // `from` may itself be a spare that was handed this P and has not adopted it yet (it went
      // into user code first): cancel that hand-off, or it would adopt the P after losing it.
      Atomics.store(I, fo + O_HANDOFF, 0)
      Atomics.store(I, fo + O_P, 0)
      flushFor(s, from) // it is no P's owner now, so the sampler would no longer flush for it
    }
    const so = oOff(s.l, spare)
    Atomics.store(I, po + P_OWNER, spare)
    // O_P marks the spare taken right away, so findSpare does not offer it twice.
    Atomics.store(I, so + O_P, p + 1)
    Atomics.store(I, so + O_HANDOFF, p + 1)
    Atomics.add(I, po + P_HANDOFFS, 1)
    s.ring(spare)
    this.kick()
    return true
  }

  /** GODEBUG=schedtrace=N: a Go-style SCHED line every N ms. */
  startTrace(everyMs: number, write: (line: string) => void): void {
    const t0 = performance.now()
    this.#trace = setInterval(() => write(this.schedLine(performance.now() - t0)), everyMs)
    this.#trace.unref()
  }

  schedLine(elapsedMs: number): string {
    const s = this.#s
    const I = s.I
    const queues: number[] = []
    for (let p = 0; p < s.l.procs; p++) queues.push(s.q.localSize(p))
    return (
      `SCHED ${Math.round(elapsedMs)}ms: gomaxprocs=${s.l.procs} idleprocs=${Atomics.load(I, H_NPIDLE)} ` +
      `threads=${this.#host.threads()} spinningthreads=${Atomics.load(I, H_NMSPINNING)} ` +
      `runqueue=${s.q.globalSize()} [${queues.join(' ')}]`
    )
  }
}

