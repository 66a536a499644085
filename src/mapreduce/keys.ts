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
