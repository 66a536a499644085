/**
 * Runtime: the main thread's handle on a G/M/P scheduler: starts the Ms (worker threads), submits
 * Gs to the global queue, delivers results, runs the monitor, recovers from dead Ms, closes.
 *
 * Invariants:
 * - Gs submitted from the main thread are buffered and pushed to the global queue once per
 *   microtask turn (one lock per burst), then up to one parked M per G is woken (`wakeFor`).
 * - While the main thread awaits any G (pending, and not given up on through goWith's signal), a
 *   ref'd keep-alive timer holds the process open (Atomics.waitAsync does not); when it awaits
 *   none, nothing of the runtime keeps it alive: workers are unref'd and the monitor's timers too.
 *   A program whose main thread has nothing pending exits with its own exit code, whatever its
 *   tasks still do, as a Go program ends when main returns.
 * - When the main thread runs out of G records, further `go` calls wait in a local FIFO and are
 *   published as records free up (back-pressure without blocking the caller).
 * - A dead M is never restarted under the same index (its orphans may still complete into its
 *   old completion ring); a replacement takes a fresh index.
 */

import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { Group, writeRecord, writeRecords } from '../shared/batch.js'
import { PayloadBroker } from './broker.js'
import { encodeArgs, encodeArgsTransfer, errorToPlain, type Encoded, type PlainError, type RemotePayload } from '../shared/codec.js'
import { MExhaustedError, RuntimeClosedError, RuntimeOnMError, SchedulerArgError, UncloneableArgError, describe } from '../errors.js'
import { H_CLOSED, H_MTASKS, O_RETIRED, P_OWNER, RETIRED, oOff, ownerOf, pOff, writeHeader } from '../shared/layout.js'
import { checker, sampleRuntime, type DeadHost } from './checkdead.js'
import { Killer } from './kill.js'
import { MainSpin } from './mainspin.js'
import { ResultBatch } from './resultbatch.js'
import { Monitor } from './monitor.js'
import { resolveOptions, type RuntimeOptions } from './options.js'
import { specOf, type WorkerSpec } from './prestart.js'
import { Owner } from '../shared/owner.js'
import { doorbell, mainBatching, mainBeginWait, mainBell, mainEndWait, mainTryBatch, wakeMain } from '../shared/park.js'
import type { FromM } from '../shared/protocol.js'
import { reclaimDeadM } from './recovery.js'
import { Sched } from '../shared/sched.js'
import { Threads } from './threads.js'
import { collectStats, type SchedStats } from './stats.js'
import { ActorHost } from './actors.js'
import { checkActorClass, checkActorOptions, type ActorClass, type ActorOptions, type ActorRemote } from '../actor.js'
import { addRuntime, checkArgsList, checkGoOptions, checkTask, checkTransfer, isTask, onM, removeRuntime, type AnyTask, type GoOptions, type Spawner, type TaskLike } from '../task.js'
import { waitAsync } from '../shared/wait.js'

export type { RuntimeOptions } from './options.js'

interface Overflow {
  readonly tid: number
  readonly args: readonly unknown[]
  /** The arguments as encoded at the call (see writeRecord), with `transfer` if the caller moved buffers. */
  readonly enc: Encoded
  readonly transfer: readonly ArrayBuffer[] | undefined
  readonly resolve: (v: unknown) => void
  readonly reject: (e: unknown) => void
  /** Its caller's signal fired while it waited for a record: it is never published. */
  cancelled?: boolean
}

export class Runtime implements Spawner, AsyncDisposable {
  readonly #s: Sched
  readonly #owner: Owner
  readonly #threads: Threads
  readonly #monitor: Monitor
  #closed = false
  /**
   * Gids published since the last flush, pushed to the global queue in one batch. Each is an
   * allocated record of this thread, so the main range's size bounds it; a typed array of that
   * size, not a growing JS array, whose pushes cost more than the rest of a tiny go().
   */
  readonly #submit: Int32Array
  #submitN = 0
  #flushQueued = false
  /** go() calls waiting for a free G record, FIFO from #overflowHead. */
  #overflow: Overflow[] = []
  #overflowHead = 0
  /** Entries of #overflow that are cancelled (still in the array until #refill meets them). */
  #overflowCancelled = 0
  readonly #broker: PayloadBroker
  #waiting = false
  readonly #spin: MainSpin
  readonly #batch: ResultBatch
  /** The batched wait's timer while one is armed (#waiting is then true). */
  #batchTimer: NodeJS.Timeout | undefined
  /** Results the last turn took (a wake-up, a poll or a batched wait). */
  #took = 0
  /** A waitAsync on the doorbell is outstanding (one at most). */
  #asyncOut = false
  #keepAlive: NodeJS.Timeout | undefined
  #deaths = 0
  /** Ms that ended themselves through retireThisM, and were replaced. */
  #retirements = 0
  /** Set once no M is left and none may start (replacements used up): every later task rejects with it. */
  #exhausted: MExhaustedError | undefined
  readonly #killer: Killer
  /** Actors spawned here (main/actors.ts); made on the first spawnActor. */
  #actors: ActorHost | undefined
  /** Pending Gs the main thread does not wait on (actors' Gs): they do not hold the process open. */
  #daemons = 0
  /** Messages handled from Ms (deadlock probes' answers excluded): main's part of the deadlock check's epoch. */
  #msgs = 0
  /** This runtime as the deadlock check sees it (checkdead.ts), registered from construction to close. */
  readonly #dead: DeadHost = {
    held: () => this.#keepAlive !== undefined,
    keepAliveTimers: () => (this.#keepAlive !== undefined ? 1 : 0),
    still: (sig, started, owning) => {
      if (this.#owner.ready() || this.#overflowLen() > 0 || this.#submitN > 0) return 'main has a result to take or a G to publish'
      // An AbortSignal (AbortSignal.timeout's timer is unref'd, so invisible) may end the wait.
      if (this.#owner.watched > 0) return 'main awaits a G with an AbortSignal'
      sig.push(this.#msgs)
      return sampleRuntime(this.#s, this.#threads.alive(), sig, started, owning)
    },
    probe: (round, ms) => {
      for (const m of ms) this.#threads.post(m, { t: 'dead?', round })
    },
    threadIds: (out) => {
      for (const [m] of this.#threads.alive()) out.add(this.#threads.threadIdOf(m))
    },
    awaited: () => this.#owner.pending - this.#owner.detached + this.#overflowLen() - this.#overflowCancelled,
  }

  private constructor(s: Sched, o: { maxThreads: number; handoffMs: number; mainSpinUs: number; resultBatchUs: number; worker: WorkerSpec }) {
    // Private to TypeScript only: plain JavaScript can still call `new Runtime(options)`.
    if (!(s instanceof Sched)) throw new SchedulerArgError('gort: a runtime is started with `await Runtime.start(options)`, not `new Runtime(...)`')
    this.#s = s
    this.#spin = new MainSpin(o.mainSpinUs)
    this.#batch = new ResultBatch(o.resultBatchUs, s.l.procs)
    this.#threads = new Threads(s, o.worker, o.maxThreads, {
      message: (msg) => this.#onMessage(msg),
      exit: (m, code, error) => this.#onExit(m, code, error),
      spareReady: () => this.#monitor.kick(),
    })
    this.#broker = new PayloadBroker(s.l, (m, msg) => this.#threads.post(m, msg))
    this.#killer = new Killer(s, (m) => this.#threads.terminate(m), () => this.#closed)
    this.#owner = new Owner(s, 0)
    this.#owner.onDetach = () => this.#releaseIfIdle()
    this.#submit = new Int32Array(this.#owner.count)
    this.#monitor = new Monitor(
      s,
      {
        findSpare: () => this.#threads.findSpare(),
        wantSpare: () => this.#threads.wantSpare(),
        pending: () => this.#owner.pending + this.#overflowLen(),
        threads: () => this.#threads.live() + 1,
        runningMs: () => this.#threads.running(),
        abandoned: (m) => this.#killer.abandonedOn(m),
      },
      o.handoffMs,
    )
    checker.hosts.add(this.#dead)
  }

  /** Starts `procs` Ms each holding a P, plus spare Ms, and resolves once all are ready. */
  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    // On an M this would start Ms of its own, and each would do the same on its first import.
    if (onM()) throw new RuntimeOnMError()
    const o = resolveOptions(options)
    const l = o.layout
    const sab = new SharedArrayBuffer(l.words * 4)
    const header = new Int32Array(sab)
    writeHeader(header, l)
    header[H_MTASKS] = o.mTasks // read by each M as it starts
    const sched = new Sched(sab)
    const id = `${process.pid}-${randomUUID()}`
    sched.attachBufs(0, `gort-sharedbufs-${id}`)
    // The runtime is made below: kills asked for on this thread reach it through `rt`.
    let rt!: Runtime
    sched.attachCancels(`gort-cancel-${id}`, (gid, gen) => rt.#killer.kill(gid, gen))
    rt = new Runtime(sched, { maxThreads: o.maxThreads, handoffMs: o.handoffMs, mainSpinUs: o.mainSpinUs, resultBatchUs: o.resultBatchUs, worker: specOf({ loader: o.loader, youngMb: o.mYoungMb, oldMb: o.mHeapMb, stdout: o.mStdout }) })
    rt.#holdOpen() // unref'd workers alone would let the process exit while they boot
    try {
      const boots: Promise<void>[] = []
      for (let p = 0; p < o.procs; p++) boots.push(rt.#threads.start(p))
      for (let i = 0; i < o.spares; i++) boots.push(rt.#threads.start(-1))
      await Promise.all(boots)
    } catch (e) {
      await rt.close()
      throw e
    }
    rt.#releaseIfIdle()
    addRuntime(rt)
    const trace = /(?:^|,)schedtrace=(\d+)/.exec(process.env['GODEBUG'] ?? '')
    if (trace !== null && Number(trace[1]) > 0) rt.#monitor.startTrace(Number(trace[1]), (line) => console.error(line))
    return rt
  }

  get procs(): number {
    return this.#s.l.procs
  }

  /**
   * How many more Ms this runtime may start over its life: spares, and replacements for Ms that
   * die or retire (retireThisM). An M's index is never reused, so this only goes down.
   */
  get threadsLeft(): number {
    return this.#threads.left()
  }

  /** Runs task `ref` with `args` on some M and resolves with its result. */
  go<A extends unknown[], R>(t: TaskLike<A, R>, ...args: A): Promise<Awaited<R>> {
    if (this.#closed) throw new RuntimeClosedError()
    return this.spawn(checkTask(t), args) as Promise<Awaited<R>>
  }

  /** `go` with options: `{ signal }` rejects the result with `signal.reason`, `killAfterMs` ends a task that runs on, `{ transfer }` moves buffers (see GoOptions). */
  goWith<A extends unknown[], R>(options: GoOptions, t: TaskLike<A, R>, ...args: A): Promise<Awaited<R>> {
    if (this.#closed) throw new RuntimeClosedError()
    const o = checkGoOptions(options)
    return this.spawn(checkTask(t), args, o.signal, o.killAfterMs, checkTransfer(options)) as Promise<Awaited<R>>
  }

  spawn(ref: AnyTask, args: readonly unknown[], signal?: AbortSignal, killAfterMs?: number, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.#closed) throw new RuntimeClosedError()
    if (!isTask(ref)) throw new SchedulerArgError(`gort: go() needs a task reference made by task(), got ${describe(ref)}`)
    if (this.#exhausted !== undefined) return Promise.reject(this.#exhausted)
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(signal.reason)
      return this.#spawnCancellable(ref, args, signal, killAfterMs, transfer)
    }
    const tid = this.#s.tasks.idOfTask(ref)
    if (this.#keepAlive === undefined) this.#holdOpen()
    const gid = this.#overflowLen() === 0 ? this.#owner.alloc() : -1
    if (gid >= 0) {
      // The same record writer as go() inside a task: numbers inline (the hot path), shared
      // buffers by registry id, anything else serialized (or stashed here when it is large).
      let stash: RemotePayload | undefined
      try {
        stash = writeRecord(this.#s, this.#owner, gid, tid, args, transfer)
      } catch (e) {
        this.#owner.unalloc(gid)
        throw new UncloneableArgError(ref.key, { cause: e })
      }
      if (stash !== undefined) this.#broker.stash(gid, stash)
      this.#queue(gid) // published by the global queue push in #flush
      this.#lastGid = gid
      return this.#owner.wait(gid)
    }
    let enc: Encoded
    try {
      enc = transfer !== undefined ? encodeArgsTransfer(args, transfer) : encodeArgs(args)
    } catch (e) {
      throw new UncloneableArgError(ref.key, { cause: e })
    }
    this.#lastGid = -1
    return new Promise((resolve, reject) => this.#overflow.push({ tid, args, enc, transfer, resolve, reject }))
  }

  /** Runs task `t` once per argument tuple; resolves with all results in order (see goAll). */
  goAll<A extends unknown[], R>(t: TaskLike<A, R>, argsList: readonly A[]): Promise<Awaited<R>[]> {
    if (this.#closed) throw new RuntimeClosedError()
    return this.spawnAll(checkTask(t), checkArgsList(argsList)) as Promise<Awaited<R>[]>
  }

  /** Runs task `t` once per argument tuple; resolves with every outcome in order (see goAllSettled). */
  goAllSettled<A extends unknown[], R>(t: TaskLike<A, R>, argsList: readonly A[]): Promise<PromiseSettledResult<Awaited<R>>[]> {
    if (this.#closed) throw new RuntimeClosedError()
    return this.spawnAll(checkTask(t), checkArgsList(argsList), true) as Promise<PromiseSettledResult<Awaited<R>>[]>
  }

  /**
   * Starts an actor: one instance of class `cls` (declared with `actor(import.meta.url, cls)`),
   * built from `args` on some M, serving calls one at a time (docs/actors.md).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spawnActor<C extends new (...args: any[]) => object>(cls: C | ActorClass<C>, ...args: ConstructorParameters<C>): Promise<ActorRemote<InstanceType<C>>> {
    return this.spawnActorWith({}, cls, ...args)
  }

  /** spawnActor with options: `{ supervisor: { restart, maxRestarts } }` restarts it when it dies. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spawnActorWith<C extends new (...args: any[]) => object>(options: ActorOptions, cls: C | ActorClass<C>, ...args: ConstructorParameters<C>): Promise<ActorRemote<InstanceType<C>>> {
    if (this.#closed) throw new RuntimeClosedError()
    const o = checkActorOptions(options)
    const def = checkActorClass(cls)
    return this.#actorHost().spawn<InstanceType<C>>(def as ActorClass<never>, args, o)
  }

  #actorHost(): ActorHost {
    return (this.#actors ??= new ActorHost({ spawnDaemon: (ref, a) => this.#spawnDaemon(ref, a), post: (m, msg) => this.#threads.post(m, msg) }))
  }

  /** A G the main thread does not wait on: it does not keep the process alive (an actor's G). */
  #spawnDaemon(ref: AnyTask, args: readonly unknown[]): Promise<unknown> {
    const p = this.spawn(ref, args)
    const gid = this.#lastGid
    if (gid >= 0) {
      // Counted until it settles: the owner runs this before anyone re-checks the keep-alive.
      this.#daemons++
      this.#owner.onSettle(gid, () => this.#daemons--)
      this.#releaseIfIdle()
    }
    return p
  }

  spawnAll(ref: AnyTask, argsList: readonly (readonly unknown[])[], settled = false): Promise<unknown[]> {
    if (this.#closed) throw new RuntimeClosedError()
    if (argsList.length === 0) return Promise.resolve([])
    if (this.#exhausted !== undefined) {
      const e = this.#exhausted
      return Promise.resolve(settled ? argsList.map(() => ({ status: 'rejected', reason: e })) : Promise.reject(e))
    }
    if (this.#keepAlive === undefined) this.#holdOpen()
    // Behind go() calls already waiting for records, so the FIFO order holds.
    const gids = this.#overflowLen() === 0
      ? writeRecords(this.#s, this.#owner, this.#s.tasks.idOfTask(ref), ref.key, argsList, (gid, p) => this.#broker.stash(gid, p))
      : new Int32Array(0)
    let group!: Group
    const all = new Promise<unknown[]>((resolve, reject) => (group = new Group(argsList.length, resolve, reject, settled)))
    for (let k = 0; k < gids.length; k++) {
      this.#owner.join(gids[k]!, group, k)
      this.#queue(gids[k]!)
    }
    // Out of G records: the rest wait in the overflow FIFO like any go().
    for (let k = gids.length; k < argsList.length; k++) group.follow(k, this.spawn(ref, argsList[k]!))
    return all
  }

  #spawnCancellable(
    ref: AnyTask, args: readonly unknown[], signal: AbortSignal, killAfterMs: number | undefined, transfer: readonly ArrayBuffer[] | undefined,
  ): Promise<unknown> {
    const inner = this.spawn(ref, args, undefined, undefined, transfer)
    // The hot path above just allocated the newest gid of this thread, unless it overflowed.
    const gid = this.#lastGid
    if (gid >= 0) {
      this.#s.cancelOn(signal, gid, this.#owner, killAfterMs)
      return inner
    }
    // Still waiting for a G record: on abort settle now, and take it out of the FIFO (it never runs).
    const entry = this.#overflow[this.#overflow.length - 1]!
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        entry.cancelled = true
        this.#overflowCancelled++
        reject(signal.reason)
        this.#releaseIfIdle()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      inner.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** The gid of the last G published by spawn(), -1 when it went to the overflow queue. */
  #lastGid = -1

  #queue(gid: number): void {
    this.#submit[this.#submitN++] = gid
    if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(this.#flushFn)
    }
  }

  readonly #flushFn = (): void => this.#flush()

  #flush(): void {
    this.#flushQueued = false
    if (this.#closed) return
    this.#s.q.globalPush(this.#submit, this.#submitN)
    this.#s.wakeFor(this.#submitN)
    this.#submitN = 0
    this.#monitor.kick()
    this.#armWait()
  }

  /**
   * Waits (without blocking the event loop) for the main thread's doorbell, or, while many Gs
   * are awaited and every P is busy, for a batched wait's timer (main/resultbatch.ts), which an
   * M going idle cuts short. At most one waitAsync is outstanding (#asyncOut): one that outlives
   * the wait it was made for (a batched wait its timer ended) serves the next, so no wait leaves
   * a waiter behind.
   */
  #armWait(): void {
    if (this.#waiting || this.#closed || this.#owner.pending === 0) return
    const s = this.#s
    this.#waiting = true
    if (this.#batch.wants(this.#owner.pending, this.#took) && mainTryBatch(s.I, s.l)) {
      this.#batch.waits++
      this.#batchTimer = setTimeout(this.#onBatchFn, this.#batch.ms)
      this.#batchTimer.unref()
      this.#sleep(mainBell(s.I, s.l))
      // A nudge before the waiter was registered cleared W_BATCH first (its notify found nobody).
      if (!mainBatching(s.I, s.l)) queueMicrotask(this.#onWakeFn)
      return
    }
    if (this.#spin.poll(this.#owner)) {
      queueMicrotask(this.#onWakeFn)
      return
    }
    const bell = mainBeginWait(s.I, s.l)
    if (this.#owner.ready()) {
      queueMicrotask(this.#onWakeFn)
      return
    }
    // About to sleep: a good moment to drop shared buffers whose slots were freed (rate-limited).
    s.bufs.idle()
    this.#sleep(bell)
  }

  /** Registers the waitAsync on the doorbell (value `bell`), unless one is outstanding. */
  #sleep(bell: number): void {
    if (this.#asyncOut) return
    this.#asyncOut = true
    const r = waitAsync(this.#s.I, doorbell(this.#s.l, 0), bell)
    if (r.async) void r.value.then(this.#onAsyncFn)
    else queueMicrotask(this.#onAsyncFn)
  }

  /** #onWake as one function for every wait, not a closure per wait (one per round trip). */
  readonly #onWakeFn = (): void => this.#onWake()

  /**
   * The waitAsync returned. Nothing to do if the wait it was made for already ended; during a
   * batched wait that no M nudged (a doorbell that moved under the waiter), wait on.
   */
  readonly #onAsyncFn = (): void => {
    this.#asyncOut = false
    if (!this.#waiting) return
    if (this.#batchTimer !== undefined && mainBatching(this.#s.I, this.#s.l)) return this.#sleep(mainBell(this.#s.I, this.#s.l))
    this.#onWake()
  }

  /** A batched wait's timer. */
  readonly #onBatchFn = (): void => {
    this.#batchTimer = undefined
    if (this.#waiting) this.#onWake()
  }

  #onWake(): void {
    this.#waiting = false
    if (this.#batchTimer !== undefined) {
      this.#batch.cut++
      clearTimeout(this.#batchTimer)
      this.#batchTimer = undefined
    }
    this.#spin.woke()
    mainEndWait(this.#s.I, this.#s.l)
    if (this.#closed) return
    this.#took = this.#owner.drain()
    this.#refill()
    this.#releaseIfIdle()
    this.#armWait()
  }

  #overflowLen(): number {
    return this.#overflow.length - this.#overflowHead
  }

  #refill(): void {
    while (this.#overflowLen() > 0) {
      const o = this.#overflow[this.#overflowHead]!
      if (o.cancelled === true) {
        this.#overflow[this.#overflowHead++] = undefined as unknown as Overflow
        this.#overflowCancelled--
        continue
      }
      const gid = this.#owner.alloc()
      if (gid < 0) return
      this.#overflow[this.#overflowHead++] = undefined as unknown as Overflow
      this.#owner.wait(gid).then(o.resolve, o.reject)
      // The one record writer (as go() inside a task): shared buffers by registry id.
      const stash = writeRecord(this.#s, this.#owner, gid, o.tid, o.args, o.transfer, o.enc)
      if (stash !== undefined) this.#broker.stash(gid, stash)
      this.#queue(gid)
    }
    this.#overflow = []
    this.#overflowHead = 0
  }

  #holdOpen(): void {
    if (this.#keepAlive !== undefined) return
    this.#keepAlive = setInterval(() => {}, 1 << 30)
    checker.poke() // held open by gort now: the deadlock check runs
  }

  /** Lets the process exit once the main thread awaits no G: pending ones given up on do not count. */
  #releaseIfIdle(): void {
    const awaited = this.#owner.pending - this.#owner.detached - this.#daemons + this.#overflowLen() - this.#overflowCancelled
    if (this.#keepAlive !== undefined && awaited === 0) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = undefined
    }
  }

  // ---- Ms ----

  #onMessage(msg: FromM): void {
    if (msg.t === 'dead') {
      checker.answer(this.#dead, msg.m, msg.round, msg.answer)
      return
    }
    this.#msgs++
    if (msg.t === 'kill') {
      this.#killer.kill(msg.gid, msg.gen)
      return
    }
    if (msg.t === 'retiring') {
      // Its replacement boots while its last tasks finish.
      this.#threads.wantSpare()
      return
    }
    if (msg.t === 'released') {
      // The retired M's P, ownerless now: to the replacement (or the monitor does it once one is
      // ready). Unless the monitor's sample has handed it on already: a P has one owner.
      if (Atomics.load(this.#s.I, pOff(this.#s.l, msg.p) + P_OWNER) === 0) this.#monitor.handTo(msg.p, 0)
      this.#monitor.kick()
      return
    }
    if (msg.t === 'actor') {
      this.#actorHost().onMessage(msg)
      return
    }
    if (msg.t === 'sharedbuf?') {
      // The main thread heard every announcement (its channel exists before any M).
      this.#threads.post(msg.m, { t: 'sharedbuf', id: msg.id, buf: this.#s.bufs.lookup(msg.id) })
      return
    }
    const settled = this.#broker.onMessage(msg)
    if (settled !== undefined) {
      this.#owner.settle(settled.gid, settled.value, settled.isErr)
      this.#refill()
      this.#releaseIfIdle()
    }
  }

  /**
   * An M died, or retired (retireThisM, with no task live): fix the shared counters, give its P
   * away, fail its started Gs, replace it.
   */
  #onExit(m: number, code: number, error: unknown): void {
    if (this.#closed) return
    const s = this.#s
    const retired = Atomics.load(s.I, oOff(s.l, m) + O_RETIRED) === RETIRED
    if (retired) this.#retirements++
    else this.#deaths++
    const e = error as { name?: string; message?: string; code?: unknown } | undefined
    const killedFor = this.#killer.killed.get(m)
    this.#killer.killed.delete(m)
    const reason = retired ? 'retired' : killedFor !== undefined ? `killed to stop cancelled task ${killedFor}`
      : e === undefined ? `exit code ${code}`
      : e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory: ${e.message ?? ''}`
      : `uncaught ${e.name ?? 'error'}: ${e.message ?? String(e)}`
    const { orphaned, requeue } = reclaimDeadM(s, m, reason, (gid, err) => {
      const owner = ownerOf(s.l, gid)
      if (owner === 0) this.#owner.settle(gid, err, true)
      else this.#threads.post(owner, { t: 'fail', gid, error: errorToPlain(err) as PlainError })
    })
    // Its buffer objects are gone without a finalizer: free their slots once no G needs them.
    s.bufs.orphanAllOf(m)
    s.q.globalPush(requeue, requeue.length)
    s.wakeFor(requeue.length)
    // A retired M's replacement was asked for on 'retiring' (handTo below asks again if it failed).
    if (!retired) this.#threads.wantSpare()
    if (this.#threads.live() === 0 && this.#threads.exhausted()) {
      // Nothing will ever run what waits: say so now rather than hang.
      this.#exhausted = new MExhaustedError(this.#deaths, this.#retirements)
      this.#owner.failAll(this.#exhausted)
      this.#releaseIfIdle()
      return
    }
    for (const p of orphaned) this.#monitor.handTo(p, 0)
    this.#monitor.kick()
    this.#refill()
    this.#releaseIfIdle()
  }

  // ---- observability ----

  /** Scheduler counters: per-P runs, steals, global-queue pulls, parks, spawns, hand-offs. */
  stats(): SchedStats {
    return collectStats(this.#s, this.#threads.live() + 1, (m) => this.#threads.threadIdOf(m), this.#deaths, this.#retirements, this.#monitor.rescues, this.#spin, { waits: this.#batch.waits, cut: this.#batch.cut })
  }

  /** The Go-style schedtrace line for right now. */
  schedtrace(): string {
    return this.#monitor.schedLine(performance.now())
  }

  // ---- shutdown ----

  /** Ends every M. Gs still pending reject with RuntimeClosedError. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#threads.closed = true
    const s = this.#s
    Atomics.store(s.I, H_CLOSED, 1)
    this.#threads.ringAll()
    wakeMain(s.I, s.l)
    this.#monitor.stop()
    this.#actors?.close()
    this.#daemons = 0
    const err = new RuntimeClosedError()
    this.#owner.failAll(err)
    for (let i = this.#overflowHead; i < this.#overflow.length; i++) this.#overflow[i]!.reject(err)
    this.#overflow = []
    this.#overflowHead = 0
    this.#overflowCancelled = 0
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer)
    this.#batchTimer = undefined
    removeRuntime(this)
    checker.hosts.delete(this.#dead)
    await this.#threads.terminateAll()
    s.bufs.close()
    s.cancels.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
