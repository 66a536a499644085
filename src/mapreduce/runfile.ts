/**
 * Run files: the sorted runs a map task spills and a reduce task merges. A run is a sequence of
 * records, each `flags:u8 keyLen:u32le valueLen:u32le key value [reps:u32le]`, where the key is
 * its text in UTF-8 (flag bit 0: the key is a number) and the value is UTF-8 text, or with flag
 * bit 1 a float64 (little-endian) number, so every value comes back exactly as emitted, -0 and
 * NaN too. With flag bit 2 the record stands for its value `reps` times in a row (at least 2):
 * word count's 1s, or any value a key got several times over, cost one record, and a reader
 * yields the value that many times.
 *
 * Invariants:
 * - A run file is sorted: records in `compareRecords` order (key bytes, then the number bit), and
 *   records with equal keys in the order they were written.
 * - Writers and readers use synchronous I/O: a task is one G on a worker thread, and while it
 *   reads or writes, that thread has nothing else to do (the coordinator runs at most `procs`
 *   tasks at a time).
 * - A reader's current record stays valid (its bytes in place) until that reader's next `next()`.
 */

import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { InternalError } from '../errors.js'
import type { Scalar } from './job.js'
import { textOf } from './keys.js'
import { release } from './memory.js'

const HEADER = 9
const KEY_NUM = 1
const VAL_NUM = 2
const REPS = 4

/** Key bytes in RunReader.prefix: 6 fill 48 of a float64's 53 integer bits. */
const PREFIX = 6

/** Keys up to this many bytes are copied by JS loops rather than Buffer's calls into C++. */
const SHORT = 32

/** Writes `s` into `b` from `at` when it is all ASCII and fits; returns its length, or -1 (nothing usable written). */
function ascii(s: string, b: Buffer, at: number): number {
  const n = s.length
  if (at + n > b.length) return -1
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return -1
    b[at + i] = c
  }
  return n
}

/**
 * The string of the n <= 8 bytes at `s` when all are ASCII, else undefined: one
 * String.fromCharCode call instead of a call into C++ (about 25 ns against 120 for a key of a few
 * bytes; the reduce side decodes one key per group).
 */
function shortAscii(b: Buffer, s: number, n: number): string | undefined {
  for (let i = 0; i < n; i++) if (b[s + i]! >= 0x80) return undefined
  switch (n) {
    case 0: return ''
    case 1: return String.fromCharCode(b[s]!)
    case 2: return String.fromCharCode(b[s]!, b[s + 1]!)
    case 3: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!)
    case 4: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!)
    case 5: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!)
    case 6: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!)
    case 7: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!)
    default: return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!)
  }
}

/**
 * Writes the UTF-8 of `s` into `b` at `at` (precondition: room for 3 bytes a unit) and returns
 * how many bytes that took: a short ASCII text by a JS loop (ascii), anything else by Buffer's
 * encoder, which writes a lone surrogate as U+FFFD.
 */
export function writeText(b: Buffer, at: number, s: string): number {
  const n = s.length <= SHORT ? ascii(s, b, at) : -1
  return n >= 0 ? n : b.write(s, at, 'utf8')
}

/** The text of the well-formed UTF-8 key b[s, s + n). */
export function keyText(b: Buffer, s: number, n: number): string {
  return (n <= 8 ? shortAscii(b, s, n) : undefined) ?? b.toString('utf8', s, s + n)
}

/** Copies src[from, from + n) to dst at `to`: a JS loop for a short key, Buffer's copy (a call into C++) for a longer one. */
function copyKeyBytes(src: Buffer, from: number, dst: Buffer, to: number, n: number): void {
  if (n <= SHORT) for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!
  else src.copy(dst, to, from, from + n)
}

/** The little-endian uint32 at `at`. */
function readU32(b: Buffer, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000
}

/** Writes `v` as a little-endian uint32 at `at`. */
function writeU32(b: Buffer, at: number, v: number): void {
  b[at] = v
  b[at + 1] = v >>> 8
  b[at + 2] = v >>> 16
  b[at + 3] = v >>> 24
}

export class RunWriter {
  /** Pairs written: a record with a count counts that many. */
  records = 0
  bytes = 0
  readonly path: string
  readonly #fd: number
  #buf = Buffer.allocUnsafe(1 << 20)
  #len = 0
  /** The key `key()` set: its UTF-8 bytes (#kb up to #kLen) and number bit. */
  #kb = Buffer.allocUnsafe(64)
  #kLen = 0
  #kNum = 0

  constructor(path: string) {
    this.path = path
    this.#fd = openSync(path, 'wx')
  }

  add(key: Scalar, value: Scalar): void {
    const kt = textOf(key)
    const kLen = Buffer.byteLength(kt)
    const vNum = typeof value === 'number'
    const vLen = vNum ? 8 : Buffer.byteLength(value)
    const at = this.#reserve(HEADER + kLen + vLen)
    const b = this.#buf
    b[at] = (typeof key === 'number' ? KEY_NUM : 0) | (vNum ? VAL_NUM : 0)
    b.writeUInt32LE(kLen, at + 1)
    b.writeUInt32LE(vLen, at + 5)
    b.write(kt, at + HEADER, kLen, 'utf8')
    if (vNum) b.writeDoubleLE(value, at + HEADER + kLen)
    else b.write(value, at + HEADER + kLen, vLen, 'utf8')
    this.records++
  }

  /** Sets the key of the records `value` adds (encoded once, however many values follow). */
  key(key: Scalar): void {
    const kt = textOf(key)
    // A short ASCII key (most are) is copied by a loop, cheaper than a call into C++ (writeText).
    this.#kLen = writeText(this.#keyRoom(3 * kt.length), 0, kt)
    this.#kNum = typeof key === 'number' ? KEY_NUM : 0
  }

  /** Sets the key of the records `value` adds: a string key given as its UTF-8 bytes `b[off, off + len)` (precondition: well-formed). */
  keyBytes(b: Buffer, off: number, len: number): void {
    copyKeyBytes(b, off, this.#keyRoom(len), 0, len)
    this.#kLen = len
    this.#kNum = 0
  }

  /** The key buffer, grown to hold at least `n` bytes. */
  #keyRoom(n: number): Buffer {
    if (n > this.#kb.length) this.#kb = Buffer.allocUnsafe(Math.max(n, this.#kb.length * 2))
    return this.#kb
  }

  /** Adds a record of a string key, given as its UTF-8 bytes `b[off, off + len)` (precondition: well-formed), and a number value (the byte table's). */
  bytesRecord(b: Buffer, off: number, len: number, value: number): void {
    const at = this.#reserve(HEADER + len + 8)
    const o = this.#buf
    o[at] = VAL_NUM
    writeU32(o, at + 1, len)
    writeU32(o, at + 5, 8)
    copyKeyBytes(b, off, o, at + HEADER, len)
    o.writeDoubleLE(value, at + HEADER + len)
    this.records++
  }

  /** Adds a record of the key `key()` set last and `value`, standing for the value `reps` times (1 to 2^32 - 1). */
  value(value: Scalar, reps = 1): void {
    const kLen = this.#kLen
    const vNum = typeof value === 'number'
    const vLen = vNum ? 8 : Buffer.byteLength(value)
    const more = reps > 1 ? 4 : 0
    const at = this.#reserve(HEADER + kLen + vLen + more)
    const b = this.#buf
    b[at] = this.#kNum | (vNum ? VAL_NUM : 0) | (more === 0 ? 0 : REPS)
    writeU32(b, at + 1, kLen)
    writeU32(b, at + 5, vLen)
    copyKeyBytes(this.#kb, 0, b, at + HEADER, kLen)
    if (vNum) b.writeDoubleLE(value, at + HEADER + kLen)
    else b.write(value, at + HEADER + kLen, vLen, 'utf8')
    if (more !== 0) writeU32(b, at + HEADER + kLen + vLen, reps)
    this.records += reps
  }

  /** Copies a record as a reader holds it (a merge pass), `reps` its count (RunReader.reps()). */
  addRaw(record: Uint8Array, reps: number): void {
    const at = this.#reserve(record.length)
    this.#buf.set(record, at)
    this.records += reps
  }

  /** Writes what is buffered and closes the file; the writer's buffer goes at once (memory.ts). */
  close(): void {
    this.#flush()
    closeSync(this.#fd)
    release(this.#buf)
  }

  #reserve(n: number): number {
    if (this.#len + n > this.#buf.length) {
      this.#flush()
      if (n > this.#buf.length) this.#buf = Buffer.allocUnsafe(n)
    }
    const at = this.#len
    this.#len += n
    this.bytes += n
    return at
  }

  #flush(): void {
    let off = 0
    while (off < this.#len) off += writeSync(this.#fd, this.#buf, off, this.#len - off)
    this.#len = 0
  }
}

export class RunReader {
  readonly path: string
  readonly #fd: number
  #buf: Buffer
  /** Start of the current record in #buf, and the end of the valid bytes. */
  #at = 0
  #recLen = 0
  #len = 0
  #filePos = 0
  #eof = false
  #flags = 0
  #kLen = 0
  #vLen = 0

  constructor(path: string, bufSize = 1 << 16) {
    this.path = path
    this.#fd = openSync(path, 'r')
    this.#buf = Buffer.allocUnsafe(bufSize)
  }

  /** Moves to the next record; false after the last one. */
  next(): boolean {
    this.#at += this.#recLen
    this.#recLen = 0
    if (!this.#have(HEADER)) return false
    let b = this.#buf
    const at = this.#at
    this.#flags = b[at]!
    const kLen = (this.#kLen = readU32(b, at + 1))
    this.#vLen = readU32(b, at + 5)
    const n = HEADER + kLen + this.#vLen + ((this.#flags & REPS) === 0 ? 0 : 4)
    if (!this.#have(n)) throw new InternalError(`run file ${this.path} ends inside a record`)
    this.#recLen = n
    // #have may have moved the record to the buffer's start, or to a bigger buffer.
    b = this.#buf
    const s = this.#at + HEADER
    let p = 0
    let q = 0
    for (let i = 0; i < PREFIX; i++) p = p * 256 + (i < kLen ? b[s + i]! : 0)
    if (kLen > PREFIX) for (let i = PREFIX; i < 2 * PREFIX; i++) q = q * 256 + (i < kLen ? b[s + i]! : 0)
    this.prefix = p
    this.prefix2 = q
    return true
  }

  /**
   * The current key's first PREFIX bytes as a number, and the next PREFIX as another (missing
   * bytes as 0): these, then the length, order keys of up to 2 * PREFIX bytes, so most
   * comparisons of a merge are of numbers (`compare`).
   */
  prefix = 0
  prefix2 = 0

  key(): Scalar {
    const s = this.#at + HEADER
    const n = this.#kLen
    const t = keyText(this.#buf, s, n)
    return (this.#flags & KEY_NUM) !== 0 ? Number(t) : t
  }

  value(): Scalar {
    const s = this.#at + HEADER + this.#kLen
    return (this.#flags & VAL_NUM) !== 0 ? this.#buf.readDoubleLE(s) : this.#buf.toString('utf8', s, s + this.#vLen)
  }

  /** How many times in a row the current record's value stands (1 unless the record has a count). */
  reps(): number {
    return (this.#flags & REPS) === 0 ? 1 : readU32(this.#buf, this.#at + HEADER + this.#kLen + this.#vLen)
  }

  /** The current record's bytes (valid until next()). */
  raw(): Uint8Array {
    return this.#buf.subarray(this.#at, this.#at + this.#recLen)
  }

  /**
   * Record order between the current records of two readers: key bytes (unsigned), then numbers
   * first. A byte loop: keys are short, and for them it beats a call into Buffer.compare.
   */
  compare(o: RunReader): number {
    if (this.prefix !== o.prefix) return this.prefix < o.prefix ? -1 : 1
    if (this.prefix2 !== o.prefix2) return this.prefix2 < o.prefix2 ? -1 : 1
    const al = this.#kLen
    const bl = o.#kLen
    if (al <= 2 * PREFIX && bl <= 2 * PREFIX) {
      // Equal prefixes of keys this short: a key is the other's prefix, padded with 0 bytes, or equal.
      if (al !== bl) return al - bl
      return (o.#flags & KEY_NUM) - (this.#flags & KEY_NUM)
    }
    const a = this.#buf
    const b = o.#buf
    const s = this.#at + HEADER
    const os = o.#at + HEADER
    const n = al < bl ? al : bl
    for (let i = 2 * PREFIX; i < n; i++) {
      const d = a[s + i]! - b[os + i]!
      if (d !== 0) return d
    }
    if (al !== bl) return al - bl
    return (o.#flags & KEY_NUM) - (this.#flags & KEY_NUM)
  }

  /** True when the current record's key equals the key bytes and number bit in `k`. */
  sameKey(k: KeyBytes): boolean {
    const n = this.#kLen
    if ((this.#flags & KEY_NUM) !== k.num || n !== k.len) return false
    const b = this.#buf
    const kb = k.bytes
    const s = this.#at + HEADER
    for (let i = 0; i < n; i++) if (b[s + i] !== kb[i]) return false
    return true
  }

  /** A copy of the current key's identity, for sameKey after this reader has moved on. */
  keyBytes(): KeyBytes {
    const s = this.#at + HEADER
    return { num: this.#flags & KEY_NUM, bytes: Buffer.from(this.#buf.subarray(s, s + this.#kLen)), len: this.#kLen }
  }

  /** keyBytes() into `k`, reusing its buffer when the key fits. */
  copyKey(k: KeyBytes): void {
    const n = this.#kLen
    if (n > k.bytes.length) k.bytes = Buffer.allocUnsafe(Math.max(n, k.bytes.length * 2))
    const s = this.#at + HEADER
    copyKeyBytes(this.#buf, s, k.bytes, 0, n)
    k.len = n
    k.num = this.#flags & KEY_NUM
  }

  close(): void {
    closeSync(this.#fd)
  }

  /** True when `n` bytes from #at are in the buffer, reading (and growing it) as needed; false at a clean EOF. */
  #have(n: number): boolean {
    while (this.#len - this.#at < n) {
      if (this.#eof) {
        if (this.#len === this.#at) return false
        throw new InternalError(`run file ${this.path} ends inside a record`)
      }
      if (this.#at > 0) {
        this.#buf.copy(this.#buf, 0, this.#at, this.#len)
        this.#len -= this.#at
        this.#at = 0
      }
      if (n > this.#buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(n, this.#buf.length * 2))
        this.#buf.copy(bigger, 0, 0, this.#len)
        this.#buf = bigger
      }
      const got = readSync(this.#fd, this.#buf, this.#len, this.#buf.length - this.#len, this.#filePos)
      if (got === 0) this.#eof = true
      this.#len += got
      this.#filePos += got
    }
    return true
  }
}

/** A key's identity: its number bit and its UTF-8 bytes, `bytes[0, len)`. */
export interface KeyBytes {
  num: number
  bytes: Buffer
  len: number
}
