/**
 * The tasks of gort/mapreduce: a module of their own that every M imports (from dist/ when the
 * CLI runs), holding nothing but the task declarations. Their arguments are paths and offsets;
 * their results are counters and paths: data moves through files. Each attempt is cancelled
 * through its own taskSignal() (the coordinator's goWith signal).
 *
 * The map and reduce tasks of a job are named by jobtasks.ts's URL with `?job=<job URL>`
 * appended (jobTasks): one instance of that module per job, which imports the job at its top
 * level (see there). This module has no top-level await, so that a program tsx loads as CommonJS
 * can still import gort/mapreduce, whose coordinator imports it.
 */

import { rmSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'
// From task.js, not the scheduler's index: an M needs no main-thread module (Runtime, monitor).
import { retireThisM, task, taskSignal, type Task } from '../scheduler/task.js'
import { clockStarted, type AttemptClock } from './clock.js'
import { AfterReturnError, FAIL_AT_ONCE, JobAbortedError, codeOf } from './errors.js'
import { loadJob, type JobSpec, type RecordKind } from './job.js'
import type { MapArgs, MapResult } from './maptask.js'
import type { ReduceArgs, ReduceResult } from './reducetask.js'
import type { SampleArgs, SampleResult } from './sample.js'

// On an M: work a reduce left unawaited that then read its values was recorded for its task,
// which fails with that AfterReturnError (merge.ts, reducetask.ts); the read's rejection,
// unhandled in the job's code, must not end the thread first (the attempt would then fail as
// "its thread exited", saying nothing). Late emits are recorded without a throw (gate.ts). Any
// other unhandled rejection ends the thread, as Node's default does.
if (!isMainThread) {
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof AfterReturnError) return
    throw reason
  })
}

/** The in-process map and reduce attempts' code. */
interface AttemptCode {
  readonly runMap: typeof import('./maptask.js').runMap
  readonly runReduce: typeof import('./reducetask.js').runReduce
  readonly releaseSpare: typeof import('./spill.js').releaseSpare
}

/**
 * The attempts' code, once this thread has imported it. Not imported with this module: the main
 * thread imports this module only to name the tasks. Every M imports it before its first attempt
 * (the probe, and jobtasks.ts's top level on an M started later), so that an attempt runs its
 * map or reduce in the task's synchronous body, where a hung one can be ended (main/kill.ts
 * ends an M only there, never in a continuation after an await).
 */
let code: AttemptCode | undefined

/** The sample's code (sample.ts), once this thread has imported it: the probe does for a job with `sample`. */
let sampleCode: typeof import('./sample.js') | undefined

/** Imports the attempts' code on this thread (once). */
export async function loadAttemptCode(): Promise<AttemptCode> {
  if (code !== undefined) return code
  const [{ runMap }, { runReduce }, { releaseSpare }] = await Promise.all([import('./maptask.js'), import('./reducetask.js'), import('./spill.js')])
  return (code = { runMap, runReduce, releaseSpare })
}

/**
 * Imports the attempts' code and then the job at `url` on this thread. gort's modules come
 * first: a compiled job turns source maps on as it is imported (job.ts), and every module read
 * after that has its .js.map read and parsed as well, 6-9 ms an M for the attempts' code.
 */
export async function loadForJob(url: string): Promise<JobSpec> {
  await Promise.all([loadAttemptCode(), import('./index.js')])
  return loadJob(url)
}

export interface JobInfo {
  readonly records: RecordKind
  readonly combine: boolean
  readonly reduce: boolean
  /** The job's sample option with its defaults, or null when it has none. */
  readonly sample: { readonly records: number; readonly splits: number } | null
}

/** Imports the job module on an M, as the map and reduce tasks will: what the coordinator needs to know of it. */
export const probeJob = task(import.meta.url, async function probeJob(url: string): Promise<JobInfo> {
  const job = await loadForJob(url)
  let sample: JobInfo['sample'] = null
  if (job.sample !== undefined) {
    const { DEFAULT_SAMPLE_RECORDS, DEFAULT_SAMPLE_SPLITS } = (sampleCode ??= await import('./sample.js'))
    sample = { records: job.sample.records ?? DEFAULT_SAMPLE_RECORDS, splits: job.sample.splits ?? DEFAULT_SAMPLE_SPLITS }
  }
  return { records: job.records ?? 'lines', combine: job.combine !== undefined, reduce: job.reduce !== undefined, sample }
})

/** A cancelled attempt removes its own directory when it ends (the coordinator cannot know when that is). */
function cleanUp<R>(p: Promise<R>, signal: AbortSignal, dir: string): Promise<R> {
  return p.finally(() => {
    if (signal.aborted) rmSync(dir, { recursive: true, force: true, maxRetries: 2 })
  })
}

/**
 * An in-process attempt's promise, which retires its M (retireThisM) when the attempt fails, so
 * that the task's next attempt runs on another thread, in a fresh isolate: the job's code may
 * have left this one's state broken (a global it set, a module it half-initialized), and Hadoop
 * runs each attempt in a fresh JVM. Not when the attempt was cancelled (its copy won, the job
 * stopped, it timed out: a timed-out attempt still in its body has its M ended by the
 * coordinator's kill), nor for errors that fail the job at once (FAIL_AT_ONCE), nor when `retire`
 * is off (the coordinator keeps the runtime's last replacements for Ms that die). A streaming
 * attempt's code runs in a process of its own, fresh for each attempt: its M is not retired.
 */
function retireOnFailure<R>(p: Promise<R>, signal: AbortSignal, retire: boolean | undefined): Promise<R> {
  if (retire !== true) return p
  return p.catch((e: unknown) => {
    if (!signal.aborted && !FAIL_AT_ONCE.has(codeOf(e) ?? '')) retireThisM()
    throw e
  })
}

export function mapTask(a: MapArgs, clock: AttemptClock): Promise<MapResult> {
  const signal = taskSignal()
  const c = clockStarted(clock)
  if (c === undefined) return Promise.reject(new JobAbortedError()) // closed by the coordinator before it began
  const stream = a.stream
  const run = stream !== undefined
    ? import('./streaming/maptask.js').then((m) => m.runStreamMap({ ...a, stream }, signal, c.progress))
    : retireOnFailure(withCode((m) => m.runMap(a, signal, c.progress)), signal, a.retire)
  return cleanUp(run, signal, a.dir).finally(c.done)
}

/** `f` of the attempts' code: at once when this thread has it (the task's body goes on synchronously into the job's code), else once it is imported. */
function withCode<R>(f: (m: AttemptCode) => Promise<R>): Promise<R> {
  return code !== undefined ? f(code) : loadAttemptCode().then(f)
}

export function reduceTask(a: ReduceArgs, clock: AttemptClock): Promise<ReduceResult> {
  const signal = taskSignal()
  const c = clockStarted(clock)
  if (c === undefined) return Promise.reject(new JobAbortedError())
  const stream = a.stream
  const run = stream !== undefined
    ? Promise.all([import('./streaming/reducetask.js'), import('./spill.js')]).then(([m, { releaseSpare }]) => {
      releaseSpare()
      return m.runStreamReduce({ ...a, stream }, signal, c.progress)
    })
    : retireOnFailure(withCode((m) => {
      // The map phase is over (but for a backup copy, which makes do without): its buffers' arrays go.
      m.releaseSpare()
      return m.runReduce(a, signal, c.progress)
    }), signal, a.retire)
  return cleanUp(run, signal, a.dir).finally(c.done)
}

/** jobtasks.ts beside this module, with this module's extension (.js in dist/, .ts from the sources). */
const JOB_TASKS = import.meta.url.replace(/\/tasks(\.[cm]?[jt]s)(?:\?.*)?$/, '/jobtasks$1')

/** The map and reduce tasks of the job at `jobUrl`, named by jobtasks.ts's instance for that job. */
export function jobTasks(jobUrl: string | undefined): { map: Task<[MapArgs, AttemptClock], MapResult>; reduce: Task<[ReduceArgs, AttemptClock], ReduceResult> } {
  const url = new URL(JOB_TASKS)
  if (jobUrl !== undefined) url.searchParams.set('job', jobUrl) // streaming mode: no job module
  return { map: task(url.href, mapTask), reduce: task(url.href, reduceTask) }
}

/** The job's sample (sample.ts): synchronous up to the job's map once the probe has run here, so a hung one can be ended. */
export const sampleTask = task(import.meta.url, function sampleTask(a: SampleArgs): Promise<SampleResult> {
  return sampleCode !== undefined ? sampleCode.runSample(a) : import('./sample.js').then((m) => m.runSample(a))
})
