/**
 * Handles: objects over shared memory (a shared channel, an actor reference) that cross threads
 * as task arguments and results as handles to the same memory, not as copies.
 *
 * Why: structured clone copies a class instance as a plain object (its prototype and methods are
 * lost), and v8.serialize would copy a view on shared memory as bytes. A class that wraps a
 * SharedArrayBuffer registers a codec instead: `encode` turns an instance into cloneable state
 * (its SharedArrayBuffers stay shared), `decode` rebuilds an instance over that state on the
 * receiving thread.
 *
 * How: the encoder replaces each top-level argument (and a top-level result) whose class is
 * registered by a marker `{ __gortHandle: name, state }`; the marker crosses as any value does
 * (state holding shared memory goes by message, which keeps it shared; state without goes through
 * the G record or the payload arena); the decoder replaces each top-level marker by
 * `decode(state)`. The name is how threads agree on the class, as a task's module URL and name are.
 *
 * Invariants:
 * - A name maps to one class per thread, and a class to one name (a second registration of the
 *   same pair is a no-op, so a module evaluated twice still works; any other is an error).
 * - The registry lives on globalThis under a Symbol.for key, like the task registry, so two copies
 *   of this module on one thread (src and dist) agree.
 * - A marker whose name is not registered on the receiving thread fails the call (or the result)
 *   with HandleNotRegisteredError: the value is never handed over half-decoded.
 */

import { HandleNotRegisteredError, SchedulerArgError, describe } from '../errors.js'

/** How a class crosses threads as a handle (see registerHandle). */
export interface HandleCodec<T, S> {
  /** The state that crosses: structured-cloneable; SharedArrayBuffers in it stay shared. */
  encode(obj: T): S
  /** Rebuilds an object over `state` on the receiving thread. */
  decode(state: S): T
}

interface Entry {
  readonly name: string
  readonly cls: object
  readonly codec: HandleCodec<unknown, unknown>
}

interface Registry {
  byName: Map<string, Entry>
  byProto: Map<object, Entry>
}

const KEY = Symbol.for('gort.scheduler.handles')
const reg: Registry = ((globalThis as Record<symbol, unknown>)[KEY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = { byName: new Map(), byProto: new Map() } as Registry)

const MARK = '__gortHandle'

interface Marker {
  readonly __gortHandle: string
  readonly state: unknown
}

/**
 * Registers class `cls` under `name`: its instances (exactly this class, not subclasses) cross as
 * task arguments and results through `codec`. Call it at module top level, in a module that both
 * the sending and the receiving thread import (the task's module, or one it imports).
 */
export function registerHandle<T extends object, S>(name: string, cls: abstract new (...args: never[]) => T, codec: HandleCodec<T, S>): void {
  if (typeof name !== 'string' || name === '') throw new SchedulerArgError(`gort: registerHandle() needs a non-empty name, got ${describe(name)}`)
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object') throw new SchedulerArgError(`gort: registerHandle() needs a class, got ${describe(cls)}`)
  if (typeof codec !== 'object' || codec === null || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new SchedulerArgError(`gort: registerHandle() needs { encode, decode } functions, got ${describe(codec)}`)
  }
  const had = reg.byName.get(name)
  if (had !== undefined) {
    if (had.cls === cls) return
    throw new SchedulerArgError(`gort: two different classes are registered as handle ${JSON.stringify(name)}`)
  }
  const proto = cls.prototype as object
  const other = reg.byProto.get(proto)
  if (other !== undefined) throw new SchedulerArgError(`gort: class ${cls.name} is registered as handle ${JSON.stringify(other.name)} already`)
  const e: Entry = { name, cls, codec: codec as HandleCodec<unknown, unknown> }
  reg.byName.set(name, e)
  reg.byProto.set(proto, e)
}

function entryOf(v: unknown): Entry | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  return reg.byProto.get(Object.getPrototypeOf(v) as object)
}

/** `args` with each handle replaced by its marker; `args` itself when none is a handle. */
export function handlesOut(args: readonly unknown[]): readonly unknown[] {
  if (reg.byProto.size === 0) return args
  let out: unknown[] | undefined
  for (let i = 0; i < args.length; i++) {
    const e = entryOf(args[i])
    if (e === undefined) continue
    out ??= args.slice()
    out[i] = { [MARK]: e.name, state: e.codec.encode(args[i]) } satisfies Marker
  }
  return out ?? args
}

/** A result: its marker when it is a handle, else itself. */
export function handleOut(v: unknown): unknown {
  if (reg.byProto.size === 0) return v
  const e = entryOf(v)
  return e === undefined ? v : ({ [MARK]: e.name, state: e.codec.encode(v) } satisfies Marker)
}

function isMarker(v: unknown): v is Marker {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && typeof (v as Marker)[MARK] === 'string'
}

function revive(m: Marker): unknown {
  const e = reg.byName.get(m.__gortHandle)
  if (e === undefined) throw new HandleNotRegisteredError(m.__gortHandle)
  return e.codec.decode(m.state)
}

/** Decoded arguments with each marker rebuilt into its object (in place). */
export function handlesIn(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) if (isMarker(args[i])) args[i] = revive(args[i] as Marker)
  return args
}

/** A decoded result, rebuilt when it is a marker. */
export function handleIn(v: unknown): unknown {
  return isMarker(v) ? revive(v) : v
}
