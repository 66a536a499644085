// The CPU work every peer runs, in plain JavaScript so piscina's and poolifier's workers can load
// it without a TypeScript loader. gort's tasks (tasks.ts) call the same functions.
import { readFile } from 'node:fs/promises'

/** About `iters` rounds of integer mixing; returns a value so nothing is optimised away. */
export function spin(iters) {
  let x = iters | 0
  for (let i = 0; i < iters; i++) x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) | 0
  return x
}

// Written by timedSpin, so the loop's value is used and the loop cannot be dropped.
let sink = 0

/**
 * spin(iters) timed where it runs: returns its own duration in ms. Each thread compiles `spin`
 * on its own, and the compiled loop's speed differed by up to 3.4x between threads here, so
 * (b)'s ideal is also taken from the work each peer's threads measured themselves.
 */
export function timedSpin(iters) {
  const t0 = performance.now()
  sink ^= spin(iters)
  return performance.now() - t0
}

export function serialFib(n) {
  return n < 2 ? n : serialFib(n - 1) + serialFib(n - 2)
}

export function add(a, b) {
  return a + b
}

const smallFile = new URL('./work.d.mts', import.meta.url)

/**
 * (g)'s task: waits for I/O, reading a small file (`how` 1) or a 1 ms timer (`how` 0), then
 * runs timedSpin(iters). Returns the compute's duration in ms, measured where it ran.
 */
export async function ioThenSpin(iters, how) {
  if (how === 1) await readFile(smallFile)
  else await new Promise((resolve) => setTimeout(resolve, 1))
  return timedSpin(iters)
}

/** How long (µs) after `spawnedAt` (wall-clock ms: timeOrigin + now, comparable across threads) this call started. */
export function startedAfter(spawnedAt) {
  return (performance.timeOrigin + performance.now() - spawnedAt) * 1000
}
