/**
 * GC simulator fuzzer throughput: seeded schedules per second, per mode.
 *
 * Two parts:
 *  1. tinybench: one batch of BATCH schedules per task, one task per mode plus
 *     `hybrid (no invariant checks)` to show what checking both tri-color
 *     invariants after every step costs. Reported: median batch latency,
 *     schedules/s, and the ratio against `stw` (the cheapest mode: no barrier,
 *     no concurrent marking). There is no outside peer: no other library
 *     simulates these barriers, so modes are compared with each other.
 *  2. The issue's bar: `fuzz({ schedules: 20000, seed: 1 })` per mode, shrinking
 *     included, timed once end to end, against the 10 s budget. Safety is
 *     re-checked here too: a safe mode that loses an object fails the run.
 *
 * Usage: tsx bench/gc-sim.bench.ts [--quick]      Writes bench/results/gc-sim.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { Bench } from 'tinybench'
import { MODES, type ModeName } from '../src/gc-sim/barriers.js'
import { fuzz } from '../src/gc-sim/fuzz.js'

const quick = process.argv.includes('--quick')
const BATCH = 500
const FULL = quick ? 2_000 : 20_000
const BUDGET_MS = 10_000

interface Variant {
  readonly name: string
  readonly mode: ModeName
  readonly check: boolean
}
const variants: Variant[] = [...MODES.map((mode) => ({ name: mode, mode, check: true })), { name: 'hybrid (no invariant checks)', mode: 'hybrid', check: false }]

// Each batch uses a fresh seed so the JIT cannot specialise on one schedule set.
let seed = 1000
const bench = new Bench({ name: `fuzzer, ${BATCH} schedules per batch`, time: 0, iterations: quick ? 4 : 12, warmupIterations: 2, warmupTime: 0 })
for (const v of variants) bench.add(v.name, () => void fuzz({ mode: v.mode, schedules: BATCH, seed: seed++, check: v.check, shrink: false }))
await bench.run()

const rows = variants.map((v) => {
  const r = bench.getTask(v.name)?.result
  const medianMs = r !== undefined && 'latency' in r ? r.latency.p50 : NaN
  return { name: v.name, medianBatchMs: medianMs, schedulesPerSecond: (BATCH / medianMs) * 1000 }
})
const base = rows[0]!
console.log(`fuzzer throughput (${BATCH} schedules per batch, median of ${quick ? 4 : 12}; ${availableParallelism()} CPUs, load ${loadavg()[0]!.toFixed(2)})`)
console.log(`${'mode'.padEnd(30)} ${'median ms'.padStart(10)} ${'schedules/s'.padStart(12)} ${'vs stw'.padStart(8)}`)
for (const row of rows) {
  console.log(`${row.name.padEnd(30)} ${row.medianBatchMs.toFixed(2).padStart(10)} ${Math.round(row.schedulesPerSecond).toString().padStart(12)} ${(row.schedulesPerSecond / base.schedulesPerSecond).toFixed(2).padStart(7)}x`)
}

console.log(`\n${FULL} schedules per mode (seed 1, invariant checks and shrinking on), budget ${BUDGET_MS / 1000} s each`)
const full = MODES.map((mode) => {
  const report = fuzz({ mode, schedules: FULL, seed: 1 })
  const row = {
    mode,
    schedules: report.schedules,
    ms: Math.round(report.ms),
    withinBudget: report.ms < BUDGET_MS,
    losingSchedules: report.losingSchedules,
    claimedSafe: report.claimedSafe,
    counterexampleSteps: report.counterexample?.scenario.steps.length ?? null,
  }
  console.log(
    `${mode.padEnd(18)} ${String(row.ms).padStart(6)} ms ${row.withinBudget ? 'within' : 'OVER  '} budget · ${String(row.losingSchedules).padStart(5)} losing · ${
      row.counterexampleSteps === null ? 'no counterexample' : `counterexample ${row.counterexampleSteps} steps`
    }`,
  )
  return row
})

mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(
  new URL('./results/gc-sim.json', import.meta.url),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: availableParallelism(),
      loadavg1: loadavg()[0],
      quick,
      batch: BATCH,
      throughput: rows,
      full,
    },
    null,
    2,
  ) + '\n',
)
const refuted = full.filter((r) => r.claimedSafe && r.losingSchedules > 0)
if (refuted.length > 0) {
  console.error(`safety claim refuted for: ${refuted.map((r) => r.mode).join(', ')}`)
  process.exitCode = 1
}
