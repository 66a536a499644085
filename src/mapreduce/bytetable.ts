/**
 * The byte table: the map side's summing combiner for `records: 'chunks'` jobs. `ctx.emitBytes(
 * bytes, start, end, n)` adds `n` to the number kept for the key `bytes[start, end)`, found by
 * hashing the bytes into an open-addressing table, without making a string or an object per
 * call. When the table holds too many keys or key bytes for its share of memory, and when the
 * task's input ends, it is emptied: spilled straight from its bytes (`sorted`, used by
 * MapBuffer.spillTable) when every key is well-formed UTF-8 and the partition is a function of
 * the key's bytes (then a key's bytes are what a run holds for it, byte order is key order, and
 * no string is made per key); else drained, each distinct key once as (its UTF-8 text, its sum),
 * into the map buffer (or the part file of a map-only job), and the run files are written from
 * there as for any pair. Either way the reduce side, the key order and the file formats are those
 * of every job.
 *
 * Layout: one slot per key, 32 bytes, in one ArrayBuffer seen as int32s (`#t`, 8 per slot) and
 * float64s (`#f`): hash, length + 1 (0: a free slot), the key's arena offset, its first 12 bytes
 * (three little-endian int32s, zero-padded) and its sum. So a lookup of a key of up to 12 bytes
 * (most words) reads one slot, half a cache line, and touches neither the arena nor another
 * array; the arena holds every key's bytes, for longer keys' comparisons and for the spill.
 * Rejected: slots of (hash, entry) with keys and sums in arrays by entry (what this was, and what
 * bench/mapreduce/wc-bytes.mjs and Go's wc_bytes.go do): four cache misses per lookup of a key
 * in a table of a million, which a 64 MiB split of the bench's corpus fills.
 *
 * Invariants:
 * - The slots are a power-of-two open-addressing table (linear probing), at most LOAD full.
 *   Keys are never removed, only all at once (`clear`).
 * - Keys are drained as their UTF-8 text (invalid sequences become U+FFFD, as `checkKey` makes
 *   any key well-formed), so two byte keys with the same text reach the buffer as one key.
 * - `#wide` counts the keys with a byte from 0x80 up; while it is 0 every key is ASCII, so its
 *   bytes are the UTF-8 of its text.
 * - `bytes` is the heap the table's arrays take, at their capacity.
 */

import { isUtf8 } from 'node:buffer'
import { release, ThreadSpare, withRoom } from './memory.js'
import { FNV_OFFSET as OFFSET, FNV_PRIME as PRIME, type BytePartitioner } from './partition.js'

/** Slots of a new table (a power of two). */
const MIN_SLOTS = 4096
/** int32s per slot: hash, length + 1, arena offset, key bytes 0-3, the sum (a float64: int32s 4-5), key bytes 4-7 and 8-11. */
const STRIDE = 8
const HASH = 0
const LEN = 1
const OFF = 2
const W0 = 3
const W1 = 6
const W2 = 7
/** Key bytes kept in the slot. */
const INLINE = 12
/** Bytes per slot. */
const SLOT_BYTES = STRIDE * 4
/**
 * The most keys per slot before the table doubles. High for linear probing, where misses get
 * long: but a word's lookup is mostly a hit, its probes are adjacent 32-byte slots, and a table
 * half the size misses the cache less. Against 0.5, a 64 MiB split of the bench's corpus (854k
 * keys: a million slots, not two) mapped in 2.4 s instead of 2.7, a 4 MiB one in 118 ms instead
 * of 140, 3M distinct keys in 4.2 s instead of 5.1 (medians, alternated in one process).
 */
const LOAD = 0.85
/** The default partitioner's FNV-1a constants (partition.ts), as this module's own (see spill.ts's). */
const FNV_OFFSET = OFFSET
const FNV_PRIME = PRIME

export class ByteTable {
  #t: Int32Array<ArrayBuffer> = new Int32Array(STRIDE * MIN_SLOTS)
  /** `#t`'s buffer as float64s: slot s's sum at 4s + 2. */
  #f = new Float64Array(this.#t.buffer)
  #mask = MIN_SLOTS - 1
  #arena = Buffer.allocUnsafeSlow(1 << 16)
  #used = 0
  #count = 0
  #wide = 0
  /** The entries `sorted` gathered, by the numbers its lists hold: (arena offset, length) pairs and sums. */
  #gKeys: Int32Array<ArrayBuffer> = new Int32Array(0)
  #gSum: Float64Array<ArrayBuffer> = new Float64Array(0)
  #released = false
  /** emitBytes calls since the table was made (map output records). */
  adds = 0
  /** `full` from this many keys or arena bytes on: the table's arrays then stay as they are. */
  readonly #maxCount: number
  readonly #maxArena: number

  /**
   * `limit`: about the most bytes the table's arrays take. Three quarters go to slots (the
   * largest power of two of them, 32 bytes each, that fits; at most LOAD full), an eighth to key
   * bytes (the arena doubles, so it may reach twice that).
   */
  constructor(limit: number) {
    let slots = MIN_SLOTS
    while (slots * 2 * SLOT_BYTES <= limit * 0.75) slots *= 2
    this.#maxCount = Math.floor(slots * LOAD)
    this.#maxArena = Math.max(1 << 16, Math.floor(limit / 8))
    const a = spare.take((b) => b.t.length <= STRIDE * slots)
    if (a !== undefined) {
      this.#t = a.t
      this.#f = new Float64Array(a.t.buffer)
      this.#mask = a.t.length / STRIDE - 1
      this.#arena = a.arena
      this.#gKeys = a.gKeys
      this.#gSum = a.gSum
    }
  }

  get bytes(): number {
    return this.#t.length * 4 + this.#arena.length + this.#gKeys.length * 4 + this.#gSum.length * 8
  }

  /** True when the table should be emptied (spilled or drained) before it grows past its limit. */
  get full(): boolean {
    return this.#count >= this.#maxCount || this.#used >= this.#maxArena
  }

  get size(): number {
    return this.#count
  }

  /** Adds `n` to the key `bytes[start, end)` (precondition: 0 <= start <= end <= bytes.length, n a number). */
  add(bytes: Uint8Array, start: number, end: number, n: number): void {
    this.adds++
    const len = end - start
    let h = FNV_OFFSET
    let w0 = 0
    let w1 = 0
    let w2 = 0
    const head = len < INLINE ? len : INLINE
    for (let i = 0; i < head; i++) {
      const b = bytes[start + i]!
      h = Math.imul(h ^ b, FNV_PRIME)
      if (i < 4) w0 |= b << (8 * i)
      else if (i < 8) w1 |= b << (8 * (i - 4))
      else w2 |= b << (8 * (i - 8))
    }
    for (let i = start + head; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME)
    const t = this.#t
    const mask = this.#mask
    let s = h & mask
    for (;;) {
      const b = s * STRIDE
      const l1 = t[b + LEN]!
      if (l1 === 0) break
      if (l1 === len + 1 && t[b + HASH] === h && t[b + W0] === w0 && t[b + W1] === w1 && t[b + W2] === w2 &&
        (len <= INLINE || this.#same(t[b + OFF]! + INLINE, bytes, start + INLINE, len - INLINE))) {
        this.#f[(b >> 1) + 2]! += n
        return
      }
      s = (s + 1) & mask
    }
    this.#insert(s * STRIDE, h, w0, w1, w2, bytes, start, len, n)
  }

  #same(off: number, bytes: Uint8Array, start: number, len: number): boolean {
    const a = this.#arena
    for (let i = 0; i < len; i++) if (a[off + i] !== bytes[start + i]) return false
    return true
  }

  #insert(b: number, h: number, w0: number, w1: number, w2: number, bytes: Uint8Array, start: number, len: number, n: number): void {
    const a = (this.#arena = withRoom(this.#arena, this.#used, len))
    const at = this.#used
    let or = 0
    for (let i = 0; i < len; i++) or |= a[at + i] = bytes[start + i]!
    if (or >= 0x80) this.#wide++
    this.#used = at + len
    const t = this.#t
    t[b + HASH] = h
    t[b + LEN] = len + 1
    t[b + OFF] = at
    t[b + W0] = w0
    t[b + W1] = w1
    t[b + W2] = w2
    this.#f[(b >> 1) + 2] = n
    if (++this.#count > (this.#mask + 1) * LOAD) this.#rehash()
  }

  #rehash(): void {
    const old = this.#t
    const t = new Int32Array(old.length * 2)
    const mask = t.length / STRIDE - 1
    for (let b = 0; b < old.length; b += STRIDE) {
      if (old[b + LEN] === 0) continue
      let c = (old[b + HASH]! & mask) * STRIDE
      while (t[c + LEN] !== 0) c = (c + STRIDE) & (t.length - 1)
      for (let i = 0; i < STRIDE; i++) t[c + i] = old[b + i]!
    }
    release(old)
    this.#t = t
    this.#f = new Float64Array(t.buffer)
    this.#mask = mask
  }

  /** Calls `f` with each key's arena range and sum, in slot order, until it returns false. */
  #keysWhile(f: (off: number, end: number, sum: number) => boolean): void {
    const t = this.#t
    for (let b = 0; b < t.length; b += STRIDE) {
      if (t[b + LEN] === 0) continue
      const off = t[b + OFF]!
      if (!f(off, off + t[b + LEN]! - 1, this.#f[(b >> 1) + 2]!)) return
    }
  }

  /** Hands every key to `out` as (its text, its sum) and empties the table. */
  drain(out: (key: string, sum: number) => void): void {
    const a = this.#arena
    this.#keysWhile((off, end, sum) => {
      // latin1 is exact (and quicker) for ASCII; anything else decodes as UTF-8, invalid sequences to U+FFFD.
      out(a.toString(isAscii(a, off, end) ? 'latin1' : 'utf8', off, end), sum)
      return true
    })
    this.clear()
  }

  /** True when every key is well-formed UTF-8 (strict: no overlong forms, no surrogates): its bytes are its text's. */
  wellFormed(): boolean {
    if (this.#wide === 0) return true
    const a = this.#arena
    let ok = true
    this.#keysWhile((off, end) => (ok = isAscii(a, off, end) || isUtf8(a.subarray(off, end))))
    return ok
  }

  /**
   * The keys of each of `reducers` partitions (`partition` of each key's hash and bytes), each
   * list sorted by key bytes: read each with `arena`, `keyStart`, `keyLength` and `sum` until
   * `clear`. Precondition: `wellFormed()`, or byte order is not the order of the keys' text.
   */
  sorted(reducers: number, partition: BytePartitioner): Int32Array[] {
    const n = this.#count
    if (this.#gSum.length < n) {
      release(this.#gKeys, this.#gSum)
      this.#gKeys = new Int32Array(2 * n)
      this.#gSum = new Float64Array(n)
    }
    const keys = this.#gKeys
    const sum = this.#gSum
    const part = new Int32Array(n)
    const sizes = new Int32Array(reducers)
    const t = this.#t
    const f = this.#f
    const a = this.#arena
    let e = 0
    for (let b = 0; b < t.length; b += STRIDE) {
      const l1 = t[b + LEN]!
      if (l1 === 0) continue
      const off = t[b + OFF]!
      keys[2 * e] = off
      keys[2 * e + 1] = l1 - 1
      sum[e] = f[(b >> 1) + 2]!
      const p = partition(t[b + HASH]!, a, off, l1 - 1)
      part[e++] = p
      sizes[p]!++
    }
    const lists = Array.from(sizes, (m) => new Int32Array(m))
    const fill = new Int32Array(reducers)
    for (let i = 0; i < n; i++) {
      const p = part[i]!
      lists[p]![fill[p]!++] = i
    }
    for (const ids of lists) sortByBytes(ids, a, keys)
    release(part)
    return lists
  }

  get arena(): Buffer {
    return this.#arena
  }

  keyStart(e: number): number {
    return this.#gKeys[2 * e]!
  }

  keyLength(e: number): number {
    return this.#gKeys[2 * e + 1]!
  }

  sum(e: number): number {
    return this.#gSum[e]!
  }

  /**
   * The task is done with the table: its arrays become this thread's spare, for the next task's
   * table (as the map buffer's do, spill.ts), or, when there is one already, their memory is
   * given back at once (memory.ts). Nothing may be added after; a second call does nothing.
   */
  release(): void {
    if (this.#released) return
    this.#released = true
    spare.give({ t: this.#t, arena: this.#arena, gKeys: this.#gKeys, gSum: this.#gSum }, (a) => a.t.fill(0))
  }

  /** Empties the table, keeping its arrays: a table that filled once fills again at the same size, without regrowing. */
  clear(): void {
    this.#count = 0
    this.#used = 0
    this.#wide = 0
    this.#t.fill(0)
  }
}

/** A table's arrays, as ByteTable.release passes them to the thread's next table. */
interface TableArrays {
  readonly t: Int32Array<ArrayBuffer>
  readonly arena: Buffer<ArrayBuffer>
  readonly gKeys: Int32Array<ArrayBuffer>
  readonly gSum: Float64Array<ArrayBuffer>
}

/** The arrays of the last table released on this thread, for the next one (memory.ts). */
const spare = new ThreadSpare<TableArrays>((a) => release(a.t, a.arena, a.gKeys, a.gSum))

/** Gives this thread's spare table arrays back (memory.ts), if it has any. */
export function releaseSpareTable(): void {
  spare.drop()
}

/** Below this many, `sortByBytes` sorts with a comparator alone. */
const PACK_MIN = 64
/** Above this many, a counting sort on two bytes first (radixRange). */
const RADIX_MIN = 1 << 14
/** Up to this many, an insertion sort. */
const INSERTION_MAX = 12
/** A float64's integer bits: an id's position and its key's next bytes share them. */
const FLOAT_BITS = 53

/**
 * Sorts the entries `ids` in place by their key bytes (`arena[keys[2e], keys[2e] + keys[2e + 1])`,
 * unsigned, a key before its extensions), given that their first `depth` bytes are equal (a
 * missing byte counting as 0): the byte table's keys, and the map buffer's (spill.ts). The next
 * few bytes of each key (a missing byte counts as 0) become a prefix, packed with the id's
 * position into one float64 (prefix * 2^posBits + position), a Float64Array sorts those natively,
 * and each run of equal prefixes is sorted the same way from the bytes after them, down to runs
 * too short to be worth packing, which a comparator sorts. 4 bytes at a time up to 2^21 ids, so
 * the Zipf tail's many keys that share their first bytes cost a few native sorts, not a
 * comparator call each.
 */
export function sortByBytes(ids: Int32Array, arena: Uint8Array, keys: Int32Array, depth = 0): void {
  sortRange(ids, 0, ids.length, arena, keys, depth)
}

/** sortByBytes on ids[lo, hi). */
function sortRange(ids: Int32Array, lo: number, hi: number, arena: Uint8Array, keys: Int32Array, depth: number): void {
  const n = hi - lo
  const posBits = Math.max(1, Math.ceil(Math.log2(n)))
  const width = Math.floor((FLOAT_BITS - posBits) / 8)
  if (n <= INSERTION_MAX) {
    insertionSort(ids, lo, hi, arena, keys, depth)
    return
  }
  if (n < PACK_MIN || width < 2) {
    ids.subarray(lo, hi).sort((x, y) => compareFrom(arena, keys, x, y, depth))
    return
  }
  if (n > RADIX_MIN) {
    radixRange(ids, lo, hi, arena, keys, depth)
    return
  }
  const POS = 2 ** posBits
  const packed = new Float64Array(n)
  let longer = false
  for (let i = 0; i < n; i++) {
    const e = ids[lo + i]!
    const off = keys[2 * e]! + depth
    const len = keys[2 * e + 1]! - depth
    if (len > width) longer = true
    let p = 0
    for (let j = 0; j < width; j++) p = p * 256 + (j < len ? arena[off + j]! : 0)
    packed[i] = p * POS + i
  }
  const { order, ties } = unpackSorted(packed, POS)
  const out = ids.slice(lo, hi)
  for (let j = 0; j < n; j++) ids[lo + j] = out[order[j]!]!
  release(packed, out, order)
  // Equal prefixes: keys equal in their first depth + width bytes, padded. Only lengths or later
  // bytes can tell them apart, and only if some key goes on past the prefix.
  for (let t = 0; t < ties.length; t += 2) {
    const a = lo + ties[t]!
    const b = lo + ties[t + 1]!
    if (longer) sortRange(ids, a, b, arena, keys, depth + width)
    else ids.subarray(a, b).sort((x, y) => keys[2 * x + 1]! - keys[2 * y + 1]!)
  }
}

/**
 * sortRange for many ids: a counting sort on the two bytes at `depth` (a missing byte counts as
 * 0), then each bucket by sortRange from depth + 2. Buckets of a few thousand keys then pack 5
 * more bytes into their floats instead of the 4 a million keys leave room for, so fewer keys tie.
 */
function radixRange(ids: Int32Array, lo: number, hi: number, arena: Uint8Array, keys: Int32Array, depth: number): void {
  const n = hi - lo
  const digits = new Uint16Array(n)
  const start = new Int32Array(65537)
  for (let i = 0; i < n; i++) {
    const e = ids[lo + i]!
    const off = keys[2 * e]! + depth
    const len = keys[2 * e + 1]! - depth
    const d = (len > 0 ? arena[off]! << 8 : 0) | (len > 1 ? arena[off + 1]! : 0)
    digits[i] = d
    start[d + 1]!++
  }
  for (let d = 0; d < 65536; d++) start[d + 1]! += start[d]!
  const next = start.slice(0, 65536)
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[next[digits[i]!]!++] = ids[lo + i]!
  ids.set(out, lo)
  release(digits, next, out)
  for (let d = 0; d < 65536; d++) {
    const a = start[d]!
    const b = start[d + 1]!
    if (b - a > 1) sortRange(ids, lo + a, lo + b, arena, keys, depth + 2)
  }
}

/** Sorts the few ids[lo, hi) by compareFrom, in place (no comparator closure, no subarray). */
function insertionSort(ids: Int32Array, lo: number, hi: number, arena: Uint8Array, keys: Int32Array, depth: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = ids[i]!
    let j = i - 1
    while (j >= lo && compareFrom(arena, keys, ids[j]!, x, depth) > 0) {
      ids[j + 1] = ids[j]!
      j--
    }
    ids[j + 1] = x
  }
}

/** Compares entries x and y by key bytes from `depth` on (those before are equal, padded with 0s), then by length. */
function compareFrom(arena: Uint8Array, keys: Int32Array, x: number, y: number, depth: number): number {
  const xo = keys[2 * x]!
  const xn = keys[2 * x + 1]!
  const yo = keys[2 * y]!
  const yn = keys[2 * y + 1]!
  const m = xn < yn ? xn : yn
  for (let i = depth; i < m; i++) {
    const d = arena[xo + i]! - arena[yo + i]!
    if (d !== 0) return d
  }
  return xn - yn
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false
  return true
}

/**
 * Sorts `packed` (each prefix * POS + position, POS a power of two, position < POS) and returns
 * the positions in that order, and the runs of two or more equal prefixes as [start, end) pairs
 * of indexes into it.
 */
function unpackSorted(packed: Float64Array, POS: number): { order: Int32Array; ties: number[] } {
  packed.sort()
  const n = packed.length
  const order = new Int32Array(n)
  const ties: number[] = []
  let runStart = 0
  let runPrefix = -1
  for (let j = 0; j < n; j++) {
    const x = packed[j]!
    // x / POS is exact (POS a power of two), and floor and a multiply are much cheaper than a float %.
    const prefix = Math.floor(x / POS)
    order[j] = x - prefix * POS
    if (prefix !== runPrefix) {
      if (j - runStart > 1) ties.push(runStart, j)
      runStart = j
      runPrefix = prefix
    }
  }
  if (n - runStart > 1) ties.push(runStart, n)
  return { order, ties }
}
