/**
 * SharedChan across threads, with peers in the same run (ratios printed, so a noisy machine still
 * compares fairly):
 * (a) unbuffered ping-pong round trip between the main thread and a task on an M (the M's side
 *     spins in its recv while main answers), against a MessagePort round trip with a plain Worker
 *     (event-driven), a comlink call, `multithreading` 0.3 (channel(1) each way), and Go (-cpu 2).
 * (b) cap-1024 throughput of small numbers between two Ms, against MessagePort between two
 *     Workers (one number per message), comlink calls (pipelined), `multithreading` 0.3's channel(1024), and Go.
 *     The scheduler may put both tasks on one M: each run's placement is printed, and runs on two
 *     Ms get their own median, which is the number the target (3x MessagePort) is about.
 * (c) 4 producers x 4 consumers on one cap-1024 channel, 8 tasks over 2 Ms, against 4 source
 *     Workers posting round-robin to 4 sink Workers (16 MessagePorts: ports have no shared
 *     queue, so this is the nearest equivalent), and Go (4 + 4 goroutines).
 * (e) one task receiving by select over 4 shared channels, each fed by its own producer task
 *     (cap 1024 and unbuffered), against the same producers into one channel with a plain
 *     receiver (the cost of select itself), one Worker listening on 4 ports fed by 4 Workers
 *     (its event loop is the select), and Go's select.
 * Throughput in (c)/(e) is items over the span from the first item any consumer got to the last
 * close it saw, on a clock all threads share, so thread start-up is not counted on either side.
 *
 * The `multithreading` package is not a dependency either, and is not installed here: its rows
 * are not in this bench (see bench/NOTES.md).
 *
 * comlink (a dependency of gort, for actors) is loaded from `comlink`, or from
 * GORT_PEERS=<dir with node_modules/comlink>; otherwise its rows are skipped.
 * Writes bench/results/shared.json. Usage: tsx bench/shared.bench.ts [--quick] [--shapes=abce]
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { tmpdir, cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Runtime, SharedChan } from '../src/scheduler/index.js'
import { consume, consumeN, echo, produce, produceClose, produceN, selectSink } from './shared/tasks.js'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 5 : 15
const RTT_PER_ROUND = quick ? 2000 : 5000
const ITEMS = quick ? 200_000 : 1_000_000
const peerUrl = new URL('./shared/peer-worker.mjs', import.meta.url)

/**
 * The `multithreading` 0.3 peer (a devDependency): (a) and (b) in a child process of its own, with
 * the two Node 22 polyfills it needs; null when it is not installed or fails.
 */
function multithreadingPeer(mode: 'rt' | 'tp', n: number): Record<string, number | boolean> | null {
  if (!existsSync(fileURLToPath(new URL('../node_modules/multithreading/package.json', import.meta.url)))) return null
  const r = spawnSync(process.execPath, ['--import', fileURLToPath(new URL('./shared/node22-polyfill.mjs', import.meta.url)), fileURLToPath(new URL('./shared/multithreading-peer.mjs', import.meta.url)), mode, String(n)], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) {
    console.error(`multithreading peer (${mode}) failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-1)[0]}`)
    return null
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>
}
const shapes = /^--shapes=(\w+)$/.exec(process.argv.find((a) => a.startsWith('--shapes=')) ?? '')?.[1] ?? 'abce'
const RUNS = quick ? 3 : 5

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!
}

/** Per-round-trip µs: p50/p99 of single round trips (p50 is the number the target compares), and `median`, the median of ROUNDS batch means (the mean with the tail). */
async function rtt(one: (i: number) => Promise<unknown>): Promise<{ median: number; p50: number; p99: number }> {
  for (let i = 0; i < 1000; i++) await one(i) // warm-up
  const means: number[] = []
  const singles: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    for (let i = 0; i < RTT_PER_ROUND; i++) {
      const s = performance.now()
      await one(i)
      singles.push(performance.now() - s)
    }
    means.push(((performance.now() - t0) / RTT_PER_ROUND) * 1000)
  }
  return { median: median(means), p50: pct(singles, 0.5) * 1000, p99: pct(singles, 0.99) * 1000 }
}

function comlinkPaths(): { comlink: string; adapter: string } | null {
  const dirs = [fileURLToPath(new URL('../node_modules/comlink', import.meta.url))]
  if (process.env['GORT_PEERS']) dirs.unshift(join(process.env['GORT_PEERS'], 'node_modules/comlink'))
  for (const d of dirs) {
    const c = join(d, 'dist/esm/comlink.mjs')
    const a = join(d, 'dist/esm/node-adapter.mjs')
    if (existsSync(c) && existsSync(a)) return { comlink: pathToFileURL(c).href, adapter: pathToFileURL(a).href }
  }
  return null
}

function goBench(): Record<string, number> | null {
  const dir = fileURLToPath(new URL('./go', import.meta.url))
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'gort-go-cache') }
  const r = spawnSync('go', ['test', '-run', '^$', '-bench', '.', '-cpu', '2', '-benchtime', quick ? '100ms' : '500ms', './shared'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) return null
  const out: Record<string, number> = {}
  for (const line of r.stdout.split('\n')) {
    const m = /^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op/.exec(line)
    if (m) out[m[1]!] = Number(m[2])
  }
  return out
}

const online = (w: Worker): Promise<void> => new Promise((r) => w.once('online', () => r()))

/** Items per second over the span from the earliest first item to the latest end: [items, first, end] each. */
function spanRate(parts: number[][]): number {
  let n = 0
  let first = Infinity
  let end = 0
  for (const p of parts) {
    n += p[0]!
    first = Math.min(first, p[1]!)
    end = Math.max(end, p[2]!)
  }
  return n / ((end - first) / 1000)
}

/** `sources` source Workers each posting `per` numbers round-robin over ports to `sinks` sink Workers. */
async function portFanIn(sources: number, sinks: number, per: number): Promise<number> {
  const toSink: MessagePort[][] = Array.from({ length: sinks }, () => [])
  const fromSource: MessagePort[][] = Array.from({ length: sources }, () => [])
  for (let s = 0; s < sources; s++) {
    for (let k = 0; k < sinks; k++) {
      const { port1, port2 } = new MessageChannel()
      toSink[k]!.push(port1)
      fromSource[s]!.push(port2)
    }
  }
  const ws = toSink.map((ports) => new Worker(peerUrl, { workerData: { mode: 'sinks', ports }, transferList: ports }))
  await Promise.all(ws.map(online))
  const done = ws.map((w) => new Promise<number[]>((res) => w.once('message', res)))
  const srcs = fromSource.map((ports) => new Worker(peerUrl, { workerData: { mode: 'sources', ports, n: per }, transferList: ports }))
  const rate = spanRate(await Promise.all(done))
  await Promise.all([...ws, ...srcs].map((w) => w.terminate()))
  return rate
}

interface Rtt {
  median: number
  p50: number
  p99: number
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), cpus: cpus().length, load: loadavg()[0], quick }
  const rt = await Runtime.start({ procs: 2 })
  try {
    if (shapes.includes('a') || shapes.includes('b')) await shapesAB(rt, results)
    if (shapes.includes('c')) await shapeC(rt, results)
    if (shapes.includes('e')) await shapeE(rt, results)
    const go = goBench()
    results['go'] = go
    print(results, go)
    mkdirSync(new URL('./results', import.meta.url), { recursive: true })
    writeFileSync(new URL('./results/shared.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
  } finally {
    await rt.close()
  }
}

async function shapeC(rt: Runtime, results: Record<string, unknown>): Promise<void> {
  const sc: number[] = []
  const mp: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const ch = new SharedChan<number>(1024)
    const per = ITEMS / 4
    const consumers = Array.from({ length: 4 }, () => rt.go(consumeN, ch))
    const producers = Array.from({ length: 4 }, (_, i) => rt.go(produceN, ch, i * per, per))
    await Promise.all(producers)
    ch.close()
    const parts = await Promise.all(consumers)
    if (parts.reduce((a, p) => a + p[0]!, 0) !== ITEMS) throw new Error('(c) lost items')
    sc.push(spanRate(parts))
    mp.push(await portFanIn(4, 4, ITEMS / 4))
  }
  results['c'] = { sharedchan: median(sc), messagePort: median(mp), runs: { sharedchan: sc, messagePort: mp } }
}

async function shapeE(rt: Runtime, results: Record<string, unknown>): Promise<void> {
  const out: Record<string, unknown> = {}
  for (const cap of [1024, 0]) {
    const sc: number[] = []
    const plain: number[] = []
    const n = cap === 0 ? ITEMS / 10 : ITEMS
    for (let r = 0; r < RUNS; r++) {
      const cs = Array.from({ length: 4 }, () => new SharedChan<number>(cap))
      const sink = rt.go(selectSink, cs[0]!, cs[1]!, cs[2]!, cs[3]!)
      await Promise.all(cs.map((c) => rt.go(produceClose, c, n / 4)))
      const part = await sink
      if (part[0] !== n) throw new Error('(e) lost items')
      sc.push(spanRate([part]))
      // The control: the same 4 producers into one channel, one plain receiver (no select).
      const one = new SharedChan<number>(cap)
      const got = rt.go(consumeN, one)
      await Promise.all([0, 1, 2, 3].map((i) => rt.go(produceN, one, (i * n) / 4, n / 4)))
      one.close()
      plain.push(spanRate([await got]))
    }
    out[`cap${cap}`] = { sharedchan: median(sc), plainRecv: median(plain), runs: sc }
  }
  const mp: number[] = []
  for (let r = 0; r < RUNS; r++) mp.push(await portFanIn(4, 1, ITEMS / 4))
  out['messagePort'] = median(mp)
  results['e'] = out
}

async function shapesAB(rt: Runtime, results: Record<string, unknown>): Promise<void> {
  {
    // ---- (a) ping-pong ----
    const ping = new SharedChan<number>()
    const pong = new SharedChan<number>()
    const echoed = rt.go(echo, ping.buffer, pong.buffer)
    const sc = await rtt(async (i) => {
      await ping.send(i)
      await pong.recv()
    })
    ping.close()
    await echoed

    const mp = new Worker(peerUrl, { workerData: { mode: 'echo' } })
    await online(mp)
    let resolveMp: ((v: unknown) => void) | null = null
    mp.on('message', (v) => resolveMp!(v))
    const port = await rtt((i) => new Promise((r) => {
      resolveMp = r
      mp.postMessage(i)
    }))
    await mp.terminate()

    let cl: { median: number; p50: number; p99: number } | null = null
    const paths = comlinkPaths()
    let clThroughput: number | null = null
    if (paths !== null) {
      // comlink's own types are not installed with gort: the few calls used here, typed by hand.
      const Comlink = await import(paths.comlink) as {
        wrap<T>(ep: never): T & { [k: symbol]: () => void }
        releaseProxy: symbol
      }
      const nodeEndpoint = (await import(paths.adapter)).default as (w: unknown) => never
      const cw = new Worker(peerUrl, { workerData: { mode: 'comlink', ...paths } })
      const api = Comlink.wrap<{ echo(v: number): Promise<number>; take(v: number): Promise<void> }>(nodeEndpoint(cw))
      cl = await rtt((i) => api.echo(i))
      // (b) comlink: pipelined calls, 1024 in flight.
      const n = ITEMS / 10
      const t0 = performance.now()
      for (let i = 0; i < n; i += 1024) await Promise.all(Array.from({ length: Math.min(1024, n - i) }, (_, k) => api.take(i + k)))
      clThroughput = n / ((performance.now() - t0) / 1000)
      api[Comlink.releaseProxy]!()
      await cw.terminate()
    }
    const mt = multithreadingPeer('rt', quick ? 2000 : 10000)
    results['a'] = { sharedchan: sc, messagePort: port, comlink: cl, multithreading: mt === null ? null : mt['us'] }

    // ---- (b) throughput, cap 1024, between two Ms ----
    // The scheduler places the two tasks: on two Ms (the shape measured) or both on one M (no
    // cross-thread traffic, faster). Each run's placement is kept, and the two kinds get their
    // own medians. One run first, not counted: it compiles the tasks' loops on the Ms.
    const samples: number[] = []
    const threads: string[] = []
    for (let r = -1; r < (quick ? 4 : 8); r++) {
      const c = new SharedChan<number>(1024)
      const [got, prod] = await Promise.all([rt.go(consume, c.buffer), rt.go(produce, c.buffer, r < 0 ? ITEMS / 4 : ITEMS)])
      if (r < 0) continue
      samples.push(got[0]! / (got[1]! / 1000))
      threads.push(got[2] === prod ? 'same M' : 'two Ms')
    }
    const twoMs = samples.filter((_, i) => threads[i] === 'two Ms')
    const sameM = samples.filter((_, i) => threads[i] === 'same M')
    const mpSamples: number[] = []
    for (let r = 0; r < (quick ? 2 : 5); r++) {
      const { port1, port2 } = new MessageChannel()
      const sink = new Worker(peerUrl, { workerData: { mode: 'sink', port: port1 }, transferList: [port1] })
      await online(sink)
      const done = new Promise<number[]>((res) => sink.once('message', res))
      const src = new Worker(peerUrl, { workerData: { mode: 'source', port: port2, n: ITEMS }, transferList: [port2] })
      const [n, ms] = await done
      mpSamples.push(n! / (ms! / 1000))
      await Promise.all([sink.terminate(), src.terminate()])
    }
    const mtb = multithreadingPeer('tp', ITEMS / 10)
    results['b'] = {
      sharedchan: median(samples), threads, samples, twoMs: twoMs.length > 0 ? median(twoMs) : null, sameM: sameM.length > 0 ? median(sameM) : null,
      messagePort: median(mpSamples), comlink: clThroughput,
      multithreading: mtb === null ? null : (mtb['mps'] as number) * 1e6, multithreadingExact: mtb === null ? null : mtb['sumOk'] === true,
    }
  }
}

function print(results: Record<string, unknown>, go: Record<string, number> | null): void {
  const f = (x: number): string => x.toFixed(2)
  const M = (x: number): string => (x / 1e6).toFixed(3)
  const goRate = (name: string): number | undefined => (go?.[name] !== undefined ? 1e9 / go[name] : undefined)
  const a = results['a'] as { sharedchan: Rtt; messagePort: Rtt; comlink: Rtt | null } | undefined
  if (a !== undefined) {
    const { sharedchan: sc, messagePort: port, comlink: cl } = a
    // The target compares medians of single round trips (p50); the batch mean carries the tail
    // (preemption, wake-ups of a pair out of step) and is printed beside it with its own ratio.
    const row = (name: string, r: Rtt, vs?: Rtt, vsName?: string): string =>
      `  ${name.padEnd(13)}p50 ${f(r.p50).padStart(7)}  p99 ${f(r.p99).padStart(8)}  mean ${f(r.median).padStart(7)}` +
      (vs !== undefined ? `   SharedChan/${vsName}: p50 ${f(sc.p50 / vs.p50)}, mean ${f(sc.median / vs.median)}` : '')
    console.log(`(a) unbuffered ping-pong round trip, main <-> M (µs; p50/p99 of ${ROUNDS * RTT_PER_ROUND} single trips; mean = median of ${ROUNDS} batch means)`)
    console.log(row('SharedChan', sc))
    console.log(row('MessagePort', port, port, 'MessagePort'))
    if (cl) console.log(row('comlink', cl, cl, 'comlink'))
    else console.log('  comlink      skipped (not installed; GORT_PEERS=<dir>)')
    const mt = (results['a'] as { multithreading: number | null }).multithreading
    if (mt !== null) console.log(`  multithreading mean ${f(mt)}   (channel(1) each way)   SharedChan/multithreading: mean ${f(sc.median / mt)}`)
    else console.log('  multithreading skipped (not installed, or it failed)')
    if (go?.['SharedPingPong'] !== undefined) console.log(`  Go -cpu 2    mean ${f(go['SharedPingPong'] / 1000)}   SharedChan/Go: p50 ${f(sc.p50 / (go['SharedPingPong'] / 1000))}, mean ${f(sc.median / (go['SharedPingPong'] / 1000))}`)
    console.log(`  target: SharedChan/MessagePort p50 <= 0.25 (${sc.p50 / port.p50 <= 0.25 ? 'met' : 'missed'}), SharedChan p50 <= 5 µs (${sc.p50 <= 5 ? 'met' : 'missed'})`)
  }
  const b = results['b'] as { sharedchan: number; twoMs: number | null; sameM: number | null; messagePort: number; comlink: number | null; threads: string[] } | undefined
  if (b !== undefined) {
    const nTwo = b.threads.filter((t) => t === 'two Ms').length
    console.log(`(b) cap-1024 throughput of numbers between two Ms (M items/s; medians of ${b.threads.length} runs: ${b.threads.join(', ')})`)
    console.log(`  SharedChan   ${f(b.sharedchan / 1e6)} (all runs)   two Ms ${b.twoMs === null ? 'none' : f(b.twoMs / 1e6)} (${nTwo} runs)   same M ${b.sameM === null ? 'none' : f(b.sameM / 1e6)}`)
    console.log(`  MessagePort  ${f(b.messagePort / 1e6)}   SharedChan/MessagePort = ${f(b.sharedchan / b.messagePort)}x (all runs)` +
      (b.twoMs === null ? '' : `, ${f(b.twoMs / b.messagePort)}x (two Ms; target 3x: ${b.twoMs / b.messagePort >= 3 ? 'met' : 'missed'})`))
    if (b.comlink !== null) console.log(`  comlink      ${f(b.comlink / 1e6)}   SharedChan/comlink = ${f(b.sharedchan / b.comlink)}x`)
    const bm = (results['b'] as { multithreading: number | null; multithreadingExact: boolean | null })
    if (bm.multithreading !== null) console.log(`  multithreading ${f(bm.multithreading / 1e6)}   SharedChan/multithreading = ${f(b.sharedchan / bm.multithreading)}x${bm.multithreadingExact === true ? '' : '   (its values did not add up!)'}`)
    if (go?.['SharedBuffered1024'] !== undefined) console.log(`  Go -cpu 2    ${f(1e3 / go['SharedBuffered1024'])}   SharedChan/Go = ${f(b.sharedchan / 1e6 / (1e3 / go['SharedBuffered1024']))}x`)
  }
  const c = results['c'] as { sharedchan: number; messagePort: number } | undefined
  if (c !== undefined) {
    console.log(`(c) 4 producers x 4 consumers, cap 1024, 8 tasks on 2 Ms (M items/s; median of ${RUNS} runs)`)
    console.log(`  SharedChan   ${M(c.sharedchan)}`)
    console.log(`  MessagePort  ${M(c.messagePort)}   SharedChan/MessagePort = ${f(c.sharedchan / c.messagePort)}x   (4 x 4 Workers, round-robin)`)
    const g = goRate('Shared4x4')
    if (g !== undefined) console.log(`  Go -cpu 2    ${M(g)}   SharedChan/Go = ${f(c.sharedchan / g)}x`)
  }
  const e = results['e'] as { cap1024: { sharedchan: number; plainRecv: number }; cap0: { sharedchan: number; plainRecv: number }; messagePort: number } | undefined
  if (e !== undefined) {
    console.log(`(e) select over 4 shared channels, one producer task each, on 2 Ms (M items/s; median of ${RUNS} runs)`)
    const g1 = goRate('SharedSelect4Cap1024')
    const g0 = goRate('SharedSelect4Unbuffered')
    for (const [label, r, g] of [['cap 1024  ', e.cap1024, g1], ['unbuffered', e.cap0, g0]] as const) {
      console.log(`  SharedChan ${label} ${M(r.sharedchan)}   plain recv, 1 channel ${M(r.plainRecv)} (select/plain = ${f(r.sharedchan / r.plainRecv)})` +
        `   SharedChan/MessagePort = ${f(r.sharedchan / e.messagePort)}x` + (g !== undefined ? `   Go ${M(g)}, SharedChan/Go = ${f(r.sharedchan / g)}x` : ''))
    }
    console.log(`  MessagePort  ${M(e.messagePort)}   (one Worker listening on 4 ports, 4 source Workers)`)
  }
}

await main()
