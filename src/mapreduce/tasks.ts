/**
 * The tasks of gort/mapreduce: a module of their own that every M imports (from dist/ when the
 * CLI runs), holding nothing but the task declarations. Their arguments are paths, offsets and
 * a shared abort word; their results are counters and paths: data moves through files.
 */

import { task } from '../scheduler/index.js'
import { loadJob } from './job.js'
import { runMap, type MapArgs, type MapResult } from './maptask.js'
import { runReduce, type ReduceArgs, type ReduceResult } from './reducetask.js'
import { runStreamMap } from './streaming/maptask.js'
import { runStreamReduce } from './streaming/reducetask.js'

export interface JobInfo {
  readonly records: 'lines' | 'files'
  readonly combine: boolean
  readonly reduce: boolean
}

/** Imports the job module on an M, as the map and reduce tasks will: what the coordinator needs to know of it. */
export const probeJob = task(import.meta.url, async function probeJob(url: string): Promise<JobInfo> {
  const job = await loadJob(url)
  return { records: job.records ?? 'lines', combine: job.combine !== undefined, reduce: job.reduce !== undefined }
})

export const mapTask = task(import.meta.url, function mapTask(a: MapArgs, abort: Int32Array): Promise<MapResult> {
  return a.stream === undefined ? runMap(a, abort) : runStreamMap({ ...a, stream: a.stream }, abort)
})

export const reduceTask = task(import.meta.url, function reduceTask(a: ReduceArgs, abort: Int32Array): Promise<ReduceResult> {
  return a.stream === undefined ? runReduce(a, abort) : runStreamReduce({ ...a, stream: a.stream }, abort)
})
