/**
 * One phase of a job (all map tasks, or all reduce tasks): the paper's per-task state kept on the
 * main thread, attempts started, timed, retried, backed up and cancelled.
 *
 * A task is idle (in `queue`), in progress (one attempt running, or two: the attempt and its
 * backup copy), or completed (`done`). Each attempt runs with its own AbortController, whose
 * signal is the attempt's goWith signal (and inside the task its taskSignal()): aborting it
 * rejects the attempt's promise at once, tells the task (which stops at its next check and
 * removes its directory), and, if the task still runs KILL_GRACE_MS later inside its synchronous
 * body, ends its M (goWith's killAfterMs; the scheduler replaces the M).
 *
 * Invariants:
 * - At most `procs` attempts are in flight (backups included), so each may buffer its share of
 *   the memory budget.
 * - A task's result is its first successful attempt's; once it has one, every other attempt of
 *   the task is cancelled, and whatever they return or throw is dropped (it is neither a result
 *   nor a failure). Counters are therefore counted once per task.
 * - An attempt whose thread calls process.exit fails as soon as its clock word says so
 *   (clock.ts), without waiting for the Worker's 'exit' event; whatever its promise brings later
 *   is dropped (each attempt settles once).
 * - Only failures count toward `maxAttempts`: a throw, a dead M, a timeout. A cancelled attempt
 *   (the other copy won, the job failed or stopped) is not a failure.
 * - A failed task is queued again only when no other copy of it still runs (that copy may win).
 * - Backup copies start only when no task of the phase waits in the queue, for an attempt that
 *   has run more than BACKUP_FACTOR times the median duration of the phase's successful attempts
 *   and at least BACKUP_MIN_MS, at most one at a time per task. With no failure and no straggler
 *   no task runs twice.
 * - The phase settles only when no attempt of it is in flight: resolved when every task is done,
 *   rejected with the first fatal error (a task out of attempts, or the job's stop signal).
 * - No timer outlives the phase.
 */

import { rmSync } from 'node:fs'
import type { JobCounters } from './coordinator.js'
import { formatDuration } from './duration.js'
import { FAIL_AT_ONCE, JobAbortedError, TaskFailedError, TaskTimeoutError, ThreadExitError, codeOf, type AttemptFailure } from './errors.js'
import { taskId } from './names.js'
import type { ProgressEvent } from './options.js'
import { clockWords, progressCount, drainClocks, readClock, startedAt as clockStartedAt, watchClock, type AttemptClock } from './clock.js'
import { InternalError } from '../errors.js'
import type { MDiedError } from '../scheduler/errors.js'

/** A backup copy starts once an attempt has run this many times the phase's median. */
export const BACKUP_FACTOR = 2
/**
 * ...and at least this long. Below it a copy saves little time, and short tasks vary more
 * (thread start-up, module import, the last split of a file): a floor keeps "no task runs twice
 * when nothing fails" for jobs of many small tasks.
 */
export const BACKUP_MIN_MS = 1000
/**
 * A cancelled attempt that still runs this long after its signal fired has its M ended. Map and
 * reduce tasks check their signal every 1024 records or 256 keys, far sooner than this unless the
 * job's own code is stuck.
 */
export const KILL_GRACE_MS = 500

export interface PhaseSpec<R> {
  readonly kind: 'm' | 'r'
  readonly count: number
  readonly procs: number
  readonly maxAttempts: number
  readonly taskTimeout: number
  readonly backupTasks: boolean
  /** The job's stop: aborting it fails the phase with its reason. */
  readonly stop: AbortSignal | undefined
  readonly emit: (e: ProgressEvent) => void
  readonly counters: JobCounters
  /** Attempt `attempt` of task `task`'s private directory. */
  readonly dir: (task: number, attempt: number) => string
  /** Starts an attempt as a G whose goWith signal is `signal` (with killAfterMs: KILL_GRACE_MS); it stamps `clock` when its body starts. */
  readonly launch: (task: number, attempt: number, signal: AbortSignal, clock: AttemptClock) => Promise<R>
  /** Input bytes of a result, for progress (maps). */
  readonly bytesOf?: (r: R) => number
  /**
   * How long the phase, once over, waits for the bodies of the attempts it abandoned (cancelled
   * or timed out) to end, before it settles (clock.ts drainClocks); those not started never
   * start. 0: it does not wait. A streaming attempt kills its processes as its body ends, and
   * the job ends every thread soon after its last phase: a thread ended first leaves them running.
   */
  readonly drainMs: number
}

interface Attempt {
  readonly task: number
  readonly n: number
  readonly backup: boolean
  /** Its word in the phase's clocks (clock.ts). */
  readonly slot: number
  readonly ac: AbortController
  timer: NodeJS.Timeout | undefined
  /** Why it was aborted by the phase: the other copy won or the job ended ('cancelled'), or its time ran out. */
  why: 'cancelled' | 'timeout' | undefined
  /** Its progress count at the last check, and Date.now() when the count last changed (0: never). */
  progress: number
  activeAt: number
}

interface TaskState {
  done: boolean
  /** Attempts of this task in flight: at most two (an attempt and its backup). */
  readonly running: Attempt[]
  readonly failures: AttemptFailure[]
  /** The next attempt number. */
  next: number
  /** A backup copy was started for the attempts now running. */
  backedUp: boolean
}

/**
 * An attempt's error as one line, `name: message`, less the `gort mapreduce: ` that starts gort's
 * own messages: the lines it goes into (TaskFailedError's, the CLI's) start with it already.
 */
export const describeError = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e)
  // The scheduler names the task it ran as its module URL: for an attempt that is gort's own
  // internal module (jobtasks.js?job=…#mapTask), so only the thread and why it died are said.
  const died = e as Partial<MDiedError>
  if (died.code === 'ERR_M_DIED' && typeof died.m === 'number' && typeof died.reason === 'string') return `${e.name}: its thread (M${died.m}) died: ${died.reason}`
  return `${e.name}: ${e.message.replace(/^gort mapreduce: /, '')}`
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Removes an attempt's directory; one still being written to by a cancelled task goes with _temporary at the end. */
function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 })
  } catch {
    // the task is still writing into it: _temporary is removed whole once the runtime is closed
  }
}

/**
 * Attempt slots per task: a task has at most 2 * maxAttempts attempts (each round of attempts
 * between two queuings has one attempt, at most one backup copy, and at least one failure unless
 * it is the last), so no slot is ever reused. Attempt n (from 1) of task t has slot
 * t * slotsPerTask + n - 1: its word in the phase's clocks, and in whatever else the phase's
 * attempts share by slot (streaming/groups.ts).
 */
const slotsPerTask = (maxAttempts: number): number => 2 * maxAttempts

/** A phase's attempt slots: see slotsPerTask. */
export const attemptSlots = (count: number, maxAttempts: number): number => slotsPerTask(maxAttempts) * Math.max(count, 1)

/** How often a running attempt's clock is read: for its start, its timeout, its thread exiting. */
const POLL_MS = 25

/** Runs every task of the phase to a result; resolves with them in task order. */
export function runPhase<R>(ph: PhaseSpec<R>): Promise<R[]> {
  const results = new Array<R>(ph.count)
  const tasks: TaskState[] = Array.from({ length: ph.count }, () => ({ done: false, running: [], failures: [], next: 1, backedUp: false }))
  const queue: number[] = Array.from({ length: ph.count }, (_, t) => t)
  const durations: number[] = []
  const phase = ph.kind === 'm' ? 'map' : 'reduce'
  const shownTimeout = formatDuration(ph.taskTimeout)
  let head = 0
  let inFlight = 0
  let done = 0
  let fatal: { error: unknown } | undefined
  let backupTimer: NodeJS.Timeout | undefined
  // Each attempt's clock word (clock.ts): when its body started, or that its thread is exiting.
  const perTask = slotsPerTask(ph.maxAttempts)
  const epoch = Date.now()
  const words = clockWords(attemptSlots(ph.count, ph.maxAttempts))
  /**
   * Date.now() when `a`'s body started (also once it ended: a finished attempt's duration counts
   * from there, not from the phase's start), or undefined while it has not.
   */
  const startedAt = (a: Attempt): number | undefined => clockStartedAt(words, a.slot, epoch)

  return new Promise<R[]>((resolve, reject) => {
    /** Attempts aborted while in flight, for the drain when the phase is over. */
    const abandoned: number[] = []
    const abort = (a: Attempt, why: 'cancelled' | 'timeout', reason: unknown): void => {
      if (a.ac.signal.aborted) return
      a.why = why
      abandoned.push(a.slot)
      a.ac.abort(reason)
    }
    const cancel = (a: Attempt, reason: unknown): void => abort(a, 'cancelled', reason)
    const fail = (error: unknown): void => {
      if (fatal !== undefined) return
      fatal = { error }
      for (const t of tasks) for (const a of t.running) cancel(a, new JobAbortedError())
    }
    const onStop = (): void => {
      fail(ph.stop!.reason)
      settle()
    }
    let settling = false
    const settle = (): void => {
      if (settling || inFlight > 0 || (fatal === undefined && done < ph.count)) return
      settling = true
      clearTimeout(backupTimer)
      ph.stop?.removeEventListener('abort', onStop)
      void drainClocks(words, abandoned, epoch, ph.drainMs).then(() => {
        if (fatal !== undefined) reject(fatal.error)
        else resolve(results)
      })
    }
    const event = (a: Attempt, state: 'started' | 'succeeded' | 'failed' | 'cancelled', extra: { error?: string; cause?: unknown; bytes?: number; ms?: number } = {}): void => {
      ph.emit({ type: 'attempt', phase, task: taskId(ph.kind, a.task), attempt: a.n, state, backup: a.backup, ...extra, done, total: ph.count })
    }

    const succeeded = (a: Attempt, r: R): void => {
      const t = tasks[a.task]!
      if (t.done || fatal !== undefined) {
        // A copy that finished after the task was won (or the job failed): a duplicate, dropped.
        ph.counters.cancelledAttempts++
        removeDir(ph.dir(a.task, a.n))
        event(a, 'cancelled')
        return
      }
      t.done = true
      results[a.task] = r
      done++
      const ms = Date.now() - (startedAt(a) ?? epoch)
      durations.push(ms)
      event(a, 'succeeded', ph.bytesOf === undefined ? { ms } : { ms, bytes: ph.bytesOf(r) })
      for (const other of t.running) if (other !== a) cancel(other, new JobAbortedError())
    }

    const failed = (a: Attempt, e: unknown): void => {
      const t = tasks[a.task]!
      removeDir(ph.dir(a.task, a.n))
      if (a.why === 'cancelled' || t.done || (fatal !== undefined && a.why !== 'timeout')) {
        ph.counters.cancelledAttempts++
        event(a, 'cancelled')
        return
      }
      ph.counters.failedAttempts++
      if (a.why === 'timeout') ph.counters.timedOutAttempts++
      t.failures.push({ attempt: a.n, error: describeError(e), code: codeOf(e), cause: e })
      event(a, 'failed', { error: describeError(e), cause: e })
      if (t.failures.length >= ph.maxAttempts || FAIL_AT_ONCE.has(codeOf(e) ?? '')) fail(new TaskFailedError(taskId(ph.kind, a.task), t.failures, { cause: e }))
      else if (t.running.length === 1) {
        // No other copy runs: the task waits for a fresh attempt (which may have a backup again).
        t.backedUp = false
        queue.push(a.task)
      }
    }

    const start = (task: number, backup: boolean): void => {
      const t = tasks[task]!
      const n = t.next++
      if (n > perTask) throw new InternalError(`gort mapreduce: task ${taskId(ph.kind, task)} attempt ${n} beyond ${perTask}`)
      const a: Attempt = { task, n, backup, slot: task * perTask + n - 1, ac: new AbortController(), timer: undefined, why: undefined, progress: 0, activeAt: 0 }
      t.running.push(a)
      inFlight++
      if (ph.kind === 'm') ph.counters.mapAttempts++
      else ph.counters.reduceAttempts++
      if (backup) ph.counters.backupTasks++
      event(a, 'started')
      // Settles the attempt once: from its promise, or from its clock when its thread exits first.
      let finished = false
      const finish = (ok: boolean, v: unknown): void => {
        if (finished) return
        finished = true
        clearTimeout(a.timer)
        watch.stop()
        if (ok) succeeded(a, v as R)
        else failed(a, v)
        t.running.splice(t.running.indexOf(a), 1)
        inFlight--
        pump()
      }
      /** True (and the attempt failed) when its thread is exiting; the scheduler's MDiedError for it comes later and is dropped. */
      const exited = (): boolean => {
        if (finished) return true
        const c = readClock(words, a.slot, epoch)
        if (c.state !== 'exiting') return false
        finish(false, new ThreadExitError(taskId(ph.kind, task), a.n, c.code))
        return true
      }
      // The exiting thread notifies its word: the retry need not wait for the next poll.
      const watch = watchClock(words, a.slot, exited)
      const check = (): void => {
        if (exited()) return
        const c = readClock(words, a.slot, epoch)
        // The timeout counts from the attempt's last progress (a record or key read, a streaming
        // process's line), as Hadoop's does: a long task that works is not a hung one.
        const n = progressCount(words, a.slot)
        if (n !== a.progress) {
          a.progress = n
          a.activeAt = Date.now()
        }
        if (c.state === 'started' && !a.ac.signal.aborted && Date.now() - Math.max(c.at, a.activeAt) >= ph.taskTimeout) {
          abort(a, 'timeout', new TaskTimeoutError(taskId(ph.kind, task), a.n, ph.taskTimeout, shownTimeout, true))
        }
        a.timer = setTimeout(check, POLL_MS)
      }
      a.timer = setTimeout(check, POLL_MS)
      let p: Promise<R>
      try {
        p = ph.launch(task, a.n, a.ac.signal, { words, slot: a.slot, epoch })
      } catch (e) {
        p = Promise.reject(e)
      }
      p.then((r) => finish(true, r), (e: unknown) => finish(false, e))
    }

    /** Near the end of the phase: a copy of each straggler, while a slot is free; then the timer for the next one. */
    const backups = (): void => {
      clearTimeout(backupTimer)
      backupTimer = undefined
      if (!ph.backupTasks || fatal !== undefined || head < queue.length || durations.length === 0) return
      const after = Math.max(BACKUP_FACTOR * median(durations), BACKUP_MIN_MS)
      const now = Date.now()
      let soonest = Infinity
      for (let task = 0; task < tasks.length; task++) {
        const t = tasks[task]!
        if (t.done || t.backedUp || t.running.length !== 1) continue
        const s = startedAt(t.running[0]!)
        const age = s === undefined ? 0 : now - s
        if (s === undefined) soonest = Math.min(soonest, after)
        else if (age < after) soonest = Math.min(soonest, after - age)
        else if (inFlight < ph.procs) {
          t.backedUp = true
          start(task, true)
        }
      }
      if (soonest !== Infinity) backupTimer = setTimeout(pump, Math.ceil(soonest) + 1)
    }

    const pump = (): void => {
      while (fatal === undefined && inFlight < ph.procs && head < queue.length) {
        const task = queue[head++]!
        if (!tasks[task]!.done) start(task, false)
      }
      backups()
      settle()
    }

    if (ph.stop?.aborted === true) fail(ph.stop.reason)
    else ph.stop?.addEventListener('abort', onStop, { once: true })
    pump()
  })
}
