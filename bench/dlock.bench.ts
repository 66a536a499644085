/**
 * Redis lock and Sonyflake benchmarks (issue 5): gort against the recipes people
 * use instead, in one process run, against a local redis-server.
 *
 *   lock     tryAcquire + release (two Lua scripts: SET NX PX + INCR fence, then
 *            compare-and-delete) against the naive SET NX PX + DEL, one client,
 *            uncontended. The gap is the price of owner tokens and fencing.
 *   ids      Sonyflake.nextId CPU cost per ID (a manual clock that ticks every
 *            256 IDs, so the 256-per-10 ms design cap does not hide the cost),
 *            against crypto.randomUUID (the usual unsorted alternative) and a
 *            bare BigInt compose (the floor: no state, no ordering guarantee).
 *
 * Needs `redis-server` on the PATH (Debian: apt-get install redis-server).
 * Usage: tsx bench/dlock.bench.ts [--quick]. Writes bench/results/dlock.json.
 */
import { Bench } from 'tinybench'
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { createClient } from 'redis'
import { RedisLock } from '../src/dlock/index.js'
import { ManualClock, Sonyflake } from '../src/sonyflake/index.js'
import { startRedis } from '../test/_support/redis-server.js'

const quick = process.argv.includes('--quick')
const time = quick ? 300 : 1500

interface Row {
  peer: string
  medianNs: number
  ratio: number
}

function table(title: string, bench: Bench, base: string): Row[] {
  const median = (name: string): number => {
    const r = bench.getTask(name)?.result
    if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
    return r.latency.p50 * 1e6 // ms to ns
  }
  const baseNs = median(base)
  const rows = bench.tasks.map((t) => ({ peer: t.name, medianNs: median(t.name), ratio: median(t.name) / baseNs }))
  console.log(title)
  console.table(rows.map((r) => ({ peer: r.peer, median: fmt(r.medianNs), [`vs ${base}`]: `${r.ratio.toFixed(2)}x` })))
  return rows
}

function fmt(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`
}

const server = await startRedis()
const client = createClient({ url: server.url })
client.on('error', () => undefined) // the server is ours and local; a failure ends the run below
try {
  await client.connect()
  const locks = new RedisLock(client)

  const lockBench = new Bench({ time, warmupTime: 200 })
  lockBench
    .add('gort tryAcquire + release', async () => {
      const lock = await locks.tryAcquire('bench:gort', { ttl: 10_000 })
      if (lock === null) throw new Error('uncontended lock was taken')
      await lock.release()
    })
    .add('naive SET NX PX + DEL', async () => {
      const ok = await client.set('bench:naive', '1', { NX: true, PX: 10_000 })
      if (ok === null) throw new Error('uncontended lock was taken')
      await client.del('bench:naive')
    })
  await lockBench.run()
  const lockRows = table('Redis lock, one client, uncontended (median per acquire+release)', lockBench, 'gort tryAcquire + release')

  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'))
  const sf = new Sonyflake({ machineId: 7, clock })
  // A counter of its own: the Sonyflake task must advance the clock after exactly 256 IDs per
  // tick (its sequence is 8 bits), or nextId waits for a tick the manual clock never makes. It
  // shared a counter with the BigInt task below, so that task's warm-up calls could shift it
  // and hang the bench.
  let inTick = 0
  let composed = 0
  const idBench = new Bench({ time, warmupTime: 200 })
  idBench
    .add('gort Sonyflake.nextId', async () => {
      if (inTick === 256) {
        clock.advance(10)
        inTick = 0
      }
      inTick++
      await sf.nextId()
    })
    .add('crypto.randomUUID', () => {
      randomUUID()
    })
    .add('bare BigInt compose', () => {
      void ((BigInt(composed++) << 24n) | 7n)
    })
  await idBench.run()
  const idRows = table('IDs (median per ID; Sonyflake without its 256-per-tick cap)', idBench, 'gort Sonyflake.nextId')

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(
    new URL('./results/dlock.json', import.meta.url),
    JSON.stringify({ meta: { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, quick }, lock: lockRows, ids: idRows }, null, 1),
  )
  console.log('wrote bench/results/dlock.json')
} finally {
  if (client.isOpen) client.destroy()
  await server.kill()
}
