// A task module: every M imports it once and finds `fib` by its URL and name.
import { go, task } from '../../src/scheduler/index.js'

function serialFib(n: number): number {
  return n < 2 ? n : serialFib(n - 1) + serialFib(n - 2)
}

export const fib = task(import.meta.url, async function fib(n: number): Promise<number> {
  if (n < 20) return serialFib(n)
  // Nested spawn: both children go to this M's P (runnext and ring); idle Ms steal them.
  const [a, b] = await Promise.all([go(fib, n - 1), go(fib, n - 2)])
  return a + b
})
