/**
 * Actors: a class whose one instance lives on an M as a G, and serves calls from any thread one at
 * a time, in the order they reach it (its mailbox). `actor(import.meta.url, Counter)` declares the
 * class as `task()` declares a function (other threads find it by module URL and name);
 * `rt.spawnActor(Counter, ...args)` starts it and returns a comlink `Remote<Counter>`.
 *
 * The pieces, by thread:
 * - the actor's M: `gortActor`, the task below, runs m/actor-serve.ts: constructs the instance,
 *   serves call ports through one mailbox, answers the main thread's control port;
 * - the main thread: main/actors.ts (one ActorHost per Runtime) starts instances, restarts them
 *   under a supervisor, hands out call ports, stops them;
 * - any caller: shared/actor-endpoint.ts, the comlink Endpoint under each Remote.
 *
 * Invariants:
 * - The class registry lives on globalThis under a Symbol.for key, like the task registry, so two
 *   copies of this module on one thread (src and dist) agree; so does the ActorRef class, so that
 *   registerHandle sees one class whichever copy registers it.
 * - A Remote is a Proxy whose target's prototype is ActorRef.prototype: that is how the handle
 *   registry recognises it as a task argument or result, and its state (`ActorInfo`) is all that
 *   crosses; the receiving thread builds its own endpoint, which asks for its own call port.
 */

import { wrap, type Remote } from 'comlink'
import { ActorNotFoundError, NoRuntimeError, SchedulerArgError, describe } from './errors.js'
import { registerHandle } from './shared/handles.js'
import { ActorEndpoint } from './shared/actor-endpoint.js'
import type { ActorGone, ActorInfo, Connection } from './shared/actor-protocol.js'
import { currentSpawner, onM, task } from './task.js'

export type { Remote } from 'comlink'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = abstract new (...args: any[]) => object

/** A declared actor class: what spawnActor takes (the class itself works too). */
export interface ActorClass<C extends AnyClass> {
  readonly url: string
  readonly name: string
  /** `url#name`: how threads name the class to each other. */
  readonly key: string
  readonly cls: C
}

/** The typed reference spawnActor returns: comlink's Remote of an instance of the class. */
export type ActorRemote<T> = Remote<T>

/** When a supervisor starts an actor again (on any M) after its instance ended. */
export interface SupervisorOptions {
  /**
   * 'on-failure': when its M died (a crash, process.exit in a method, a kill). 'always': also
   * when it ended any other way but stopActor or its runtime closing (today: its constructor threw
   * on a restart). Calls in flight when it died reject with ActorDiedError; later calls reach the
   * new instance, whose state is fresh from the constructor's arguments.
   */
  readonly restart: 'always' | 'on-failure'
  /** How many restarts in all before it stays dead (default 10). */
  readonly maxRestarts?: number
}

export interface ActorOptions {
  readonly supervisor?: SupervisorOptions
}

/** What main/actors.ts's ActorHost offers this module. */
interface MainHost {
  remote<T>(id: number): ActorRemote<T>
  stop(id: number): Promise<void>
}

interface Globals {
  classes: Map<string, AnyClass>
  byCls: WeakMap<object, ActorClass<AnyClass>>
  /** The ActorRef class every copy of this module uses (see the header). */
  refClass: new () => object
  /** On the main thread: the host (of the Runtime that spawned it) of each live actor, by id. */
  mainHosts: Map<number, MainHost>
  /** On the main thread: why each ended actor is gone, by id. */
  gone: Map<number, ActorGone>
  nextId: number
}

const G_KEY = Symbol.for('gort.scheduler.actors')
const globals: Globals = ((globalThis as Record<symbol, unknown>)[G_KEY] as Globals | undefined) ??
  ((globalThis as Record<symbol, unknown>)[G_KEY] = {
    classes: new Map(),
    byCls: new WeakMap(),
    refClass: class ActorRef {},
    mainHosts: new Map(),
    gone: new Map(),
    nextId: 1,
  } satisfies Globals)

/** The per-thread registries (main/actors.ts, m/actor-serve.ts, m/actor-connect.ts). */
export function actorGlobals(): Globals {
  return globals
}

/**
 * Declares an actor class. Call it at module top level with `import.meta.url`, in a module that
 * does not start a Runtime (every M that runs the actor imports it), and give the class a name:
 * the pair is how other threads find it.
 */
export function actor<C extends AnyClass>(url: string, cls: C): ActorClass<C> {
  if (typeof url !== 'string' || !URL.canParse(url)) {
    throw new SchedulerArgError(`gort: actor() needs the module URL (import.meta.url), got ${describe(url)}`)
  }
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) {
    throw new SchedulerArgError(`gort: actor() needs a class, got ${describe(cls)}`)
  }
  if (cls.name === '') throw new SchedulerArgError('gort: actor() needs a named class (class Counter {...}): other threads find it by name')
  const key = `${url}#${cls.name}`
  const prev = globals.classes.get(key)
  if (prev !== undefined && prev !== cls) throw new SchedulerArgError(`gort: two different actor classes are named ${JSON.stringify(key)}`)
  globals.classes.set(key, cls)
  const ref = Object.freeze({ url, name: cls.name, key, cls })
  globals.byCls.set(cls, ref)
  return ref
}

/** The declared class behind `c` (a reference from actor(), or the class itself). */
export function checkActorClass(c: unknown): ActorClass<AnyClass> {
  if (typeof c === 'function') {
    const ref = globals.byCls.get(c)
    if (ref !== undefined) return ref
  } else if (typeof c === 'object' && c !== null && typeof (c as ActorClass<AnyClass>).key === 'string' && globals.classes.has((c as ActorClass<AnyClass>).key)) {
    return c as ActorClass<AnyClass>
  }
  throw new SchedulerArgError(`gort: spawnActor() needs a class declared with actor(import.meta.url, Class), got ${describe(c)}`)
}

/** Checked ActorOptions, with defaults. */
export function checkActorOptions(o: unknown): { restart: 'never' | 'always' | 'on-failure'; maxRestarts: number } {
  if (typeof o !== 'object' || o === null) throw new SchedulerArgError(`gort: spawnActorWith() needs an options object, got ${describe(o)}`)
  const sup: unknown = (o as ActorOptions).supervisor
  if (sup === undefined) return { restart: 'never', maxRestarts: 0 }
  if (typeof sup !== 'object' || sup === null) throw new SchedulerArgError(`gort: spawnActorWith() options.supervisor must be an object, got ${describe(sup)}`)
  const restart: unknown = (sup as SupervisorOptions).restart
  if (restart !== 'always' && restart !== 'on-failure') {
    throw new SchedulerArgError(`gort: supervisor.restart must be 'always' or 'on-failure', got ${describe(restart)}`)
  }
  const max: unknown = (sup as SupervisorOptions).maxRestarts ?? 10
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    throw new SchedulerArgError(`gort: supervisor.maxRestarts must be an integer >= 0, got ${describe(max)}`)
  }
  return { restart, maxRestarts: max }
}

/** The class declared as `key` on this thread, importing its module first if need be (on an M). */
export async function resolveActorClass(key: string): Promise<AnyClass> {
  let cls = globals.classes.get(key)
  if (cls !== undefined) return cls
  const url = key.slice(0, key.lastIndexOf('#'))
  try {
    await import(url)
  } catch (e) {
    throw new ActorNotFoundError(key, 'its module failed to load', { cause: e })
  }
  cls = globals.classes.get(key)
  if (cls === undefined) throw new ActorNotFoundError(key, 'its module does not declare it with actor(import.meta.url, Class)')
  return cls
}

const INFO = Symbol('gort.actor.info')

/** A Remote for actor `info` on this thread, over a fresh endpoint. */
export function makeRemote<T>(info: ActorInfo, connect: (dead: number) => Promise<Connection>, onEndpoint?: (ep: ActorEndpoint) => void): ActorRemote<T> {
  const ep = new ActorEndpoint(info, connect)
  onEndpoint?.(ep)
  const remote = wrap<T>(ep as never) as unknown as Record<PropertyKey, unknown>
  const target = Object.create(globals.refClass.prototype as object) as object
  return new Proxy(target, {
    get: (_t, k) => (k === INFO ? info : remote[k]),
    set: (_t, k, v) => {
      remote[k] = v
      return true
    },
  }) as unknown as ActorRemote<T>
}

/** The ActorInfo behind a Remote from spawnActor, or undefined. */
export function infoOf(v: unknown): ActorInfo | undefined {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== globals.refClass.prototype) return undefined
  return (v as Record<symbol, ActorInfo>)[INFO]
}

/** A Remote for `info` built on this thread: how the handle below decodes. */
export function remoteHere<T>(info: ActorInfo): ActorRemote<T> {
  if (onM()) return makeRemote(info, async (dead) => (await import('./m/actor-connect.js')).connect(info.id, dead))
  const host = globals.mainHosts.get(info.id)
  if (host !== undefined) return host.remote<T>(info.id)
  const gone = globals.gone.get(info.id) ?? { stopped: true, actor: info.label }
  return makeRemote(info, () => Promise.resolve({ gone }))
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctor = new (...args: any[]) => object

interface ActorSpawner {
  spawnActorWith<C extends Ctor>(options: ActorOptions, cls: C | ActorClass<C>, ...args: ConstructorParameters<C>): Promise<ActorRemote<InstanceType<C>>>
}

/**
 * Starts an actor as `rt.spawnActor` does, through the runtime free `go` uses: inside a task, the
 * task's own runtime (the main thread starts it; the task gets a Remote of its own); on the main
 * thread, the newest open Runtime.
 */
export function spawnActor<C extends Ctor>(cls: C | ActorClass<C>, ...args: ConstructorParameters<C>): Promise<ActorRemote<InstanceType<C>>> {
  return spawnActorWith({}, cls, ...args)
}

/** spawnActor with options (`{ supervisor }`, see rt.spawnActorWith). */
export function spawnActorWith<C extends Ctor>(options: ActorOptions, cls: C | ActorClass<C>, ...args: ConstructorParameters<C>): Promise<ActorRemote<InstanceType<C>>> {
  const s = currentSpawner()
  if (s === undefined) throw new NoRuntimeError()
  if (!onM()) return (s as unknown as ActorSpawner).spawnActorWith(options, cls, ...args)
  const o = checkActorOptions(options)
  const def = checkActorClass(cls)
  return import('./m/actor-connect.js').then((c) => c.spawn(def.key, args, o)).then((info) => remoteHere<InstanceType<C>>(info))
}

/**
 * Stops the actor behind `remote` (from spawnActor, or one that crossed back to the main thread):
 * the call it is serving finishes, calls queued or made later reject with ActorStoppedError, and its
 * G ends. Resolves once it has; an actor already ended resolves at once. Main thread only. A
 * supervisor never restarts a stopped actor.
 */
export function stopActor(remote: unknown): Promise<void> {
  const info = infoOf(remote)
  if (info === undefined) throw new SchedulerArgError(`gort: stopActor() needs a reference from spawnActor(), got ${describe(remote)}`)
  if (onM()) throw new SchedulerArgError('gort: stopActor() runs on the main thread (the actor\'s runtime owns it)')
  return globals.mainHosts.get(info.id)?.stop(info.id) ?? Promise.resolve()
}

// A Remote crosses as a task argument or result by its ActorInfo only (see the header).
registerHandle('gort.actor', globals.refClass, {
  encode: (r: object): ActorInfo => {
    const info = infoOf(r)
    if (info === undefined) throw new SchedulerArgError('gort: not an actor reference')
    return { id: info.id, label: info.label }
  },
  decode: (s: ActorInfo): object => remoteHere(s) as object,
})

/**
 * The G an actor lives in: on its M, constructs the instance and serves it until stopped. Its
 * arguments are the class key, the actor's id and label, its instance number and the
 * constructor's arguments.
 */
export const actorTask = task(import.meta.url, async function gortActor(key: string, id: number, label: string, inst: number, args: unknown[]): Promise<void> {
  const { serveActor } = await import('./m/actor-serve.js')
  await serveActor(key, id, label, inst, args)
})
