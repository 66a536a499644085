/**
 * Shape (a) again, in a process of its own that scheduler.bench.ts starts with a larger young
 * generation (node --max-semi-space-size=64): gort's go() and the no-thread floor, alternating,
 * median of 5 bursts each after one warm-up. It shows what go() costs once V8's default nursery
 * is not the bound (see burst.ts).
 *
 * Usage: node --max-semi-space-size=64 --import tsx bench/scheduler/main-burst.ts PROCS COUNT
 * Prints one JSON line: { gort: { perSec, cpuUsPerTask }, floor: { ... } }.
 */
import { Runtime } from '../../src/scheduler/index.js'
import { add } from './tasks.js'
import { burst, deferredPromises, type BurstRun } from './burst.js'

const [procs, count] = process.argv.slice(2).map(Number) as [number, number]
if (!(procs >= 1 && count >= 1)) throw new Error('usage: main-burst.ts PROCS COUNT')
const rt = await Runtime.start({ procs })
const floor = deferredPromises()
const runs: { gort: BurstRun[]; floor: BurstRun[] } = { gort: [], floor: [] }
for (let rep = 0; rep < 6; rep++) {
  const g = await burst(count, (i) => rt.go(add, i, 1))
  const f = await burst(count, floor)
  if (rep === 0) continue // warm-up
  runs.gort.push(g)
  runs.floor.push(f)
}
await rt.close()
const summary = (xs: BurstRun[]): { perSec: number; cpuUsPerTask: number } => {
  const mid = (v: number[]): number => [...v].sort((a, b) => a - b)[(v.length - 1) >> 1]!
  return { perSec: (count / mid(xs.map((x) => x.ms))) * 1000, cpuUsPerTask: mid(xs.map((x) => x.cpuUsPerTask)) }
}
console.log(JSON.stringify({ gort: summary(runs.gort), floor: summary(runs.floor) }))
