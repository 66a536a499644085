/**
 * Word count over compressed input (src/mapreduce/codec.ts, bzip2.ts): one text of the generated
 * corpus (bench/mapreduce/corpus.ts), stored as it is and as .bz2, .gz and .zst (compressed once,
 * cached under .cache/), gort against the pipeline a user would write in the same run:
 * - gort wc over each (examples/mapreduce/wc.ts, procs not given: all cores for this size), and
 *   over the .bz2 as one split (`--split-size 1TiB`, what gort did before it split a .bz2);
 * - `bzip2 -dc`, `gzip -dc`, `zstd -dc` piped into the idiomatic script (wc-idiomatic.mjs);
 * - `bzip2 -dc > /dev/null`: one core decompressing, the floor of the one-split row.
 * Each row is a child process, timed here for wall time and by GNU time for CPU and peak RSS; rows
 * run interleaved, N rounds; the table shows medians and each gort row's speed-up over the
 * pipeline of its codec. Every row's counts are checked against gort's over the plain text.
 *
 * usage: tsx bench/compressed.bench.ts [--quick] [--size 64MiB] [--runs N] [--seed N]
 * --quick is one 32 MiB text and 3 runs; the default 128 MiB, 3 runs (bzip2 -9 takes about 30 s
 * to compress that, once). Writes bench/results/compressed.json.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../src/mapreduce/size.js'
import { CACHE, ensureCorpus, REPO } from './mapreduce/corpus.js'
import { readCounts, sameCounts, type CountsKind } from './mapreduce/counts.js'
import { median, runRow, type Measured, type Run } from './mapreduce/measure.js'

const { values } = parseArgs({
  strict: false,
  options: { quick: { type: 'boolean', default: false }, size: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string', default: '1' } },
})
const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined)
const bytes = parseSize('--size', str(values.size) ?? (values.quick === true ? '32MiB' : '128MiB'), 4096)
const RUNS = Number(str(values.runs) ?? 3)
if (!Number.isInteger(RUNS) || RUNS < 1) throw new TypeError(`--runs must be a positive integer, got ${JSON.stringify(values.runs)}`)
const seed = Number(str(values.seed) ?? '1')
const log = (s: string): void => void process.stderr.write(`${s}\n`)

const corpus = await ensureCorpus(seed, 1, bytes, log)
const text = corpus.files[0]!
const MB = corpus.bytes / 1e6

/** The text compressed by each command, made once into .cache/compressed-SEED-BYTES/. */
const dir = path.join(CACHE, `compressed-${seed}-${bytes}`)
mkdirSync(dir, { recursive: true })
const CODECS = [['bz2', 'bzip2', '-9'], ['gz', 'gzip', '-6'], ['zst', 'zstd', '-3']] as const
const stored: Record<string, string> = {}
for (const [ext, cmd, level] of CODECS) {
  const file = path.join(dir, `text.txt.${ext}`)
  if (!existsSync(file)) {
    log(`compressing ${path.relative(REPO, text)} with ${cmd} ${level} (once)...`)
    const r = spawnSync('bash', ['-c', `${cmd} ${level} -c "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, 'x', text, file], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (r.status !== 0) throw new Error(`${cmd} failed: is it installed (apt-get install ${cmd})?`)
  }
  stored[ext] = file
}

interface Row {
  readonly name: string
  readonly run: (out: string) => Run
  readonly kind: CountsKind | 'none'
  /** The pipeline row this one is compared with. */
  readonly peer?: string
}
const node = process.execPath
const gort = (input: string, more: string[] = []): ((out: string) => Run) => (out) => ({
  cmd: node, args: [path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', path.join(REPO, 'examples/mapreduce/wc.ts'), '--input', input, '--output', out, ...more],
})
const piped = (cmd: string, file: string): ((out: string) => Run) => (out) => ({
  cmd: 'bash', args: ['-c', `set -o pipefail; ${cmd} -dc "$1" | "$2" "$3" "$4" /dev/stdin`, 'x', file, node, path.join(REPO, 'bench/mapreduce/wc-idiomatic.mjs'), out],
})
const rows: Row[] = [
  { name: 'gort wc text', kind: 'gort', run: gort(text) },
  { name: 'gort wc .bz2', kind: 'gort', run: gort(stored['bz2']!), peer: 'bzip2 -dc | idiomatic' },
  { name: 'gort wc .bz2 one split', kind: 'gort', run: gort(stored['bz2']!, ['--split-size', '1TiB']), peer: 'bzip2 -dc | idiomatic' },
  { name: 'gort wc .gz', kind: 'gort', run: gort(stored['gz']!), peer: 'gzip -dc | idiomatic' },
  { name: 'gort wc .zst', kind: 'gort', run: gort(stored['zst']!), peer: 'zstd -dc | idiomatic' },
  { name: 'bzip2 -dc | idiomatic', kind: 'tsv', run: piped('bzip2', stored['bz2']!) },
  { name: 'gzip -dc | idiomatic', kind: 'tsv', run: piped('gzip', stored['gz']!) },
  { name: 'zstd -dc | idiomatic', kind: 'tsv', run: piped('zstd', stored['zst']!) },
  { name: 'bzip2 -dc > /dev/null', kind: 'none', run: () => ({ cmd: 'bash', args: ['-c', 'bzip2 -dc "$1" > /dev/null', 'x', stored['bz2']!] }) },
]

const work = path.join(tmpdir(), `gort-bench-compressed-${process.pid}`)
mkdirSync(work, { recursive: true })
log(`text: ${MB.toFixed(0)} MB (${path.relative(REPO, text)}); stored: ${CODECS.map(([ext]) => `.${ext} ${(Number(spawnSync('stat', ['-c', '%s', stored[ext]!]).stdout) / 1e6).toFixed(1)} MB`).join(', ')}; ${RUNS} runs per row, interleaved`)
spawnSync('bash', ['-c', 'cat "$@" > /dev/null', 'cat', text, ...Object.values(stored)])
const load0 = loadavg()
const samples = new Map<string, Measured[]>(rows.map((r) => [r.name, []]))
const problems: string[] = []
let reference: Map<string, number> | undefined
for (let run = 1; run <= RUNS; run++) {
  for (const row of rows) {
    const out = path.join(work, 'out')
    rmSync(out, { recursive: true, force: true })
    if (runRow(row.name, row.run(out), `run ${run}`, samples.get(row.name)!, problems, log, 24) === undefined) continue
    if (run === 1 && row.kind !== 'none') {
      const counts = readCounts(row.kind, out)
      reference ??= counts
      if (!sameCounts(counts, reference)) problems.push(`${row.name}: counts differ from gort's over the plain text`)
    }
    rmSync(out, { recursive: true, force: true })
  }
}
rmSync(work, { recursive: true, force: true })
const load1 = loadavg()

const summary = rows.map((r) => {
  const s = samples.get(r.name)!
  return { name: r.name, runs: s.length, wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), maxRss: Math.max(...s.map((x) => x.maxRss)), peer: r.peer }
})
const wallOf = (name: string | undefined): number => summary.find((s) => s.name === name)?.wall ?? NaN
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-')
console.log(`\nword count over compressed input: ${MB.toFixed(0)} MB of text, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load ${f(load0[0] ?? NaN, 1)} -> ${f(load1[0] ?? NaN, 1)}, medians of ${RUNS}\n`)
console.log('| row | wall s | CPU s | peak RSS MiB | MB/s of text | vs its pipeline |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const s of summary) {
  const vs = s.peer === undefined ? '-' : `${f(wallOf(s.peer) / s.wall)}x`
  console.log(`| ${s.name} | ${f(s.wall)} | ${f(s.cpu)} | ${f(s.maxRss / 2 ** 20, 0)} | ${f(MB / s.wall, 1)} | ${vs} |`)
}
for (const p of problems) console.log(`PROBLEM: ${p}`)
mkdirSync(path.join(REPO, 'bench/results'), { recursive: true })
writeFileSync(path.join(REPO, 'bench/results/compressed.json'), `${JSON.stringify({ date: new Date().toISOString(), textMB: MB, runs: RUNS, load: [load0[0] ?? null, load1[0] ?? null], summary, problems }, null, 2)}\n`)
if (problems.length > 0) process.exitCode = 1
