// gort's benchmark tasks. Each M imports this module once.
import { threadId } from 'node:worker_threads'
import { go, goAll, task } from '../../src/scheduler/index.js'
import { add as addFn, ioThenSpin as ioThenSpinFn, serialFib, timedSpin as timedSpinFn } from './work.mjs'

export const add = task(import.meta.url, function add(a: number, b: number): number {
  return addFn(a, b)
})

/** spin, returning its own duration in ms on the M that ran it (see work.mjs). */
/** Adds `by` to view[i] (a shared Int32Array): (d) with a shared buffer among the arguments. */
export const addShared = task(import.meta.url, function addShared(view: Int32Array, i: number, by: number): number {
  return Atomics.add(view, i, by)
})

export const timedSpin = task(import.meta.url, function timedSpin(iters: number): number {
  return timedSpinFn(iters)
})

export const fib = task(import.meta.url, async function fib(n: number, cutoff: number): Promise<number> {
  if (n < cutoff) return serialFib(n)
  const [a, b] = await Promise.all([go(fib, n - 1, cutoff), go(fib, n - 2, cutoff)])
  return a + b
})

/**
 * Spawns n tiny tasks from inside a task, in waves of `wave` (spawn a wave, await it), so the
 * children in flight fit in the M's G records. Returns elapsed ms on this M.
 */
export const spawnMany = task(import.meta.url, async function spawnMany(n: number, wave: number): Promise<number> {
  const t0 = performance.now()
  for (let done = 0; done < n; done += wave) {
    const k = Math.min(wave, n - done)
    const kids: Promise<number>[] = new Array(k)
    for (let i = 0; i < k; i++) kids[i] = go(add, i, 1)
    await Promise.all(kids)
  }
  return performance.now() - t0
})

/** spawnMany with goAll: each wave is one goAll call (one promise per wave, not per child). */
export const spawnManyAll = task(import.meta.url, async function spawnManyAll(n: number, wave: number): Promise<number> {
  const t0 = performance.now()
  const args: [number, number][] = Array.from({ length: wave }, (_, i) => [i, 1])
  for (let done = 0; done < n; done += wave) await goAll(add, done + wave <= n ? args : args.slice(0, n - done))
  return performance.now() - t0
})

export const tid = task(import.meta.url, function tid(): number {
  return threadId
})

/** Blocks its M until flag[0] != 0, after announcing it in flag[1]. */
export const block = task(import.meta.url, function block(flag: Int32Array): number {
  Atomics.store(flag, 1, 1)
  Atomics.notify(flag, 1)
  Atomics.wait(flag, 0, 0)
  return 0
})

/** Wall-clock ms comparable across threads (each thread has its own performance.timeOrigin). */
const wall = (): number => performance.timeOrigin + performance.now()

/** Returns how long (µs) after `spawnedAt` (wall-clock ms) this G started. */
export const started = task(import.meta.url, function started(spawnedAt: number): number {
  return (wall() - spawnedAt) * 1000
})

/**
 * Spawns a child, then keeps this M busy for holdMs, so only another M (spinning, or woken by
 * wakep) can start the child before then, by stealing it. Returns the child's start delay in µs.
 */
export const startDelay = task(import.meta.url, async function startDelay(holdMs: number): Promise<number> {
  const child = go(started, wall())
  const until = performance.now() + holdMs
  while (performance.now() < until) {
    // busy: this M must not run the child itself
  }
  return child
})

/**
 * Keeps this M busy for holdMs while spawning a child every `everyUs` µs; only another M can run
 * them meanwhile. The first child wakes that M (a parked M's wake-up); the rest find it running a
 * child or spinning for more, which is what they measure. Returns each child's start delay (µs).
 */
export const startDelays = task(import.meta.url, async function startDelays(holdMs: number, everyUs: number): Promise<number[]> {
  const kids: Promise<number>[] = []
  const t0 = performance.now()
  const until = t0 + holdMs
  let next = t0
  for (let now = t0; now < until; now = performance.now()) {
    if (now >= next) {
      kids.push(go(started, wall()))
      next += everyUs / 1000
    }
  }
  return Promise.all(kids)
})

/** (g): reads a small file (how 1) or awaits a 1 ms timer (how 0), then spins; returns the spin's ms on its M. */
export const ioThenSpin = task(import.meta.url, async function ioThenSpin(iters: number, how: number): Promise<number> {
  return ioThenSpinFn(iters, how)
})
