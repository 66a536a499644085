/**
 * Errors users of the scheduler may catch. Each has a stable `code`; validation errors echo the
 * bad value.
 */

import { GortError } from '../errors.js'

/** `go` or `rt.go` after `close()`; also what tasks still pending at `close()` reject with. */
export class RuntimeClosedError extends GortError {
  constructor() {
    super('ERR_RUNTIME_CLOSED', 'gort: runtime is closed')
  }
}

/** `go` on the main thread with no Runtime open (none started, or all closed). */
export class NoRuntimeError extends GortError {
  constructor() {
    super('ERR_NO_RUNTIME', 'gort: go() outside a task needs an open Runtime (await Runtime.start())')
  }
}

/**
 * Runtime.start() on an M (a scheduler worker thread). Mostly a script that starts the runtime and
 * also declares tasks: every M imports the module of each task it runs, and that import started a
 * runtime of its own in every M, recursively. `task` is the task whose module the M was importing,
 * when that is how it happened.
 */
export class RuntimeOnMError extends GortError {
  readonly task: string | undefined

  constructor(task?: string, options?: ErrorOptions) {
    super(
      'ERR_RUNTIME_ON_M',
      (task === undefined
        ? 'gort: Runtime.start() ran on an M (a scheduler worker thread). '
        : `gort: an M imported the module of task ${task} to run it, and that module calls Runtime.start(). `) +
        'Every M imports the module that declares a task it runs, so a script that starts the runtime must not declare tasks: ' +
        'declare them in a module of their own and import it from that script',
      options,
    )
    this.task = task
  }
}

/** taskSignal() outside the synchronous part of a task (on the main thread, or after the task's first await). */
export class NotInTaskError extends GortError {
  constructor() {
    super(
      'ERR_NOT_IN_TASK',
      'gort: taskSignal() must be called inside a task, before its first await (keep the signal it returns for later)',
    )
  }
}

/** An M could not find the task a G names: its module does not register it under that name. */
export class TaskNotFoundError extends GortError {
  constructor(key: string, detail: string, options?: ErrorOptions) {
    super('ERR_TASK_NOT_FOUND', `gort: cannot resolve task ${JSON.stringify(key)}: ${detail}`, options)
  }
}

/** No M is left to run tasks, and the runtime may start no more: its `replacements` are used up. */
export class MExhaustedError extends GortError {
  /** Ms that died over the runtime's life. */
  readonly deaths: number
  /** Ms that retired (retireThisM) over the runtime's life: their replacements count too. */
  readonly retired: number

  constructor(deaths: number, retired = 0) {
    super('ERR_M_EXHAUSTED', `gort: no M is left to run tasks: ${deaths} died${retired > 0 ? ` and ${retired} retired` : ''}, and the runtime may replace no more (RuntimeOptions.replacements)`)
    this.deaths = deaths
    this.retired = retired
  }
}

/** A task whose M died (process.exit, uncaught error, out of memory) while it was running. */
export class MDiedError extends GortError {
  /** The M's number (1 and up; a dead M's number is never reused). */
  readonly m: number
  /** Why it died: `exit code 3`, `uncaught Error: …`, `out of memory: …`. */
  readonly reason: string
  /** The task it was running, as `url#name` (its Task's `key`). */
  readonly task: string

  constructor(m: number, reason: string, task: string) {
    super('ERR_M_DIED', `gort: M${m} died (${reason}) while running task ${task}`)
    this.m = m
    this.reason = reason
    this.task = task
  }
}

/** Bad arguments to task()/go()/Runtime.start(): echoes the value. */
export class SchedulerArgError extends GortError {
  constructor(message: string) {
    super('ERR_INVALID_ARG', message)
  }
}

/** go() arguments that cannot be structured-cloned. */
export class UncloneableArgError extends GortError {
  /** The task, as `url#name`. */
  readonly task: string

  constructor(task: string, options?: ErrorOptions) {
    super('ERR_UNCLONEABLE_ARG', `gort: arguments of task ${task} cannot be cloned to another thread`, options)
    this.task = task
  }
}

/** A task's result (or thrown value) that cannot be structured-cloned to the thread that awaits it. */
export class UncloneableResultError extends GortError {
  /** The task, as `url#name`. */
  readonly task: string

  constructor(task: string, options?: ErrorOptions) {
    super('ERR_UNCLONEABLE_RESULT', `gort: the result of task ${task} cannot be cloned to the thread that awaits it`, options)
    this.task = task
  }
}

/**
 * A task argument or result arrived as a handle (registerHandle) whose name no class is registered
 * under on the receiving thread: import the module that registers it there (the task's module, or
 * one it imports; on the main thread, before awaiting such a result).
 */
export class HandleNotRegisteredError extends GortError {
  /** The handle's name, as registered on the sending thread. */
  readonly handle: string

  constructor(handle: string) {
    super('ERR_HANDLE_NOT_REGISTERED', `gort: no class is registered as handle ${JSON.stringify(handle)} on this thread (registerHandle)`)
    this.handle = handle
  }
}

/** A bad value as a message shows it: as written in code where JSON would not (NaN, not null). */
export function describe(v: unknown): string {
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v) // NaN, Infinity, -Infinity
  if (typeof v === 'bigint') return `${v}n`
  if (v === undefined || typeof v === 'symbol') return String(v)
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/**
 * A call to an actor (rt.spawnActor) that its actor can no longer answer: the M (worker thread)
 * it lived on died while the call was pending, or before it, and no supervisor restarted it. A
 * supervised actor's in-flight calls reject with it too; calls made after it restart reach the new
 * instance.
 */
export class ActorDiedError extends GortError {
  /** The actor's class, as `Name#id` (`id` counts actors spawned in this process). */
  readonly actor: string
  /** The M it lived on (0 when it died before it had one). */
  readonly m: number
  /** Why, as far as this thread knows: `its M exited`, or the M's death reason. */
  readonly reason: string

  constructor(actor: string, m: number, reason: string) {
    super('ERR_ACTOR_DIED', `gort: actor ${actor} died${m > 0 ? ` with its M${m}` : ''} (${reason}); the call was not answered`)
    this.actor = actor
    this.m = m
    this.reason = reason
  }
}

/** A call to an actor that was stopped (stopActor, or its runtime closed) before it could answer. */
export class ActorStoppedError extends GortError {
  readonly actor: string

  constructor(actor: string) {
    super('ERR_ACTOR_STOPPED', `gort: actor ${actor} is stopped; the call was not answered`)
    this.actor = actor
  }
}

/** An M could not find the actor class a spawnActor names: its module does not register it under that name. */
export class ActorNotFoundError extends GortError {
  readonly key: string

  constructor(key: string, detail: string, options?: ErrorOptions) {
    super('ERR_ACTOR_NOT_FOUND', `gort: cannot resolve actor class ${JSON.stringify(key)}: ${detail}`, options)
    this.key = key
  }
}
