/**
 * A scratch measuring script for gort/mapreduce's engine (not a tinybench bench): CPU time
 * (user + sys of the whole process, every thread) and peak RSS of word count over a deterministic
 * Zipf corpus, for the idiomatic single-threaded Node script and for runJob at procs 1 and 2, with
 * and without a combiner. Each run is a child process under /usr/bin/time, so the numbers hold on
 * a loaded machine better than wall time. Alternates the engines of several builds when given
 * `--root DIR` more than once (a worktree with dist/ built), so old and new share one run.
 *
 *   npx tsx bench/mapreduce-profile.ts [--mib 64] [--rounds 2] [--root .] [--root ../perf-base] [--only idiomatic,wc-p2,...]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, closeSync, writeSync, rmSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '1' },
    root: { type: 'string', multiple: true },
    only: { type: 'string' },
    split: { type: 'string', default: '16MiB' },
    cache: { type: 'string', default: path.join(os.tmpdir(), 'gort-mr-profile') },
  },
})
const MIB = Number(args.mib)
const CACHE = path.resolve(args.cache!)
const roots = (args.root ?? ['.']).map((r) => path.resolve(r))
mkdirSync(CACHE, { recursive: true })

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A Zipf (s = 1) corpus of lowercase words over a 2^18-word vocabulary, 8-16 words a line. */
function corpus(mib: number): string {
  const file = path.join(CACHE, `zipf-${mib}MiB.txt`)
  if (existsSync(file)) return file
  const r = rng(42)
  const V = 1 << 18
  const vocab: string[] = []
  for (let i = 0; i < V; i++) {
    const len = 2 + Math.floor(r() * r() * 12)
    let w = ''
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + Math.floor(r() * 26))
    vocab.push(w)
  }
  // Inverse CDF of Zipf(1) over ranks 1..V: cumulative harmonic numbers, binary search.
  const cdf = new Float64Array(V)
  let h = 0
  for (let i = 0; i < V; i++) cdf[i] = h += 1 / (i + 1)
  const draw = (): string => {
    const x = r() * h
    let lo = 0
    let hi = V - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return vocab[lo]!
  }
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, 'w')
  let bytes = 0
  const target = mib * 2 ** 20
  while (bytes < target) {
    const lines: string[] = []
    for (let i = 0; i < 2000; i++) {
      const n = 8 + Math.floor(r() * 9)
      const ws: string[] = []
      for (let j = 0; j < n; j++) ws.push(draw())
      lines.push(ws.join(r() < 0.05 ? '\t' : ' '))
    }
    const b = Buffer.from(lines.join('\n') + '\n')
    writeSync(fd, b)
    bytes += b.length
  }
  closeSync(fd)
  execFileSync('mv', [tmp, file])
  return file
}

const IDIOMATIC = `
import { createReadStream, writeFileSync } from 'node:fs'
const [input, out] = process.argv.slice(2)
const counts = new Map()
let rest = ''
for await (const chunk of createReadStream(input, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const lines = (rest + chunk).split('\\n')
  rest = lines.pop()
  for (const line of lines) for (const w of line.split(/\\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1)
}
for (const w of rest.split(/\\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1)
const keys = [...counts.keys()].sort()
writeFileSync(out, keys.map((k) => k + '\\t' + counts.get(k) + '\\n').join(''))
`

const RUNNER = `
const [root, job, input, out, procs, reducers, splitSize] = process.argv.slice(2)
const { runJob } = await import(root + '/dist/mapreduce/index.js')
const t0 = performance.now()
const r = await runJob({ job, input, output: out, procs: Number(procs), reducers: Number(reducers), splitSize })
console.error(JSON.stringify({ ms: performance.now() - t0, spills: r.counters.spills, spilled: r.counters.spilledRecords, mapOut: r.counters.mapOutputRecords }))
`

function jobFile(root: string, kind: string): string {
  if (kind === 'wc') return path.join(root, 'examples/mapreduce/wc.ts')
  if (kind === 'bytes') return path.join(root, 'examples/mapreduce/wc-bytes.ts')
  const f = path.join(CACHE, `wc-nocombine-${Buffer.from(root).toString('hex').slice(-16)}.mjs`)
  writeFileSync(f, `import { defineJob } from '${root}/dist/mapreduce/index.js'
const sum = async (word, values, emit) => { let n = 0; for await (const v of values) n += v; emit(word, n) }
export default defineJob({ map(_f, line, emit) { for (const w of line.split(/\\s+/)) if (w) emit(w, 1) }, reduce: sum })
`)
  return f
}

writeFileSync(path.join(CACHE, 'idiomatic.mjs'), IDIOMATIC)
writeFileSync(path.join(CACHE, 'runner.mjs'), RUNNER)

interface Sample { name: string; user: number; sys: number; rssMiB: number; wall: number; note: string }

function timed(name: string, argv: string[]): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M %e', ...argv], { encoding: 'utf8' })
  const m = /TIME ([\d.]+) ([\d.]+) (\d+) ([\d.]+)/.exec(r.stderr)
  if (r.status !== 0 || m === null) throw new Error(`${name} failed (${r.status}): ${r.stderr}`)
  const note = r.stderr.split('\n').find((l) => l.startsWith('{')) ?? ''
  return { name, user: Number(m[1]), sys: Number(m[2]), rssMiB: Number(m[3]) / 1024, wall: Number(m[4]), note }
}

const input = corpus(MIB)
const only = args.only?.split(',')
const want = (n: string): boolean => only === undefined || only.some((o) => n.startsWith(o))
const samples: Sample[] = []
for (let round = 0; round < Number(args.rounds); round++) {
  if (want('idiomatic')) {
    const out = path.join(CACHE, 'idiomatic.out')
    samples.push(timed('idiomatic', ['node', path.join(CACHE, 'idiomatic.mjs'), input, out]))
  }
  for (const [ri, root] of roots.entries()) {
    for (const kind of ['wc', 'nocomb', 'bytes']) {
      for (const procs of [1, 2]) {
        const name = `${kind}-p${procs}${roots.length > 1 ? `@${ri}` : ''}`
        if (!want(name)) continue
        const job = jobFile(root, kind)
        if (!existsSync(job)) continue
        const out = path.join(CACHE, `out-${name}`)
        rmSync(out, { recursive: true, force: true })
        samples.push(timed(name, ['node', path.join(CACHE, 'runner.mjs'), root, job, input, out, String(procs), '2', args.split!]))
      }
    }
  }
}
const base = samples.find((s) => s.name === 'idiomatic')
console.log(`corpus ${MIB} MiB; load: ${readFileSync('/proc/loadavg', 'utf8').trim()}; roots: ${roots.join(', ')}`)
for (const s of samples) {
  const cpu = s.user + s.sys
  const ratio = base === undefined ? '' : ` cpu/idiomatic ${(cpu / (base.user + base.sys)).toFixed(2)}`
  const perGiB = (cpu * 1024) / MIB
  console.log(`${s.name.padEnd(14)} cpu ${cpu.toFixed(2)} s (${perGiB.toFixed(1)} s/GiB) wall ${s.wall.toFixed(2)} s rss ${s.rssMiB.toFixed(0)} MiB${ratio} ${s.note}`)
}
