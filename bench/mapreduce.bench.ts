/**
 * Word count over a generated corpus (bench/mapreduce/corpus.ts: Zipf-distributed words,
 * deterministic from a seed, cached under .cache/), gort against its peers in the same run:
 * - node idiomatic: readline, split(/\s+/), one string per word, a Map (the script users write);
 * - node bytes: the fastest single-threaded Node we could write (byte scan, byte-keyed table);
 * - shell: `LC_ALL=C tr -s '[:space:]' '\n' | sort | uniq -c`;
 * - Go (when `go` is on the PATH; built into .cache/go/): `map[string]int` on one goroutine, and
 *   a byte table on one and two goroutines;
 * - gort: `gort mapreduce` with examples/mapreduce/wc.ts (combiner) at procs 1 and 2, without a
 *   combiner at procs 2, and the byte fast path examples/mapreduce/wc-bytes.ts when it exists;
 *   and a small job (one 4 MiB file) for start-up cost, as a user runs it (procs not given) and
 *   at procs 2;
 * - cat: reading the corpus from the page cache, the floor.
 *
 * Each is a child process, timed for wall time here and for CPU (user + sys) and peak RSS by GNU
 * time. A multi-second job is not a tinybench task: the rows run interleaved, N rounds, and the
 * table shows medians and ratios against the idiomatic script and Go's two-goroutine byte table.
 * Every row's output is checked against the idiomatic script's, and gort's part files must be
 * byte-identical across rounds. Then each target of the issue is printed as met or missed.
 *
 * usage: tsx bench/mapreduce.bench.ts [--quick] [--size 16x64MiB] [--runs N] [--seed N] [--no-go]
 *        [--rows 'node idiomatic,gort wc p'] [--procs 1,2] [--budget SECONDS]
 * --quick is 16 x 4 MiB, 3 runs; the default is 16 x 64 MiB (1 GiB), 3 runs. --rows keeps the
 * rows whose names contain one of its comma-separated parts (targets then lack the others); not
 * --only, which `npm run bench` takes for the file's name. --procs lists the procs (goroutines)
 * of the gort wc, gort wc-bytes and go bytes rows (default 1,2; the other rows run at 2); past 2
 * it is a scaling run (bench/device/mapreduce.sh): a table of speed-ups from 1 proc and a plot.
 * --budget S: start no row past S seconds (the rest are reported skipped; results still written).
 * Writes bench/results/mapreduce.json, or for a scaling run mapreduce-scaling.json and .svg.
 * GORT_GO_WC_DIR names prebuilt Go binaries (wc_map, wc_bytes, and a `version` file) for a
 * machine without Go.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../src/mapreduce/size.js'
import { CACHE, ensureCorpus, REPO } from './mapreduce/corpus.js'
import { readCounts, sameCounts, type CountsKind } from './mapreduce/counts.js'
import { GNU_TIME, measure, median, runRow, type Measured, type Run } from './mapreduce/measure.js'
import { speedupSvg, type Series } from './scheduler/plot.js'

// Not strict: `npm run bench -- --quick --no-go` passes every file the same flags.
const { values } = parseArgs({
  strict: false,
  options: {
    quick: { type: 'boolean', default: false },
    'no-go': { type: 'boolean', default: false },
    size: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    rows: { type: 'string' },
    procs: { type: 'string' },
    budget: { type: 'string' },
  },
})
const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined)
const opts = { quick: values.quick === true, noGo: values['no-go'] === true, size: str(values.size), runs: str(values.runs), seed: str(values.seed) ?? '1', rows: str(values.rows), procs: str(values.procs), budget: str(values.budget) }
const [files, fileBytes] = (() => {
  const spec = opts.size ?? (opts.quick ? '16x4MiB' : '16x64MiB')
  const m = /^(\d+)x(.+)$/.exec(spec)
  if (m === null) throw new TypeError(`--size must be FILESxSIZE (16x64MiB), got ${JSON.stringify(spec)}`)
  return [Number(m[1]), parseSize('--size', m[2]!, 4096)]
})()
const RUNS = Number(opts.runs ?? 3)
if (!Number.isInteger(RUNS) || RUNS < 1) throw new TypeError(`--runs must be a positive integer, got ${JSON.stringify(opts.runs)}`)
const seed = Number(opts.seed)
const PROCS = [...new Set((opts.procs ?? '1,2').split(',').map((x) => Number(x.trim())))].sort((a, b) => a - b)
if (PROCS.some((p) => !Number.isInteger(p) || p < 1)) throw new TypeError(`--procs must list positive integers (1,2,4), got ${JSON.stringify(opts.procs)}`)
/** Seconds from the bench's start after which no more rows start (a device call has a time limit). */
const BUDGET = opts.budget === undefined ? Infinity : Number(opts.budget)
if (!(BUDGET > 0)) throw new TypeError(`--budget must be a positive number of seconds, got ${JSON.stringify(opts.budget)}`)
/** A scaling run: procs past 2, for a many-core machine. */
const SCALING = PROCS.at(-1)! > 2
const log = (s: string): void => void process.stderr.write(`${s}\n`)

const corpus = await ensureCorpus(seed, files, fileBytes, log)
const small = await ensureCorpus(seed, 1, 4 * 2 ** 20, log)
const MB = corpus.bytes / 1e6
const work = path.join(tmpdir(), `gort-bench-mr-${process.pid}`)
mkdirSync(work, { recursive: true })
const gortBin = path.join(REPO, 'bin/gort.js')
if (!existsSync(path.join(REPO, 'dist/cli/main.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO, stdio: 'inherit' })

/** Go binaries built into .cache/go, or null without Go. */
function buildGo(): { map: string; bytes: string; version: string } | null {
  const prebuilt = process.env['GORT_GO_WC_DIR']
  if (prebuilt !== undefined && prebuilt !== '') {
    const version = readFileSync(path.join(prebuilt, 'version'), 'utf8').trim()
    return { map: path.join(prebuilt, 'wc_map'), bytes: path.join(prebuilt, 'wc_bytes'), version: `${version} (prebuilt)` }
  }
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOCACHE: process.env['GOCACHE'] ?? path.join(tmpdir(), 'gort-go-cache') }
  const v = spawnSync('go', ['version'], { encoding: 'utf8', env })
  if (v.status !== 0) return null
  const out = path.join(CACHE, 'go')
  mkdirSync(out, { recursive: true })
  const built: Record<string, string> = {}
  for (const name of ['wc_map', 'wc_bytes']) {
    const bin = path.join(out, name)
    const r = spawnSync('go', ['build', '-o', bin, `${name}.go`], { cwd: path.join(REPO, 'bench/go'), env, encoding: 'utf8' })
    if (r.status !== 0) {
      log(`go build ${name}.go failed: ${r.stderr}`)
      return null
    }
    built[name] = bin
  }
  return { map: built['wc_map']!, bytes: built['wc_bytes']!, version: v.stdout.trim() }
}
const go = opts.noGo ? null : buildGo()

interface Row {
  readonly name: string
  /** The command for one run writing to `out` (a file, or a directory for gort). */
  readonly run: (out: string) => Run
  /** Bytes this row reads (the small job reads less). */
  readonly mb: number
  /** How its output reads back: word -> count. */
  readonly kind: 'tsv' | 'uniq' | 'gort' | 'none'
}

const node = process.execPath
const input = corpus.files
/** A gort row; `procs` undefined: gort's default (fewer threads for a small input, options.ts autoProcs). */
const gortRow = (name: string, job: string, procs: number | undefined, inputs = path.join(corpus.dir, '*.txt'), mb = MB, extra: string[] = []): Row => ({
  name, mb, kind: 'gort',
  run: (out) => ({ cmd: node, args: [gortBin, 'mapreduce', '--job', path.join(REPO, job), '--input', inputs, '--output', out, ...(procs === undefined ? [] : ['--procs', String(procs)]), ...extra] }),
})
const allRows: Row[] = [
  { name: 'cat (page cache)', mb: MB, kind: 'none', run: () => ({ cmd: 'bash', args: ['-c', 'cat "$@" > /dev/null', 'cat', ...input] }) },
  { name: 'node idiomatic', mb: MB, kind: 'tsv', run: (out) => ({ cmd: node, args: [path.join(REPO, 'bench/mapreduce/wc-idiomatic.mjs'), out, ...input] }) },
  { name: 'node bytes', mb: MB, kind: 'tsv', run: (out) => ({ cmd: node, args: [path.join(REPO, 'bench/mapreduce/wc-bytes.mjs'), out, ...input] }) },
  {
    name: 'shell tr|sort|uniq', mb: MB, kind: 'uniq',
    run: (out) => ({ cmd: 'bash', args: ['-c', `cat "$@" | tr -s '[:space:]' '\\n' | sort | uniq -c > ${JSON.stringify(out)}`, 'sh', ...input], env: { ...process.env, LC_ALL: 'C' } }),
  },
  ...(go === null ? [] : [
    { name: 'go map p1', mb: MB, kind: 'tsv', run: (out: string) => ({ cmd: go.map, args: [out, ...input] }) },
    ...PROCS.map((p): Row => ({ name: `go bytes p${p}`, mb: MB, kind: 'tsv', run: (out) => ({ cmd: go.bytes, args: ['-procs', String(p), out, ...input] }) })),
  ] satisfies Row[]),
  ...PROCS.map((p) => gortRow(`gort wc p${p}`, 'examples/mapreduce/wc.ts', p)),
  // The two-core targets' own rows; a scaling run leaves them out.
  ...(SCALING ? [] : [
    gortRow('gort wc no-combine p2', 'bench/mapreduce/wc-nocombine.ts', 2),
    // Small files sharing map tasks (Hadoop's CombineFileInputFormat): the quick corpus's 4 MiB
    // files in two tasks instead of sixteen; on 64 MiB files the same tasks as 'gort wc p2'.
    gortRow('gort wc p2 --pack-files', 'examples/mapreduce/wc.ts', 2, undefined, MB, ['--pack-files']),
  ]),
  ...(existsSync(path.join(REPO, 'examples/mapreduce/wc-bytes.ts'))
    ? PROCS.map((p) => gortRow(`gort wc-bytes p${p}`, 'examples/mapreduce/wc-bytes.ts', p))
    : []),
  // The small job as a user runs it (procs not given: one thread for 4 MiB), and on two threads.
  ...(SCALING ? [] : [
    gortRow('gort wc small (4 MiB)', 'examples/mapreduce/wc.ts', undefined, small.files[0]!, small.bytes / 1e6),
    gortRow('gort wc small (4 MiB) p2', 'examples/mapreduce/wc.ts', 2, small.files[0]!, small.bytes / 1e6),
  ]),
]
const wanted = opts.rows?.split(',').map((x) => x.trim()).filter((x) => x !== '')
const rows = wanted === undefined ? allRows : allRows.filter((r) => wanted.some((o) => r.name.includes(o)))
if (rows.length === 0) throw new TypeError(`--rows ${JSON.stringify(opts.rows)} matches no row; rows: ${allRows.map((r) => r.name).join(', ')}`)

/** A digest of a gort output's part files, names and bytes. */
function digest(out: string): string {
  const h = createHash('sha256')
  for (const f of readdirSync(out).filter((f) => f.startsWith('part-')).sort()) h.update(f).update(readFileSync(path.join(out, f)))
  return h.digest('hex')
}

log(`corpus: ${files} x ${(fileBytes / 2 ** 20).toFixed(0)} MiB = ${MB.toFixed(0)} MB in ${path.relative(REPO, corpus.dir)}/; ${RUNS} runs per row, interleaved`)
const load0 = loadavg()
const samples = new Map<string, Measured[]>(rows.map((r) => [r.name, []]))
const digests = new Map<string, Set<string>>()
const problems: string[] = []
let reference: { row: string; counts: Map<string, number> } | undefined
let smallReference: Map<string, number> | undefined

// Warm the page cache so that no row pays for the first read.
spawnSync('bash', ['-c', 'cat "$@" > /dev/null', 'cat', ...input, small.files[0]!])
const started = performance.now()
let skipped = 0
for (let run = 1; run <= RUNS; run++) {
  for (const row of rows) {
    if ((performance.now() - started) / 1000 > BUDGET) {
      skipped++
      continue
    }
    const out = path.join(work, `out-${run}`)
    rmSync(out, { recursive: true, force: true })
    if (runRow(row.name, row.run(out), `run ${run}`, samples.get(row.name)!, problems, log) === undefined) continue
    if (row.kind === 'gort') {
      const set = digests.get(row.name) ?? digests.set(row.name, new Set()).get(row.name)!
      set.add(digest(out))
    }
    if (run === 1 && row.kind !== 'none') {
      const counts = readCounts(row.kind as CountsKind, out)
      const isSmall = row.name.includes('small')
      if (isSmall) {
        // The small job's reference: the idiomatic script on the same file, once.
        if (smallReference === undefined) {
          const ref = path.join(work, 'small-ref')
          measure({ cmd: node, args: [path.join(REPO, 'bench/mapreduce/wc-idiomatic.mjs'), ref, small.files[0]!] })
          smallReference = readCounts('tsv', ref)
        }
        if (!sameCounts(counts, smallReference)) problems.push(`${row.name}: output differs from the idiomatic script's`)
      } else {
        reference ??= { row: row.name, counts }
        if (!sameCounts(counts, reference.counts)) problems.push(`${row.name}: output differs from ${reference.row}'s (${counts.size} words vs ${reference.counts.size})`)
      }
    }
    rmSync(out, { recursive: true, force: true })
  }
}
rmSync(work, { recursive: true, force: true })
if (skipped > 0) problems.push(`--budget ${BUDGET} s spent: ${skipped} row runs skipped`)
const load1 = loadavg()

interface Summary { name: string; runs: number; wall: number; cpu: number; maxRss: number; mbPerSec: number }
const summary: Summary[] = rows.map((r) => {
  const s = samples.get(r.name)!
  return {
    name: r.name, runs: s.length, wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)),
    maxRss: Math.max(...s.map((x) => x.maxRss)), mbPerSec: r.mb / median(s.map((x) => x.wall)),
  }
})
const get = (name: string): Summary | undefined => summary.find((s) => s.name === name && s.runs > 0)
const idiomatic = get('node idiomatic')
const goBytes2 = get('go bytes p2')

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-')
console.log(`\nword count, ${MB.toFixed(0)} MB (${files} files), medians of ${RUNS}; ${cpus()[0]?.model ?? '?'} x ${availableParallelism()}, Node ${process.version}${go ? `, ${go.version}` : ', no Go'}`)
console.log(`load average ${load0.map((x) => x.toFixed(1)).join(' ')} before, ${load1.map((x) => x.toFixed(1)).join(' ')} after${GNU_TIME ? '' : '; no GNU time: CPU and RSS not measured'}`)
console.log(`${'row'.padEnd(26)} ${'wall s'.padStart(8)} ${'MB/s'.padStart(8)} ${'CPU s'.padStart(8)} ${'RSS MiB'.padStart(8)} ${'vs idiom'.padStart(9)} ${'vs Go b2'.padStart(9)}`)
for (const s of summary) {
  const ratio = (x: number): string => (Number.isFinite(x) ? `${f(x)}x` : '-')
  const vsI = idiomatic && !s.name.includes('small') ? ratio(idiomatic.wall / s.wall) : '-'
  const vsG = goBytes2 && !s.name.includes('small') ? ratio(goBytes2.wall / s.wall) : '-'
  console.log(`${s.name.padEnd(26)} ${f(s.wall).padStart(8)} ${f(s.mbPerSec, 1).padStart(8)} ${f(s.cpu).padStart(8)} ${f(s.maxRss / 2 ** 20, 0).padStart(8)} ${vsI.padStart(9)} ${vsG.padStart(9)}`)
}
console.log('(vs columns: how many times faster than the idiomatic script, and than Go\'s byte table on two goroutines; above 1 is faster)')

// The issue's targets, on two cores.
type Verdict = 'met' | 'missed' | 'n/a'
const targets: { name: string; verdict: Verdict; detail: string }[] = []
const target = (name: string, ok: boolean | undefined, detail: string): void => {
  targets.push({ name, verdict: ok === undefined ? 'n/a' : ok ? 'met' : 'missed', detail })
}
const p1 = get('gort wc p1')
const p2 = get('gort wc p2')
const noComb = get('gort wc no-combine p2')
const shell = get('shell tr|sort|uniq')
const fast = get('gort wc-bytes p2')
const smallJob = get('gort wc small (4 MiB)')
const when = <T>(ok: boolean, v: () => T): T | undefined => (ok ? v() : undefined)
target('wc p2 >= 1.6x faster than idiomatic Node', when(!!(p2 && idiomatic), () => idiomatic!.wall / p2!.wall >= 1.6), p2 && idiomatic ? `${f(idiomatic.wall / p2.wall)}x` : 'row missing')
target('wc p2 total CPU <= 1.15x the script\'s', when(!!(p2 && idiomatic) && Number.isFinite(p2!.cpu), () => p2!.cpu / idiomatic!.cpu <= 1.15), p2 && idiomatic ? `${f(p2.cpu / idiomatic.cpu)}x` : 'row missing')
/**
 * Run by run, `a`'s wall time over `b`'s: the rows of one run are interleaved, minutes apart at
 * most, so each ratio compares the two under the same load. On the shared 2-core VM the second
 * core is not always a whole one: p2's CPU for the same work moved 89-103 s between runs, and the
 * ratio of the rows' medians paired one run's p1 with another's p2 (bench/NOTES.md, 2026-12-07).
 */
const perRun = (a: string, b: string): number[] => {
  const sa = samples.get(a) ?? []
  const sb = samples.get(b) ?? []
  return sa.length === sb.length ? sa.map((x, i) => x.wall / sb[i]!.wall) : []
}
const scaling = perRun('gort wc p1', 'gort wc p2')
const goScaling = perRun('go bytes p1', 'go bytes p2')
const runRatios = (r: number[]): string => `${r.map((x) => f(x)).join(', ')} (median ${f(median(r))}x)`
// A run whose p1 or p2 failed leaves nothing to pair: then the rows' medians decide.
target('wc >= 1.8x from 1 to 2 procs (median of the runs\' ratios)', when(!!(p1 && p2), () => (scaling.length > 0 ? median(scaling) : p1!.wall / p2!.wall) >= 1.8),
  !(p1 && p2)
    ? 'row missing'
    : `${scaling.length > 0 ? `run by run ${runRatios(scaling)}; ` : ''}the rows' medians ${f(p1.wall / p2.wall)}x${goScaling.length > 0 ? `; Go's byte table run by run ${runRatios(goScaling)}` : ''}`)
target('byte fast path within 1.5x of Go bytes p2', when(!!(fast && goBytes2), () => fast!.wall / goBytes2!.wall <= 1.5), fast && goBytes2 ? `${f(fast.wall / goBytes2.wall)}x Go's time` : 'no wc-bytes.ts or no Go')
target('no combiner: peak RSS <= 512 MiB', when(!!noComb && Number.isFinite(noComb!.maxRss), () => noComb!.maxRss <= 512 * 2 ** 20), noComb ? `${f(noComb.maxRss / 2 ** 20, 0)} MiB` : 'row missing')
target('no combiner: no slower than the shell pipeline', when(!!(noComb && shell), () => noComb!.wall <= shell!.wall), noComb && shell ? `${f(noComb.wall)} s vs ${f(shell.wall)} s` : 'row missing')
target('combiner: peak RSS <= 256 MiB', when(!!p2 && Number.isFinite(p2!.maxRss), () => p2!.maxRss <= 256 * 2 ** 20), p2 ? `${f(p2.maxRss / 2 ** 20, 0)} MiB (p2)` : 'row missing')
target('small job (4 MiB) <= 1 s, start-up included', when(!!smallJob, () => smallJob!.wall <= 1), smallJob ? `${f(smallJob.wall)} s` : 'row missing')
const identical = [...digests].map(([name, set]) => `${name}: ${set.size === 1 ? 'identical' : `${set.size} different outputs`}`)
target('two runs give byte-identical part files', when(digests.size > 0 && RUNS > 1, () => [...digests.values()].every((s) => s.size === 1)), identical.join('; '))

/** Each procs-swept program's medians by procs, and the speed-up from its 1-proc run. */
const swept = [
  { name: 'gort wc', color: '#1f77b4' },
  { name: 'gort wc-bytes', color: '#2ca02c' },
  { name: 'go bytes', color: '#d62728' },
].map((x) => ({ ...x, at: PROCS.map((p) => ({ p, s: get(`${x.name} p${p}`) })).filter((r) => r.s !== undefined) }))
  .filter((x) => x.at.length > 0)
let svg: string | undefined
if (SCALING) {
  console.log(`\nscaling (medians; speed-up: the same program's 1-proc time over this one's)`)
  console.log(`${'program'.padEnd(14)} ${'procs'.padStart(5)} ${'wall s'.padStart(8)} ${'speed-up'.padStart(9)} ${'vs idiom'.padStart(9)}`)
  const series: Series[] = []
  for (const x of swept) {
    const one = x.at.find((r) => r.p === 1)?.s
    for (const { p, s } of x.at) {
      const up = one ? `${f(one.wall / s!.wall)}x` : '-'
      console.log(`${x.name.padEnd(14)} ${String(p).padStart(5)} ${f(s!.wall).padStart(8)} ${up.padStart(9)} ${(idiomatic ? `${f(idiomatic.wall / s!.wall)}x` : '-').padStart(9)}`)
    }
    if (one) series.push({ name: x.name, color: x.color, points: x.at.map(({ p, s }) => [p, one.wall / s!.wall] as const) })
  }
  if (series.length > 0) svg = speedupSvg(`word count, ${(corpus.bytes / 2 ** 30).toFixed(2)} GiB, ${availableParallelism()} cpus`, series, PROCS.at(-1)!, 'speedup vs the same program at 1 proc')
  const top = PROCS.at(-1)!
  const wcTop = get(`gort wc p${top}`)
  if (top >= 16) target(`wc >= 10x from 1 to ${top} procs`, when(!!(p1 && wcTop), () => p1!.wall / wcTop!.wall >= 10), p1 && wcTop ? `${f(p1.wall / wcTop.wall)}x` : 'row missing')
}
console.log(`\ntargets (${availableParallelism() === 2 ? 'two cores' : `set for two cores; this machine has ${availableParallelism()}`}):`)
for (const t of targets) console.log(`  ${t.verdict.padEnd(6)} ${t.name}: ${t.detail}`)
if (files * fileBytes < 4 * 2 ** 30) console.log('  (not checked here: combiner RSS on 4 GiB; run --size 64x64MiB for it)')
else if (p2) console.log(`  (4 GiB: combiner RSS ${f(p2.maxRss / 2 ** 20, 0)} MiB; the target is within 10 % of the 1 GiB run's)`)

if (problems.length > 0) {
  console.log('\nproblems:')
  for (const p of problems) console.log(`  ${p}`)
}

// A scaling run must not overwrite the two-core results.
const base = SCALING ? 'mapreduce-scaling' : 'mapreduce'
mkdirSync(path.join(REPO, 'bench/results'), { recursive: true })
writeFileSync(path.join(REPO, `bench/results/${base}.json`), `${JSON.stringify({
  date: new Date().toISOString(), node: process.version, go: go?.version ?? null, cpus: availableParallelism(), cpu: cpus()[0]?.model ?? null, load: { before: load0, after: load1 },
  corpus: { seed, files, fileBytes, bytes: corpus.bytes }, runs: RUNS, procs: PROCS, rowFilter: wanted ?? null, rows: summary, targets, problems,
}, null, 2)}\n`)
if (svg !== undefined) writeFileSync(path.join(REPO, `bench/results/${base}.svg`), svg)
console.log(`\nwrote bench/results/${base}.json${svg === undefined ? '' : ` and ${base}.svg`}`)
process.exitCode = problems.length === 0 ? 0 : 1
