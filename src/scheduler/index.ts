// gort/scheduler: Go's G/M/P scheduler over worker_threads. Explicit named exports only.
export { Runtime, type RuntimeOptions } from './runtime.js'
export { task, go, goAll, goAllSettled, goWith, isTask, type Task, type TaskLike, type GoOptions } from './task.js'
export { MAX_PROCS } from './options.js'
export type { SchedStats, ProcStats } from './stats.js'
export {
  RuntimeClosedError, RuntimeOnMError, NoRuntimeError, TaskNotFoundError, MDiedError, SchedulerArgError, UncloneableArgError,
  UncloneableResultError,
} from './errors.js'
