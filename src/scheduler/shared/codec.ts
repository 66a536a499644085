/**
 * How arguments and results cross threads.
 *
 * - Up to INLINE_NUMS numbers (the common case: fib(n), add(a, b)) are stored as float64 in the
 *   G record itself: no serializer, no message.
 * - Anything else is structured-cloned with v8.serialize; if the bytes fit the G record's inline
 *   area they go there, otherwise they travel by message through the main thread (K_REMOTE).
 * - Shared memory stays shared: a shared buffer or view as an argument or a result goes by id
 *   (sharedbufs.ts, K_SHARED); one anywhere deeper in a value sends the value itself by
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
  MDiedError, NoRuntimeError, RuntimeClosedError, RuntimeOnMError, SchedulerArgError, TaskNotFoundError, UncloneableArgError, UncloneableResultError,
} from '../errors.js'
import { G_DATA, G_ERR, G_KIND, G_LEN, INLINE_BYTES, INLINE_NUMS, K_BYTES, K_NUMS, K_REMOTE, K_UNDEF } from './layout.js'

export interface Encoded {
  kind: number
  len: number
  nums: readonly number[] | undefined
  bytes: Uint8Array | undefined
  /** K_REMOTE: the value itself, for postMessage (which shares SharedArrayBuffers). */
  value?: unknown
}

/** True for a shared buffer or a view on one (these must stay shared, so they are never serialized). */
export function isShared(v: unknown): boolean {
  if (v instanceof SharedArrayBuffer) return true
  return ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer
}

export function encodeArgs(args: readonly unknown[]): Encoded {
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
  return encodeBytes(args)
}

export function encodeResult(value: unknown): Encoded {
  if (value === undefined) return { kind: K_UNDEF, len: 0, nums: undefined, bytes: undefined }
  if (typeof value === 'number') return { kind: K_NUMS, len: 1, nums: [value], bytes: undefined }
  return encodeBytes(value)
}

function encodeBytes(value: unknown): Encoded {
  const bytes = serializeUnshared(value)
  if (bytes === undefined) {
    // Shared memory somewhere inside: postMessage keeps it shared (v8.serialize would copy a
    // view and refuse a raw buffer). structuredClone fails now, at the call, for what cannot cross.
    structuredClone(value)
    return { kind: K_REMOTE, len: 0, nums: undefined, bytes: undefined, value }
  }
  if (bytes.byteLength <= INLINE_BYTES) return { kind: K_BYTES, len: bytes.byteLength, nums: undefined, bytes }
  return { kind: K_REMOTE, len: bytes.byteLength, nums: undefined, bytes, value: undefined }
}

/** Node's serializer hooks (documented in the v8 module; @types/node leaves them out). */
type SerializerWithHooks = new () => DefaultSerializer & {
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
    if (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer) throw SHARED_INSIDE
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
}

export function remoteOf(e: Encoded): RemotePayload {
  return e.bytes !== undefined ? { bytes: e.bytes } : { value: e.value }
}

export function fromRemote(r: RemotePayload): unknown {
  return r.bytes !== undefined ? deserialize(r.bytes) : r.value
}

/** A result that came by message (see result.ts), rebuilt: an error result as a real Error, and a payload that cannot be read as the error. */
export function resultFromRemote(r: RemotePayload, isErr: boolean): { value: unknown; isErr: boolean } {
  try {
    const v = fromRemote(r)
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

/** Reads the inline payload of a G record; the caller handles K_REMOTE itself. */
export function readPayload(I: Int32Array, F: Float64Array, U8: Uint8Array, go: number, asArgs: boolean): unknown {
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
  if (kind === K_BYTES) return deserialize(U8.slice(data * 4, data * 4 + len))
  if (kind === K_UNDEF) return asArgs ? [] : undefined
  throw new InternalError(`payload kind ${kind} is not inline`)
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

/** Turns anything thrown into clonable plain data (keeps non-Error throws as a value). */
export function errorToPlain(e: unknown, depth = 0): PlainError | { readonly value: unknown } {
  if (!(e instanceof Error)) {
    try {
      serialize(e)
      return { value: e }
    } catch {
      return { value: String(e) }
    }
  }
  const props: Record<string, unknown> = {}
  for (const k of Object.keys(e)) {
    if (k === 'code' || k === 'cause') continue
    const v = (e as unknown as Record<string, unknown>)[k]
    try {
      serialize(v)
      props[k] = v
    } catch {
      props[k] = String(v)
    }
  }
  const base = {
    __gortError: true as const,
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: (e as { code?: unknown }).code,
    props,
  }
  if (e.cause !== undefined && depth < 4) return { ...base, cause: errorToPlain(e.cause, depth + 1) }
  return base
}

const CTORS: Record<string, ErrorConstructor> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
}

/** gort's own error classes, rebuilt with their prototype so `instanceof` works across threads. */
const GORT: Record<string, { prototype: Error }> = {
  RuntimeClosedError, RuntimeOnMError, NoRuntimeError, TaskNotFoundError, MDiedError, SchedulerArgError, UncloneableArgError, UncloneableResultError,
}

/** Rebuilds an Error on this thread from `errorToPlain` data (same name, message, stack, code). */
export function plainToError(p: unknown): unknown {
  if (typeof p !== 'object' || p === null) return p
  if (!('__gortError' in p)) return (p as { value: unknown }).value
  const pe = p as PlainError
  const Ctor = CTORS[pe.name] ?? Error
  const options = pe.cause !== undefined ? { cause: plainToError(pe.cause) } : undefined
  const err = new Ctor(pe.message, options) as Error & Record<string, unknown>
  if (err.name !== pe.name) {
    Object.defineProperty(err, 'name', { value: pe.name, configurable: true, writable: true, enumerable: false })
  }
  const gort = GORT[pe.name]
  if (gort !== undefined) Object.setPrototypeOf(err, gort.prototype)
  if (pe.stack !== undefined) err.stack = pe.stack
  if (pe.code !== undefined) err['code'] = pe.code
  for (const [k, v] of Object.entries(pe.props)) err[k] = v
  return err
}
