/**
 * Streaming mode benchmark: the same word count over the same input, four ways, in one run:
 *   (a) in process: runJob({ job: wc.ts })                                   the peer
 *   (b) streaming, shell tools: --mapper map.sh --reducer reduce.sh (tr/awk)  what Hadoop users run
 *   (c) streaming, the JS job: --mapper 'gort stream-map' --reducer 'gort stream-reduce'
 *   (d) the local recipe: cat | gort stream-map | LC_ALL=C sort | gort stream-reduce
 * Each prints the median wall time, the ratio to (a), and the CPU time of this process plus its
 * reaped children (from /proc/self/stat: the streaming processes' CPU, which wall time on a
 * loaded machine hides). Outputs are checked equal to (a)'s before anything is timed.
 *
 * Usage: tsx bench/streaming.bench.ts [--quick] [--mb=N]. Writes bench/results/streaming.json.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Bench } from 'tinybench'
import { runJob } from '../src/mapreduce/index.js'

const quick = process.argv.includes('--quick')
const mb = Number(process.argv.find((a) => a.startsWith('--mb='))?.slice(5) ?? (quick ? 2 : 8))
const REPO = fileURLToPath(new URL('..', import.meta.url))
const WC = path.join(REPO, 'examples/mapreduce/wc.ts')
const GORT = `${process.execPath} ${path.join(REPO, 'bin/gort.js')}`
const PROCS = 2

const dir = mkdtempSync(path.join(tmpdir(), 'gort-stream-bench-'))
const words = Array.from({ length: 5000 }, (_, i) => `w${(i * 7919) % 5000}${i % 3 === 0 ? 'é' : ''}`)
let seed = 1
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
mkdirSync(path.join(dir, 'data'))
for (let f = 0; f < 4; f++) {
  const lines: string[] = []
  let bytes = 0
  while (bytes < (mb * 2 ** 20) / 4) {
    const n = 1 + Math.floor(rand() * 10)
    const l = Array.from({ length: n }, () => words[Math.floor(rand() * rand() * words.length)]).join(' ')
    lines.push(l)
    bytes += l.length + 1
  }
  writeFileSync(path.join(dir, 'data', `f${f}.txt`), lines.join('\n') + '\n')
}
const script = (name: string, body: string): string => {
  const p = path.join(dir, name)
  writeFileSync(p, `#!/bin/sh\nexport LC_ALL=C\n${body}\n`)
  chmodSync(p, 0o755)
  return p
}
const mapper = script('map.sh', `tr -s ' ' '\\n' | awk 'NF { print $0 "\\t1" }'`)
const reducer = script('reduce.sh', `awk -F '\\t' '$1 != k { if (NR > 1) print k "\\t" n; k = $1; n = 0 } { n += $2 } END { if (NR > 0) print k "\\t" n }'`)
const input = path.join(dir, 'data')
let run = 0
const out = (): string => path.join(dir, `out-${run++}`)
const sorted = (files: readonly string[]): string => files.map((f) => readFileSync(f, 'utf8')).join('').split('\n').filter(Boolean).sort().join('\n')

const ways: Record<string, () => Promise<string>> = {
  'in process (--job wc.ts)': async () => sorted((await runJob({ job: WC, input, output: out(), reducers: PROCS, procs: PROCS })).files),
  'streaming, tr/awk scripts': async () => sorted((await runJob({ mapper, reducer, input, output: out(), reducers: PROCS, procs: PROCS })).files),
  'streaming, gort stream-map/-reduce': async () =>
    sorted((await runJob({ mapper: `${GORT} stream-map --job ${WC}`, reducer: `${GORT} stream-reduce --job ${WC}`, input, output: out(), reducers: PROCS, procs: PROCS })).files),
  'recipe: cat | stream-map | sort | stream-reduce': async () => {
    const o = out()
    mkdirSync(o)
    execFileSync('sh', ['-c', `cat ${input}/*.txt | ${GORT} stream-map --job ${WC} | LC_ALL=C sort | ${GORT} stream-reduce --job ${WC} > ${o}/part`], { env: { ...process.env, NODE_OPTIONS: '' } })
    return sorted([`${o}/part`])
  },
}

/** CPU seconds of this process and its reaped children. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14-17 of stat(5) (utime stime cutime cstime), counted from field 3 here.
  return [11, 12, 13, 14].reduce((s, i) => s + Number(f[i]), 0) / 100
}

try {
  const want = await ways['in process (--job wc.ts)']!()
  for (const [name, fn] of Object.entries(ways)) if ((await fn()) !== want) throw new Error(`${name}: output differs from the in-process job`)
  const cpu = new Map<string, number[]>()
  const bench = new Bench({ iterations: quick ? 2 : 5, time: 0, warmupIterations: 0, warmupTime: 0 })
  for (const [name, fn] of Object.entries(ways)) {
    bench.add(name, async () => {
      const c0 = cpuSeconds()
      await fn()
      const list = cpu.get(name) ?? []
      list.push(cpuSeconds() - c0)
      cpu.set(name, list)
    })
  }
  await bench.run()
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const wall = (name: string): number => {
    const r = bench.getTask(name)?.result
    if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
    return r.latency.p50 / 1000
  }
  const peer = 'in process (--job wc.ts)'
  const rows = Object.keys(ways).map((name) => ({
    way: name, wallS: wall(name), cpuS: median(cpu.get(name) ?? [0]), wallRatio: wall(name) / wall(peer), cpuRatio: median(cpu.get(name) ?? [0]) / median(cpu.get(peer) ?? [1]),
  }))
  console.log(`word count over ${mb} MiB in 4 files, procs = reducers = ${PROCS}, load ${loadavg()[0]?.toFixed(1)} (medians)`)
  console.table(rows.map((r) => ({ way: r.way, wall: `${r.wallS.toFixed(2)} s`, 'vs in process': `${r.wallRatio.toFixed(2)}x`, cpu: `${r.cpuS.toFixed(2)} s`, 'cpu vs in process': `${r.cpuRatio.toFixed(2)}x` })))
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/streaming.json', import.meta.url), JSON.stringify({
    meta: { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, load: loadavg()[0], mb, procs: PROCS, quick }, rows,
  }, null, 1))
  console.log('wrote bench/results/streaming.json')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
