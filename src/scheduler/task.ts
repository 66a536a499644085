/**
 * Task references and the per-thread task registry.
 *
 * Functions cannot cross threads, so a task is named by its module URL plus its function name.
 * `task(import.meta.url, fn)` runs when the module is evaluated, on every thread that imports it,
 * and fills that thread's registry; an M that meets an unknown task imports its module once.
 *
 * Invariants:
 * - The registry and the current spawner live on `globalThis` under `Symbol.for` keys, so two
 *   copies of this module on one thread (src and dist) still agree.
 * - The spawner a free `go` uses: on an M, that M's; on any other thread, the most recently
 *   started Runtime that is still open (the last of `runtimes`, which holds the open ones in the
 *   order they started), so closing one runtime leaves `go` on the others.
 * - Within a thread a key maps to exactly one function; a second, different function under the
 *   same key is an error (two tasks with one name in one module).
 */

import { SchedulerArgError, NoRuntimeError, NotInTaskError, describe } from './errors.js'

declare const taskTypes: unique symbol

/** A typed reference to a task: what `go` takes. */
export interface Task<A extends unknown[], R> {
  readonly url: string
  readonly name: string
  /** `url#name`: how threads name the task to each other. */
  readonly key: string
  readonly fn: (...args: A) => unknown
  /** Phantom: carries argument and result types. */
  readonly [taskTypes]?: (...args: A) => R
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = Task<any[], unknown>

export interface GoOptions {
  /**
   * Gives up on the result: the returned promise rejects with `signal.reason`. A G that no M has
   * taken yet never runs; a started one is told (its `taskSignal()` aborts with the same reason)
   * and its result is dropped.
   */
  readonly signal?: AbortSignal
  /**
   * ArrayBuffers to move to the task instead of copying (postMessage's transfer list): each is
   * detached on the caller's side as soon as the call returns, and arrives intact with the
   * arguments that hold it. The arguments then go by message, whatever their size.
   */
  readonly transfer?: readonly ArrayBuffer[]
  /**
   * With `signal`: if the task still runs this many ms after the signal fired, end the M (worker
   * thread) that runs it, and start another in its place. Other tasks started on that M reject
   * with MDiedError; its queued Gs run elsewhere. Only while the task's synchronous body runs
   * (computing, or blocked): a task suspended at an `await` is not killed (docs/scheduler.md).
   */
  readonly killAfterMs?: number
}

/** GoOptions as checked: what a spawner needs. */
export interface CheckedGoOptions {
  readonly signal: AbortSignal | undefined
  readonly killAfterMs: number | undefined
}

export interface Spawner {
  spawn(ref: AnyTask, args: readonly unknown[], signal?: AbortSignal, killAfterMs?: number, transfer?: readonly ArrayBuffer[]): Promise<unknown>
  /** `settled`: resolve with every outcome (goAllSettled) instead of rejecting on the first error. */
  spawnAll(ref: AnyTask, argsList: readonly (readonly unknown[])[], settled?: boolean): Promise<unknown[]>
}

interface Globals {
  registry: Map<string, (...args: never[]) => unknown>
  byFn: WeakMap<object, AnyTask>
  /** What free `go` calls use (read on every call): the M's, else the last of `runtimes`. */
  spawner: Spawner | undefined
  /** The open Runtimes of this thread, oldest first. */
  runtimes: Spawner[]
  /** True on an M (a scheduler worker thread). */
  onM: boolean
  /** On an M: the signal of the task whose synchronous body runs now (m/signals.ts). */
  taskSignal: (() => AbortSignal) | undefined
  /** On an M: retires it (retireThisM). */
  retire?: (() => void) | undefined
}

const G_KEY = Symbol.for('gort.scheduler.globals')
const globals: Globals = ((globalThis as Record<symbol, unknown>)[G_KEY] as Globals | undefined) ??
  ((globalThis as Record<symbol, unknown>)[G_KEY] = { registry: new Map(), byFn: new WeakMap(), spawner: undefined, runtimes: [], onM: false, taskSignal: undefined } as Globals)

export function registry(): Map<string, (...args: never[]) => unknown> {
  return globals.registry
}

/** An M's worker entry: this thread is M and `go` spawns through `s` from now on. */
export function setMSpawner(s: Spawner): void {
  globals.onM = true
  globals.spawner = s
}

/** An M's worker entry: what taskSignal() returns on this thread. */
export function setTaskSignals(get: () => AbortSignal): void {
  globals.taskSignal = get
}

/** An M's worker entry: what retireThisM() does on this thread. */
export function setRetire(retire: () => void): void {
  globals.retire = retire
}

/**
 * Retires the M this runs on: from now on it starts no G, and once the tasks it has started have
 * settled (their results announced) it ends its thread; the main thread starts a fresh M in its
 * place, which takes over its P and whatever waits there. Go ends a thread the same way when a
 * goroutine exits still locked to it (runtime.LockOSThread): its state may have been changed.
 * gort/mapreduce retires the M of an attempt whose job code threw, so that its retry runs on
 * another thread, in a fresh isolate, as a Hadoop retry runs in a fresh JVM. The fresh M costs a
 * thread's start-up, and its index is one of the runtime's `replacements`. Returns false (and does
 * nothing) outside an M.
 */
export function retireThisM(): boolean {
  const retire = globals.retire
  if (retire === undefined) return false
  retire()
  return true
}

/**
 * The running task's own cancellation, as Go's `ctx.Done()`: an AbortSignal that aborts when the
 * caller's `goWith` signal fires (with a clone of its reason), or with RuntimeClosedError when
 * the runtime closes. Its `aborted`, `reason` and `throwIfAborted()` read a word in shared memory,
 * so a task that computes without ever yielding can poll them; its 'abort' event fires at the
 * first such read, or when the M's event loop next gets a turn. Call it in the task's synchronous
 * part (before its first `await`) and keep the signal: after that this thread may be running
 * another task, so the call throws NotInTaskError, as it does outside a task.
 */
export function taskSignal(): AbortSignal {
  const get = globals.taskSignal
  if (get === undefined) throw new NotInTaskError()
  return get()
}

/** What free `go` uses on this thread now: the M's spawner, else the newest open Runtime (undefined: none). */
export function currentSpawner(): Spawner | undefined {
  return globals.spawner
}

/** True on an M (a scheduler worker thread). */
export function onM(): boolean {
  return globals.onM
}

/** A Runtime started on this thread: free `go` uses it until it closes or a newer one starts. */
export function addRuntime(rt: Spawner): void {
  globals.runtimes.push(rt)
  if (!globals.onM) globals.spawner = rt
}

/** A Runtime closed: free `go` falls back to the newest one still open, if any. */
export function removeRuntime(rt: Spawner): void {
  const i = globals.runtimes.lastIndexOf(rt)
  if (i >= 0) globals.runtimes.splice(i, 1)
  if (!globals.onM) globals.spawner = globals.runtimes.at(-1)
}

/**
 * Declares a task. Call it at module top level with `import.meta.url`, and give the function a
 * name (a named function expression): the pair is how other threads find it.
 */
export function task<A extends unknown[], R>(url: string, fn: (...args: A) => R): Task<A, Awaited<R>> {
  if (typeof url !== 'string' || !URL.canParse(url)) {
    throw new SchedulerArgError(`gort: task() needs the module URL (import.meta.url), got ${describe(url)}`)
  }
  if (typeof fn !== 'function') throw new SchedulerArgError(`gort: task() needs a function, got ${describe(fn)}`)
  if (fn.name === '') {
    throw new SchedulerArgError('gort: task() needs a named function (async function fib(n) {...}): other threads find it by name')
  }
  const key = `${url}#${fn.name}`
  const reg = globals.registry
  const prev = reg.get(key)
  if (prev !== undefined && prev !== fn) {
    throw new SchedulerArgError(`gort: two different tasks are named ${JSON.stringify(key)}`)
  }
  reg.set(key, fn as (...args: never[]) => unknown)
  const ref = Object.freeze({ url, name: fn.name, key, fn }) as Task<A, Awaited<R>>
  globals.byFn.set(fn, ref as unknown as AnyTask)
  return ref
}

/** What go() accepts: a task reference, or the function a task() call declared (handy for recursion). */
export type TaskLike<A extends unknown[], R> = Task<A, R> | ((...args: A) => R | Promise<R>)

/** The task reference behind `t`, or undefined when `t` is neither a reference nor a declared function. */
export function resolveTask(t: unknown): AnyTask | undefined {
  if (isTask(t)) return t
  if (typeof t === 'function') return globals.byFn.get(t)
  return undefined
}

export function isTask(v: unknown): v is AnyTask {
  return typeof v === 'object' && v !== null && typeof (v as AnyTask).key === 'string' && typeof (v as AnyTask).fn === 'function'
}

/**
 * Starts task `ref` with `args` as a new G and returns its result. Inside a task it goes to the
 * current P's runnext (Go's newproc); on the main thread it goes to the global queue of the most
 * recently started Runtime that is still open.
 */
export function go<A extends unknown[], R>(t: TaskLike<A, R>, ...args: A): Promise<Awaited<R>> {
  const s = globals.spawner
  if (s === undefined) throw new NoRuntimeError()
  return s.spawn(checkTask(t), args) as Promise<Awaited<R>>
}

/**
 * Starts one G per argument tuple of `argsList` and resolves with all their results, in order
 * (rejects with the first error, as Promise.all does). The same Gs as `go` in a loop, stolen and
 * balanced the same way, but one promise for the batch instead of one per G: for many tiny tasks
 * it costs a fraction of `Promise.all(argsList.map((a) => go(t, ...a)))`.
 */
export function goAll<A extends unknown[], R>(t: TaskLike<A, R>, argsList: readonly A[]): Promise<Awaited<R>[]> {
  const s = globals.spawner
  if (s === undefined) throw new NoRuntimeError()
  return s.spawnAll(checkTask(t), checkArgsList(argsList)) as Promise<Awaited<R>[]>
}

/**
 * goAll that keeps every outcome: resolves, once every G has settled, with one
 * PromiseSettledResult per argument tuple, in order, as Promise.allSettled does; one failure does
 * not drop the other results. It never rejects for a child's error (bad arguments still throw at
 * the call, as goAll's do).
 */
export function goAllSettled<A extends unknown[], R>(t: TaskLike<A, R>, argsList: readonly A[]): Promise<PromiseSettledResult<Awaited<R>>[]> {
  const s = globals.spawner
  if (s === undefined) throw new NoRuntimeError()
  return s.spawnAll(checkTask(t), checkArgsList(argsList), true) as Promise<PromiseSettledResult<Awaited<R>>[]>
}

export function checkArgsList<A>(argsList: readonly A[]): readonly A[] {
  if (!Array.isArray(argsList)) throw new SchedulerArgError(`gort: goAll() needs an array of argument lists, got ${describe(argsList)}`)
  // Before anything is allocated or queued, so a bad tuple loses nothing.
  for (let k = 0; k < argsList.length; k++) {
    if (!Array.isArray(argsList[k])) throw new SchedulerArgError(`gort: goAll() argument list ${k} is not an array, got ${describe(argsList[k])}`)
  }
  return argsList
}

/** `go` with options (an AbortSignal). */
export function goWith<A extends unknown[], R>(options: GoOptions, t: TaskLike<A, R>, ...args: A): Promise<Awaited<R>> {
  const s = globals.spawner
  if (s === undefined) throw new NoRuntimeError()
  const o = checkGoOptions(options)
  return s.spawn(checkTask(t), args, o.signal, o.killAfterMs, checkTransfer(options)) as Promise<Awaited<R>>
}

/** The transfer list of goWith's options, checked at the call: ArrayBuffers only (not shared ones, not views). */
export function checkTransfer(options: GoOptions): readonly ArrayBuffer[] | undefined {
  const transfer: unknown = options.transfer
  if (transfer === undefined) return undefined
  if (!Array.isArray(transfer)) throw new SchedulerArgError(`gort: goWith() options.transfer must be an array of ArrayBuffers, got ${describe(transfer)}`)
  for (const b of transfer as unknown[]) {
    if (!(b instanceof ArrayBuffer)) {
      throw new SchedulerArgError(`gort: goWith() options.transfer must hold ArrayBuffers only (pass a view's .buffer), got ${describe(b)}`)
    }
  }
  return transfer as readonly ArrayBuffer[]
}

/** goWith's options, checked at the call (a bad signal used to fail inside addEventListener). */
export function checkGoOptions(options: GoOptions): CheckedGoOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SchedulerArgError(`gort: goWith() needs an options object ({ signal }), got ${describe(options)}`)
  }
  const signal: unknown = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new SchedulerArgError(`gort: goWith() options.signal must be an AbortSignal, got ${describe(signal)}`)
  }
  const killAfterMs: unknown = options.killAfterMs
  if (killAfterMs !== undefined) {
    if (typeof killAfterMs !== 'number' || !(killAfterMs >= 0) || killAfterMs === Infinity) {
      throw new SchedulerArgError(`gort: goWith() options.killAfterMs must be a finite number >= 0, got ${describe(killAfterMs)}`)
    }
    if (signal === undefined) throw new SchedulerArgError('gort: goWith() options.killAfterMs needs options.signal (the kill follows its abort)')
  }
  return { signal, killAfterMs }
}

export function checkTask(t: unknown): AnyTask {
  const ref = resolveTask(t)
  if (ref === undefined) {
    throw new SchedulerArgError(`gort: go() needs a task declared with task(import.meta.url, fn), got ${describe(t)}`)
  }
  return ref
}
