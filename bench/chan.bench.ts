/**
 * Channel benchmarks: gort against its peers in one process run, and Go as the
 * physical reference (bench/go, run from here when `go` is on the PATH).
 *
 * Shapes (issue 2, part 4):
 *   (a) unbuffered ping-pong, ns per round trip
 *   (b) cap-128 producer/consumer, ns per item, 1e6 items per sample
 *   (c) select over 4 channels fed round-robin, ns per select
 *   (d) Mutex lock/unlock, uncontended and under 100 goroutines, ns per pair
 *   (e) spawn 100k goroutines and wait with a WaitGroup, ns per goroutine
 *
 * Each tinybench task runs one batch of `ops` operations; the reported figure is
 * the batch's median latency divided by `ops`. Peers lacking a primitive get the
 * folklore equivalent built from their channels (a Mutex is a cap-1 channel);
 * where a peer has no equivalent at all the row says so instead of faking one.
 *
 * Usage: tsx bench/chan.bench.ts [--quick] [--no-go] [--shapes=a,b,c,d1,d2,e]   (npm run bench -- --only chan runs it)
 * Writes bench/results/chan.json.
 */
import { Bench } from 'tinybench'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { Mutex } from '../src/index.js'
import {
  type Impl,
  gortBuffered,
  gortBufferedTry,
  gortMutex100,
  gortPingPong,
  gortSelect,
  gortSpawn,
  jsCspBuffered,
  jsCspMutex,
  jsCspPingPong,
  jsCspSelect,
  jsCspSpawn,
  mutexContended,
  mutexUncontended,
  nativeSpawn,
  paybaseMutex,
  paybasePingPong,
  paybaseSelect,
  tsChanBuffered,
  tsChanMutex,
  tsChanPingPong,
  tsChanSelect,
} from './chan/peers.js'
import { rawPingPong } from './chan/floor.js'
import { runGoBenchmarks, type GoResults } from './go/run.js'

const quick = process.argv.includes('--quick')
// --shapes a,c runs a subset (for iterating on one shape); default: all.
const only = process.argv.find((a) => a.startsWith('--shapes='))?.slice('--shapes='.length).split(',')

interface Peer {
  name: string
  run: Impl | null // null: the peer has no equivalent primitive
  note?: string
}
interface Shape {
  id: string
  title: string
  unit: string
  ops: number
  samples: number
  go: string // Go benchmark name
  goDivisor?: number
  peers: Peer[]
}

// ---- the run ----------------------------------------------------------------------

const scale = quick ? 0.1 : 1
const shapes: Shape[] = [
  {
    id: 'a',
    title: '(a) unbuffered ping-pong',
    unit: 'ns/round trip',
    ops: 20_000 * scale,
    samples: 15,
    go: 'PingPong',
    peers: [
      { name: 'gort', run: gortPingPong },
      { name: 'ts-chan', run: tsChanPingPong(false) },
      { name: 'ts-chan unsafe', run: tsChanPingPong(true) },
      { name: 'js-csp', run: jsCspPingPong },
      { name: '@paybase/csp', run: paybasePingPong },
      // Not peers: what four bare awaits per round trip cost (bench/chan/floor.ts),
      // so the table shows how close gort is to the floor under its API.
      { name: 'raw promises', run: rawPingPong(false), note: 'reference: bare rendezvous, no channel semantics, starves timers' },
      { name: 'raw promises + yield', run: rawPingPong(true), note: "reference: the same plus gort's yield budget" },
    ],
  },
  {
    id: 'b',
    title: '(b) cap-128 producer/consumer',
    unit: 'ns/item',
    ops: 1_000_000 * scale,
    samples: 5,
    go: 'Buffered128',
    peers: [
      { name: 'gort', run: gortBuffered },
      { name: 'gort trySend/tryRecv', run: gortBufferedTry },
      { name: 'ts-chan', run: tsChanBuffered(false) },
      { name: 'ts-chan unsafe', run: tsChanBuffered(true) },
      { name: 'js-csp', run: jsCspBuffered },
      { name: '@paybase/csp', run: null, note: 'no bounded buffer' },
    ],
  },
  {
    id: 'c',
    title: '(c) select over 4 channels',
    unit: 'ns/select',
    ops: 20_000 * scale,
    samples: 15,
    go: 'Select4',
    peers: [
      { name: 'gort', run: gortSelect },
      { name: 'ts-chan', run: tsChanSelect(false) },
      { name: 'ts-chan unsafe', run: tsChanSelect(true) },
      { name: 'js-csp', run: jsCspSelect },
      { name: '@paybase/csp', run: paybaseSelect },
    ],
  },
  {
    id: 'd1',
    title: '(d) Mutex lock/unlock, uncontended',
    unit: 'ns/lock+unlock',
    ops: 100_000 * scale,
    samples: 15,
    go: 'MutexUncontended',
    peers: [
      { name: 'gort', run: (n) => mutexUncontended(() => new Mutex(), n) },
      { name: 'ts-chan', run: (n) => mutexUncontended(tsChanMutex(false), n), note: 'cap-1 Chan as lock' },
      { name: 'ts-chan unsafe', run: (n) => mutexUncontended(tsChanMutex(true), n), note: 'cap-1 Chan as lock' },
      { name: 'js-csp', run: jsCspMutex(false), note: 'chan(1) as lock' },
      { name: '@paybase/csp', run: (n) => mutexUncontended(paybaseMutex, n), note: 'token channel as lock' },
    ],
  },
  {
    id: 'd2',
    title: '(d) Mutex lock/unlock, 100 goroutines',
    unit: 'ns/lock+unlock',
    ops: 100_000 * scale,
    samples: 15,
    go: 'Mutex100',
    peers: [
      { name: 'gort', run: gortMutex100 },
      { name: 'ts-chan', run: (n) => mutexContended(tsChanMutex(false), n), note: 'cap-1 Chan as lock' },
      { name: 'ts-chan unsafe', run: (n) => mutexContended(tsChanMutex(true), n), note: 'cap-1 Chan as lock' },
      { name: 'js-csp', run: jsCspMutex(true), note: 'chan(1) as lock' },
      { name: '@paybase/csp', run: (n) => mutexContended(paybaseMutex, n), note: 'token channel as lock' },
    ],
  },
  {
    id: 'e',
    title: '(e) spawn 100k goroutines + WaitGroup',
    unit: 'ns/goroutine',
    ops: 100_000,
    samples: quick ? 5 : 15,
    go: 'Spawn100k',
    goDivisor: 100_000,
    peers: [
      { name: 'gort', run: gortSpawn },
      { name: 'js-csp', run: jsCspSpawn, note: 'csp.go processes' },
      { name: 'native async fns', run: nativeSpawn, note: 'reference: async fn + Promise.all, no goroutine bookkeeping' },
      { name: 'ts-chan', run: null, note: 'no goroutine primitive' },
      { name: '@paybase/csp', run: null, note: 'no goroutine primitive' },
    ],
  },
]

interface Row {
  peer: string
  median: number | null
  note?: string
}

const ROUNDS = 5
const WARMUP_MS = quick ? 100 : 500

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2
}

/**
 * The machine is shared and noisy, so peers are not measured one after the
 * other: each shape runs ROUNDS tinybench rounds, each taking samples/ROUNDS
 * samples of every peer, in a rotated order. Load spikes then hit all peers
 * alike, and the median over all rounds' samples is what the table shows.
 */
async function measure(shape: Shape): Promise<Row[]> {
  const runnable = shape.peers.filter((p) => p.run !== null)
  const samples = new Map<string, number[]>(runnable.map((p) => [p.name, []]))
  const perRound = Math.max(1, Math.round(shape.samples / ROUNDS))
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({
      name: `${shape.title} round ${round}`,
      time: 0,
      iterations: perRound,
      // V8 needs a few hundred thousand ops to tier up async code (measured:
      // ping-pong settles only after ~0.5 s), so round 0 warms each peer for
      // WARMUP_MS (and at least one batch) before any sample counts.
      warmup: round === 0,
      warmupIterations: 1,
      warmupTime: WARMUP_MS,
      retainSamples: true,
      throws: true,
    })
    for (let k = 0; k < runnable.length; k++) {
      const p = runnable[(k + round) % runnable.length]!
      bench.add(p.name, () => p.run!(shape.ops))
    }
    await bench.run()
    for (const p of runnable) {
      const r = bench.getTask(p.name)?.result
      if (r === undefined || !('latency' in r) || r.latency.samples === undefined) throw new Error(`${shape.title}: ${p.name} produced no samples`)
      samples.get(p.name)!.push(...r.latency.samples)
    }
  }
  return shape.peers.map((p) => {
    const xs = samples.get(p.name)
    const med = xs === undefined ? null : (median(xs) * 1e6) / shape.ops
    return { peer: p.name, median: med, ...(p.note === undefined ? {} : { note: p.note }) }
  })
}

function fmt(ns: number | null): string {
  if (ns === null) return 'n/a'
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(ns < 100 ? 1 : 0)} ns`
}

async function main(): Promise<void> {
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, Node ${process.version}`
  console.log(`gort channel benchmarks${quick ? ' (--quick)' : ''}: ${machine}`)
  console.log('median of per-batch latency / batch size; peers in the same process run\n')

  let goRes: GoResults | null = null
  if (!process.argv.includes('--no-go')) {
    goRes = runGoBenchmarks(quick ? '100ms' : '300ms')
    console.log(goRes === null ? 'Go: not on PATH (or failed); Go column omitted\n' : `Go reference: ${goRes.version}, GOMAXPROCS=1\n`)
  }

  const out: Record<string, unknown> = {}
  for (const shape of shapes) {
    if (only !== undefined && !only.includes(shape.id)) continue
    const rows = await measure(shape)
    const gort = rows[0]!.median!
    const goNs = goRes?.nsPerOp[shape.go] !== undefined ? goRes.nsPerOp[shape.go]! / (shape.goDivisor ?? 1) : null
    console.log(`${shape.title} (${shape.ops.toLocaleString('en')} ops/sample, ${ROUNDS * Math.max(1, Math.round(shape.samples / ROUNDS))} samples in ${ROUNDS} interleaved rounds)`)
    const table = rows.map((r) => ({
      peer: r.peer,
      median: fmt(r.median),
      'peer / gort': r.median === null ? '' : `${(r.median / gort).toFixed(2)}x`,
      'vs Go': r.median === null || goNs === null ? '' : `${(r.median / goNs).toFixed(2)}x Go`,
      note: r.note ?? '',
    }))
    if (goNs !== null) table.push({ peer: 'Go (GOMAXPROCS=1)', median: fmt(goNs), 'peer / gort': `${(goNs / gort).toFixed(2)}x`, 'vs Go': '1.00x Go', note: 'bench/go' })
    console.table(table)
    out[shape.id] = { title: shape.title, unit: shape.unit, ops: shape.ops, samples: shape.samples, go: goNs, rows }
  }

  const doc = { date: new Date().toISOString(), machine, quick, goVersion: goRes?.version ?? null, shapes: out }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/chan.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`)
  console.log('wrote bench/results/chan.json')
}

await main()
