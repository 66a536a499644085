/**
 * How arguments and results cross threads.
 *
 * - Up to INLINE_NUMS numbers (the common case: fib(n), add(a, b)) are stored as float64 in the
 *   G record itself: no serializer, no message.
 * - Anything else is structured-cloned with v8.serialize; if the bytes fit the G record's inline
 *   area they go there, if they fit an arena slot they go there (arena.ts, K_ARENA; the caller
 *   places them, since the slot is its thread's), otherwise they travel by message through the
 *   main thread (K_REMOTE).
 * - ArrayBuffers move instead of being copied where the caller asked for it (goWith's `transfer`:
 *   the arguments go by message with a transfer list) and for a result that is one large buffer
 *   or a view on one (`transferable`): the task gave it up by returning it.
 * - Handles (handles.ts) are replaced by markers on the way out and rebuilt on the way in.
 * - Shared memory stays shared: a shared buffer or view as an argument or a result goes by id
 *   (sharedbufs.ts, K_SHARED); views anywhere deeper in arguments go by id too, inside their
 *   serialized bytes in an arena slot (K_ARENA_SHARED), when the spawner passes `nested`; what
 *   is left (a result, a raw shared buffer inside a value) sends the value itself by
 *   postMessage, which shares it (v8.serialize would copy a view as bytes).
 * - Errors become plain data (name, message, stack, code and own enumerable fields) and are rebuilt
 *   as real Error objects on the receiving thread, as comlink does.
 *
 * Invariant: `encode*` either fully describes the value or throws (a DataCloneError for values that
 * cannot be cloned) before any shared state is touched, so callers can fail the call cleanly.
 */

import { InternalError } from '../../errors.js'
import { DefaultSerializer, deserialize, serialize } from 'node:v8'
import {
  HandleNotRegisteredError, MDiedError, NoRuntimeError, RuntimeClosedError, RuntimeOnMError, SchedulerArgError, TaskNotFoundError, UncloneableArgError, UncloneableResultError,
} from '../errors.js'
import type { Arena } from './arena.js'
import { handleIn, handleOut, handlesIn, handlesOut } from './handles.js'
import { ARENA_SLOT, G_DATA, G_ERR, G_KIND, G_LEN, INLINE_BYTES, INLINE_NUMS, K_ARENA, K_ARENA_SHARED, K_BYTES, K_NUMS, K_REMOTE, K_UNDEF } from './layout.js'

export interface Encoded {
  kind: number
  len: number
  nums: readonly number[] | undefined
  bytes: Uint8Array | undefined
  /** K_REMOTE: the value itself, for postMessage (which shares SharedArrayBuffers). */
  value?: unknown
  /** K_REMOTE with `value`: buffers in it that move with the message instead of being copied. */
  transfer?: ArrayBuffer[]
}

/** True for a shared buffer or a view on one (these must stay shared, so they are never serialized). */
export function isShared(v: unknown): boolean {
  if (v instanceof SharedArrayBuffer) return true
  return ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer
}

/** encodeArgs' answer when `nested` wrote the arguments into the record itself (K_ARENA_SHARED). */
const WRITTEN_NESTED: Encoded = { kind: K_ARENA_SHARED, len: 0, nums: undefined, bytes: undefined }

/**
 * The arguments' encoding. `nested`: called with the arguments (handles replaced) when they hold
 * shared memory, to write them into the G record with their views by id (SharedBufs.writeNested);
 * when it does, the answer is K_ARENA_SHARED and there is nothing left to write.
 */
export function encodeArgs(args: readonly unknown[], nested?: (value: unknown) => boolean): Encoded {
  // Shared buffers the registry could not take go by postMessage: encodeBytes sends any value
  // that holds shared memory that way.
  if (args.length <= INLINE_NUMS) {
    let allNums = true
    for (let i = 0; i < args.length; i++) {
      if (typeof args[i] !== 'number') {
        allNums = false
        break
      }
    }
    if (allNums) return { kind: K_NUMS, len: args.length, nums: args as readonly number[], bytes: undefined }
  }
  return encodeBytes(handlesOut(args), nested)
}

/**
 * Arguments whose buffers in `transfer` move instead of being copied (goWith's `transfer`). They
 * are moved at once, so the caller's buffers are detached when the call returns, whatever happens
 * after; the moved arguments then go by message with the moved buffers as its transfer list.
 * Throws a DataCloneError (a duplicate, a detached or a shared buffer) before anything moved.
 */
export function encodeArgsTransfer(args: readonly unknown[], transfer: readonly ArrayBuffer[]): Encoded {
  const moved = structuredClone({ args: handlesOut(args), transfer }, { transfer: transfer as ArrayBuffer[] })
  return { kind: K_REMOTE, len: 0, nums: undefined, bytes: undefined, value: moved.args, transfer: moved.transfer as ArrayBuffer[] }
}

export function encodeResult(value: unknown): Encoded {
  if (value === undefined) return { kind: K_UNDEF, len: 0, nums: undefined, bytes: undefined }
  if (typeof value === 'number') return { kind: K_NUMS, len: 1, nums: [value], bytes: undefined }
  const buf = transferable(value)
  if (buf !== undefined) {
    try {
      // Moves the buffer now (no copy): the task's own references to it are detached from here on.
      const moved = structuredClone({ value, buf }, { transfer: [buf] })
      return { kind: K_REMOTE, len: 0, nums: undefined, bytes: undefined, value: moved.value, transfer: [moved.buf] }
    } catch {
      // One that cannot move (Node marks some untransferable) is copied, as any other value.
    }
  }
  return encodeBytes(handleOut(value))
}

/** The built-in views a result may be to move automatically (a subclass such as Buffer is copied). */
const VIEWS = new Set<unknown>([
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
])

/**
 * The buffer a result moves with instead of being copied, if any: the result is an ArrayBuffer,
 * or a built-in typed array or DataView on one, and the buffer is larger than an arena slot (a
 * smaller one costs less to copy than to send by message). Only the top-level result: a buffer
 * deeper inside may be one the task still uses, and is copied.
 */
export function transferable(value: unknown): ArrayBuffer | undefined {
  let buf: unknown
  if (value instanceof ArrayBuffer) buf = value
  else if (ArrayBuffer.isView(value) && VIEWS.has(value.constructor)) buf = value.buffer
  else return undefined
  return buf instanceof ArrayBuffer && buf.byteLength > ARENA_SLOT ? buf : undefined
}

function encodeBytes(value: unknown, nested?: (value: unknown) => boolean): Encoded {
  const bytes = serializeUnshared(value)
  if (bytes === undefined) {
    if (nested?.(value) === true) return WRITTEN_NESTED
    // Shared memory somewhere inside: postMessage keeps it shared (v8.serialize would copy a
    // view and refuse a raw buffer). structuredClone fails now, at the call, for what cannot cross.
    structuredClone(value)
    return { kind: K_REMOTE, len: 0, nums: undefined, bytes: undefined, value }
  }
  if (bytes.byteLength <= INLINE_BYTES) return { kind: K_BYTES, len: bytes.byteLength, nums: undefined, bytes }
  return { kind: K_REMOTE, len: bytes.byteLength, nums: undefined, bytes, value: undefined }
}

/** Node's serializer hooks (documented in the v8 module; @types/node leaves them out). */
export type SerializerWithHooks = new () => DefaultSerializer & {
  _writeHostObject(v: object): void
  _getSharedArrayBufferId(buf: SharedArrayBuffer): number
}

/** Thrown out of a serializer that met shared memory (see serializeUnshared). */
const SHARED_INSIDE = Symbol('gort: shared memory inside')

/**
 * v8.serialize's serializer, except that it gives up on shared memory instead of copying a view
 * on it as bytes (which is what Node's serializer does with every typed array) or throwing on a
 * raw SharedArrayBuffer.
 */
class UnsharedSerializer extends (DefaultSerializer as unknown as SerializerWithHooks) {
  override _writeHostObject(v: object): void {
    if (isShared(v)) throw SHARED_INSIDE
    super._writeHostObject(v)
  }

  override _getSharedArrayBufferId(): number {
    throw SHARED_INSIDE
  }
}

/** The v8-serialized bytes of `value`, or undefined when it holds shared memory anywhere. */
function serializeUnshared(value: unknown): Uint8Array | undefined {
  const ser = new UnsharedSerializer()
  ser.writeHeader()
  try {
    ser.writeValue(value)
  } catch (e) {
    if (e === SHARED_INSIDE) return undefined
    throw e
  }
  return ser.releaseBuffer()
}

/** What a K_REMOTE payload sends by message: the value itself or its serialized bytes. */
export interface RemotePayload {
  readonly bytes?: Uint8Array | undefined
  readonly value?: unknown
  /** Buffers in `value` that move with each message that carries it (see encodeArgsTransfer). */
  readonly transfer?: ArrayBuffer[]
}

export function remoteOf(e: Encoded): RemotePayload {
  if (e.bytes !== undefined) return { bytes: e.bytes }
  return e.transfer !== undefined ? { value: e.value, transfer: e.transfer } : { value: e.value }
}

/** The value of a K_REMOTE payload: the argument array (`asArgs`) or the result, handles rebuilt. */
export function fromRemote(r: RemotePayload, asArgs: boolean): unknown {
  const v = r.bytes !== undefined ? deserialize(r.bytes) : r.value
  return asArgs ? handlesIn(v as unknown[]) : handleIn(v)
}

/** A result that came by message (see result.ts), rebuilt: an error result as a real Error, and a payload that cannot be read as the error. */
export function resultFromRemote(r: RemotePayload, isErr: boolean): { value: unknown; isErr: boolean } {
  try {
    const v = fromRemote(r, false)
    return { value: isErr ? plainToError(v) : v, isErr }
  } catch (e) {
    return { value: e, isErr: true }
  }
}

/**
 * The hot path: writes up to INLINE_NUMS numeric arguments (or one numeric result, `asArgs`
 * false) straight into the G record. Returns false, writing nothing, for anything else.
 */
export function writeNumsFast(I: Int32Array, F: Float64Array, go: number, args: readonly unknown[]): boolean {
  const n = args.length
  if (n > INLINE_NUMS) return false
  for (let i = 0; i < n; i++) if (typeof args[i] !== 'number') return false
  const f = (go + G_DATA) >> 1
  for (let i = 0; i < n; i++) F[f + i] = args[i] as number
  I[go + G_KIND] = K_NUMS
  I[go + G_LEN] = n
  I[go + G_ERR] = 0
  return true
}

export function writeNumResult(I: Int32Array, F: Float64Array, go: number, v: number): void {
  F[(go + G_DATA) >> 1] = v
  I[go + G_KIND] = K_NUMS
  I[go + G_LEN] = 1
  I[go + G_ERR] = 0
}

/** Writes an encoded payload into G record at word offset `go`. K_REMOTE writes only the header. */
export function writePayload(I: Int32Array, F: Float64Array, U8: Uint8Array, go: number, e: Encoded, isErr: boolean): void {
  I[go + G_KIND] = e.kind
  I[go + G_LEN] = e.len
  I[go + G_ERR] = isErr ? 1 : 0
  const data = go + G_DATA
  if (e.kind === K_NUMS) {
    const f = data >> 1
    const nums = e.nums!
    for (let i = 0; i < e.len; i++) F[f + i] = nums[i]!
  } else if (e.kind === K_BYTES) {
    U8.set(e.bytes!, data * 4)
  }
}

/**
 * A number read from the Float64 view is a double to V8 even when it is integral; passed on as
 * such it makes the task's code specialise on doubles (fib ran 1.5x slower than with the same
 * argument arriving by postMessage). Integral values within int32 go back to small integers.
 */
export function smi(x: number): number {
  return x === (x | 0) && (x !== 0 || 1 / x > 0) ? x | 0 : x
}

/**
 * Reads the payload of a G record, inline or in `arena` (freeing its slot; a result's slot is
 * claimed by CAS first, see Arena.dropResult); the caller handles K_REMOTE itself.
 */
export function readPayload(I: Int32Array, F: Float64Array, U8: Uint8Array, go: number, asArgs: boolean, arena?: Arena): unknown {
  const kind = I[go + G_KIND]!
  const len = I[go + G_LEN]!
  const data = go + G_DATA
  if (kind === K_NUMS) {
    const f = data >> 1
    if (!asArgs) return smi(F[f]!)
    const out = new Array<number>(len)
    for (let i = 0; i < len; i++) out[i] = smi(F[f + i]!)
    return out
  }
  if (kind === K_BYTES) return decodeBytes(U8.slice(data * 4, data * 4 + len), asArgs)
  if (kind === K_ARENA && arena !== undefined) {
    if (asArgs) return decodeBytes(arena.take(go), true)
    if (Atomics.compareExchange(I, go + G_KIND, K_ARENA, K_UNDEF) !== K_ARENA) return undefined
    return decodeBytes(arena.take(go), false)
  }
  if (kind === K_UNDEF) return asArgs ? [] : undefined
  throw new InternalError(`payload kind ${kind} is not inline`)
}

/** Serialized arguments (`asArgs`) or a result, handles rebuilt. */
export function decodeBytes(bytes: Uint8Array, asArgs: boolean): unknown {
  const v = deserialize(bytes)
  return asArgs ? handlesIn(v as unknown[]) : handleIn(v)
}

export const isErrPayload = (I: Int32Array, go: number): boolean => I[go + G_ERR] === 1

// ---- errors ----

export interface PlainError {
  readonly __gortError: true
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  readonly code: unknown
  readonly props: Record<string, unknown>
  readonly cause?: PlainError | { readonly value: unknown }
}

/**
 * A field of a thrown error, as a value that can cross: a getter that throws gives a note of
 * that instead of failing the whole result (UncloneableResultError, naming no field).
 */
function read(e: object, k: string): unknown {
  try {
    return (e as Record<string, unknown>)[k]
  } catch (err) {
    return `(its ${k} could not be read: ${safeString(err instanceof Error ? err.message : err)})`
  }
}

function safeString(v: unknown): string {
  try {
    return String(v)
  } catch {
    return Object.prototype.toString.call(v)
  }
}

/** A code that can cross: a string or number as it is, anything else as text. */
function plainCode(c: unknown): unknown {
  return c === undefined || typeof c === 'string' || typeof c === 'number' ? c : safeString(c)
}

/** Turns anything thrown into clonable plain data (keeps non-Error throws as a value). */
export function errorToPlain(e: unknown, depth = 0): PlainError | { readonly value: unknown } {
  if (!(e instanceof Error)) {
    try {
      serialize(e)
      return { value: e }
    } catch {
      return { value: safeString(e) }
    }
  }
  // No prototype: a field named `__proto__` is set as a field here, not as the prototype.
  const props: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const k of Object.keys(e)) {
    if (k === 'code' || k === 'cause') continue
    const v = read(e, k)
    try {
      serialize(v)
      props[k] = v
    } catch {
      props[k] = safeString(v)
    }
  }
  const name = read(e, 'name')
  const message = read(e, 'message')
  const stack = read(e, 'stack')
  const base = {
    __gortError: true as const,
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : safeString(message),
    stack: typeof stack === 'string' ? stack : undefined,
    code: plainCode(read(e, 'code')),
    props,
  }
  const cause = read(e, 'cause')
  if (cause !== undefined && depth < 4) return { ...base, cause: errorToPlain(cause, depth + 1) }
  return base
}

// Maps, not object literals: a name comes from the other thread's error (a user's), and
// `constructor` or `__proto__` must find nothing here, not Object's own members.
const CTORS = new Map<string, ErrorConstructor>(Object.entries({ Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }))

/** gort's own error classes, rebuilt with their prototype so `instanceof` works across threads. */
const GORT = new Map<string, { prototype: Error }>(Object.entries({
  RuntimeClosedError, RuntimeOnMError, NoRuntimeError, TaskNotFoundError, MDiedError, SchedulerArgError, UncloneableArgError, UncloneableResultError,
  HandleNotRegisteredError,
}))

/**
 * Adds error classes (by their name) that come back from other threads as themselves, as the
 * scheduler's own do: for modules above the scheduler (gort/mapreduce) whose errors a task throws.
 * Only errors with a `code` (gort's all have one) are rebuilt so.
 */
export function registerErrorClasses(classes: Readonly<Record<string, { prototype: Error }>>): void {
  for (const [name, c] of Object.entries(classes)) GORT.set(name, c)
}

/** Rebuilds an Error on this thread from `errorToPlain` data (same name, message, stack, code). */
export function plainToError(p: unknown): unknown {
  if (typeof p !== 'object' || p === null) return p
  if (!('__gortError' in p)) return (p as { value: unknown }).value
  const pe = p as PlainError
  const Ctor = CTORS.get(pe.name) ?? Error
  const options = pe.cause !== undefined ? { cause: plainToError(pe.cause) } : undefined
  const err = new Ctor(pe.message, options) as Error & Record<string, unknown>
  if (err.name !== pe.name) {
    Object.defineProperty(err, 'name', { value: pe.name, configurable: true, writable: true, enumerable: false })
  }
  const gort = pe.code === undefined ? undefined : GORT.get(pe.name)
  if (gort !== undefined) Object.setPrototypeOf(err, gort.prototype)
  if (pe.stack !== undefined) err.stack = pe.stack
  if (pe.code !== undefined) err['code'] = pe.code
  // Defined, not assigned: an own `__proto__` field must stay a field, not become the prototype.
  for (const [k, v] of Object.entries(pe.props)) Object.defineProperty(err, k, { value: v, writable: true, enumerable: true, configurable: true })
  return err
}
