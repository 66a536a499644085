/**
 * Actors (bench d): the round trip of one call to an actor (rt.spawnActor, a comlink Remote over
 * gort's endpoint and mailbox, the actor a G on an M) against the same call through plain comlink
 * to a plain Worker, in the same run; and the same two with 64 calls in flight. Both sides use the
 * same comlink build. Prints p50 latencies, the ratio to the peer, and the process CPU time per
 * call (all threads), since this machine is shared and a ratio of wall times alone flatters
 * whichever side spins.
 *
 * Usage: tsx bench/actors.bench.ts [--quick] [--procs=N]. Writes bench/results/actors.json.
 */
import { Bench } from 'tinybench'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { Worker } from 'node:worker_threads'
import { wrap, releaseProxy, type Remote } from 'comlink'
import { Runtime, stopActor } from '../src/scheduler/index.js'
import { Echo } from './actors/echo.js'

const quick = process.argv.includes('--quick')
const procs = Number(process.argv.find((a) => a.startsWith('--procs='))?.slice('--procs='.length) ?? 1)
const time = quick ? 500 : 3000
const INFLIGHT = 64

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`wrong result: ${what}`)
}

await using rt = await Runtime.start({ procs })
const actor = await rt.spawnActor(Echo)
const worker = new Worker(new URL('./actors/peer-worker.mjs', import.meta.url))
// comlink's node-adapter, as its README shows it (its default export does not type-check from a CJS build here).
const listeners = new WeakMap<object, (data: unknown) => void>()
const nodeEndpoint = {
  postMessage: (m: unknown, t?: never[]) => worker.postMessage(m, t),
  addEventListener: (_: string, h: (ev: { data: unknown }) => void) => {
    const l = (data: unknown): void => h({ data })
    listeners.set(h, l)
    worker.on('message', l)
  },
  removeEventListener: (_: string, h: (ev: { data: unknown }) => void) => {
    const l = listeners.get(h)
    if (l !== undefined) worker.off('message', l)
  },
}
const plain: Remote<{ echo(v: number): number; take(v: number): void }> = wrap(nodeEndpoint as never)

const cpu = new Map<string, { us: number; calls: number }>()
/** Wraps a task body to count its calls and the process CPU time they take (user + system, all threads). */
function counted(name: string, calls: number, fn: () => Promise<void>): { fn: () => Promise<void>; opts: { beforeEach(): void; afterEach(): void } } {
  let t0 = process.cpuUsage()
  const c = { us: 0, calls: 0 }
  cpu.set(name, c)
  return {
    fn,
    opts: {
      beforeEach: () => {
        t0 = process.cpuUsage()
      },
      afterEach: () => {
        const d = process.cpuUsage(t0)
        c.us += d.user + d.system
        c.calls += calls
      },
    },
  }
}

let i = 0
const burst = (f: (v: number) => Promise<number | void>): Promise<void> =>
  Promise.all(Array.from({ length: INFLIGHT }, () => f(++i))).then(() => undefined)
const tasks = [
  counted('actor call', 1, async () => check((await actor.echo(++i)) === i, 'actor')),
  counted('comlink call (peer)', 1, async () => check((await plain.echo(++i)) === i, 'comlink')),
  counted(`actor, ${INFLIGHT} in flight`, INFLIGHT, () => burst((v) => actor.take(v))),
  counted(`comlink, ${INFLIGHT} in flight (peer)`, INFLIGHT, () => burst((v) => plain.take(v))),
]
const names = ['actor call', 'comlink call (peer)', `actor, ${INFLIGHT} in flight`, `comlink, ${INFLIGHT} in flight (peer)`]
const bench = new Bench({ time, warmupTime: quick ? 200 : 1000 })
tasks.forEach((t, k) => bench.add(names[k]!, t.fn, t.opts))
await bench.run()

const p50 = (name: string): number => {
  const r = bench.getTask(name)?.result
  if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
  return r.latency.p50 * 1000 // ms to µs
}
const peers: Record<string, string> = { 'actor call': 'comlink call (peer)', [`actor, ${INFLIGHT} in flight`]: `comlink, ${INFLIGHT} in flight (peer)` }
const rows = names.map((name) => {
  const c = cpu.get(name)!
  const peer = peers[name]
  return {
    shape: name,
    p50Us: p50(name),
    cpuUsPerCall: c.us / c.calls,
    vs: peer === undefined ? undefined : { peer, ratio: p50(name) / p50(peer), cpuRatio: c.us / c.calls / (cpu.get(peer)!.us / cpu.get(peer)!.calls) },
  }
})
console.log(`actor calls vs plain comlink, procs=${procs} (p50 per iteration; a burst iteration is ${INFLIGHT} calls)`)
console.table(rows.map((r) => ({
  shape: r.shape,
  p50: `${r.p50Us.toFixed(1)} µs`,
  'cpu/call': `${r.cpuUsPerCall.toFixed(1)} µs`,
  ratio: r.vs === undefined ? '' : `${r.vs.ratio.toFixed(2)}x (cpu ${r.vs.cpuRatio.toFixed(2)}x)`,
})))

plain[releaseProxy]()
await worker.terminate()
await stopActor(actor)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(
  new URL('./results/actors.json', import.meta.url),
  JSON.stringify({ meta: { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, load: loadavg()[0], procs, quick }, rows }, null, 1),
)
console.log('wrote bench/results/actors.json')
