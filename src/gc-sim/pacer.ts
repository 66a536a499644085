/**
 * The pacer's heap goal: how big the heap may grow before the next cycle starts.
 *
 * - Before Go 1.18: goal = live heap × (1 + GOGC/100).
 * - Go 1.18 and later: goal = live heap + (live heap + GC roots) × GOGC/100,
 *   where GC roots are goroutine stacks plus pointer-holding globals, because
 *   scanning those is work the next cycle must also pay for.
 *
 * The Go GC guide's worked example: 8 MiB live heap, 1 MiB of stacks, 1 MiB of
 * globals, GOGC=100 → 8 + (8 + 1 + 1) = 18 MiB (the old formula says 16 MiB).
 *
 * Invariants: sizes are bytes (any unit works if used consistently); GOGC=off
 * is `Infinity` (no goal, no GC); negative sizes or GOGC are rejected with a
 * RangeError that echoes the value.
 */

export interface PacerInput {
  readonly liveHeap: number
  readonly stacks: number
  readonly globals: number
  /** GOGC percent; `Infinity` for GOGC=off. */
  readonly gogc: number
}

export interface HeapGoals {
  readonly pre118: number
  readonly go118: number
}

export function heapGoals(input: PacerInput): HeapGoals {
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new RangeError(`pacer: ${key} must be a non-negative number, got ${String(value)}`)
  }
  if (input.gogc === Infinity) return { pre118: Infinity, go118: Infinity }
  const ratio = input.gogc / 100
  return {
    pre118: input.liveHeap * (1 + ratio),
    go118: input.liveHeap + (input.liveHeap + input.stacks + input.globals) * ratio,
  }
}

const UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 }

/** Parses `8MiB`, `512KiB`, `1.5GiB`, `1048576`. */
export function parseSize(text: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = match?.[2]?.toLowerCase() ?? ''
  const scale = unit === '' ? 1 : UNITS[unit]
  if (match === null || scale === undefined) throw new RangeError(`pacer: cannot parse size ${JSON.stringify(text)} (use e.g. 8MiB, 512KiB, 1GiB)`)
  return Number(match[1]) * scale
}

/** `GOGC=100` → 100, `off` → Infinity. */
export function parseGogc(text: string): number {
  if (text.trim().toLowerCase() === 'off') return Infinity
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`pacer: GOGC must be a non-negative number or "off", got ${JSON.stringify(text)}`)
  return value
}

export function formatSize(bytes: number): string {
  if (bytes === Infinity) return 'unbounded (GOGC=off)'
  const mib = bytes / 1024 ** 2
  return Number.isInteger(mib) ? `${mib} MiB` : `${mib.toFixed(2)} MiB`
}
