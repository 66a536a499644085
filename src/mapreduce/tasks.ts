/**
 * The tasks of gort/mapreduce: a module of their own that every M imports (from dist/ when the
 * CLI runs), holding nothing but the task declarations. Their arguments are paths, offsets and
 * a shared abort word; their results are counters and paths: data moves through files.
 */

import { task } from '../scheduler/index.js'
import { loadJob } from './job.js'
import { runMap, type MapArgs, type MapResult } from './maptask.js'
import { runReduce, type ReduceArgs, type ReduceResult } from './reducetask.js'
import { DEFAULT_SAMPLE_RECORDS, DEFAULT_SAMPLE_SPLITS, runSample, type SampleArgs, type SampleResult } from './sample.js'

export interface JobInfo {
  readonly records: 'lines' | 'files'
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

export const mapTask = task(import.meta.url, function mapTask(a: MapArgs, abort: Int32Array): Promise<MapResult> {
  return runMap(a, abort)
})

export const reduceTask = task(import.meta.url, function reduceTask(a: ReduceArgs, abort: Int32Array): Promise<ReduceResult> {
  return runReduce(a, abort)
})

export const sampleTask = task(import.meta.url, function sampleTask(a: SampleArgs): Promise<SampleResult> {
  return runSample(a)
})
