/**
 * The coordinator: runs a job on the main thread, each map and reduce task attempt a G on a
 * Runtime of its own, and keeps the paper's per-task state (idle, in progress, completed).
 *
 * Invariants:
 * - Nothing is created before every check passed (options, inputs, the job module, the output
 *   directory's absence); from then on the output directory is the job's, and a failed or
 *   aborted job removes it whole: no part file and no _SUCCESS outlive a failure.
 * - At most `procs` attempts run at once, so each may buffer `memory / procs` bytes: the
 *   scheduler would start a second G on an M whose task awaits, and the budget would no longer
 *   hold.
 * - A task's result is taken from its first successful attempt only; a failed attempt's
 *   directory is removed before the task is queued again (its counters are never added).
 * - The job fails only after every attempt in flight has settled (each sees the abort word at its
 *   next check), so nothing writes into the output directory once runJob has settled.
 * - _SUCCESS is written after every part file is in place, and `_temporary` is removed before it.
 */

import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Runtime } from '../scheduler/index.js'
import { addPairs, addStats, zeroStats, type TaskStats } from './counters.js'
import { JobModuleError, OutputExistsError, TaskFailedError, type AttemptFailure } from './errors.js'
import { expandInputs } from './inputs.js'
import { isTypeScript } from './job.js'
import type { MapArgs, MapResult } from './maptask.js'
import { taskId } from './maptask.js'
import { resolveJobOptions, type ProgressEvent, type Resolved, type RunJobOptions } from './options.js'
import type { ReduceArgs, ReduceResult } from './reducetask.js'
import { computeSplits, type Split } from './split.js'
import type { SampleArgs } from './sample.js'
import { sampleSplits } from './sample.js'
import { mapTask, probeJob, reduceTask, sampleTask, type JobInfo } from './tasks.js'

/** The built-in counters of a job, summed over successful attempts, and its attempts. */
export interface JobCounters extends TaskStats {
  mapAttempts: number
  reduceAttempts: number
  failedAttempts: number
}

export interface JobResult {
  /** The output directory, absolute. */
  readonly output: string
  /** The part files, absolute, in order. */
  readonly files: readonly string[]
  readonly maps: number
  readonly reduces: number
  readonly counters: JobCounters
  /** The job's own counters (ctx.counters.increment), by name. */
  readonly userCounters: Map<string, number>
}

/** Runs a job to completion: resolves once _SUCCESS is written, rejects (output removed) otherwise. */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const o = resolveJobOptions(options)
  const inputs = expandInputs(o.patterns)
  if (statSync(o.output, { throwIfNoEntry: false }) !== undefined) throw new OutputExistsError(o.output)
  options.signal?.throwIfAborted()
  const rt = await Runtime.start({ ...(o.procs === undefined ? {} : { procs: o.procs }), loader: isTypeScript(o.url) ? 'tsx' : 'auto' })
  try {
    let info
    try {
      info = await rt.go(probeJob, o.url)
    } catch (e) {
      throw new JobModuleError(o.jobLabel, (e as Error).message ?? String(e), { cause: e })
    }
    const splits = computeSplits(inputs, o.splitSize, info.records)
    const reducers = o.reducers ?? rt.procs
    mkdirSync(path.dirname(o.output), { recursive: true })
    try {
      mkdirSync(o.output)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputExistsError(o.output)
      throw e
    }
    try {
      return await execute(rt, o, splits, reducers, info, options)
    } catch (e) {
      rmSync(o.output, { recursive: true, force: true })
      throw e
    }
  } finally {
    await rt.close()
  }
}

async function execute(rt: Runtime, o: Resolved, splits: readonly Split[], reducers: number, info: JobInfo, options: RunJobOptions): Promise<JobResult> {
  const records = info.records
  const emit = options.onProgress ?? ((): void => {})
  const tmp = path.join(o.output, '_temporary')
  mkdirSync(tmp)
  const abort = new Int32Array(new SharedArrayBuffer(4))
  const counters: JobCounters = { ...zeroStats(), mapAttempts: 0, reduceAttempts: 0, failedAttempts: 0 }
  const userCounters = new Map<string, number>()
  const procs = rt.procs
  emit({ type: 'start', maps: splits.length, reduces: reducers, procs })
  const attemptDir = (kind: 'm' | 'r', t: number, a: number): string => path.join(tmp, `${taskId(kind, t)}-${a}`)
  const share = Math.floor(o.memory / procs)
  const cuts = info.sample !== null && reducers > 1 ? await sample(rt, o, splits, reducers, info, path.join(tmp, '_cuts.json')) : undefined

  const maps = await runPhase<MapResult>({
    kind: 'm', count: splits.length, procs, maxAttempts: o.maxAttempts, abort, signal: options.signal, emit, counters,
    dir: attemptDir,
    launch: (t, a) => {
      const s = splits[t]!
      const args: MapArgs = {
        job: o.url, task: t, attempt: a, path: s.path, name: s.name, start: s.start, end: s.end, records,
        reducers, memory: share, dir: attemptDir('m', t, a), outDir: o.output, params: o.params, ...(cuts === undefined ? {} : { cuts }),
      }
      return rt.go(mapTask, args, abort)
    },
  })
  for (const m of maps) {
    addStats(counters, m.stats)
    addPairs(userCounters, m.counters)
  }
  emit({ type: 'phase', phase: 'map', tasks: maps.length })

  if (reducers > 0) {
    const reduces = await runPhase<ReduceResult>({
      kind: 'r', count: reducers, procs, maxAttempts: o.maxAttempts, abort, signal: options.signal, emit, counters,
      dir: attemptDir,
      launch: (t, a) => {
        const runs = maps.flatMap((m) => (m.runs[t] === null || m.runs[t] === undefined ? [] : [m.runs[t]]))
        const args: ReduceArgs = { job: o.url, task: t, attempt: a, reducers, runs, dir: attemptDir('r', t, a), outDir: o.output, params: o.params }
        return rt.go(reduceTask, args, abort)
      },
    })
    for (const r of reduces) {
      addStats(counters, r.stats)
      addPairs(userCounters, r.counters)
    }
    emit({ type: 'phase', phase: 'reduce', tasks: reduces.length })
  }

  rmSync(tmp, { recursive: true, force: true })
  const files = readdirSync(o.output).filter((f) => f.startsWith('part-')).sort().map((f) => path.join(o.output, f))
  writeFileSync(path.join(o.output, '_SUCCESS'), '')
  emit({ type: 'committed', files })
  return { output: o.output, files, maps: splits.length, reduces: reducers, counters, userCounters }
}

/**
 * Runs the job's sample (sample.ts) as one G and returns the cuts file's path. A sample that
 * throws fails the job with TaskFailedError for task `sample` (it is not retried: it is the map
 * code on records the map phase would run too).
 */
async function sample(rt: Runtime, o: Resolved, splits: readonly Split[], reducers: number, info: JobInfo, file: string): Promise<string> {
  const s = info.sample!
  const chosen = sampleSplits(splits, s.splits)
  const args: SampleArgs = {
    job: o.url, splits: chosen, records: info.records, perSplit: Math.max(1, Math.ceil(s.records / Math.max(1, chosen.length))),
    reducers, params: o.params, file,
  }
  try {
    await rt.go(sampleTask, args)
  } catch (e) {
    throw new TaskFailedError('sample', [{ attempt: 1, error: describeError(e), code: typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined }], { cause: e })
  }
  return file
}

interface Phase<R> {
  readonly kind: 'm' | 'r'
  readonly count: number
  readonly procs: number
  readonly maxAttempts: number
  readonly abort: Int32Array
  readonly signal: AbortSignal | undefined
  readonly emit: (e: ProgressEvent) => void
  readonly counters: JobCounters
  readonly dir: (kind: 'm' | 'r', task: number, attempt: number) => string
  readonly launch: (task: number, attempt: number) => Promise<R>
}

const describeError = (e: unknown): AttemptFailure['error'] =>
  e instanceof Error ? `${e.name}: ${e.message}` : String(e)

/**
 * Runs `count` tasks, at most `procs` attempts at a time, each up to `maxAttempts` times, and
 * resolves with each task's result in task order. On a task's last failure (or the signal), it
 * raises the abort word, launches nothing more, waits for the attempts in flight, and rejects.
 */
function runPhase<R>(ph: Phase<R>): Promise<R[]> {
  const results = new Array<R>(ph.count)
  const failures: AttemptFailure[][] = Array.from({ length: ph.count }, () => [])
  const queue: { task: number; attempt: number }[] = Array.from({ length: ph.count }, (_, task) => ({ task, attempt: 1 }))
  const phase = ph.kind === 'm' ? 'map' : 'reduce'
  let head = 0
  let inFlight = 0
  let done = 0
  let fatal: { error: unknown } | undefined
  return new Promise<R[]>((resolve, reject) => {
    const fail = (error: unknown): void => {
      fatal ??= { error }
      Atomics.store(ph.abort, 0, 1)
    }
    const onAbort = (): void => {
      fail(ph.signal!.reason)
      settle()
    }
    const settle = (): void => {
      if (inFlight > 0) return
      if (fatal === undefined && done < ph.count) return
      ph.signal?.removeEventListener('abort', onAbort)
      if (fatal !== undefined) reject(fatal.error)
      else resolve(results)
    }
    const start = (task: number, attempt: number): void => {
      inFlight++
      if (ph.kind === 'm') ph.counters.mapAttempts++
      else ph.counters.reduceAttempts++
      const id = taskId(ph.kind, task)
      ph.emit({ type: 'attempt', phase, task: id, attempt, state: 'started', done, total: ph.count })
      let p: Promise<R>
      try {
        p = ph.launch(task, attempt)
      } catch (e) {
        p = Promise.reject(e)
      }
      p.then(
        (r) => {
          results[task] = r
          done++
          ph.emit({ type: 'attempt', phase, task: id, attempt, state: 'succeeded', done, total: ph.count })
        },
        (e: unknown) => {
          rmSync(ph.dir(ph.kind, task, attempt), { recursive: true, force: true })
          if (fatal !== undefined && (e as { code?: unknown }).code === 'ERR_MR_ABORTED') return
          ph.counters.failedAttempts++
          const f = failures[task]!
          f.push({ attempt, error: describeError(e), code: typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined })
          ph.emit({ type: 'attempt', phase, task: id, attempt, state: 'failed', error: describeError(e), done, total: ph.count })
          if (attempt >= ph.maxAttempts) fail(new TaskFailedError(id, f, { cause: e }))
          else queue.push({ task, attempt: attempt + 1 })
        },
      ).finally(() => {
        inFlight--
        pump()
      })
    }
    const pump = (): void => {
      while (fatal === undefined && inFlight < ph.procs && head < queue.length) {
        const next = queue[head++]!
        start(next.task, next.attempt)
      }
      settle()
    }
    if (ph.signal?.aborted === true) fail(ph.signal.reason)
    else ph.signal?.addEventListener('abort', onAbort, { once: true })
    pump()
  })
}
