/**
 * 100-byte records as in the paper's sort benchmark and TeraSort's gensort (ASCII mode, `gensort -a`):
 * a 10-byte key of printable ASCII, two spaces, the record number as 32 hex digits, two spaces,
 * 52 bytes of filler, CR LF. Deterministic from a seed; `start` numbers the first record, so
 * files made from consecutive ranges never repeat a record.
 */

export const RECORD_BYTES = 100
export const KEY_BYTES = 10

const FILLER = '0123456789ABCDEF'

/** `count` records from record number `start`, keys drawn from a PRNG seeded with `seed` and `start`. */
export function records(seed: number, start: number, count: number): Buffer {
  const out = Buffer.alloc(count * RECORD_BYTES)
  let a = (seed ^ Math.imul(start, 0x9e3779b9)) >>> 0
  const next = (): number => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  for (let r = 0; r < count; r++) {
    const o = r * RECORD_BYTES
    // Printable ASCII 0x20-0x7e: 95 symbols, as gensort -a keys.
    for (let i = 0; i < KEY_BYTES; i++) out[o + i] = 0x20 + (next() % 95)
    out.write('  ', o + 10, 'latin1')
    out.write((start + r).toString(16).toUpperCase().padStart(32, '0'), o + 12, 'latin1')
    out.write('  ', o + 44, 'latin1')
    const f = FILLER[(start + r) % 16]!
    out.write(f.repeat(52), o + 46, 'latin1')
    out.write('\r\n', o + 98, 'latin1')
  }
  return out
}
