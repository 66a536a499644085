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
// From task.js, not the scheduler's index: an M needs no main-thread module (Runtime, monitor).
import { task, taskSignal, type Task } from '../scheduler/task.js'
import { clockStarted, type AttemptClock } from './clock.js'
import { loadJob, type RecordKind } from './job.js'
import { runMap, type MapArgs, type MapResult } from './maptask.js'
import { releaseSpare } from './spill.js'
import { runReduce, type ReduceArgs, type ReduceResult } from './reducetask.js'
import { runStreamMap } from './streaming/maptask.js'
import { runStreamReduce } from './streaming/reducetask.js'
import { DEFAULT_SAMPLE_RECORDS, DEFAULT_SAMPLE_SPLITS, runSample, type SampleArgs, type SampleResult } from './sample.js'

export interface JobInfo {
  readonly records: RecordKind
  readonly combine: boolean
  readonly reduce: boolean
  /** The job's sample option with its defaults, or null when it has none. */
  readonly sample: { readonly records: number; readonly splits: number } | null
}

/** Imports the job module on an M, as the map and reduce tasks will: what the coordinator needs to know of it. */
export const probeJob = task(import.meta.url, async function probeJob(url: string): Promise<JobInfo> {
  const job = await loadJob(url)
  const sample = job.sample === undefined
    ? null
    : { records: job.sample.records ?? DEFAULT_SAMPLE_RECORDS, splits: job.sample.splits ?? DEFAULT_SAMPLE_SPLITS }
  return { records: job.records ?? 'lines', combine: job.combine !== undefined, reduce: job.reduce !== undefined, sample }
})

/** A cancelled attempt removes its own directory when it ends (the coordinator cannot know when that is). */
function cleanUp<R>(p: Promise<R>, signal: AbortSignal, dir: string): Promise<R> {
  return p.finally(() => {
    if (signal.aborted) rmSync(dir, { recursive: true, force: true, maxRetries: 2 })
  })
}

export function mapTask(a: MapArgs, clock: AttemptClock): Promise<MapResult> {
  const signal = taskSignal()
  const c = clockStarted(clock)
  return cleanUp(a.stream === undefined ? runMap(a, signal) : runStreamMap({ ...a, stream: a.stream }, signal), signal, a.dir).finally(c.done)
}

export function reduceTask(a: ReduceArgs, clock: AttemptClock): Promise<ReduceResult> {
  // The map phase is over (but for a backup copy, which makes do without): its buffers' arrays go.
  releaseSpare()
  const signal = taskSignal()
  const c = clockStarted(clock)
  return cleanUp(a.stream === undefined ? runReduce(a, signal) : runStreamReduce({ ...a, stream: a.stream }, signal), signal, a.dir).finally(c.done)
}

/** jobtasks.ts beside this module, with this module's extension (.js in dist/, .ts from the sources). */
const JOB_TASKS = import.meta.url.replace(/\/tasks(\.[cm]?[jt]s)(?:\?.*)?$/, '/jobtasks$1')

/** The map and reduce tasks of the job at `jobUrl`, named by jobtasks.ts's instance for that job. */
export function jobTasks(jobUrl: string | undefined): { map: Task<[MapArgs, AttemptClock], MapResult>; reduce: Task<[ReduceArgs, AttemptClock], ReduceResult> } {
  const url = new URL(JOB_TASKS)
  if (jobUrl !== undefined) url.searchParams.set('job', jobUrl) // streaming mode: no job module
  return { map: task(url.href, mapTask), reduce: task(url.href, reduceTask) }
}

export const sampleTask = task(import.meta.url, function sampleTask(a: SampleArgs): Promise<SampleResult> {
  return runSample(a)
})
