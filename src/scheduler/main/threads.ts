/**
 * The Ms' worker threads as the main thread sees them: starting one (holding a P, or as a parked
 * spare), finding a spare for a hand-off, counting the live and the running, posting to one,
 * and ending them all.
 *
 * Invariants:
 * - M indices are handed out once, in order, up to the layout's maxM: a dead M's index is never
 *   reused, because its orphans may still complete into its old completion ring.
 * - At most one spare is being started at a time, and never more than maxThreads Ms live.
 * - Workers are unref'd: the threads never keep the process alive by themselves.
 */

import { Worker } from 'node:worker_threads'
import { SchedulerArgError } from '../errors.js'
import { O_CUR, O_HANDOFF, O_P, O_RETIRED, P_OWNER, gOff, oOff, pOff } from '../shared/layout.js'
import { cancelFlagged } from '../shared/cancel.js'
import { inUserCode, isDead, mState, mayRun } from '../shared/park.js'
import { transferOf, type FromM, type ToM } from '../shared/protocol.js'
import type { Sched } from '../shared/sched.js'
import { takePrestarted, type WorkerSpec } from './prestart.js'

/** The most close() waits for the Ms' output (see #flushAll). */
const FLUSH_WAIT_MS = 1000
/**
 * ...and for that of an M marked as in user code when close() looks: most often it is between
 * two turns of its event loop (the user time after a batch, a setImmediate long) and answers at
 * once, but it may be stuck in a task that never returns.
 */
const BUSY_FLUSH_MS = 100

interface MInfo {
  readonly worker: Worker
  ready: boolean
  alive: boolean
  error: unknown
  /** Set while close() waits for its answer to 'flush': how many bytes it still held. */
  flushed: ((left: number) => void) | undefined
}

export interface ThreadEvents {
  /** A message from M `m` other than 'ready'. */
  message(msg: FromM): void
  /** M `m` exited after it had started (crash, process.exit in a task, or close). */
  exit(m: number, code: number, error: unknown): void
  /** A spare started on demand is ready. */
  spareReady(): void
}

export class Threads {
  readonly #s: Sched
  /** The Ms' worker: its URL, entry, heap limits and where its stdout goes. */
  readonly #spec: WorkerSpec
  readonly #maxThreads: number
  readonly #events: ThreadEvents
  readonly #ms = new Map<number, MInfo>()
  #nextM = 1
  #starting = 0
  closed = false

  /** `spec`: the Ms' worker (prestart.ts specOf, which a prestarted thread's spec must equal). */
  constructor(s: Sched, spec: WorkerSpec, maxThreads: number, events: ThreadEvents) {
    this.#s = s
    this.#spec = spec
    this.#maxThreads = maxThreads
    this.#events = events
  }

  /**
   * Starts an M holding P `p` (-1: a spare); resolves once it is ready to run Gs. A thread
   * prestarted for the same spec (prestart.ts) is taken and sent its start-up data, if there is one.
   */
  start(p: number): Promise<void> {
    const s = this.#s
    if (this.#nextM > s.l.maxM) return Promise.reject(new SchedulerArgError('gort: no M index left to start a worker'))
    const m = this.#nextM++
    const spec = this.#spec
    const init = { sab: s.sab, m, p, entry: spec.entry, sharedBufs: s.bufs.channel, cancels: s.cancels.channel }
    const prestarted = takePrestarted(spec)
    const worker = prestarted ?? new Worker(spec.url, { workerData: init, resourceLimits: spec.limits, stdout: spec.toStderr })
    prestarted?.postMessage(init)
    if (spec.toStderr) worker.stdout.pipe(process.stderr, { end: false })
    const info: MInfo = { worker, ready: false, alive: true, error: undefined, flushed: undefined }
    this.#ms.set(m, info)
    if (p >= 0) Atomics.store(s.I, pOff(s.l, p) + P_OWNER, m)
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromM) => {
        if (msg.t === 'ready') {
          info.ready = true
          resolve()
        } else if (msg.t === 'flushed') info.flushed?.(msg.left)
        else this.#events.message(msg)
      })
      worker.on('error', (e) => {
        info.error = e
        if (!info.ready) reject(e)
      })
      worker.on('exit', (code) => {
        if (!info.ready) reject(info.error ?? new Error(`gort: M${m} exited with code ${code} while starting`))
        info.alive = false
        if (this.closed) return
        this.#ms.delete(m)
        this.#events.exit(m, code, info.error)
      })
      // After the listeners: adding a 'message' listener refs the port again.
      worker.unref()
    })
  }

  /** No M can be started any more: every index was handed out, and none is starting. */
  exhausted(): boolean {
    return this.#starting === 0 && this.#nextM > this.#s.l.maxM
  }

  /** Asks for one more spare M, unless one is starting or the bound is reached. */
  wantSpare(): void {
    if (this.closed || this.#starting > 0 || this.live() >= this.#maxThreads || this.#nextM > this.#s.l.maxM) return
    this.#starting++
    this.start(-1).then(
      () => {
        this.#starting--
        this.#events.spareReady()
      },
      () => {
        this.#starting--
      },
    )
  }

  /** An alive, started M holding no P and not in user code, or 0. */
  findSpare(): number {
    const I = this.#s.I
    for (const [m, info] of this.#ms) {
      if (!info.alive || !info.ready) continue
      const o = oOff(this.#s.l, m)
      if (Atomics.load(I, o + O_P) !== 0 || Atomics.load(I, o + O_HANDOFF) !== 0) continue
      const st = mState(I, this.#s.l, m)
      if (inUserCode(st) || isDead(st) || Atomics.load(I, o + O_RETIRED) !== 0) continue
      return m
    }
    return 0
  }

  /** The worker's threadId of M `m` (0 when it is gone). */
  threadIdOf(m: number): number {
    const info = this.#ms.get(m)
    return info !== undefined && info.alive ? info.worker.threadId : 0
  }

  /** The alive Ms, each with whether it has started (the deadlock check walks them). */
  *alive(): Generator<[m: number, ready: boolean]> {
    for (const [m, info] of this.#ms) if (info.alive) yield [m, info.ready]
  }

  /** How many more Ms may start (spares, replacements): indices are never reused. */
  left(): number {
    return this.#s.l.maxM - this.#nextM + 1
  }

  live(): number {
    let n = 0
    for (const m of this.#ms.values()) if (m.alive) n++
    return n
  }

  /** Ms that may be on a core now: alive, started and not parked (a LOST M still runs its task). */
  running(): number {
    const I = this.#s.I
    let n = 0
    for (const [m, info] of this.#ms) {
      if (!info.alive || !info.ready) continue
      if (mayRun(mState(I, this.#s.l, m))) n++
    }
    return n
  }

  post(m: number, msg: ToM): void {
    const info = this.#ms.get(m)
    if (info !== undefined && info.alive) info.worker.postMessage(msg, transferOf(msg))
  }

  /** Ends M `m`'s thread (a kill, main/kill.ts); its 'exit' then reaches recovery as any death does. */
  terminate(m: number): void {
    const info = this.#ms.get(m)
    if (info !== undefined && info.alive) void info.worker.terminate()
  }

  /** Rings every M's doorbell (closing: each sees H_CLOSED and leaves its loop). */
  ringAll(): void {
    for (const m of this.#ms.keys()) this.#s.ring(m)
  }

  async terminateAll(): Promise<void> {
    this.closed = true
    await this.#flushAll()
    await Promise.all([...this.#ms.values()].map((info) => info.worker.terminate()))
  }

  /**
   * Asks every live M to let what its tasks printed reach this thread first (m/stdio.ts), and
   * waits for the answers or the Ms' exits: FLUSH_WAIT_MS at most, BUSY_FLUSH_MS for an M in user
   * code, which answers only once that code yields. Not asking such an M at all lost the last
   * line a map task printed in 2-5 % of the CLI's `--json` runs on a loaded machine: the M sat in
   * the user-time turn after its batch (MS_INTASK) when close() looked, its line still waiting
   * for main's acknowledgement. An M inside the synchronous body of a task that was cancelled
   * with a kill to follow (goWith's killAfterMs: a stuck MapReduce attempt that lost to its
   * backup) is not waited for: it was told to stop and has not, so it answers only if its body
   * returns, and ending it is what the kill would do.
   */
  async #flushAll(): Promise<void> {
    const I = this.#s.I
    const waits: Promise<void>[] = []
    for (const [m, info] of this.#ms) {
      if (!info.alive || !info.ready) continue
      const st = mState(I, this.#s.l, m)
      if (isDead(st)) continue
      if (inCancelledBody(this.#s, m)) {
        this.post(m, { t: 'flush' })
        continue
      }
      waits.push(new Promise<void>((resolve) => {
        const limit = inUserCode(st) ? BUSY_FLUSH_MS : FLUSH_WAIT_MS
        // Its output goes on to this process's stdout and stderr; when those hold back (a pipe
        // whose reader is slow: a pager, `| (sleep 4; cat)`), so does its stream, which is then
        // no stuck M's: wait on, as the write of a Unix tool would block. Without this, all that
        // waited behind the pipe was lost when the worker was ended.
        const outs = [this.#spec.toStderr ? process.stderr : process.stdout, process.stderr]
        const backedUp = (): boolean => outs.some((o) => o.writableNeedDrain)
        let timer: NodeJS.Timeout
        const arm = (): void => {
          timer = setTimeout(() => (backedUp() ? arm() : done()), limit)
        }
        const done = (): void => {
          clearTimeout(timer)
          resolve()
        }
        arm()
        info.flushed = (left) => {
          if (left > 0 && backedUp()) this.post(m, { t: 'flush' }) // not through yet: ask again
          else done()
        }
        info.worker.once('exit', done)
        this.post(m, { t: 'flush' })
      }))
    }
    await Promise.all(waits)
  }
}

/** True when M `m` runs the synchronous body of a killable task (O_CUR names it) that was cancelled. */
function inCancelledBody(s: Sched, m: number): boolean {
  const cur = Atomics.load(s.I, oOff(s.l, m) + O_CUR)
  return cur > 0 && cancelFlagged(s.I, gOff(s.l, cur - 1))
}
