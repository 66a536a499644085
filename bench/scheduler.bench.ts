/**
 * Scheduler benchmarks (issue 3): gort's G/M/P runtime against piscina, poolifier and plain
 * single-threaded Node, all in this one process run, with ratios printed against each peer; and,
 * when `go` is on the PATH, Go's own scheduler on the same shapes (bench/go/sched, run first).
 *
 * Shapes:
 *   (a) tiny tasks submitted from the main thread (tasks/s, CPU µs per task); and tiny tasks
 *       spawned inside a task (gort only: pools cannot nest)
 *   (b) heavy-tailed CPU tasks: makespan against the ideal (single-threaded total / procs)
 *   (c) fork-join fib with a cut-off (pools cannot nest: their best is a fan-out of the leaves)
 *   (d) spawn-to-result latency main -> worker -> main, p50 and p99
 *   (e) time for work queued behind a stuck M to complete elsewhere (gort's monitor hand-off)
 *   (f) CPU used by an idle runtime (spinning must stop)
 *   (g) mixed I/O and CPU: 2000 tasks that each read a small file or await a 1 ms timer, then
 *       compute heavy-tailed amounts (makespan against the ideal); then, with fewer such tasks
 *       running than procs, the start latency of a tiny task submitted meanwhile (p50, p99)
 * (b) and (c) run at 1..maxProcs procs for gort and piscina and feed the speedup plot
 * (bench/results/scheduler.svg).
 *
 * Usage: tsx bench/scheduler.bench.ts [--quick] [--procs=1,2] [--shapes=a,b,c,d,e,f,g]
 * Writes bench/results/scheduler.json and bench/results/scheduler.svg.
 */
import { Bench } from 'tinybench'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { Worker } from 'node:worker_threads'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import { FixedThreadPool } from 'poolifier'
import { Runtime } from '../src/scheduler/index.js'
import { waitAsync } from '../src/scheduler/shared/wait.js'
import { add, addShared, block, fib, ioThenSpin, spawnMany, spawnManyAll, started, startDelay, startDelays, timedSpin } from './scheduler/tasks.js'
import { serialFib, spin as spinFn } from './scheduler/work.mjs'
import { speedupSvg, type Series } from './scheduler/plot.js'
import { burst, deferredPromises } from './scheduler/burst.js'
import { runGoScheduler, type GoSchedResults } from './go/run.js'

const execFileAsync = promisify(execFile)
const quick = process.argv.includes('--quick')
const procsArg = process.argv.find((a) => a.startsWith('--procs='))?.slice('--procs='.length)
const procsList = procsArg !== undefined ? procsArg.split(',').map(Number) : [1, Math.min(availableParallelism(), 16)].filter((v, i, a) => a.indexOf(v) === i)
const maxProcs = Math.max(...procsList)

const piscinaWorker = new URL('./scheduler/piscina-worker.mjs', import.meta.url).href
const wakeWorker = new URL('./scheduler/wake-worker.mjs', import.meta.url)
const poolifierWorker = new URL('./scheduler/poolifier-worker.mjs', import.meta.url).pathname
const splitWorker = new URL('./scheduler/split-worker.mjs', import.meta.url)

interface Msg {
  k: 'add' | 'sadd' | 'spin' | 'tspin' | 'fib' | 'io' | 'started'
  a?: number
  b?: number
  n?: number
  view?: Int32Array
}
interface Pool {
  name: string
  run(msg: Msg): Promise<number>
  close(): Promise<void>
}

function piscina(threads: number): Pool {
  const p = new Piscina({ filename: piscinaWorker, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 })
  return { name: 'piscina', run: (m) => p.run(m) as Promise<number>, close: () => p.close() }
}

function poolifier(threads: number): Pool {
  const p = new FixedThreadPool<Msg, number>(threads, poolifierWorker)
  return { name: 'poolifier', run: (m) => (m.k === 'io' ? p.execute(m, 'io') : p.execute(m)), close: () => p.destroy() }
}

/**
 * The median; of an even count, the mean of the two middle values. Taking the lower one instead
 * made a median of times the faster and a median of speed-ups the slower of two rounds, so
 * --quick's two rounds printed 2.17 ms beside "0.17x single".
 */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const h = s.length >> 1
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}
const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const fmt = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : String(v))

/**
 * Runs `fn` with tinybench and returns the median ms per call. A call that has not finished
 * after CALL_LIMIT_MS counts as a peer that stopped answering (poolifier did, now and then, on
 * this machine): the row reports NaN ("stopped answering") instead of stalling the bench.
 */
const CALL_LIMIT_MS = 60_000
const hungRows: string[] = []
async function timeIt(name: string, fn: () => Promise<unknown>, iterations: number, warmup = 1): Promise<number> {
  const bench = new Bench({ name, iterations, time: 0, warmupIterations: warmup, warmupTime: 0 })
  bench.add(name, async () => {
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: no result within ${CALL_LIMIT_MS} ms`)), CALL_LIMIT_MS)
    })
    try {
      await Promise.race([fn(), limit])
    } finally {
      clearTimeout(timer)
    }
  })
  await bench.run()
  const r = bench.tasks[0]!.result
  if (r.state !== 'completed') {
    const why = 'error' in r ? String(r.error) : r.state
    if (name.startsWith('a:gort') || name.includes(':gort:')) throw new Error(`${name}: ${why}`)
    console.error(`  [${name} stopped answering: ${why}]`)
    hungRows.push(name)
    peerHung = true
    return NaN
  }
  return r.latency.p50
}

/** Closes a peer pool; one that stopped answering may never close, so give up after 5 s. */
async function closePool(pool: Pool): Promise<void> {
  await Promise.race([pool.close(), new Promise((r) => setTimeout(r, 5000).unref())])
}

const results: Record<string, unknown> = {}
/** Go's figures for the same shapes; null when Go is not installed. */
let goRef: GoSchedResults | null = null
let phase = 'start'
let peerHung = false // a peer pool that stopped answering may keep its threads alive: exit explicitly
const cpuModel = cpus()[0]?.model ?? 'unknown'
console.log(`scheduler bench: ${availableParallelism()} cpus (${cpuModel}), load ${loadavg().map((x) => x.toFixed(1)).join(' ')}, procs ${procsList.join(',')}${quick ? ', quick' : ''}`)

const runtimes = new Map<number, Runtime>()
async function rtFor(procs: number): Promise<Runtime> {
  let rt = runtimes.get(procs)
  if (rt === undefined) {
    rt = await Runtime.start({ procs })
    runtimes.set(procs, rt)
  }
  return rt
}

// ---- (a) tiny tasks --------------------------------------------------------

/** spawnMany's waves on this thread alone: a deferred promise per child, settled once the wave is out. */
async function deferredWaves(n: number, wave: number): Promise<void> {
  const resolvers: ((v: number) => void)[] = []
  const keep = (r: (v: number) => void): void => void resolvers.push(r)
  for (let done = 0; done < n; done += wave) {
    const k = Math.min(wave, n - done)
    const kids: Promise<number>[] = new Array(k)
    for (let i = 0; i < k; i++) kids[i] = new Promise<number>(keep)
    const all = Promise.all(kids)
    for (let i = 0; i < k; i++) resolvers[i]!(i + 1)
    resolvers.length = 0
    await all
  }
}

const SEMI_SPACE_MB = 64

interface BurstRow {
  readonly perSec: number
  readonly cpuUsPerTask: number
}

/** (a)'s gort and floor rows measured by bench/scheduler/main-burst.ts in a node with a larger young generation. */
async function mainBurstChild(procs: number, count: number): Promise<{ gort: BurstRow; floor: BurstRow }> {
  const script = fileURLToPath(new URL('./scheduler/main-burst.ts', import.meta.url))
  const args = [...process.execArgv, `--max-semi-space-size=${SEMI_SPACE_MB}`, script, String(procs), String(count)]
  const { stdout } = await execFileAsync(process.execPath, args, { timeout: 5 * CALL_LIMIT_MS })
  return JSON.parse(stdout.trim().split('\n').pop()!) as { gort: BurstRow; floor: BurstRow }
}

async function shapeA(): Promise<void> {
  const n = quick ? 50_000 : 200_000
  const nPool = quick ? 5_000 : 20_000 // pools take ~50 µs a task: 200k would take minutes
  const rt = await rtFor(maxProcs)
  const rows: { name: string; perSec: number; cpuUsPerTask: number }[] = []
  const measure = async (name: string, count: number, submit: (i: number) => Promise<number>): Promise<void> => {
    let cpuUsPerTask = 0
    const ms = await timeIt(`a:${name}`, async () => {
      cpuUsPerTask = (await burst(count, submit)).cpuUsPerTask
    }, quick ? 3 : 5)
    rows.push({ name, perSec: (count / ms) * 1000, cpuUsPerTask })
  }
  phase = 'a'
  await measure(`gort procs=${maxProcs}`, n, (i) => rt.go(add, i, 1))
  // The same Gs submitted as one goAll batch: one promise for all of them instead of one each.
  const tuples: [number, number][] = Array.from({ length: n }, (_, i) => [i, 1])
  let batchCpu = 0
  const batchMs = await timeIt('a:goAll', async () => {
    const c0 = process.cpuUsage()
    const r = await rt.goAll(add, tuples)
    if (r[n - 1] !== n) throw new Error('goAll: wrong result')
    const c = process.cpuUsage(c0)
    batchCpu = c.user + c.system
  }, quick ? 3 : 5)
  const pis = piscina(maxProcs)
  await measure(`piscina ${maxProcs} threads`, nPool, (i) => pis.run({ k: 'add', a: i, b: 1 }))
  await closePool(pis)
  const pool = poolifier(maxProcs)
  await measure(`poolifier ${maxProcs} threads`, nPool, (i) => pool.run({ k: 'add', a: i, b: 1 }))
  await closePool(pool)
  const addAsync = async (a: number, b: number): Promise<number> => a + b
  await measure('single-threaded (async call)', n, (i) => addAsync(i, 1))
  await measure('floor: deferred promises', n, deferredPromises())
  // With 200k results pending, V8's scavenger is most of the main thread's time for gort and the
  // floor alike (burst.ts). The same burst in a child with a young generation sized for it shows
  // what is left: gort's own cost per go().
  const bigNursery = await mainBurstChild(maxProcs, n)
  // Spawned inside tasks: PARENTS tasks, started together from main, each spawn n / PARENTS
  // children in waves of WAVE and await each wave. In flight per M: at most PARENTS x WAVE, within
  // its G records (mSlots), so every child is a real G (stats' `inlined` stays 0; checked).
  const PARENTS = 2 * maxProcs
  const WAVE = 4096
  // The same with waves of SMALL_WAVE: PARENTS x 4096 children in flight are 16k G records (1 MB)
  // plus their promises, past this CPU's L2, and every G's cost doubles to triples (profiled:
  // spawn, run and settle alike); waves of 128 keep the working set in cache.
  const SMALL_WAVE = 128
  /** Tasks/s inside tasks with `go` and with `goAll`, and on one thread with no scheduler, for waves of `wave`. */
  const insideRates = async (wave: number): Promise<{ go: number; goAll: number; floor: number }> => {
    const perSec = (ms: number): number => (n / ms) * 1000
    const reps = quick ? 3 : 5
    const goMs = await timeIt(`a:inside:${wave}`, () => Promise.all(Array.from({ length: PARENTS }, () => rt.go(spawnMany, n / PARENTS, wave))), reps)
    const goAllMs = await timeIt(`a:insideAll:${wave}`, () => Promise.all(Array.from({ length: PARENTS }, () => rt.go(spawnManyAll, n / PARENTS, wave))), reps)
    const floorMs = await timeIt(`a:floorInside:${wave}`, () => Promise.all(Array.from({ length: PARENTS }, () => deferredWaves(n / PARENTS, wave))), reps)
    return { go: perSec(goMs), goAll: perSec(goAllMs), floor: perSec(floorMs) }
  }
  const inlinedBefore = rt.stats().total.inlined
  const big = await insideRates(WAVE)
  const small = await insideRates(SMALL_WAVE)
  const inlined = rt.stats().total.inlined - inlinedBefore
  if (inlined !== 0) throw new Error(`bench (a): ${inlined} children ran inline (M out of G records): the figures would not be of Gs`)
  const [insidePerSec, insideAllPerSec, floorInsidePerSec] = [big.go, big.goAll, big.floor]
  const [smallPerSec, smallAllPerSec, floorSmallPerSec] = [small.go, small.goAll, small.floor]
  console.log('\n(a) tiny tasks, submitted from the main thread (CPU = whole process, all threads)')
  const g = rows[0]!
  for (const r of rows) {
    const ratio = r === g ? '' : `  gort is ${fmt(g.perSec / r.perSec, 1)}x`
    console.log(`  ${r.name.padEnd(32)} ${fmt(r.perSec / 1e3, 1).padStart(8)}k tasks/s  ${fmt(r.cpuUsPerTask, 2).padStart(7)} µs CPU/task${ratio}`)
  }
  const nurseryRatio = bigNursery.gort.perSec / bigNursery.floor.perSec
  console.log(`  ${`with --max-semi-space-size=${SEMI_SPACE_MB}`.padEnd(32)} ${fmt(bigNursery.gort.perSec / 1e3, 1).padStart(8)}k tasks/s  ${fmt(bigNursery.gort.cpuUsPerTask, 2).padStart(7)} µs CPU/task  (gort in a child process; the floor there ${fmt(bigNursery.floor.perSec / 1e3, 1)}k tasks/s at ${fmt(bigNursery.floor.cpuUsPerTask, 2)} µs: gort ${fmt(nurseryRatio, 2)}x it)`)
  if (goRef !== null) {
    const ga = goRef.a
    console.log(`  ${`Go goroutines, GOMAXPROCS=${goRef.maxProcs}`.padEnd(32)} ${fmt(ga.perSec / 1e3, 1).padStart(8)}k tasks/s  ${fmt(ga.cpuUsPerTask, 2).padStart(7)} µs CPU/task  gort is ${fmt(g.perSec / ga.perSec, 2)}x (a goroutine per task, results in a slice, a WaitGroup)`)
  }
  const batchPerSec = (n / batchMs) * 1000
  console.log(`  ${`gort procs=${maxProcs}, one goAll call`.padEnd(32)} ${fmt(batchPerSec / 1e3, 1).padStart(8)}k tasks/s  ${fmt(batchCpu / n, 2).padStart(7)} µs CPU/task  (${fmt(batchPerSec / g.perSec, 1)}x go)`)
  console.log(`  ${'gort, spawned inside tasks'.padEnd(32)} ${fmt(insidePerSec / 1e3, 1).padStart(8)}k tasks/s  (${PARENTS} parents x ${n / PARENTS} children in waves of ${WAVE}; none inlined)`)
  console.log(`  ${'gort, inside tasks with goAll'.padEnd(32)} ${fmt(insideAllPerSec / 1e3, 1).padStart(8)}k tasks/s  (one goAll per wave; ${fmt(insideAllPerSec / insidePerSec, 1)}x go)`)
  console.log(`  ${'floor: the same waves, one thread'.padEnd(32)} ${fmt(floorInsidePerSec / 1e3, 1).padStart(8)}k tasks/s  (deferred promises, no scheduler; gort go inside tasks is ${fmt(insidePerSec / floorInsidePerSec, 2)}x one thread's floor)`)
  console.log(`  ${`inside tasks, waves of ${SMALL_WAVE}`.padEnd(32)} ${fmt(smallPerSec / 1e3, 1).padStart(8)}k tasks/s  go;  ${fmt(smallAllPerSec / 1e3, 1)}k tasks/s goAll;  one thread's floor ${fmt(floorSmallPerSec / 1e3, 1)}k tasks/s (gort goAll ${fmt(smallAllPerSec / floorSmallPerSec, 2)}x it)`)
  if (goRef !== null) {
    const gi = goRef.aInside
    console.log(`  ${'Go, goroutines in goroutines'.padEnd(32)} ${fmt(gi.wave4096 / 1e3, 1).padStart(8)}k tasks/s  waves of ${WAVE} (gort go ${fmt(insidePerSec / gi.wave4096, 2)}x, goAll ${fmt(insideAllPerSec / gi.wave4096, 2)}x it);  ${fmt(gi.wave128 / 1e3, 1)}k tasks/s waves of ${SMALL_WAVE} (gort go ${fmt(smallPerSec / gi.wave128, 2)}x, goAll ${fmt(smallAllPerSec / gi.wave128, 2)}x it)`)
  }
  results['a'] = {
    tasks: n, poolTasks: nPool, rows, bigNursery: { semiSpaceMb: SEMI_SPACE_MB, ...bigNursery }, goAll: { perSec: batchPerSec, cpuUsPerTask: batchCpu / n },
    spawnedInsideTaskPerSec: insidePerSec, spawnedInsideTaskGoAllPerSec: insideAllPerSec, floorInsidePerThreadPerSec: floorInsidePerSec,
    smallWaves: { wave: SMALL_WAVE, goPerSec: smallPerSec, goAllPerSec: smallAllPerSec, floorPerThreadPerSec: floorSmallPerSec },
  }
}

// ---- (b) heavy-tailed CPU tasks ----------------------------------------------

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function shapeB(): Promise<Series[]> {
  const count = quick ? 400 : 2000
  const targetMs = quick ? 600 : 5000
  // Calibrate: iterations per ms of `spin` on this machine, from the fastest of 3 timed calls:
  // one call right after the warm-up once came out 3.5x slow, and (b) got 1.7 s of work, not 5.
  const itersPerMs = spinItersPerMs()
  // Pareto(alpha = 1.5) sizes, scaled to targetMs in total.
  const rnd = mulberry32(42)
  const raw = Array.from({ length: count }, () => 1 / Math.pow(1 - rnd(), 1 / 1.5))
  const scale = (targetMs * itersPerMs) / raw.reduce((a, b) => a + b, 0)
  // `| 0`: integers, so every peer's `spin` sees small integers, not doubles (V8 specialises on it).
  const sizes = raw.map((r) => Math.max(1, Math.round(r * scale)) | 0)
  // Rounds, as in (c): each round runs one single-threaded pass and one call of every peer, and
  // each peer's makespan is judged against the pass of its own round. A call takes 2.5-5 s, and
  // this VM has spells of seconds in which a thread runs 20-30% slower: a full run had gort 41%
  // over an ideal taken minutes before, and the next (b) alone had piscina 32% over.
  const rounds = quick ? 1 : 3
  const serialPass = (): number => {
    const s0 = performance.now()
    for (const n of sizes) spinFn(n)
    return performance.now() - s0
  }
  const passes: number[] = []
  console.log(`\n(b) ${count} heavy-tailed CPU tasks, about ${fmt(targetMs, 0)} ms of work single-threaded (largest ${fmt(Math.max(...sizes) / itersPerMs, 1)} ms), ${rounds} rounds`)
  const gortPts: [number, number][] = []
  const pisPts: [number, number][] = []
  const rows: Record<string, unknown>[] = []
  for (const procs of procsList) {
    const rt = await rtFor(procs)
    phase = `b: procs ${procs}`
    const st0 = rt.stats().total
    const pis = piscina(procs)
    const pool = procs === maxProcs ? poolifier(procs) : undefined
    // Each call returns the sum of its tasks' durations as the peer's threads measured them:
    // each peer's own ideal is that over procs. It follows each thread's JIT (the compiled loop's
    // speed differed by up to 3.4x between threads here), which the main thread's pass does not.
    const peers: { name: string; call: () => Promise<number> }[] = [
      { name: 'gort', call: async () => sum(await Promise.all(sizes.map((n) => rt.go(timedSpin, n)))) },
      { name: 'piscina', call: async () => sum(await Promise.all(sizes.map((n) => pis.run({ k: 'tspin', n })))) },
    ]
    if (pool !== undefined) peers.push({ name: 'poolifier', call: async () => sum(await Promise.all(sizes.map((n) => pool.run({ k: 'tspin', n })))) })
    // Per peer and round: [makespan ms, the round's single-threaded pass ms, the threads' own work ms].
    const got = new Map<string, [number, number, number][]>(peers.map((x) => [x.name, []]))
    // Every peer's warm-up call comes before the first pass: the pools start their workers when
    // made, and a pass timed while they boot and compile shares the cores with them (quick mode's
    // second pass ran 1.4-1.6x slower than its first, on 2 cores).
    for (const peer of peers) await timeIt(`b:${peer.name}:${procs}:warm`, peer.call, 1, 0)
    for (let r = 0; r < rounds; r++) {
      const serial = serialPass()
      passes.push(serial)
      for (const peer of peers) {
        let work = NaN
        const ms = await timeIt(`b:${peer.name}:${procs}:${r}`, async () => (work = await peer.call()), 1, 0)
        got.get(peer.name)!.push([ms, serial, work])
      }
    }
    await closePool(pis)
    if (pool !== undefined) await closePool(pool)
    // Over the warm-up and timed calls: hand-offs add a thread (oversubscription on a full machine).
    const st = rt.stats()
    const sched = { handoffs: st.total.handoffs - st0.handoffs, steals: st.total.steals - st0.steals, globalPulls: st.total.globalPulls - st0.globalPulls, threads: st.threads }
    if (process.env["SCHED_BENCH_DEBUG"]) console.log(JSON.stringify(st))
    console.log(`  procs=${procs}: gort scheduler over ${rounds + 1} calls: ${JSON.stringify(sched)}`)
    // Median over rounds of (makespan / ideal - 1), against the round's pass and against the peer's own work.
    const over = (name: string): number => median(got.get(name)!.map(([ms, serial]) => (ms / (serial / procs) - 1) * 100))
    const overOwn = (name: string): number => median(got.get(name)!.map(([ms, , work]) => (ms / (work / procs) - 1) * 100))
    const mid = (name: string, i: 0 | 2): number => median(got.get(name)!.map((x) => x[i]))
    const ideal = median(got.get('gort')!.map(([, serial]) => serial)) / procs
    const g = mid('gort', 0)
    const p = mid('piscina', 0)
    const pf = pool === undefined ? NaN : mid('poolifier', 0)
    gortPts.push([procs, procs / (1 + over('gort') / 100)])
    pisPts.push([procs, procs / (1 + over('piscina') / 100)])
    const goB = goRef?.b.procs[String(procs)]
    rows.push({
      procs, idealMs: ideal, gortMs: g, piscinaMs: p, poolifierMs: pf, gortSched: sched,
      overIdealPct: { gort: over('gort'), piscina: over('piscina'), poolifier: pool === undefined ? NaN : over('poolifier') },
      overOwnWorkPct: { gort: overOwn('gort'), piscina: overOwn('piscina'), poolifier: pool === undefined ? NaN : overOwn('poolifier') },
      inTaskWorkMs: { gort: mid('gort', 2), piscina: mid('piscina', 2), poolifier: pool === undefined ? NaN : mid('poolifier', 2) },
      perRound: Object.fromEntries(got),
    })
    console.log(
      `  procs=${procs}, median of ${rounds} rounds: ideal ${fmt(ideal, 0)} ms | gort ${fmt(g, 0)} ms (${fmt(over('gort'), 1)}% over) | ` +
        `piscina ${fmt(p, 0)} ms (${fmt(over('piscina'), 1)}% over, gort ${fmt(p / g, 2)}x)` +
        (pool === undefined ? '' : ` | poolifier ${fmt(pf, 0)} ms (${fmt(over('poolifier'), 1)}% over, gort ${fmt(pf / g, 2)}x)`) +
        (goB === undefined ? '' : ` | Go ${fmt(goB.overIdealPct, 1)}% over its ideal`),
    )
    console.log(
      `  procs=${procs}, against the work each peer's threads measured in their tasks (${fmt(mid('gort', 2), 0)} / ${fmt(mid('piscina', 2), 0)}${pool === undefined ? '' : ` / ${fmt(mid('poolifier', 2), 0)}`} ms): ` +
        `gort ${fmt(overOwn('gort'), 1)}% over its own | piscina ${fmt(overOwn('piscina'), 1)}% over its own` + (pool === undefined ? '' : ` | poolifier ${fmt(overOwn('poolifier'), 1)}% over its own`),
    )
  }
  const serialMs = median(passes)
  console.log(`  single-threaded passes: ${passes.map((x) => fmt(x, 0)).join(', ')} ms`)
  results['b'] = { count, serialMs, rows }
  return [
    { name: 'gort (b) makespan', points: gortPts, color: '#1f77b4' },
    { name: 'piscina (b) makespan', points: pisPts, color: '#ff7f0e' },
  ]
}

// ---- (c) fork-join fib ----------------------------------------------------------

function leaves(n: number, cutoff: number, out: number[]): number[] {
  if (n < cutoff) out.push(n)
  else {
    leaves(n - 1, cutoff, out)
    leaves(n - 2, cutoff, out)
  }
  return out
}

/**
 * Plain worker_threads, one per proc, each sent its share of the leaves in one message: the
 * leaves dealt out largest first to the least loaded thread (sizes known ahead, as no scheduler
 * knows them). This is the ceiling of a fan-out on this machine: no queue, no steal, one message.
 */
function staticSplit(threads: number, leafList: number[]): { run(): Promise<number>; close(): Promise<void> } {
  const workers = Array.from({ length: threads }, () => new Worker(splitWorker))
  const shares: number[][] = workers.map(() => [])
  const load = new Float64Array(threads)
  for (const n of [...leafList].sort((a, b) => b - a)) {
    const k = load.indexOf(Math.min(...load))
    shares[k]!.push(n)
    load[k]! += Math.pow(1.618, n)
  }
  const call = (w: Worker, share: number[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const onMessage = (v: number): void => {
        w.off('error', onError)
        resolve(v)
      }
      const onError = (e: Error): void => {
        w.off('message', onMessage)
        reject(e)
      }
      w.once('message', onMessage)
      w.once('error', onError)
      w.postMessage(share)
    })
  return {
    run: async () => sum(await Promise.all(workers.map((w, i) => call(w, shares[i]!)))),
    close: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  }
}

async function shapeC(): Promise<Series[]> {
  const rows: Record<string, unknown>[] = []
  const gortPts: [number, number][] = []
  const pisPts: [number, number][] = []
  const cases = [
    { n: 27, cutoff: 16 },
    { n: quick ? 32 : 35, cutoff: quick ? 22 : 25 },
  ]
  console.log('\n(c) fork-join fib (gort nests go() inside tasks; pools get the leaves fanned out from main)')
  for (const { n, cutoff } of cases) {
    const expect = serialFib(n)
    const big = n >= 35
    // Rounds: every peer, single-threaded included, runs `iters` calls in each round, so each
    // ratio is taken between calls minutes apart at most. This VM's speed for fib drifts by up to
    // 1.8x from one minute to the next (a host neighbour, not the JIT: the same process went from
    // 17 to 31 ms for fib(32) with no recompilation), and single-threaded had been timed once
    // before all procs, half a minute before the last peer.
    const rounds = quick ? 2 : 5
    const iters = big ? 2 : quick ? 5 : 8
    // Steady state, the same for every peer: the Ms (and the pools' workers) compile fib and the
    // scheduler's own paths during the warm-up. fib(27) on gort took about 25 calls to reach its
    // steady state (10 warm-up calls still left the median at 4.6-6 ms against 2.0 ms after).
    const warm = big ? 3 : quick ? 20 : 40
    const ls = leaves(n, cutoff, [])
    for (const procs of procsList) {
      phase = `c: fib(${n}) procs ${procs}`
      const rt = await rtFor(procs)
      const pis = piscina(procs)
      const split = staticSplit(procs, ls)
      const pool = procs === maxProcs ? poolifier(procs) : undefined
      const ms: Record<'single' | 'gort' | 'split' | 'piscina' | 'poolifier', number[]> = { single: [], gort: [], split: [], piscina: [], poolifier: [] }
      // Round -1 is every peer's warm-up, untimed, so no round's single-threaded calls share the
      // cores with pool workers that are still booting (see (b)).
      for (let r = -1; r < rounds; r++) {
        const [w, i] = r < 0 ? [0, warm] : [1, iters]
        const keep = (peer: keyof typeof ms, v: number): void => void (r >= 0 && ms[peer].push(v))
        keep('single', await timeIt(`c:single:${n}:${procs}:${r}`, async () => serialFib(n), i, w))
        let got = 0
        keep('gort', await timeIt(`c:gort:${n}:${procs}:${r}`, async () => (got = await rt.go(fib, n, cutoff)), i, w))
        if (got !== expect) throw new Error(`gort fib(${n}) = ${got}, want ${expect}`)
        keep('split', await timeIt(`c:split:${n}:${procs}:${r}`, async () => {
          if ((await split.run()) !== expect) throw new Error(`static split fib(${n}) is wrong`)
        }, i, w))
        keep('piscina', await timeIt(`c:piscina:${n}:${procs}:${r}`, async () => (await Promise.all(ls.map((k) => pis.run({ k: 'fib', n: k })))).reduce((a, b) => a + b, 0), i, w))
        if (pool !== undefined) keep('poolifier', await timeIt(`c:poolifier:${n}:${procs}:${r}`, async () => Promise.all(ls.map((k) => pool.run({ k: 'fib', n: k }))), i, w))
      }
      await closePool(pis)
      await split.close()
      if (pool !== undefined) await closePool(pool)
      // Each peer's speed-up is the median over rounds of single-threaded / peer in that round.
      const speedup = (peer: number[]): number => (peer.length === 0 ? NaN : median(peer.map((v, r) => ms.single[r]! / v)))
      const single = median(ms.single)
      const g = median(ms.gort)
      const sp = median(ms.split)
      const p = median(ms.piscina)
      const pf = median(ms.poolifier)
      const goCase = goRef === null ? undefined : [goRef.cSmall, goRef.cLarge].find((c) => c.n === n && c.cutoff === cutoff)
      const goMs = goCase?.procs[String(procs)]
      const goC = goCase === undefined || goMs === undefined ? undefined : { ms: goMs, serialMs: goCase.serialMs }
      rows.push({
        n, cutoff, procs, leaves: ls.length, rounds, itersPerRound: iters, singleMs: single, gortMs: g, staticSplitMs: sp, piscinaMs: p, poolifierMs: pf,
        speedup: { gort: speedup(ms.gort), staticSplit: speedup(ms.split), piscina: speedup(ms.piscina), poolifier: speedup(ms.poolifier) },
        perRoundMs: ms,
      })
      if (n === cases[1]!.n) {
        gortPts.push([procs, speedup(ms.gort)])
        pisPts.push([procs, speedup(ms.piscina)])
      }
      console.log(
        `  fib(${n}) cut-off ${cutoff}, procs=${procs}, median of ${rounds} rounds: single ${fmt(single, 2)} ms | gort ${fmt(g, 2)} ms (${fmt(speedup(ms.gort), 2)}x single) | ` +
          `plain workers, static split ${fmt(sp, 2)} ms (${fmt(speedup(ms.split), 2)}x single, gort ${fmt(sp / g, 2)}x) | ` +
          `piscina ${fmt(p, 2)} ms (gort ${fmt(p / g, 2)}x)` + (Number.isNaN(pf) ? '' : ` | poolifier ${fmt(pf, 2)} ms (gort ${fmt(pf / g, 2)}x)`) +
          (goC === undefined ? '' : ` | Go ${fmt(goC.ms, 2)} ms (${fmt(goC.serialMs / goC.ms, 2)}x its serial ${fmt(goC.serialMs, 2)} ms)`),
      )
    }
  }
  results['c'] = rows
  return [
    { name: `gort (c) fib(${cases[1]!.n})`, points: gortPts, color: '#2ca02c' },
    { name: `piscina (c) fib(${cases[1]!.n}) fan-out`, points: pisPts, color: '#d62728' },
  ]
}

// ---- (d) latency -------------------------------------------------------------------

/**
 * The reference for (d): a round trip between the main thread, waiting with Atomics.waitAsync,
 * and a worker parked in Atomics.wait, each waking the other with Atomics.notify, with nothing
 * else on the way. Any scheduler whose threads sleep when idle pays both wake-ups per round trip;
 * on this VM they cost twice as much in some hours as in others. gort pays neither while an M is
 * still spinning after its last G and the main thread's short poll (mainSpinUs) finds the result.
 */
async function wakeRoundTrip(n: number): Promise<{ p50: number; p99: number }> {
  const I = new Int32Array(new SharedArrayBuffer(8))
  const w = new Worker(wakeWorker, { workerData: I.buffer })
  await new Promise((r) => w.once('online', r))
  const xs: number[] = []
  for (let i = 1; i <= n + 100; i++) {
    const t = performance.now()
    Atomics.store(I, 0, i)
    Atomics.notify(I, 0)
    let v
    while ((v = Atomics.load(I, 1)) !== i) {
      const w8 = waitAsync(I, 1, v)
      if (w8.async) await w8.value
    }
    if (i > 100) xs.push((performance.now() - t) * 1000)
  }
  Atomics.store(I, 0, -1)
  Atomics.notify(I, 0)
  await new Promise((r) => w.once('exit', r))
  return { p50: pct(xs, 0.5), p99: pct(xs, 0.99) }
}

async function shapeD(): Promise<void> {
  const n = quick ? 500 : 3000
  const rt = await rtFor(maxProcs)
  // A peer that stops answering (poolifier did, twice, in this shape here) is reported as hung
  // after 20 s instead of stalling the whole bench. Every peer pays the same Promise.race.
  // Every peer gets the same warm-up. A fresh gort runtime's first few thousand round trips took
  // 20-130 µs (p50 of chunks of 300, in a driver, from dist/ or under tsx alike) and about 5 µs
  // from about the 6000th: the Ms' code compiling, not the clock (an idle second after start
  // changed nothing). With 100 warm-up calls the bench measured that phase, not the steady state.
  const warm = quick ? 1000 : 5000
  const lat = async (run: (i: number) => Promise<number>): Promise<{ p50: number; p99: number; hung?: boolean }> => {
    let timer: NodeJS.Timeout | undefined
    const giveUp = new Promise<'hung'>((r) => (timer = setTimeout(r, 20_000, 'hung')))
    try {
      for (let i = 0; i < warm; i++) if ((await Promise.race([run(i), giveUp])) === 'hung') return { p50: NaN, p99: NaN, hung: true }
      const xs: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        if ((await Promise.race([run(i), giveUp])) === 'hung') return { p50: NaN, p99: NaN, hung: true }
        xs.push((performance.now() - t) * 1000)
      }
      return { p50: pct(xs, 0.5), p99: pct(xs, 0.99) }
    } finally {
      clearTimeout(timer)
    }
  }
  const show = (r: { p50: number; p99: number; hung?: boolean }): string =>
    r.hung === true ? 'stopped answering (no result within 20 s)' : `p50 ${fmt(r.p50, 1)} µs  p99 ${fmt(r.p99, 1)} µs`
  phase = 'd: gort'
  const polls0 = rt.stats().mainPolls
  const g = await lat((i) => rt.go(add, i, 1))
  const polls1 = rt.stats().mainPolls
  const polls = { hits: polls1.hits - polls0.hits, misses: polls1.misses - polls0.misses }
  // The same with a shared Int32Array among the arguments: by registry id in the record
  // (sharedbufs.ts), where it used to go by two messages through the main thread.
  phase = 'd: gort, shared buffer argument'
  const shared = new Int32Array(new SharedArrayBuffer(64))
  const gShared = await lat((i) => rt.go(addShared, shared, i & 15, 1))
  phase = 'd: floor'
  const floor = await wakeRoundTrip(n)
  phase = 'd: piscina'
  const pis = piscina(maxProcs)
  const p = await lat((i) => pis.run({ k: 'add', a: i, b: 1 }))
  if (p.hung === true) peerHung = true
  const pShared = await lat((i) => pis.run({ k: 'sadd', view: shared, a: i & 15, b: 1 }))
  if (pShared.hung === true) peerHung = true
  await closePool(pis)
  phase = 'd: poolifier'
  const pool = poolifier(maxProcs)
  const pf = await lat((i) => pool.run({ k: 'add', a: i, b: 1 }))
  if (pf.hung === true) peerHung = true
  await closePool(pool)
  // (d') start delay of a child spawned inside a task while its M stays busy: another M must
  // steal it (a spinning M, or one that wakep woke). Clocks: each thread's timeOrigin + now().
  phase = 'd: start delay'
  const sd: number[] = []
  for (let i = 0; i < (quick ? 200 : 1000); i++) sd.push(await rt.go(startDelay, 0.5))
  const startP50 = pct(sd, 0.5)
  const startP99 = pct(sd, 0.99)
  const stolenShare = sd.filter((x) => x < 500).length / sd.length
  // (d'') the same while the other M is awake: a child every 40 µs for 2 ms, so after the first
  // (which wakes it) that M is running a child or spinning for the next one. The first of each
  // run is left out: it measures a parked M's wake-up, as above.
  phase = 'd: start delay, spinning'
  // Warm-up first: the first calls measure the JIT compiling the steal and spin paths in each M
  // (every M is an isolate of its own and compiles its own copy). With 10 warm-up calls the p50
  // was 113-404 µs in 2 of 2 runs of --shapes=d, with 100 it was 1.2-1.7 µs in the runs between.
  for (let i = 0; i < (quick ? 20 : 100); i++) await rt.go(startDelays, 2, 40)
  const spinning: number[] = []
  for (let i = 0; i < (quick ? 10 : 40); i++) spinning.push(...(await rt.go(startDelays, 2, 40)).slice(1))
  const spinP50 = pct(spinning, 0.5)
  const spinP99 = pct(spinning, 0.99)
  console.log('\n(d) spawn-to-result latency, main -> worker -> main, one at a time')
  console.log(`  gort      ${show(g)}  (the main thread's polls before waiting: ${polls.hits} found the result, ${polls.misses} missed)`)
  console.log(`  two wake-ups ${show(floor)}  (main in Atomics.waitAsync, a worker in Atomics.wait, waking each other: what a round trip costs when both sides sleep; gort ${fmt(g.p50 / floor.p50, 2)}x it at p50, its M spinning and main polling)`)
  if (goRef !== null) console.log(`  Go        p50 ${fmt(goRef.d.p50, 2)} µs  p99 ${fmt(goRef.d.p99, 2)} µs  (go f() then <-ch: the new goroutine runs on the spawner's P, so no thread is crossed or woken)`)
  console.log(`  piscina   ${show(p)}  (gort ${fmt(p.p50 / g.p50, 2)}x at p50)`)
  console.log(`  poolifier ${show(pf)}  (gort ${fmt(pf.p50 / g.p50, 2)}x at p50)`)
  console.log(`  with a shared Int32Array and two numbers as arguments: gort ${show(gShared)} (${fmt(gShared.p50 / g.p50, 2)}x its numbers-only p50) | piscina ${show(pShared)} (gort ${fmt(pShared.p50 / gShared.p50, 2)}x at p50)`)
  console.log(`  gort, child spawned in a busy task, another M parked (wakep): p50 ${fmt(startP50, 1)} µs  p99 ${fmt(startP99, 1)} µs  (${fmt(100 * stolenShare, 0)}% started within the 500 µs hold; min ${fmt(Math.min(...sd), 1)} µs)`)
  console.log(`  gort, child spawned in a busy task while another M spins: p50 ${fmt(spinP50, 1)} µs  p99 ${fmt(spinP99, 1)} µs  (${spinning.length} children, one every 40 µs)`)
  results['d'] = {
    samples: n, warmup: warm, gort: { ...g, mainPolls: polls }, wakeFloor: floor, piscina: p, poolifier: pf,
    sharedBufferArgs: { gort: gShared, piscina: pShared },
    startDelay: { samples: sd.length, p50: startP50, p99: startP99, stolenShare },
    startDelayWhileSpinning: { samples: spinning.length, everyUs: 40, p50: spinP50, p99: spinP99 },
  }
}

// ---- (e) stuck M hand-off ------------------------------------------------------------

async function shapeE(): Promise<void> {
  phase = 'e'
  const rt = await Runtime.start({ procs: 1, spares: 1 })
  const xs: number[] = []
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    const flag = new Int32Array(new SharedArrayBuffer(8))
    const blocked = rt.go(block, flag)
    while (Atomics.load(flag, 1) === 0) {
      const r = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> } }).waitAsync(flag, 1, 0)
      if (r.async) await r.value
    }
    const t = performance.now()
    await rt.go(add, 1, 1)
    xs.push(performance.now() - t)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await blocked
  }
  await rt.close()
  console.log(`\n(e) work queued behind a stuck M completes elsewhere after a median ${fmt(median(xs), 1)} ms (hand-off threshold 10 ms; samples ${xs.map((x) => fmt(x, 1)).join(' ')})`)
  results['e'] = { samplesMs: xs, medianMs: median(xs) }
}

// ---- (f) idle CPU --------------------------------------------------------------------

async function shapeF(): Promise<void> {
  phase = 'f'
  const rt = await rtFor(maxProcs)
  await Promise.all(Array.from({ length: 10_000 }, (_, i) => rt.go(add, i, 1)))
  await new Promise((r) => setTimeout(r, 200))
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, quick ? 500 : 1000))
  const c = process.cpuUsage(c0)
  const pctCpu = ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100
  console.log(`\n(f) idle runtime (procs=${maxProcs}, after a burst): ${fmt(pctCpu, 2)}% of one core for the whole process`)
  results['f'] = { idleCpuPercent: pctCpu }
}

// ---- (g) mixed I/O and CPU ---------------------------------------------------------------

/** Iterations of `spin` per ms on this thread, from the fastest of 3 timed calls (why: see (b)). */
function spinItersPerMs(): number {
  spinFn(5e6)
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    spinFn(2e7)
    best = Math.min(best, performance.now() - t0)
  }
  return 2e7 / best
}

/** Wall-clock ms comparable across threads, as the workers' `started` reads it. */
const wallMs = (): number => performance.timeOrigin + performance.now()

async function shapeG(): Promise<void> {
  const procs = maxProcs
  const count = 2000
  const targetMs = quick ? 600 : 3000
  const rounds = quick ? 1 : 3
  const itersPerMs = spinItersPerMs()
  // Pareto(alpha = 1.5) compute sizes, as (b), scaled to targetMs in total; half the tasks read
  // a small file first, the other half await a 1 ms timer.
  const rnd = mulberry32(7)
  const raw = Array.from({ length: count }, () => 1 / Math.pow(1 - rnd(), 1 / 1.5))
  const scale = (targetMs * itersPerMs) / raw.reduce((a, b) => a + b, 0)
  const sizes = raw.map((r) => Math.max(1, Math.round(r * scale)) | 0)
  const rt = await rtFor(procs)
  const pis = piscina(procs)
  const pool = poolifier(procs)
  phase = 'g: makespan'
  const st0 = rt.stats().total
  // Each call returns the sum of its tasks' compute as the peer's threads measured it; the ideal
  // is that over procs (the I/O waits overlap the other tasks' compute).
  const peers: { name: string; call: () => Promise<number> }[] = [
    { name: 'gort', call: async () => sum(await Promise.all(sizes.map((n, i) => rt.go(ioThenSpin, n, i & 1)))) },
    { name: 'piscina', call: async () => sum(await Promise.all(sizes.map((n, i) => pis.run({ k: 'io', n, a: i & 1 })))) },
    { name: 'poolifier', call: async () => sum(await Promise.all(sizes.map((n, i) => pool.run({ k: 'io', n, a: i & 1 })))) },
  ]
  const got = new Map<string, [number, number][]>(peers.map((x) => [x.name, []]))
  for (const peer of peers) await timeIt(`g:${peer.name}:warm`, peer.call, 1, 0)
  for (let r = 0; r < rounds; r++) {
    for (const peer of peers) {
      let work = NaN
      const ms = await timeIt(`g:${peer.name}:${r}`, async () => (work = await peer.call()), 1, 0)
      got.get(peer.name)!.push([ms, work])
    }
  }
  const st1 = rt.stats().total
  const over = (name: string): number => median(got.get(name)!.map(([ms, work]) => (ms / (work / procs) - 1) * 100))
  const mid = (name: string, i: 0 | 1): number => median(got.get(name)!.map((x) => x[i]))
  // Phase 2: procs - 1 tasks (at least one) that await a 1 ms timer and then compute for
  // BG_MS, each resubmitted as it ends, so one M at a time resumes a task and computes while a
  // tiny task is submitted every few ms. The tiny task should start on an M that is free.
  const BG_MS = quick ? 10 : 20
  const samples = quick ? 100 : 400
  const background = Math.max(1, procs - 1)
  const latency = async (name: string, bg: () => Promise<unknown>, tiny: (at: number) => Promise<number>): Promise<{ p50: number; p99: number }> => {
    phase = `g: latency ${name}`
    let stop = false
    const loops = Array.from({ length: background }, async () => {
      while (!stop) await bg()
    })
    const xs: number[] = []
    try {
      for (let i = 0; i < samples + 20; i++) {
        // A gap of 0 to 3 ms, so the submissions fall at every point of the background's cycle.
        await new Promise((r) => setTimeout(r, i & 3))
        const us = await tiny(wallMs())
        if (i >= 20) xs.push(us)
      }
    } finally {
      stop = true
      await Promise.all(loops)
    }
    return { p50: pct(xs, 0.5), p99: pct(xs, 0.99) }
  }
  const bgIters = Math.round(BG_MS * itersPerMs) | 0
  const lat = {
    gort: await latency('gort', () => rt.go(ioThenSpin, bgIters, 0), (at) => rt.go(started, at)),
    piscina: await latency('piscina', () => pis.run({ k: 'io', n: bgIters, a: 0 }), (at) => pis.run({ k: 'started', a: at })),
    poolifier: await latency('poolifier', () => pool.run({ k: 'io', n: bgIters, a: 0 }), (at) => pool.run({ k: 'started', a: at })),
  }
  await closePool(pis)
  await closePool(pool)
  const sched = { handoffs: st1.handoffs - st0.handoffs, steals: st1.steals - st0.steals, globalPulls: st1.globalPulls - st0.globalPulls }
  const g = mid('gort', 0)
  console.log(`\n(g) ${count} tasks that each read a small file or await a 1 ms timer, then compute (heavy-tailed, about ${fmt(targetMs, 0)} ms in all single-threaded, largest ${fmt(Math.max(...sizes) / itersPerMs, 1)} ms), ${rounds} rounds, procs=${procs}`)
  console.log(`  gort scheduler over ${rounds + 1} calls: ${JSON.stringify(sched)}`)
  console.log(
    `  median of ${rounds} rounds: ideal ${fmt(mid('gort', 1) / procs, 0)} ms | gort ${fmt(g, 0)} ms (${fmt(over('gort'), 1)}% over its ideal) | ` +
      `piscina ${fmt(mid('piscina', 0), 0)} ms (${fmt(over('piscina'), 1)}% over, gort ${fmt(mid('piscina', 0) / g, 2)}x) | ` +
      `poolifier ${fmt(mid('poolifier', 0), 0)} ms (${fmt(over('poolifier'), 1)}% over, gort ${fmt(mid('poolifier', 0) / g, 2)}x)`,
  )
  const showLat = (r: { p50: number; p99: number }): string => `p50 ${fmt(r.p50 / 1000, 3)} ms  p99 ${fmt(r.p99 / 1000, 3)} ms`
  console.log(`  tiny task started while ${background} task(s) await a timer and compute ${BG_MS} ms (${samples} samples): gort ${showLat(lat.gort)} | piscina ${showLat(lat.piscina)} (gort ${fmt(lat.piscina.p50 / lat.gort.p50, 2)}x at p50) | poolifier ${showLat(lat.poolifier)} (gort ${fmt(lat.poolifier.p50 / lat.gort.p50, 2)}x at p50)`)
  results['g'] = {
    tasks: count, procs, rounds, targetMs, gortSched: sched,
    makespanMs: { gort: g, piscina: mid('piscina', 0), poolifier: mid('poolifier', 0) },
    overIdealPct: { gort: over('gort'), piscina: over('piscina'), poolifier: over('poolifier') },
    perRound: Object.fromEntries(got),
    tinyStartUs: { background, backgroundComputeMs: BG_MS, samples, ...lat },
  }
}

// ---- main ----------------------------------------------------------------------------

const only = process.argv.find((a) => a.startsWith('--shapes='))?.slice('--shapes='.length).split(',')
const want = (id: string): boolean => only === undefined || only.includes(id)
// Pools may unref idle workers between runs; hold the process open until the bench is done.
// It doubles as a watchdog: a phase that makes no progress for a minute is reported.
let lastPhase = ''
let samePhase = 0
const hold = setInterval(() => {
  samePhase = phase === lastPhase ? samePhase + 1 : 0
  lastPhase = phase
  if (samePhase === 6) {
    const rt = runtimes.get(maxProcs)
    console.error(`[watchdog] still in ${phase} after 60 s${rt === undefined ? '' : `; ${rt.schedtrace()} ${JSON.stringify(rt.stats())}`}`)
  }
}, 10_000)
const t0 = performance.now()
// Go's own G/M/P scheduler on the same shapes (bench/go/sched), when `go` is on the PATH. It runs
// first and alone, so it does not share the cores with gort or the pools.
if (['a', 'b', 'c', 'd'].some(want)) {
  phase = 'go reference'
  goRef = runGoScheduler(procsList, quick)
  console.log(goRef === null ? '\nGo reference: not run (no `go` on the PATH)' : `\nGo reference: ${goRef.version} (bench/go/sched), GOMAXPROCS ${procsList.join(',')}`)
  results['go'] = goRef
}
if (want('a')) await shapeA()
const seriesB = want('b') ? await shapeB() : []
const seriesC = want('c') ? await shapeC() : []
if (want('d')) await shapeD()
if (want('e')) await shapeE()
if (want('f')) await shapeF()
if (want('g')) await shapeG()
const rescues: Record<string, number> = {}
for (const [procs, rt] of runtimes) {
  rescues[`procs=${procs}`] = rt.stats().rescues
  await rt.close()
}
clearInterval(hold)
results['monitorRescues'] = rescues // lost wake-ups the monitor had to repair: should be all 0
results['peersThatStoppedAnswering'] = hungRows

mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  cpuModel,
  loadavgAtStart: loadavg(),
  quick,
  procs: procsList,
  note: 'Taken on a shared machine while other processes used the cores: absolute numbers are noisy; compare the ratios within one run.',
}
// A subset run (--shapes) must not overwrite the full results and plot.
const base = only === undefined ? 'scheduler' : `scheduler-${only.join('')}`
writeFileSync(new URL(`./results/${base}.json`, import.meta.url), JSON.stringify({ meta, ...results }, null, 2) + '\n')
if (seriesB.length + seriesC.length > 0) {
  writeFileSync(
    new URL(`./results/${base}.svg`, import.meta.url),
    speedupSvg(`gort vs piscina speedup over single-threaded (${availableParallelism()} cpus${quick ? ', quick' : ''})`, [...seriesB, ...seriesC], maxProcs),
  )
}
console.log(`\nwrote bench/results/${base}.json${seriesB.length + seriesC.length > 0 ? ` and ${base}.svg` : ''} in ${fmt((performance.now() - t0) / 1000, 1)} s`)
if (peerHung) process.exit(0)
