// gort/mapreduce: MapReduce jobs whose map and reduce tasks are goroutines on the scheduler. Explicit named exports only.
export { defineJob, type Job, type JobSpec, type Emit, type Scalar, type Counters, type TaskContext, type MapContext } from './job.js'
export { runJob, type JobResult, type JobCounters } from './coordinator.js'
export type { RunJobOptions, ProgressEvent } from './options.js'
export { parseSize, formatSize } from './size.js'
export { rangePartition } from './partition.js'
export {
  MapReduceArgError, InputNotFoundError, OutputExistsError, JobModuleError, TaskFailedError, EmitTypeError, PartitionError,
  CombineKeyError, JobAbortedError, type AttemptFailure,
} from './errors.js'
