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
 * - `slots` is a power-of-two open-addressing table (linear probing) of (FNV-1a hash, entry
 *   index + 1) pairs, index 0 for free, at most half full; entry e's key bytes lie in
 *   `arena[keys[2e], keys[2e] + keys[2e + 1])`, its sum in `sum[e]`. Entries are never removed,
 *   only all at once (`drain`).
 * - Keys are drained as their UTF-8 text (invalid sequences become U+FFFD, as `checkKey` makes
 *   any key well-formed), so two byte keys with the same text reach the buffer as one key.
 * - `bytes` estimates the table's heap: slot and entry arrays at their capacity plus the arena.
 */

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

export class ByteTable {
  /** Pairs (hash, entry + 1) per slot: one cache line answers most probes. */
  #slots = new Int32Array(2 << 12)
  #mask = (1 << 12) - 1
  /** Pairs (arena offset, length) per entry. */
  #keys = new Int32Array(2 << 11)
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
    return this.#slots.length * 4 + this.#keys.length * 4 + this.#sum.length * 8 + this.#arena.length
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
      const id = slots[2 * s + 1]!
      if (id === 0) break
      if (slots[2 * s] === h) {
        const e = id - 1
        const keys = this.#keys
        if (keys[2 * e + 1] === len && this.#same(keys[2 * e]!, bytes, start, len)) {
          this.#sum[e]! += n
          return
        }
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
    if (e === this.#sum.length) {
      const keys = new Int32Array(this.#keys.length * 2)
      keys.set(this.#keys)
      this.#keys = keys
      const sum = new Float64Array(this.#sum.length * 2)
      sum.set(this.#sum)
      this.#sum = sum
    }
    if (this.#used + len > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#used + len))
      this.#arena.copy(bigger, 0, 0, this.#used)
      this.#arena = bigger
    }
    for (let i = 0; i < len; i++) this.#arena[this.#used + i] = bytes[start + i]!
    this.#keys[2 * e] = this.#used
    this.#keys[2 * e + 1] = len
    this.#sum[e] = n
    this.#used += len
    this.#slots[2 * slot] = h
    this.#slots[2 * slot + 1] = e + 1
    if (this.#count * 2 > this.#mask + 1) this.#rehash()
  }

  #rehash(): void {
    const old = this.#slots
    const slots = new Int32Array(old.length * 2)
    const mask = (slots.length >> 1) - 1
    for (let s = 0; s < old.length; s += 2) {
      const id = old[s + 1]!
      if (id === 0) continue
      const h = old[s]!
      let t = h & mask
      while (slots[2 * t + 1] !== 0) t = (t + 1) & mask
      slots[2 * t] = h
      slots[2 * t + 1] = id
    }
    this.#slots = slots
    this.#mask = mask
  }

  /** Hands every entry to `out` as (text of its key, sum), in insertion order, and empties the table (keeping its arrays unless it is full). */
  drain(out: (key: string, sum: number) => void): void {
    const a = this.#arena
    for (let e = 0; e < this.#count; e++) {
      const off = this.#keys[2 * e]!
      const end = off + this.#keys[2 * e + 1]!
      // latin1 is exact (and quicker) for ASCII; anything else decodes as UTF-8, invalid sequences to U+FFFD.
      out(a.toString(isAscii(a, off, end) ? 'latin1' : 'utf8', off, end), this.#sum[e]!)
    }
    this.#count = 0
    this.#used = 0
    if (this.full) {
      // Grown to its limit: start small again, or every later chunk would drain a full table.
      this.#slots = new Int32Array(2 << 12)
      this.#mask = (1 << 12) - 1
      this.#keys = new Int32Array(2 << 11)
      this.#sum = new Float64Array(1 << 11)
      this.#arena = Buffer.allocUnsafe(1 << 16)
    } else {
      this.#slots.fill(0)
    }
  }
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false
  return true
}
