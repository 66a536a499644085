// gort/mapreduce: MapReduce jobs whose map and reduce tasks are goroutines on the scheduler. Explicit named exports only.
import type { JobResult } from './coordinator.js'
import type { RunJobOptions } from './options.js'

export { defineJob, type Job, type JobSpec, type Emit, type Scalar, type Counters, type TaskContext, type MapContext, type ChunkContext, type RecordKind, type TextJobSpec, type ChunkJobSpec } from './job.js'
export type { JobResult, JobCounters } from './coordinator.js'
export type { RunJobOptions, ModuleJobOptions, StreamingJobOptions, SharedJobOptions, ProgressEvent } from './options.js'
export { parseSize, formatSize } from './size.js'
export { parseDuration, formatDuration } from './duration.js'
export { rangePartition } from './partition.js'
export {
  MapReduceArgError, InputNotFoundError, InputUnreadableError, OutputExistsError, AfterReturnError, ValuesOnceError, RecordTooLongError, JobModuleError, TaskFailedError, EmitTypeError, PartitionError,
  CombineKeyError, JobAbortedError, TaskTimeoutError, ThreadExitError, JobStoppedError, InputTooLargeError, type AttemptFailure,
  StreamCommandError, StreamProcessError, StreamFormatError, TooManyOpenFilesError,
} from './errors.js'
export { textHashCode, hadoopPartition, type PartitionKind } from './partition.js'

/**
 * Runs a job to completion: resolves once `_SUCCESS` is written, rejects (output removed)
 * otherwise. The coordinator is imported on the first call: every M imports this module too (a
 * job module imports `defineJob` from it), and none of them needs the coordinator's code. The
 * job's threads start before that import (prestart.ts).
 */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const { prestartMs } = await import('./prestart.js')
  const first = prestartMs(options)
  try {
    const { runJob: run } = await import('./coordinator.js')
    return await run(options, first)
  } finally {
    await first.discard()
  }
}
