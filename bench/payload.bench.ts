/**
 * Payload benchmarks (issue 15): spawn-to-result with arguments and results beyond a G record's
 * 32 inline bytes, one call at a time, against the inline-number floor in the same run.
 *
 *   100-byte arg      a string argument of 100 bytes serialized (the result a number), from the
 *                     main thread; it fits a payload-arena slot
 *   100-byte echo     the same string back as the result
 *   via child         the echo spawned inside a task: argument and result cross M -> M (before
 *                     the arena, both went through the main thread by message)
 *   1 MiB arg         a fresh 1 MiB Uint8Array argument, copied, and moved (goWith's transfer)
 *   1 MiB result      a 1 MiB Uint8Array result (moved automatically)
 *   view in object    `{ view, i, name }` with a shared Int32Array inside (its views by registry
 *                     id in an arena slot; before, the object went by message through the main
 *                     thread), against the flat `(view, i)` form the record holds
 *
 * Usage: tsx bench/payload.bench.ts [--quick] [--procs=N]. Writes bench/results/payload.json.
 */
import { Bench } from 'tinybench'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { serialize } from 'node:v8'
import { Runtime } from '../src/scheduler/index.js'
import { byteLen, echoStr, len, makeBytes, num, viaChild, viewAt, viewAtBox } from './scheduler/payload-tasks.js'

const quick = process.argv.includes('--quick')
const procs = Number(process.argv.find((a) => a.startsWith('--procs='))?.slice('--procs='.length) ?? 2)
const time = quick ? 300 : 2000

let s100 = ''
while (serialize([s100]).byteLength < 100) s100 += 'x'
const MIB = 1 << 20

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`wrong result: ${what}`)
}

await using rt = await Runtime.start({ procs })
let i = 0
const shared = new Int32Array(new SharedArrayBuffer(8))
const bench = new Bench({ time, warmupTime: quick ? 100 : 500 })
bench
  .add('number arg (inline floor)', async () => check((await rt.go(num, ++i)) === i, 'num'))
  .add('100-byte arg', async () => check((await rt.go(len, s100)) === s100.length, 'len'))
  .add('100-byte echo', async () => check((await rt.go(echoStr, s100)) === s100, 'echo'))
  .add('number via child (floor)', async () => check((await rt.go(viaChild, ++i)) === i, 'via num'))
  .add('100-byte echo via child', async () => check((await rt.go(viaChild, s100)) === s100, 'via echo'))
  .add('1 MiB arg, copied', async () => check((await rt.go(byteLen, new Uint8Array(MIB))) === MIB, 'copy'))
  .add('1 MiB arg, transferred', async () => {
    const u8 = new Uint8Array(MIB)
    check((await rt.goWith({ transfer: [u8.buffer] }, byteLen, u8)) === MIB, 'transfer')
  })
  .add('1 MiB result (moved)', async () => check((await rt.go(makeBytes, MIB)).byteLength === MIB, 'result'))
  .add('shared view, flat', async () => check((await rt.go(viewAt, shared, 0)) >= 0, 'flat'))
  .add('shared view in object', async () => check((await rt.go(viewAtBox, { view: shared, i: 1, name: 'counter' })) >= 0, 'box'))
await bench.run()

const p50 = (name: string): number => {
  const r = bench.getTask(name)?.result
  if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
  return r.latency.p50 * 1000 // ms to µs
}
const peers: Record<string, string> = {
  '100-byte arg': 'number arg (inline floor)',
  '100-byte echo': 'number arg (inline floor)',
  '100-byte echo via child': 'number via child (floor)',
  '1 MiB arg, transferred': '1 MiB arg, copied',
  'shared view in object': 'shared view, flat',
}
const rows = bench.tasks.map((t) => {
  const peer = peers[t.name]
  return { shape: t.name, p50Us: p50(t.name), vs: peer === undefined ? undefined : { peer, ratio: p50(t.name) / p50(peer) } }
})
console.log(`spawn-to-result, one call at a time, procs=${procs} (p50)`)
console.table(rows.map((r) => ({ shape: r.shape, p50: `${r.p50Us.toFixed(1)} µs`, ratio: r.vs === undefined ? '' : `${r.vs.ratio.toFixed(2)}x ${r.vs.peer}` })))
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(
  new URL('./results/payload.json', import.meta.url),
  JSON.stringify({ meta: { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, load: loadavg()[0], procs, quick }, rows }, null, 1),
)
console.log('wrote bench/results/payload.json')
