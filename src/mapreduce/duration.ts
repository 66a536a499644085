/**
 * Durations as people write them: `10m`, `90s`, `1.5h`, `250ms`, `1h30m`, or a number of
 * milliseconds. Units: ms, s, m, h (Go's time.ParseDuration less its ns/us/µs). Anything else
 * (`soon`, `-1s`, `10 parsecs`) is a MapReduceArgError that echoes the text.
 */

import { MapReduceArgError } from './errors.js'

const UNITS: ReadonlyMap<string, number> = new Map([['ms', 1], ['s', 1e3], ['m', 60e3], ['h', 3600e3]])

/** The longest duration: what a timer can wait (2^31 - 1 ms, about 24.8 days); Node fires a longer one at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1

/** The milliseconds `text` stands for, whole, at least `min` and at most MAX_DURATION_MS; throws MapReduceArgError naming `option` otherwise. */
export function parseDuration(option: string, text: string | number, min = 1): number {
  const want = `a duration such as 10m, 90s, 1h30m or 500ms, at most 596h (a timer's limit) and at least ${formatDuration(min)}`
  let ms: number
  if (typeof text === 'number') {
    ms = text
  } else {
    const s = text.trim().toLowerCase()
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
    ms = 0
    let matched = 0
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      ms += Number(m[1]) * UNITS.get(m[2]!)!
      matched = re.lastIndex
    }
    if (s === '' || matched !== s.length) {
      if (!/^\d+$/.test(s)) throw new MapReduceArgError(option, text, want)
      ms = Number(s)
    }
    ms = Math.floor(ms)
  }
  if (!Number.isSafeInteger(ms) || ms < min || ms > MAX_DURATION_MS) throw new MapReduceArgError(option, text, want)
  return ms
}

/** `ms` as the largest units that keep it exact: 10m, 1h30m, 1.5s, 250ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms % 1000 !== 0 || ms < 60e3) return `${Math.round(ms / 10) / 100}s`
  let rest = ms / 1000
  let out = ''
  const h = Math.floor(rest / 3600)
  if (h > 0) out += `${h}h`
  rest -= h * 3600
  const m = Math.floor(rest / 60)
  if (m > 0) out += `${m}m`
  rest -= m * 60
  if (rest > 0) out += `${rest}s`
  return out
}
