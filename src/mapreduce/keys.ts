/**
 * Keys: their text, their order, and their check at `emit`.
 *
 * Order (the order of keys within a partition, hence in each part file): by the UTF-8 bytes of
 * the key's text, unsigned (`LC_ALL=C sort`, Hadoop's Text order); a number key's text is
 * String(n). A number and a string with the same text are different keys; the number sorts first.
 *
 * Invariant: `compareKeys` on keys (in memory, on the map side) and Buffer.compare on their
 * encoded bytes plus the type bit (in spill files, on the reduce side) give the same order. UTF-8
 * byte order is code point order; JavaScript's `<` on strings is UTF-16 code unit order, which
 * differs only between a surrogate (U+D800-DFFF) and a unit from U+E000 up, so `compareText`
 * fixes exactly that case. Keys are made well-formed at emit (a lone surrogate becomes U+FFFD, as
 * the UTF-8 encoder would make it anyway), so no key changes between memory and disk.
 */

import type { Scalar } from './job.js'
import { EmitTypeError } from './errors.js'

/** The text of a key or value in files: strings as they are, numbers as String(n). */
export function textOf(v: Scalar): string {
  return typeof v === 'string' ? v : String(v)
}

/** Code point (= UTF-8 byte) order of two strings. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  if (i === n) return a.length - b.length
  let x = a.charCodeAt(i)
  let y = b.charCodeAt(i)
  if (x >= 0xd800 && y >= 0xd800) {
    // Surrogates (astral code points) come after every BMP unit from U+E000 up.
    x = x >= 0xe000 ? x - 0x800 : x + 0x2000
    y = y >= 0xe000 ? y - 0x800 : y + 0x2000
  }
  return x - y
}

/** The order of keys: by text's bytes, then numbers before strings. */
export function compareKeys(a: Scalar, b: Scalar): number {
  const c = compareText(textOf(a), textOf(b))
  if (c !== 0) return c
  return (typeof a === 'number' ? 0 : 1) - (typeof b === 'number' ? 0 : 1)
}

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string }

/** The key as it will be stored, or EmitTypeError: a string made well-formed, or a number. */
export function checkKey(k: unknown): Scalar {
  if (typeof k === 'string') return (k as unknown as WellFormed).isWellFormed() ? k : (k as unknown as WellFormed).toWellFormed()
  if (typeof k === 'number') return k
  throw new EmitTypeError('key', k)
}

/** The value as it will be stored, or EmitTypeError. */
export function checkValue(v: unknown): Scalar {
  if (typeof v === 'string' || typeof v === 'number') return v
  throw new EmitTypeError('value', v)
}

/** Below this many, `sortPlain` sorts with a comparator alone. */
const PACK_MIN = 4096
/** A float64's integer bits: an id's position and its key's prefix share them. */
const FLOAT_BITS = 53
/** Bits per unit of a packed prefix: ASCII fits, anything from 127 up saturates. */
const UNIT_BITS = 7
const UNIT_MAX = 2 ** UNIT_BITS - 1

/**
 * Sorts `ids` in place by `keys[id]` in JS string order, for string keys without a UTF-16 unit
 * from U+D800 up (where that order is code point order). Each key's first few units become a
 * prefix number, packed with the id's position into one float64 (prefix * 2^posBits + position),
 * and a Float64Array sorts those natively; only runs of equal prefixes are then compared as
 * strings. So a big spill's sort seldom touches a key, which matters when keys are spread over
 * the heap. The position takes just the bits n needs and the prefix the rest, 7 bits a unit: 5
 * units below 2^18 ids, 4 up to 2^25.
 *
 * The prefix is a monotone function of the order (k1 < k2 implies prefix(k1) <= prefix(k2)):
 * each unit is capped at 127, once a unit reaches 127 the following ones count as 127 too
 * (whatever they are, so keys that differ only after it tie), and a missing unit counts as 0
 * (a key sorts before its extensions, or ties with one that continues with U+0000). Ties go to
 * the comparator, so the result is the comparator's order.
 */
export function sortPlain(ids: number[], keys: readonly string[]): void {
  const cmp = (a: number, b: number): number => {
    const x = keys[a]!
    const y = keys[b]!
    return x < y ? -1 : x > y ? 1 : 0
  }
  const n = ids.length
  const posBits = Math.max(1, Math.ceil(Math.log2(n)))
  const units = Math.floor((FLOAT_BITS - posBits) / UNIT_BITS)
  if (n < PACK_MIN || units < 2) {
    ids.sort(cmp)
    return
  }
  const POS = 2 ** posBits
  const packed = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const k = keys[ids[i]!]!
    let p = 0
    let sat = false
    for (let j = 0; j < units; j++) {
      let c = j < k.length ? k.charCodeAt(j) : 0
      if (sat || c >= UNIT_MAX) {
        c = UNIT_MAX
        sat = true
      }
      p = p * (UNIT_MAX + 1) + c
    }
    packed[i] = p * POS + i
  }
  const { order, ties } = unpackSorted(packed, POS)
  const out = ids.slice()
  for (let j = 0; j < n; j++) ids[j] = out[order[j]!]!
  for (let t = 0; t < ties.length; t += 2) {
    const run = ids.slice(ties[t], ties[t + 1]).sort(cmp)
    for (let r = 0; r < run.length; r++) ids[ties[t]! + r] = run[r]!
  }
}

/**
 * Sorts `packed` (each prefix * POS + position, POS a power of two, position < POS) and returns
 * the positions in that order, and the runs of two or more equal prefixes as [start, end) pairs
 * of indexes into it: what sortPlain and bytetable.ts's sortByBytes do with a packed sort.
 */
export function unpackSorted(packed: Float64Array, POS: number): { order: Int32Array; ties: number[] } {
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
