/**
 * Byte sizes as people write them: `64MiB`, `256M`, `1.5GiB`, `100MB`, `4096`. Binary units
 * (KiB, MiB, GiB, TiB, and the bare K, M, G, T as sort(1) reads them) are powers of 1024; KB, MB,
 * GB, TB are powers of 1000; B or no unit is bytes. Case does not matter. Anything else
 * (`12parsecs`, `-1M`, `1e9`) is an error that echoes the text.
 */

import { MapReduceArgError } from './errors.js'

const UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1], ['b', 1],
  ['k', 2 ** 10], ['kib', 2 ** 10], ['kb', 1e3],
  ['m', 2 ** 20], ['mib', 2 ** 20], ['mb', 1e6],
  ['g', 2 ** 30], ['gib', 2 ** 30], ['gb', 1e9],
  ['t', 2 ** 40], ['tib', 2 ** 40], ['tb', 1e12],
])

/** The bytes `text` stands for, whole, from `min` up; throws MapReduceArgError naming `option` otherwise. */
export function parseSize(option: string, text: string | number, min = 1): number {
  const want = `a size such as 64MiB, 512KiB or 1GiB, at least ${formatSize(min)}`
  let bytes: number
  if (typeof text === 'number') {
    bytes = text
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
    const unit = m === null ? undefined : UNITS.get((m[2] ?? '').toLowerCase())
    if (m === null || unit === undefined) throw new MapReduceArgError(option, text, want)
    // A fraction of a unit is bytes rounded down (1.5KiB); a fraction of a byte is a mistake.
    if (unit === 1 && m[1]!.includes('.')) throw new MapReduceArgError(option, text, want)
    bytes = Math.floor(Number(m[1]) * unit)
  }
  if (!Number.isSafeInteger(bytes) || bytes < min) throw new MapReduceArgError(option, text, want)
  return bytes
}

/** `bytes` in the largest binary unit that keeps it short: 64 MiB, 1.5 KiB, 100 B. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${Math.round(v * 100) / 100} ${units[u]}`
}
