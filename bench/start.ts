/**
 * `npm start`: gort's main job. Generates (once, then cached under .cache/) a 192 MiB text corpus
 * of Zipf-distributed words, counts its words with `gort mapreduce` on all cores (the CLI with
 * the terminal attached, so its progress shows), then with the idiomatic single-threaded Node
 * script (readline, split, a Map), checks that both found the same counts, and prints both
 * throughputs and the ratio.
 *
 * usage: tsx bench/start.ts [--size 4x48MiB] [--procs P]
 *
 * 192 MiB by default: with the script's run beside it, `npm start` takes about a minute on the
 * 2-core machine the project is measured on (gort's job about 20 s of it; bench/NOTES.md,
 * 2026-12-06, eleventh session), plus about 10 s the first time to generate the corpus.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../src/mapreduce/size.js'
import { ensureCorpus, REPO } from './mapreduce/corpus.js'
import { measure, type Measured } from './mapreduce/measure.js'

const { values: opts } = parseArgs({ options: { size: { type: 'string', default: '4x48MiB' }, procs: { type: 'string' } } })
const m = /^(\d+)x(.+)$/.exec(opts.size)
if (m === null) throw new TypeError(`--size must be FILESxSIZE (4x64MiB), got ${JSON.stringify(opts.size)}`)
const procs = Number(opts.procs ?? availableParallelism())
const say = (s: string): void => console.log(s)

if (!existsSync(path.join(REPO, 'dist/cli/main.js'))) {
  say('building dist/ (npm run build) ...')
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO, stdio: 'inherit' })
}
const corpus = await ensureCorpus(1, Number(m[1]), parseSize('--size', m[2]!, 4096), say)
const mb = corpus.bytes / 1e6
// Read once so that neither run pays for the disk.
spawnSync('bash', ['-c', 'cat "$@" > /dev/null', 'cat', ...corpus.files])

const out = path.join(tmpdir(), `gort-start-${process.pid}`)
const ref = `${out}.idiomatic.tsv`
try {
  say(`\nword count of ${mb.toFixed(0)} MB (${corpus.files.length} files in ${path.relative(REPO, corpus.dir)}/)\n`)
  say(`$ gort mapreduce --job examples/mapreduce/wc.ts --input '${path.relative(REPO, corpus.dir)}/*.txt' --output ${out} --procs ${procs}`)
  const gort = measure({
    cmd: process.execPath,
    args: [path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', path.join(REPO, 'examples/mapreduce/wc.ts'), '--input', path.join(corpus.dir, '*.txt'), '--output', out, '--procs', String(procs)],
    stdio: 'inherit',
  })
  say(`\n$ node bench/mapreduce/wc-idiomatic.mjs  (readline, split(/\\s+/), a Map; one thread)`)
  const node = measure({ cmd: process.execPath, args: [path.join(REPO, 'bench/mapreduce/wc-idiomatic.mjs'), ref, ...corpus.files] })

  const counts = (texts: string[]): Map<string, number> => {
    const c = new Map<string, number>()
    for (const t of texts) for (const l of t.split('\n')) if (l) c.set(l.slice(0, l.lastIndexOf('\t')), Number(l.slice(l.lastIndexOf('\t') + 1)))
    return c
  }
  const a = counts(readdirSync(out).filter((f) => f.startsWith('part-')).map((f) => readFileSync(path.join(out, f), 'utf8')))
  const b = counts([readFileSync(ref, 'utf8')])
  const same = a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)
  const top = [...a].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([w, n]) => `${w} ${n}`).join(', ')

  const line = (name: string, r: Measured): string =>
    `${name.padEnd(34)} ${r.wall.toFixed(2).padStart(7)} s ${(mb / r.wall).toFixed(1).padStart(8)} MB/s ${Number.isFinite(r.cpu) ? `${r.cpu.toFixed(2).padStart(7)} s CPU` : ''}`
  say(`\n${a.size} distinct words; most frequent: ${top}`)
  say(`the two counts ${same ? 'agree' : 'DIFFER'}\n`)
  say(line(`gort mapreduce, ${procs} procs`, gort))
  say(line('idiomatic Node, 1 thread', node))
  say(`\ngort is ${(node.wall / gort.wall).toFixed(2)}x the idiomatic script's throughput on ${procs} procs.`)
  say('More: npm run bench -- --only mapreduce --quick (all peers, Go included), npm run bench -- --only chan.')
  process.exitCode = same ? 0 : 1
} finally {
  rmSync(out, { recursive: true, force: true })
  rmSync(ref, { force: true })
}
