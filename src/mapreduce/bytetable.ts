/**
 * The byte table: the map side's summing combiner for `records: 'chunks'` jobs. `ctx.emitBytes(
 * bytes, start, end, n)` adds `n` to the number kept for the key `bytes[start, end)`, found by
 * hashing the bytes into an open-addressing table, without making a string or an object per
 * call. When the table holds too many keys or key bytes for its share of memory, and when the
 * task's input ends, it is drained: each distinct key once, as (its UTF-8 text, its sum), into
 * the map buffer (or the part file of a map-only job), and the run files are written from there
 * as for any pair. So the reduce side, the key order and the file formats are those of every job.
 *
 * Invariants:
 * - `slots` is a power-of-two open-addressing table (linear probing) of entry index + 1, 0 for
 *   free, at most half full; an entry's key bytes lie in `arena[off, off + len)`, its FNV-1a
 *   hash in `hash`, its sum in `sum`. Entries are never removed, only all at once (`drain`).
 * - Keys are drained as their UTF-8 text (invalid sequences become U+FFFD, as `checkKey` makes
 *   any key well-formed), so two byte keys with the same text reach the buffer as one key.
 * - `bytes` estimates the table's heap: slot and entry arrays at their capacity plus the arena.
 */

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
/** Bytes per entry: index slots (two per entry at most half full), off, len, hash, sum. */
const ENTRY_BYTES = 2 * 4 + 4 + 4 + 4 + 8

export class ByteTable {
  #slots = new Int32Array(1 << 12)
  #mask = (1 << 12) - 1
  #off = new Int32Array(1 << 11)
  #len = new Int32Array(1 << 11)
  #hash = new Int32Array(1 << 11)
  #sum = new Float64Array(1 << 11)
  #arena = Buffer.allocUnsafe(1 << 16)
  #used = 0
  #count = 0
  /** emitBytes calls since the table was made (map output records). */
  adds = 0
  readonly #limit: number

  /** `limit`: the estimate of bytes at which `full` turns true. */
  constructor(limit: number) {
    this.#limit = limit
  }

  get bytes(): number {
    return this.#slots.length * 4 + this.#off.length * (ENTRY_BYTES - 8) + this.#arena.length
  }

  get full(): boolean {
    return this.bytes >= this.#limit
  }

  get size(): number {
    return this.#count
  }

  /** Adds `n` to the key `bytes[start, end)` (precondition: 0 <= start <= end <= bytes.length, n a number). */
  add(bytes: Uint8Array, start: number, end: number, n: number): void {
    this.adds++
    let h = FNV_OFFSET
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME)
    const len = end - start
    const slots = this.#slots
    const mask = this.#mask
    let s = h & mask
    for (;;) {
      const id = slots[s]!
      if (id === 0) break
      const e = id - 1
      if (this.#hash[e] === h && this.#len[e] === len && this.#same(this.#off[e]!, bytes, start, len)) {
        this.#sum[e]! += n
        return
      }
      s = (s + 1) & mask
    }
    this.#insert(s, h, bytes, start, len, n)
  }

  #same(off: number, bytes: Uint8Array, start: number, len: number): boolean {
    const a = this.#arena
    for (let i = 0; i < len; i++) if (a[off + i] !== bytes[start + i]) return false
    return true
  }

  #insert(slot: number, h: number, bytes: Uint8Array, start: number, len: number, n: number): void {
    const e = this.#count++
    if (e === this.#off.length) this.#growEntries()
    if (this.#used + len > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#used + len))
      this.#arena.copy(bigger, 0, 0, this.#used)
      this.#arena = bigger
    }
    for (let i = 0; i < len; i++) this.#arena[this.#used + i] = bytes[start + i]!
    this.#off[e] = this.#used
    this.#len[e] = len
    this.#hash[e] = h
    this.#sum[e] = n
    this.#used += len
    this.#slots[slot] = e + 1
    if (this.#count * 2 > this.#slots.length) this.#rehash()
  }

  #growEntries(): void {
    const cap = this.#off.length * 2
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap)
      b.set(a)
      return b
    }
    this.#off = grow(this.#off, (n) => new Int32Array(n))
    this.#len = grow(this.#len, (n) => new Int32Array(n))
    this.#hash = grow(this.#hash, (n) => new Int32Array(n))
    this.#sum = grow(this.#sum, (n) => new Float64Array(n))
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2)
    const mask = slots.length - 1
    for (let e = 0; e < this.#count; e++) {
      let s = this.#hash[e]! & mask
      while (slots[s] !== 0) s = (s + 1) & mask
      slots[s] = e + 1
    }
    this.#slots = slots
    this.#mask = mask
  }

  /** Hands every entry to `out` as (text of its key, sum), in insertion order, and empties the table (keeping its arrays). */
  drain(out: (key: string, sum: number) => void): void {
    const a = this.#arena
    for (let e = 0; e < this.#count; e++) {
      const off = this.#off[e]!
      const end = off + this.#len[e]!
      // latin1 is exact (and quicker) for ASCII; anything else decodes as UTF-8, invalid sequences to U+FFFD.
      out(a.toString(isAscii(a, off, end) ? 'latin1' : 'utf8', off, end), this.#sum[e]!)
    }
    this.#slots.fill(0)
    this.#count = 0
    this.#used = 0
  }
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false
  return true
}
