/**
 * Shared sync benchmarks: SharedMutex against its peers in one tinybench run (ratios printed, so
 * a noisy machine still compares fairly), and Go's sync.Mutex as the reference (bench/go/sync,
 * -cpu 2, when `go` is on the PATH).
 * (a) uncontended lock/unlock on the main thread: SharedMutex (lock and tryLock), Go folklore's
 *     mutex on a SharedChan of capacity 1, a raw Atomics test-and-set spinlock, gort's one-thread
 *     Mutex.
 * (b) contended: two tasks on two Ms of a Runtime({ procs: 2 }) share the pairs of a sample.
 * One op = one lock/unlock pair around a plain increment. A sample is a batch of ops; the figure
 * is the batch's median latency divided by its size.
 * Writes bench/results/sync.json. Usage: tsx bench/sync.bench.ts [--quick] [--no-go]
 */
import { Bench } from 'tinybench'
import { mkdirSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Mutex } from '../src/index.js'
import { Runtime, SharedChan, SharedMutex } from '../src/scheduler/index.js'
import { chanLock, chanUnlock, lockLoop, spinLock, spinUnlock, type LockKind } from './sync/tasks.js'

const quick = process.argv.includes('--quick')
const OPS = quick ? 2000 : 10_000 // pairs per sample
const SAMPLES = quick ? 20 : 60
const ROUNDS = quick ? 4 : 6

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function goBench(): Record<string, number> | null {
  if (process.argv.includes('--no-go')) return null
  const dir = fileURLToPath(new URL('./go', import.meta.url))
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'gort-go-cache') }
  const r = spawnSync('go', ['test', '-run', '^$', '-bench', '.', '-cpu', '2', '-benchtime', quick ? '100ms' : '300ms', './sync'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) return null
  const out: Record<string, number> = {}
  for (const line of r.stdout.split('\n')) {
    const m = /^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op/.exec(line)
    if (m) out[m[1]!] = Number(m[2])
  }
  return out
}

async function main(): Promise<void> {
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, Node ${process.version}`
  console.log(`gort shared sync benchmarks${quick ? ' (--quick)' : ''}: ${machine}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  const rt = await Runtime.start({ procs: 2 })
  const counter = new Int32Array(new SharedArrayBuffer(8))
  const mu = new SharedMutex()
  const ch = new SharedChan<number>(1, { slotBytes: 8 })
  const spin = new Int32Array(new SharedArrayBuffer(8))
  const local = new Mutex()
  const buffers: Record<LockKind, SharedArrayBuffer> = { mutex: mu.buffer, chan: ch.buffer, spin: spin.buffer }

  const contended = (kind: LockKind) => async (): Promise<void> => {
    const gate = new SharedArrayBuffer(4)
    await Promise.all([rt.go(lockLoop, kind, buffers[kind], counter.buffer, gate, OPS / 2), rt.go(lockLoop, kind, buffers[kind], counter.buffer, gate, OPS / 2)])
  }
  const rows: Array<{ group: string; name: string; fn: () => unknown }> = [
    { group: 'a', name: 'SharedMutex lock/unlock', fn: async () => { for (let i = 0; i < OPS; i++) { await mu.lock(); counter[0]!++; mu.unlock() } } },
    { group: 'a', name: 'SharedMutex tryLock/unlock', fn: () => { for (let i = 0; i < OPS; i++) { if (!mu.tryLock()) throw new Error('held'); counter[0]!++; mu.unlock() } } },
    { group: 'a', name: 'SharedChan(1) mutex', fn: async () => { for (let i = 0; i < OPS; i++) { await chanLock(ch); counter[0]!++; chanUnlock(ch) } } },
    { group: 'a', name: 'Atomics spinlock', fn: () => { for (let i = 0; i < OPS; i++) { spinLock(spin); counter[0]!++; spinUnlock(spin) } } },
    { group: 'a', name: 'gort Mutex (one thread)', fn: async () => { for (let i = 0; i < OPS; i++) { await local.lock(); counter[0]!++; local.unlock() } } },
    { group: 'b', name: 'SharedMutex, 2 Ms', fn: contended('mutex') },
    { group: 'b', name: 'SharedChan(1) mutex, 2 Ms', fn: contended('chan') },
    { group: 'b', name: 'Atomics spinlock, 2 Ms', fn: contended('spin') },
  ]
  // The machine is shared and noisy: ROUNDS rounds, each taking SAMPLES/ROUNDS samples of every
  // peer in a rotated order, so a load spike hits all peers alike; the median over all samples.
  const samples = new Map<string, number[]>(rows.map((r) => [r.name, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bench = new Bench({
        name: `sync round ${round}`, time: 0, iterations: Math.ceil(SAMPLES / ROUNDS), warmup: round === 0, warmupIterations: 3, warmupTime: 0,
        retainSamples: true, throws: true,
      })
      for (let k = 0; k < rows.length; k++) {
        const r = rows[(k + round) % rows.length]!
        bench.add(r.name, r.fn)
      }
      await bench.run()
      for (const r of rows) {
        const res = bench.getTask(r.name)?.result
        if (res === undefined || !('latency' in res) || res.latency.samples === undefined) throw new Error(`${r.name}: no samples`)
        samples.get(r.name)!.push(...res.latency.samples)
      }
    }
  } finally {
    await rt.close()
  }
  const ns = new Map<string, number>(rows.map((r) => [r.name, (median(samples.get(r.name)!) * 1e6) / OPS]))
  const go = goBench()
  const goRows: Record<string, [string, string]> = {
    a: ['MutexUncontended', 'ChanMutexUncontended'],
    b: ['MutexContended2', 'ChanMutexContended2'],
  }
  const out: Record<string, unknown> = {}
  for (const [group, title, base] of [['a', '(a) uncontended, main thread', 'SharedMutex lock/unlock'], ['b', '(b) contended, two Ms', 'SharedMutex, 2 Ms']] as const) {
    const b = ns.get(base)!
    const table = rows.filter((r) => r.group === group).map((r) => ({ peer: r.name, 'ns/op': ns.get(r.name)!.toFixed(1), 'vs SharedMutex': `${(ns.get(r.name)! / b).toFixed(2)}x` }))
    if (go !== null) {
      const [m, c] = goRows[group]!
      if (go[m] !== undefined) table.push({ peer: 'Go sync.Mutex (-cpu 2)', 'ns/op': go[m].toFixed(1), 'vs SharedMutex': `${(go[m] / b).toFixed(2)}x` })
      if (go[c] !== undefined) table.push({ peer: 'Go chan mutex (-cpu 2)', 'ns/op': go[c].toFixed(1), 'vs SharedMutex': `${(go[c] / b).toFixed(2)}x` })
    }
    console.log(`\n${title}: ${OPS} pairs per sample, ${SAMPLES} samples in ${ROUNDS} interleaved rounds`)
    console.table(table)
    out[group] = table
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/sync.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), machine, load: loadavg(), quick, results: out }, null, 2)}\n`)
  console.log('wrote bench/results/sync.json')
}

await main()
