// gort/mapreduce: MapReduce jobs whose map and reduce tasks are goroutines on the scheduler. Explicit named exports only.
export { defineJob, type Job, type JobSpec, type Emit, type Scalar, type Counters, type TaskContext, type MapContext, type ChunkContext, type RecordKind, type TextJobSpec, type ChunkJobSpec } from './job.js'
export { runJob, type JobResult, type JobCounters } from './coordinator.js'
export type { RunJobOptions, ProgressEvent } from './options.js'
export { parseSize, formatSize } from './size.js'
export { parseDuration, formatDuration } from './duration.js'
export { rangePartition } from './partition.js'
export {
  MapReduceArgError, InputNotFoundError, OutputExistsError, JobModuleError, TaskFailedError, EmitTypeError, PartitionError,
  CombineKeyError, JobAbortedError, TaskTimeoutError, ThreadExitError, JobStoppedError, InputTooLargeError, type AttemptFailure,
} from './errors.js'
export { textHashCode, hadoopPartition, type PartitionKind } from './partition.js'
export { StreamCommandError } from './streaming/command.js'
export { StreamProcessError } from './streaming/pipe.js'
export { StreamFormatError } from './streaming/executable.js'
