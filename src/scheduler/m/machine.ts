/**
 * An M: the schedule loop that runs inside each worker thread (Go's schedule/findRunnable).
 *
 * Loop: runnext (at most NEXT_STREAK in a row, as tokio bounds its LIFO slot), local ring, the
 * global queue every 61st tick and whenever the ring is empty, then steal half of a random
 * victim's ring (4 rounds, runnext on the last), spin (only while spinning Ms are fewer than half
 * the busy Ps), then park.
 *
 * Invariants:
 * - Only this M touches its P's ring tail, and only while it holds the P. User code (a task body
 *   or continuation) runs with MS_INTASK; the monitor may take the P only by CAS INTASK -> LOST,
 *   and `go()` from user code flips INTASK -> SPAWNING around its ring push, so a P is never
 *   mutated by two owners. Hot Gs run back to back in one INTASK span (see MHold.inSpan): inside
 *   it the loop only claims Gs from runnext or the ring by CAS; every other queue operation, await
 *   or park ends the span first (#endSpan, which gives the P up if it was LOST).
 * - A started task is pinned here (its continuations cannot move); it counts in `live` until it
 *   settles. With live tasks the M parks with Atomics.waitAsync (its event loop keeps serving
 *   timers, I/O and messages); with none it parks with Atomics.wait (cheaper wake-up).
 * - The M yields to the event loop (setImmediate) after every batch and every stolen G, so a
 *   stream of tiny tasks cannot starve timers and messages (the microtask trap).
 * - Admission window: since a started task cannot move, an M pulls from the global queue or
 *   steals only while its live tasks are fewer than its window, and then (with some live) no more
 *   than it has room for; Gs it does not take stay where an idle M can take them. Its own P's
 *   queue (children of its tasks, which those may be awaiting) is never refused. The window
 *   grows when the M's event loop sat idle while it was full and work waited (its tasks were all
 *   waiting, so it should have started more) and shrinks by one for each task that settled while
 *   the loop was busy throughout. Runtime's `mTasks` fixes the window instead (1: each task
 *   taken from outside has the M to itself while it lives), and then a pull takes no more than
 *   the window has room for even when the M has no live task.
 * - Retiring (a task called retireThisM): the M takes no G from then on, from anywhere, and once
 *   its live tasks have settled it announces their results, gives up its P (P_OWNER 0: main
 *   hands it, with whatever waits there, to a fresh M), waits for its output to reach main, sets
 *   O_RETIRED and ends its thread.
 *
 * Running a G is runner.ts; `go` inside a task is spawn.ts; both reach the P through this loop.
 */

import { performance } from 'node:perf_hooks'
import { parentPort } from 'node:worker_threads'
import { InternalError } from '../../errors.js'
import { plainToError, resultFromRemote } from '../shared/codec.js'
import {
  H_CLOSED, H_MTASKS, H_NMSPINNING, O_HANDOFF, O_LOADING, O_RETIRED, O_TID, P_OWNER, P_STEAL_ATTEMPTS, P_TICK, RETIRED, RETIRING, oOff, pOff,
} from '../shared/layout.js'
import type { Outbox } from '../shared/outbox.js'
import { Owner } from '../shared/owner.js'
import { MPark, UNPARK_LOST, UNPARK_RESUMED, UNPARK_SPINNING, setCurrentMPark } from '../shared/park.js'
import { Stealer, type LocalQueue } from '../shared/runq.js'
import { Runner, type MHold } from './runner.js'
import { MSpawner } from './spawn.js'
import { TaskSignals } from './signals.js'
import { transferOf, type FromM, type ToM } from '../shared/protocol.js'
import type { Sched } from '../shared/sched.js'
import { ownTid } from '../main/threadstate.js'
import { answerDeadCheck } from './checkdead.js'
import { pending, stdioFlushed } from './stdio.js'
import { setGoroutineHint } from '../shared/sharedchan-wait.js'

const NEXT_STREAK = 3 // consecutive runnext runs before the ring gets a turn
const FLUSH_MS = 1000 // the most an M waits for its output to reach main before it answers 'flush' anyway
const BATCH = 512 // Gs run between two event-loop yields
const MICRO_EVERY = 32 // Gs run between two microtask yields (lets finished tasks report)
const SPIN_MS = 0.05 // how long an M spins looking for work before parking
const RETIRE_WAIT_MS = 100 // a retiring M's longest wait for its tasks before it looks again (they ring it as they settle)
const RETIRE_OUTPUT_MS = 60_000 // a retired M's longest wait, with no P and no task, for its output to move on before it exits
// The admission window (see the header): its floor, where it starts after the M drained, and how
// it is probed. A gated M waits for at most GATE_MS, then counts how long its event loop idled
// meanwhile: idle for half of it with no task settled doubles the window (tasks that wait long
// need many in flight), idle for IDLE_MS or more adds one, none shrinks it by one.
const WINDOW_MIN = 4
const WINDOW_START = 8
const WINDOW_MAX = 1 << 20
const GATE_MS = 1
const IDLE_MS = 0.2
// No further poll for the completions of children that run on other Ms: an M whose tasks await
// them parks at once (Atomics.waitAsync). With procs Ms on as many cores, a polling M holds a core
// that the M it waits for, or the main thread, needs. A sync Atomics.wait before that park is
// wrong too: continuations queued as microtasks cannot run while the M sleeps. Both were measured
// slower (docs/design/scheduler.md, "Designs rejected"; the runs in bench/NOTES.md).

export class Machine {
  readonly #s: Sched
  readonly #I: Int32Array
  readonly me: number
  readonly #oo: number
  readonly #owner: Owner
  readonly #runner: Runner
  readonly #outbox: Outbox
  /** The holder's handle of this M's run queues, and its thief's. */
  readonly #local: LocalQueue
  readonly #stealer: Stealer
  /** This M's state transitions and parking (park.ts owns the state word). */
  readonly #mp: MPark
  /** The P this M holds, shared with the runner and the spawner (they read it on every G). */
  readonly #hold: MHold
  #spinning = false
  #tick = 0
  /** Messages from main handled (the deadlock check's probes excluded): part of this M's progress epoch. */
  #msgs = 0
  readonly #post: (msg: FromM) => void
  #streak = 0
  /** How many live tasks the M may have before it takes no more work from outside its P. */
  #window = WINDOW_START
  /** Runtime's mTasks: the window, fixed (0: adaptive, as above). */
  readonly #fixed: number
  /**
   * The last park ended because a continuation ran here, not because work was offered: look
   * once, but do not spin (a SharedChan partner that wakes this M per message would otherwise
   * meet it spinning, and its next wake-up would wait for the spin).
   */
  #resumed = false
  /** retire() was called: no G starts here any more, and the thread ends once no task is live. */
  #retiring = false

  constructor(s: Sched, me: number, post: (msg: FromM) => void) {
    this.#s = s
    this.#I = s.I
    this.me = me
    this.#post = post
    this.#oo = oOff(s.l, me)
    this.#fixed = s.I[H_MTASKS]!
    if (this.#fixed > 0) this.#window = this.#fixed
    this.#owner = new Owner(s, me)
    this.#mp = new MPark(s.I, s.l, me, s.waker)
    setCurrentMPark(this.#mp)
    this.#local = s.q.local()
    this.#stealer = new Stealer(s.I, s.l, this.#local)
    this.#hold = { p: -1, po: 0, park: this.#mp, inSpan: false, g: -1, framed: false, gated: false }
    this.signals = new TaskSignals(s.I, s.l, me, this.#hold, s.cancels, () => this.#mp.resumed())
    const parts = {
      s, me, owner: this.#owner, post, hold: this.#hold, local: this.#local, signals: this.signals,
      loseP: (): void => this.#loseP(), openSpan: (): void => this.#openSpan(), endSpan: (): void => this.#endSpan(),
    }
    this.#runner = new Runner(parts)
    this.#outbox = this.#runner.outbox
    this.spawner = new MSpawner(parts)
    // A channel op that sleeps names the G whose synchronous body started it (deadlock report).
    setGoroutineHint(() => (this.#hold.g >= 0 ? this.#hold.g : -1))
  }

  /** `go` and `goAll` for the tasks running on this M. */
  readonly spawner: MSpawner

  /** retireThisM(): see the header. Main starts the replacement now, while this M's tasks finish. */
  retire(): void {
    if (this.#retiring) return
    this.#retiring = true
    // No hand-off to it from now on (Threads.findSpare): it is about to go.
    Atomics.store(this.#I, this.#oo + O_RETIRED, RETIRING)
    this.#post({ t: 'retiring' })
  }

  /** taskSignal() for the tasks running on this M. */
  readonly signals: TaskSignals

  #loseP(): void {
    this.#hold.inSpan = false
    if (this.#spinning) this.#stopSpinning(false)
    this.#hold.p = -1
    this.#mp.dropP()
  }

  /** Enters MS_INTASK: user code may run from here on, and the monitor may take the P (see MHold.inSpan). */
  #openSpan(): void {
    this.#mp.openSpan()
    this.#hold.inSpan = true
  }

  /**
   * Leaves MS_INTASK, giving the P up if the monitor took it meanwhile. Runs before anything that
   * writes the P's ring, awaits, or parks.
   */
  #endSpan(): void {
    const hold = this.#hold
    if (!hold.inSpan) return
    hold.inSpan = false
    if (!this.#mp.closeSpan()) this.#loseP()
  }

  #adoptP(): void {
    const h = Atomics.exchange(this.#I, this.#oo + O_HANDOFF, 0)
    if (h === 0) return
    this.#hold.p = h - 1
    this.#hold.po = pOff(this.#s.l, this.#hold.p)
    this.#local.own(this.#hold.p)
    this.#mp.adoptP(h - 1)
    this.#tick = Atomics.load(this.#I, this.#hold.po + P_TICK)
  }

  /** Called by the bootstrap with the P this M starts with (-1 for a spare). */
  /**
   * DEAD -> RUNNING, holding P `p` (-1: a spare). Before 'ready' is posted: main takes a ready M
   * as a spare only when its state says it is not dead (findSpare), and one found DEAD made the
   * monitor start another spare for the same P.
   */
  start(p: number): void {
    Atomics.store(this.#I, this.#oo + O_TID, ownTid())
    if (p >= 0) {
      this.#hold.p = p
      this.#hold.po = pOff(this.#s.l, p)
      this.#local.own(p)
    }
    this.#mp.start(p)
  }

  /** The scheduling loop; a P handed over before it runs is adopted at its top. */
  run(): void {
    void this.#loop()
  }

  // ---- messages from main ----

  onMessage(msg: ToM): void {
    if (msg.t === 'flush') {
      void stdioFlushed(FLUSH_MS).then(() => this.#post({ t: 'flushed', left: pending() }))
      return
    }
    if (msg.t === 'dead?') {
      const r = this.#runner
      const work = r.ready.length > 0 || r.loading !== undefined || r.fetches.size > 0 || this.#owner.ready() ? 'a task to start or a result to take'
        : this.#owner.watched > 0 ? 'a child G awaited with an AbortSignal' : null
      this.#post({ t: 'dead', m: this.me, round: msg.round, answer: answerDeadCheck(work, this.#msgs) })
      return
    }
    this.#msgs++
    if (msg.t === 'payload') {
      this.#runner.onPayload(msg.gid, msg.payload)
    } else if (msg.t === 'sharedbuf') {
      this.#runner.onSharedBuf(msg.id, msg.buf)
    } else if (msg.t === 'result') {
      this.#mp.resumed() // the task awaiting it continues right after this handler
      const r = resultFromRemote(msg.payload, msg.err)
      this.#owner.settle(msg.gid, r.value, r.isErr)
    } else if (msg.t === 'fail') {
      this.#mp.resumed()
      this.#owner.settle(msg.gid, plainToError(msg.error), true)
    }
  }

  // ---- the loop ----

  async #loop(): Promise<void> {
    const I = this.#I
    const q = this.#s.q
    for (;;) {
      if (Atomics.load(I, H_CLOSED) !== 0) return this.signals.closeAll()
      if (this.#retiring && this.#runner.live === 0) return this.#exitRetired()
      this.#adoptP()
      // Results for tasks waiting here: their continuations run now. A spinning M stays counted
      // as spinning through them (it takes a G or parks right after).
      if (this.#owner.drain() > 0) await this.#userTime(false)
      // Gs taken before retire() and still waiting for their module or arguments stay claimed:
      // recovery puts them back on the global queue.
      if (!this.#retiring) this.#runner.runReady()
      if (this.#hold.p >= 0) {
        let ran = 0
        this.#outbox.holding = true
        for (;;) {
          let g = this.#hold.inSpan ? this.#nextInSpan() : -1
          if (g < 0) {
            this.#endSpan()
            if (this.#hold.p < 0) break // the monitor took our P while a task ran
            g = this.#findLocal()
            if (g < 0) break
          }
          if (this.#spinning) this.#stopSpinning(true)
          this.#runner.run(g)
          ran++
          if (this.#hold.p < 0) break // the monitor took our P while the task ran
          if (this.#runner.loading !== undefined) {
            // Back to the top of the loop, so #runReady runs the G that waited for the module
            // before any G taken after it.
            this.#endSpan()
            this.#sendCompletions()
            await this.#awaitLoad()
            break
          }
          if (ran % MICRO_EVERY === 0) {
            this.#endSpan()
            this.#sendCompletions()
            await this.#userTime(false)
            if (this.#hold.p < 0) break
            this.#outbox.holding = true
            this.#owner.drain()
          }
          if (ran >= BATCH) break
        }
        this.#endSpan()
        this.#sendCompletions()
        if (ran > 0) {
          this.#resumed = false
          await this.#userTime(true)
          continue
        }
        const g = this.#stealWork()
        if (g >= 0) {
          this.#runner.run(g)
          this.#endSpan()
          // A full event-loop turn, not a microtask one, after a stolen G that awaits: it lets the
          // victim run its own next children before we steal again (cross-thread completions cost
          // more than local ones; measured faster for fork-join, bench/NOTES.md).
          // A G that finished synchronously leaves nothing to wait for: a microtask turn keeps a
          // thief of tiny tasks from falling behind a steady stream (a macrotask turn costs more).
          if (this.#runner.loading !== undefined) await this.#awaitLoad()
          else await this.#userTime(this.#runner.live > 0)
          continue
        }
        if (q.globalSize() > 0 && this.#runner.live < this.#window && !this.#retiring) continue
      }
      await this.#park()
    }
  }

  /**
   * A retired M with no live task: announces the results it holds and what its tasks printed,
   * marks itself retired (so that main counts no death) and ends its thread. Main's recovery
   * hands its P to a fresh M (started on 'retiring') and puts Gs it had claimed back in the queue.
   */
  async #exitRetired(): Promise<void> {
    this.#endSpan()
    this.#sendCompletions()
    // Its P goes first, to the replacement, rather than when this thread's exit reaches main
    // (which may take long on a loaded machine): the monitor hands an ownerless P on. This M
    // touches the P no more.
    const p = this.#hold.p
    if (p >= 0) {
      this.#loseP()
      Atomics.store(this.#I, pOff(this.#s.l, p) + P_OWNER, 0)
      this.#post({ t: 'released', p })
    }
    // Nothing waits on this thread now, so what its tasks printed may take its time: behind a
    // slow reader of this process's stdout it is not lost.
    await stdioFlushed(RETIRE_OUTPUT_MS)
    Atomics.store(this.#I, this.#oo + O_RETIRED, RETIRED)
    process.exit(0)
  }

  /** Announces held completions; until the loop runs Gs back to back again, they go out at once. */
  #sendCompletions(): void {
    this.#outbox.flush()
    this.#outbox.holding = false
  }

  /**
   * Waits for the G whose task module is being imported, or whose arguments are on their way
   * from main (Runner.loading). Module evaluation is user code (it may block or await for long),
   * so the M waits as if in a task and the monitor may hand its P to a spare; but the spare would
   * have to import the same module before it ran the queue, so O_LOADING tells the monitor to
   * wait as long as for a computing M first. A payload comes back within a message round trip.
   */
  async #awaitLoad(): Promise<void> {
    const I = this.#I
    Atomics.store(I, this.#oo + O_LOADING, 1)
    this.#openSpan()
    await this.#runner.loading
    Atomics.store(I, this.#oo + O_LOADING, 0)
    this.#endSpan()
  }

  /** Lets user code run (microtasks, or a full event-loop turn), then takes the P back. */
  async #userTime(macro: boolean): Promise<void> {
    this.#openSpan()
    if (macro) await new Promise<void>((r) => setImmediate(r))
    else await null
    this.#endSpan()
  }

  /**
   * The next G while in an INTASK span: runnext (bounded) or the local ring, taken by CAS only.
   * -1 sends the loop through #findLocal after the span ends: the ring is empty, or it is the
   * 61st tick, whose global-queue pull writes the ring.
   */
  #nextInSpan(): number {
    if ((this.#tick + 1) % 61 === 0 || this.#retiring) return -1
    const tick = ++this.#tick
    this.#I[this.#hold.po + P_TICK] = tick
    return this.#take(this.#hold.p)
  }

  /**
   * Go's runqget with tokio's bound on the LIFO slot: runnext unless it ran NEXT_STREAK times in
   * a row (then the ring first, and runnext only if the ring is empty). Counts the streak.
   */
  #take(p: number): number {
    const local = this.#local
    if (this.#streak < NEXT_STREAK) {
      let g = local.takeNext(p)
      if (g >= 0) {
        this.#streak++
        return g
      }
      g = local.takeRing(p)
      if (g >= 0) this.#streak = 0
      return g
    }
    let g = local.takeRing(p)
    if (g >= 0) {
      this.#streak = 0
      return g
    }
    // The ring is empty: runnext is all there is, so take it after all.
    g = local.takeNext(p)
    if (g >= 0) this.#streak++
    return g
  }

  /** runnext (bounded), local ring, global queue (every 61st tick, and when the ring is empty). */
  #findLocal(): number {
    if (this.#retiring) return -1
    const I = this.#I
    const q = this.#s.q
    const p = this.#hold.p
    const tick = ++this.#tick
    I[this.#hold.po + P_TICK] = tick // the monitor samples it every 2 ms: no barrier needed
    // The 61st-tick pull only keeps the global queue from starving behind local work; while an M
    // spins (or is being woken) it is coming for that queue, so leave it the G: this M has work,
    // and a G it starts here can never move to the idle one.
    if (tick % 61 === 0 && q.globalSize() > 0 && Atomics.load(I, H_NMSPINNING) === 0 && this.#room() > 0) {
      const g = this.#local.pullGlobal(p, 1)
      if (g >= 0) return g
    }
    let g = this.#take(p)
    if (g >= 0) return g
    this.#streak = 0
    // The ring is empty: refill it from this P's backlog (goAll's overflow) before the global queue.
    g = this.#local.refillFromBacklog(p)
    if (g >= 0) return g
    if (q.globalSize() === 0) return -1
    const room = this.#room()
    if (room <= 0) return -1
    // With no live task here and an adaptive window, a full share (tiny tasks that finish at once
    // need no bound, and a batch spares the queue's lock); otherwise no more than the window has
    // room for, since the ring is not gated: all that is pulled starts here.
    return this.#local.pullGlobal(p, this.#runner.live === 0 && this.#fixed === 0 ? q.globalShare(p) : Math.min(q.globalShare(p), room))
  }

  /**
   * How many Gs from outside this P the M may take now (its window less its live tasks; with a
   * fixed window, less only those not cancelled: Runner.held); 0 marks
   * it gated, so that the next task to settle rings it (Runner.#complete). A fixed window also
   * counts the Gs waiting in its own P's queue, which will start here: with the adaptive one, a
   * pull on the 61st tick may overshoot by one.
   */
  #room(): number {
    let n = this.#retiring ? 0 : this.#window - this.#runner.held()
    if (this.#fixed > 0 && n > 0 && this.#hold.p >= 0) n -= this.#s.q.localSize(this.#hold.p)
    this.#hold.gated = n <= 0
    return n
  }

  /** Steal half of a random victim's ring; spin for SPIN_MS if allowed. Returns a gid or -1. */
  #stealWork(): number {
    const I = this.#I
    const s = this.#s
    const procs = s.l.procs
    if (procs === 1 && !this.#spinning) return -1
    const room = this.#room()
    if (room <= 0) {
      if (this.#spinning) this.#stopSpinning(false)
      return -1
    }
    if (!this.#spinning) {
      if (!this.#mp.startSpinning()) return -1
      this.#spinning = true
    }
    const deadline = this.#resumed ? 0 : performance.now() + SPIN_MS
    this.#resumed = false
    do {
      for (let round = 0; round < 4; round++) {
        const start = (Math.random() * procs) | 0
        for (let j = 0; j < procs; j++) {
          const v = (start + j) % procs
          if (v === this.#hold.p) continue
          I[this.#hold.po + P_STEAL_ATTEMPTS] = I[this.#hold.po + P_STEAL_ATTEMPTS]! + 1
          let g = this.#stealer.steal(this.#hold.p, v, round === 3, room)
          // Its ring is empty: half of its backlog instead (at most half a ring).
          if (g < 0) g = this.#stealer.stealBacklog(this.#hold.p, v, room)
          if (g >= 0) {
            this.#stopSpinning(true)
            return g
          }
        }
      }
      if (s.q.globalSize() > 0 || this.#owner.ready() || this.#runner.ready.length > 0) break
      if (Atomics.load(I, H_CLOSED) !== 0) break
    } while (performance.now() < deadline)
    this.#stopSpinning(false)
    return -1
  }

  #stopSpinning(found: boolean): void {
    if (!this.#spinning) return
    this.#spinning = false
    const left = this.#mp.stopSpinning()
    // We were the last spinner and took work: if more is waiting, make sure someone looks (Go's
    // resetspinning). Go wakes unconditionally, since work may hide where a spinner cannot see it
    // cheaply (timers, netpoll); here every queue is a few shared words, so look first. A woken M
    // that finds nothing spins anyway, and on a machine with no core to spare that spin takes
    // the core the main thread needs to take the result.
    if (found && left === 0 && this.#visibleWork()) this.#s.wakep()
  }

  /** True when a queue (the global one, or any P's ring or runnext) holds a G. */
  #visibleWork(): boolean {
    const q = this.#s.q
    if (q.globalSize() > 0) return true
    for (let p = 0; p < this.#s.l.procs; p++) if (q.localSize(p) > 0) return true
    return false
  }

  #otherWork(): boolean {
    if (Atomics.load(this.#I, H_CLOSED) !== 0) return true
    if (Atomics.load(this.#I, this.#oo + O_HANDOFF) !== 0) return true
    if (this.#owner.ready() || this.#runner.ready.length > 0) return true
    if (this.#hold.p < 0) return false
    // Gated: only its own P's queue counts until a task settles (which rings it).
    if (this.#runner.held() >= this.#window) return this.#s.q.localSize(this.#hold.p) > 0
    return this.#visibleWork()
  }

  async #park(): Promise<void> {
    if (this.#spinning) this.#stopSpinning(false)
    const hold = this.#hold
    if (this.#retiring) {
      // Only its live tasks need it now: wait for them to settle (each rings it, being gated), not
      // parked, so that wakep passes it over and the monitor may hand its P on.
      hold.gated = true
      if (!(await this.#mp.waitGated(RETIRE_WAIT_MS, this.#retireHooks))) this.#loseP()
      return
    }
    const runner = this.#runner
    const live = runner.live > 0
    const async = runner.fetches.size > 0 || this.#owner.pending > 0
    const po = hold.p >= 0 ? hold.po : -1
    if (!live && this.#fixed === 0) this.#window = WINDOW_START // drained: the next burst starts afresh
    // #room() also marks the M gated, so the next task to settle rings it out of the wait below.
    if (!(this.#room() <= 0 && po >= 0 && this.#visibleWork())) {
      const how = await this.#mp.park(po, live, async, this.#parkHooks)
      if (how === UNPARK_SPINNING) this.#spinning = true
      else if (how === UNPARK_LOST) this.#loseP()
      else if (how === UNPARK_RESUMED) this.#resumed = true
      return
    }
    // Gated with work waiting elsewhere: wait (not parked: see MPark.waitGated) for at most
    // GATE_MS and see whether the event loop idled meanwhile (the window was too small) or stayed
    // busy (it may shrink).
    const before = runner.live
    const t0 = performance.now()
    const idle0 = performance.eventLoopUtilization().idle
    const kept = await this.#mp.waitGated(GATE_MS, this.#parkHooks)
    const idle = performance.eventLoopUtilization().idle - idle0
    const settled = runner.live < before
    // A fixed window (mTasks) learns nothing: the wait only keeps wakep off this M.
    if (this.#fixed === 0) {
      if (idle >= 0.5 * GATE_MS && !settled && performance.now() - t0 >= GATE_MS) this.#window = Math.min(WINDOW_MAX, this.#window * 2)
      else if (idle >= IDLE_MS) this.#window = Math.min(WINDOW_MAX, this.#window + 1)
      else if (settled) this.#window = Math.max(WINDOW_MIN, this.#window - 1)
    }
    if (!kept) this.#loseP()
  }

  readonly #retireHooks = {
    otherWork: (): boolean => Atomics.load(this.#I, H_CLOSED) !== 0 || this.#owner.ready() || this.#runner.live === 0,
    beforeSleep: (): void => {},
  }

  readonly #parkHooks = {
    otherWork: (): boolean => this.#otherWork(),
    // About to sleep: drop shared buffers whose slots were freed (rate-limited, see sharedbufs.ts).
    beforeSleep: (): void => this.#s.bufs.idle(),
  }
}

export function startMachine(s: Sched, me: number, p: number): Machine {
  const port = parentPort
  if (port === null) throw new InternalError('the scheduler worker must run in a worker thread')
  const m = new Machine(s, me, (msg) => port.postMessage(msg, transferOf(msg)))
  port.on('message', (msg: ToM) => m.onMessage(msg))
  m.start(p)
  port.postMessage({ t: 'ready' } satisfies FromM)
  // The loop may park with Atomics.wait at once: start it after 'ready' has left.
  setImmediate(() => m.run())
  return m
}

