/**
 * How a SharedChan's values cross threads: each value is written into a fixed-size slot (a ring
 * entry or a waiter record's value part) and read back on the receiving thread.
 *
 * Kinds (S_KIND) and their data (S_LEN bytes from S_DATA):
 * - undefined, null, true, false: no data.
 * - number: one float64 (integral values come back as small integers, see codec.ts's smi).
 * - string: its UTF-16 code units, two bytes each (no UTF-8 transcoding either way).
 * - Uint8Array (exactly that class, not shared): its bytes; it arrives as a new Uint8Array.
 * - a SharedChan: its id (the registry finds the same memory on the receiving thread).
 * - anything else: structured clone (v8.serialize), as postMessage would copy it. A typed array
 *   over shared memory inside such a value arrives as a copy; a SharedChan inside one is refused
 *   (its `buffer` field cannot be cloned), only a SharedChan as the whole value crosses.
 *
 * The slow path: a value whose data is larger than the channel's slotBytes is refused with
 * SharedChanValueError (ERR_VALUE_TOO_BIG) before anything is queued; it is never truncated.
 * Make the channel with a larger `slotBytes`, or send a SharedChan / SharedArrayBuffer-backed
 * handle to bulk data instead.
 *
 * Encoding happens in two steps so that nothing that can throw runs under the channel's lock:
 * `prepare` (outside the lock: measures, serializes, throws) and `writeSlot` (under it: stores).
 * Decoding copies out under the lock (`readSlot`, cheap for every kind) and deserializes a clone
 * after the lock is released (`finishRead`). Both keep their state in module-level scratch
 * variables, so the number path allocates nothing.
 */

import { deserialize, serialize } from 'node:v8'
import { GortError, describeValue } from '../../errors.js'
import { smi } from './codec.js'
import { S_DATA, S_KIND, S_LEN } from './sharedchan-layout.js'

export const K_UNDEF = 0
export const K_NULL = 1
export const K_FALSE = 2
export const K_TRUE = 3
export const K_NUM = 4
export const K_STR = 5
export const K_BYTES = 6
export const K_CLONE = 7
export const K_CHAN = 8

/** A value that cannot go into this channel's slots (too big, or not cloneable). */
export class SharedChanValueError extends GortError {
  declare readonly code: 'ERR_VALUE_TOO_BIG' | 'ERR_VALUE_UNCLONEABLE'
  /** Bytes the value needs (-1 when it cannot be cloned at all). */
  readonly size: number
  readonly slotBytes: number

  constructor(size: number, slotBytes: number, cause?: unknown) {
    super(
      size < 0 ? 'ERR_VALUE_UNCLONEABLE' : 'ERR_VALUE_TOO_BIG',
      size < 0
        ? `sharedchan: value cannot be cloned: ${(cause as Error | undefined)?.message ?? describeValue(cause)}`
        : `sharedchan: a value of ${size} bytes does not fit a slot of ${slotBytes} bytes (make the channel with a larger slotBytes)`,
      cause === undefined ? undefined : { cause },
    )
    this.size = size
    this.slotBytes = slotBytes
  }
}

/** The views of one channel's buffer. */
export interface Views {
  readonly I: Int32Array
  readonly F: Float64Array
  readonly U8: Uint8Array
  readonly U16: Uint16Array
}

export function viewsOf(sab: SharedArrayBuffer): Views {
  return { I: new Int32Array(sab), F: new Float64Array(sab), U8: new Uint8Array(sab), U16: new Uint16Array(sab) }
}

/** How a SharedChan value is told apart and crosses; set by sharedchan.ts (no import cycle). */
export interface ChanHooks {
  isChan(v: unknown): boolean
  /** A copy of channel `c` goes into the slot whose data starts at word `data`: write its id, count it in flight. */
  sent(c: unknown, I: Int32Array, data: number): void
  /** A copy written earlier was taken back (its send failed or was cancelled). */
  unsent(lo: number, hi: number): void
  /** A copy was read: this thread's handle for it. */
  received(lo: number, hi: number): unknown
}

let hooks: ChanHooks | null = null
export function setChanHooks(h: ChanHooks): void {
  hooks = h
}

// ---- encoding: prepare (may throw) then writeSlot (under the lock) ----

let encKind = K_UNDEF
let encLen = 0
let encNum = 0
let encStr = ''
let encBytes: Uint8Array | null = null
let encChan: unknown = null

/**
 * Measures `v` for a slot of `slotBytes` and remembers it for the next writeSlot. Throws
 * SharedChanValueError when it does not fit or cannot be cloned; touches no shared memory.
 */
export function prepare(v: unknown, slotBytes: number): void {
  encBytes = null
  encChan = null
  switch (typeof v) {
    case 'number':
      encKind = K_NUM
      encLen = 8
      encNum = v
      return
    case 'string':
      encKind = K_STR
      encLen = v.length * 2
      encStr = v
      break
    case 'undefined':
      encKind = K_UNDEF
      encLen = 0
      return
    case 'boolean':
      encKind = v ? K_TRUE : K_FALSE
      encLen = 0
      return
    default:
      if (v === null) {
        encKind = K_NULL
        encLen = 0
        return
      }
      if (v instanceof Uint8Array && v.constructor === Uint8Array && !(v.buffer instanceof SharedArrayBuffer)) {
        encKind = K_BYTES
        encLen = v.byteLength
        encBytes = v
        break
      }
      if (hooks !== null && hooks.isChan(v)) {
        encKind = K_CHAN
        encLen = 8
        encChan = v
        return
      }
      try {
        encBytes = serialize(v)
      } catch (e) {
        throw new SharedChanValueError(-1, slotBytes, e)
      }
      encKind = K_CLONE
      encLen = encBytes.byteLength
  }
  if (encLen > slotBytes) {
    encBytes = null
    throw new SharedChanValueError(encLen, slotBytes)
  }
}

/**
 * Stores the prepared value into the slot at word `at`; may be called again for another slot (a
 * hand-off whose receiver had just cancelled). Precondition: prepare() succeeded.
 */
export function writeSlot(v: Views, at: number): void {
  const { I } = v
  I[at + S_KIND] = encKind
  I[at + S_LEN] = encLen
  const data = at + S_DATA
  switch (encKind) {
    case K_NUM:
      v.F[data >> 1] = encNum
      return
    case K_STR: {
      const U16 = v.U16
      const s = encStr
      const o = data * 2
      for (let i = 0; i < s.length; i++) U16[o + i] = s.charCodeAt(i)
      return
    }
    case K_BYTES:
    case K_CLONE:
      v.U8.set(encBytes!, data * 4)
      return
    case K_CHAN:
      hooks!.sent(encChan, I, data)
      return
  }
}

/** A slot written by writeSlot will not be read after all: a SharedChan in it is no longer in flight. */
export function unwriteSlot(I: Int32Array, at: number): void {
  if (I[at + S_KIND] === K_CHAN) hooks!.unsent(I[at + S_DATA]!, I[at + S_DATA + 1]!)
}

/** Copies a written slot (header and data) from word `from` to word `to`. */
export function copySlot(I: Int32Array, from: number, to: number): void {
  const n = S_DATA + ((I[from + S_LEN]! + 3) >> 2)
  I.copyWithin(to, from, from + n)
}

/** The op is over: let go of what prepare held (a large clone, a string, a channel). */
export function dropPrepared(): void {
  encBytes = null
  encStr = ''
  encChan = null
}

// ---- decoding: readSlot (under the lock) then finishRead (after it) ----

let decBytes: Uint8Array | null = null
let decKind = K_UNDEF

/** Copies the slot at word `at` out; returns the value, or a placeholder finishRead replaces. */
export function readSlot(v: Views, at: number): unknown {
  const { I } = v
  decBytes = null
  const kind = I[at + S_KIND]!
  const data = at + S_DATA
  decKind = kind
  switch (kind) {
    case K_NUM:
      return smi(v.F[data >> 1]!)
    case K_UNDEF:
      return undefined
    case K_NULL:
      return null
    case K_TRUE:
      return true
    case K_FALSE:
      return false
    case K_STR:
      return readString(v.U16, data * 2, I[at + S_LEN]! >> 1)
    case K_BYTES:
    case K_CLONE:
    case K_CHAN: {
      const o = data * 4
      decBytes = v.U8.slice(o, o + I[at + S_LEN]!)
      return undefined
    }
    default:
      return undefined
  }
}

/** Completes a readSlot outside the lock: deserializes a clone, resolves a SharedChan. */
export function finishRead(value: unknown): unknown {
  const b = decBytes
  if (b === null) return value
  decBytes = null
  if (decKind === K_BYTES) return b
  if (decKind === K_CHAN) {
    const w = new Int32Array(b.buffer, b.byteOffset, 2)
    return hooks!.received(w[0]!, w[1]!)
  }
  return deserialize(b)
}

/** A readSlot whose value will not be used after all. */
export function discardRead(): void {
  decBytes = null
}

function readString(U16: Uint16Array, o: number, n: number): string {
  if (n <= 16) {
    let s = ''
    for (let i = 0; i < n; i++) s += String.fromCharCode(U16[o + i]!)
    return s
  }
  let s = ''
  for (let i = 0; i < n; i += 4096) {
    s += String.fromCharCode.apply(null, U16.subarray(o + i, o + Math.min(n, i + 4096)) as unknown as number[])
  }
  return s
}
