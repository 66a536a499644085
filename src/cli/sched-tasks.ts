/**
 * The tasks `gort sched` runs. A task module of its own: every M imports it (from dist/ when the
 * CLI runs, as plain JavaScript), so it holds nothing but the tasks and their serial helpers.
 */
import { go, goAll, task } from '../scheduler/index.js'

export function serialFib(n: number): number {
  return n < 2 ? n : serialFib(n - 1) + serialFib(n - 2)
}

/** The tiny task: two inline numbers in, one out. */
export const add = task(import.meta.url, function add(a: number, b: number): number {
  return a + b
})

/** Fork-join fib: below `cutoff` serially in this task, above it two child Gs. */
export const fib = task(import.meta.url, async function fib(n: number, cutoff: number): Promise<number> {
  if (n < cutoff) return serialFib(n)
  const [a, b] = await Promise.all([go(fib, n - 1, cutoff), go(fib, n - 2, cutoff)])
  return a + b
})

/**
 * Spawns `n` tiny children from inside this task in waves of `wave` (spawn a wave, await it), one
 * `go` each, or one `goAll` a wave when `batch` is 1. Returns the sum of their results (child i
 * of a wave returns i + 1), which the caller checks: no child lost or run twice.
 */
export const spawnWaves = task(import.meta.url, async function spawnWaves(n: number, wave: number, batch: number): Promise<number> {
  let sum = 0
  for (let done = 0; done < n; done += wave) {
    const k = Math.min(wave, n - done)
    let results: number[]
    if (batch === 1) {
      results = await goAll(add, Array.from({ length: k }, (_, i): [number, number] => [i, 1]))
    } else {
      const kids: Promise<number>[] = new Array<Promise<number>>(k)
      for (let i = 0; i < k; i++) kids[i] = go(add, i, 1)
      results = await Promise.all(kids)
    }
    for (const r of results) sum += r
  }
  return sum
})
