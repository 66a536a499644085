// gort/scheduler: Go's G/M/P scheduler over worker_threads. Explicit named exports only.
export { Runtime, type RuntimeOptions } from './main/runtime.js'
export { task, go, goAll, goAllSettled, goWith, isTask, retireThisM, taskSignal, type Task, type TaskLike, type GoOptions } from './task.js'
export { actor, spawnActor, spawnActorWith, stopActor, type ActorClass, type ActorRemote, type ActorOptions, type SupervisorOptions, type Remote } from './actor.js'
export { MAX_PROCS } from './main/options.js'
export { registerHandle, type HandleCodec } from './shared/handles.js'
export type { SchedStats, ProcStats } from './main/stats.js'
export {
  RuntimeClosedError, RuntimeOnMError, NoRuntimeError, TaskNotFoundError, MDiedError, MExhaustedError, SchedulerArgError, UncloneableArgError,
  UncloneableResultError, HandleNotRegisteredError, NotInTaskError, ActorDiedError, ActorStoppedError, ActorNotFoundError,
} from './errors.js'
export { SharedChan, SharedChanValueError, SharedChanLostError, SharedChanBusyError, type SharedChanOptions, type SharedChanState } from './shared/sharedchan-api.js'
export { SharedMutex, SharedRWMutex, SharedWaitGroup, SharedSemaphore, type SharedSyncOptions } from './shared/sharedsync.js'
