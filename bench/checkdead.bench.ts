/**
 * What the cross-thread deadlock check adds to a SharedChan op that goes to sleep, with its peer
 * in the same run: one sleep and wake on this thread through sharedchan-wait's sleepWhile (which
 * links the op in the sleeper list, bumps the epoch and holds the keep-alive) against the bare
 * Atomics.waitAsync + notify it wraps. Also the cost of one check's own-thread part (threadBusy),
 * paid every 50 ms only while gort alone holds the main thread open, against the Node call it
 * makes (getActiveResourcesInfo). Writes bench/results/checkdead.json.
 * Usage: tsx bench/checkdead.bench.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Bench } from 'tinybench'
import { sleepWhile, type SleepInfo } from '../src/scheduler/shared/sharedchan-wait.js'
import { threadBusy } from '../src/scheduler/shared/quiet.js'

const I = new Int32Array(new SharedArrayBuffer(8))
const info: SleepInfo = { reason: 'chan receive', what: () => 'bench', g: -1, cancellable: false }
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> } }).waitAsync

const bench = new Bench({ time: 1500, warmupTime: 300 })
bench
  .add('sleepWhile + notify (with sleep accounting)', async () => {
    Atomics.store(I, 0, 0)
    const woke = new Promise<void>((resolve) => {
      if (!sleepWhile(I, 0, 0, -1, resolve, info)) resolve()
    })
    Atomics.store(I, 0, 1)
    Atomics.notify(I, 0)
    await woke
  })
  .add('Atomics.waitAsync + notify (bare)', async () => {
    Atomics.store(I, 0, 0)
    const r = waitAsync(I, 0, 0)
    Atomics.store(I, 0, 1)
    Atomics.notify(I, 0)
    if (r.async) await r.value
  })
  .add('threadBusy (a check, this thread)', () => {
    threadBusy(0)
  })
  .add('process.getActiveResourcesInfo()', () => {
    process.getActiveResourcesInfo()
  })

await bench.run()
const med = (name: string): number => {
  const t = bench.tasks.find((x) => x.name === name)!.result as unknown as { latency?: { p50?: number }; p50?: number }
  return (t.latency?.p50 ?? t.p50 ?? NaN) * 1000
}
const rows = bench.tasks.map((t) => ({ task: t.name, 'median µs': med(t.name).toFixed(2) }))
console.table(rows)
const a = med('sleepWhile + notify (with sleep accounting)')
const b = med('Atomics.waitAsync + notify (bare)')
const c = med('threadBusy (a check, this thread)')
const d = med('process.getActiveResourcesInfo()')
console.log(`sleep accounting: ${(a / b).toFixed(2)}x the bare wait (+${(a - b).toFixed(2)} µs); threadBusy ${(c / d).toFixed(2)}x getActiveResourcesInfo; load ${loadavg()[0]!.toFixed(1)}`)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
const doc = { date: new Date().toISOString(), load: loadavg()[0], node: process.version, rows, ratios: { sleepAccounting: a / b, threadBusy: c / d } }
writeFileSync(new URL('./results/checkdead.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`)
console.log('wrote bench/results/checkdead.json')
