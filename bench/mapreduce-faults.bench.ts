/**
 * What faults cost a MapReduce job (the targets), against the same job without faults
 * in the same run. MAPS map tasks (one file each), each sleeping TASK_MS in Atomics.wait, so a
 * task's length does not depend on this machine's load; PROCS threads; 2 reducers.
 *
 *   no fault              the baseline
 *   map killed once       the last map's first attempt ends its thread (process.exit) after its
 *                         work: that work is lost and the task runs again. Target: the job costs
 *                         at most TASK_MS + 10 % more than the baseline
 *   map throws once       the same attempt throws after its work instead: lost as well, and its
 *                         thread retires, so the retry also waits for a fresh M (no target; what
 *                         the retry on another thread costs beside a kill)
 *   map stalls, backups   the last map's first attempt sleeps 10 x TASK_MS; a backup copy wins.
 *                         Target: at most 25 % more than the baseline
 *   map stalls, no backup the same with backupTasks: false (what the backup saves)
 *
 * The faulty task is the last one, which starts in the last wave: the worst place for both.
 * Besides each whole job (tinybench's timing: thread start-up, the probe, the reduce phase and
 * the close included, all of which a loaded machine stretches), the map phase alone is timed
 * from runJob's progress events (first map attempt started to the phase's end): that is where
 * the faults are, and its medians are the numbers to quote.
 * Each job runs in a child process under plain node (mapreduce/faults-run.mjs, runJob from
 * dist/: build first with npx tsc -p tsconfig.json), so that its Ms load no tsx, as under the
 * CLI (in this process, tsx's, every M and every replaced M would load tsx first).
 *
 * Usage: tsx bench/mapreduce-faults.bench.ts [--quick]. Writes bench/results/mapreduce-faults.json.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Bench } from 'tinybench'

const quick = process.argv.includes('--quick')
const MAPS = quick ? 16 : 32
const PROCS = 4
const TASK_MS = quick ? 250 : 500
const RUN = fileURLToPath(new URL('./mapreduce/faults-run.mjs', import.meta.url))
const execFileAsync = promisify(execFile)
if (!existsSync(new URL('../dist/mapreduce/index.js', import.meta.url))) {
  console.error('mapreduce-faults: dist/ is missing; build first (npx tsc -p tsconfig.json)')
  process.exit(1)
}

interface Counters { mapAttempts: number; mapInputRecords: number; failedAttempts: number; backupTasks: number }

const dir = mkdtempSync(path.join(tmpdir(), 'gort-mr-faults-'))
mkdirSync(path.join(dir, 'in'))
for (let i = 0; i < MAPS; i++) writeFileSync(path.join(dir, 'in', `f${String(i).padStart(3, '0')}.txt`), `w${i % 7} w${i % 3} common\n`)
const last = `m-${String(MAPS - 1).padStart(5, '0')}`
let run = 0
/** Map phase durations (ms) by mode. */
const phases = new Map<string, number[]>()
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function job(fault: 'none' | 'exit' | 'throw' | 'stall', backupTasks: boolean): Promise<void> {
  const output = path.join(dir, `out-${run++}`)
  const { stdout } = await execFileAsync(process.execPath, [RUN, path.join(dir, 'in'), output, fault, backupTasks ? 'on' : 'off', String(PROCS), String(TASK_MS)], {
    env: { ...process.env, NODE_OPTIONS: '', GORT_BENCH_FAULT_TASK: last },
  })
  const r = JSON.parse(stdout) as { mapPhaseMs: number; jobMs: number; maps: number; counters: Counters }
  const mode = `${fault}${backupTasks ? '' : ', no backup'}`
  phases.set(mode, [...(phases.get(mode) ?? []), r.mapPhaseMs])
  const c = r.counters
  if (r.maps !== MAPS || c.mapInputRecords !== MAPS) throw new Error('wrong job')
  if ((fault === 'exit' || fault === 'throw') && c.failedAttempts !== 1) throw new Error(`${fault} once: ${c.failedAttempts} failed attempts`)
  if (fault === 'stall' && backupTasks && c.backupTasks !== 1) throw new Error(`stall: ${c.backupTasks} backups`)
  if (fault === 'none' && (c.mapAttempts !== MAPS || c.backupTasks !== 0)) throw new Error(`no fault: ${c.mapAttempts} attempts, ${c.backupTasks} backups`)
}

const names = { base: 'no fault', kill: 'map killed once', thrown: 'map throws once', stall: 'map stalls 10x, backups', stallOff: 'map stalls 10x, no backup' } as const
const bench = new Bench({ iterations: quick ? 2 : 4, time: 0, warmup: false })
bench
  .add(names.base, () => job('none', true))
  .add(names.kill, () => job('exit', true))
  .add(names.thrown, () => job('throw', true))
  .add(names.stall, () => job('stall', true))
  .add(names.stallOff, () => job('stall', false))
try {
  await bench.run()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const latency = (name: string): { p50: number; min: number; max: number } => {
  const r = bench.getTask(name)?.result
  if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
  return { p50: r.latency.p50, min: r.latency.min, max: r.latency.max }
}
const p50 = (name: string): number => latency(name).p50
const base = p50(names.base)
const rows = Object.values(names).map((n) => ({
  task: n, medianMs: Math.round(p50(n)), minMs: Math.round(latency(n).min), maxMs: Math.round(latency(n).max),
  overBaselineMs: Math.round(p50(n) - base), ratio: +(p50(n) / base).toFixed(3),
}))
console.log('whole jobs (tinybench):')
console.table(rows)
const phase = (mode: string): number => median(phases.get(mode) ?? [NaN])
const pBase = phase('none')
const phaseRows = [['none', names.base], ['exit', names.kill], ['throw', names.thrown], ['stall', names.stall], ['stall, no backup', names.stallOff]].map(([mode, name]) => ({
  task: name, mapPhaseMedianMs: Math.round(phase(mode!)), overBaselineMs: Math.round(phase(mode!) - pBase), ratio: +(phase(mode!) / pBase).toFixed(3),
  runs: (phases.get(mode!) ?? []).map((x) => Math.round(x)).join(' '),
}))
console.log('map phase alone (first attempt started to phase end):')
console.table(phaseRows)
const kill = phase('exit') - pBase
const thrown = phase('throw') - pBase
const stall = phase('stall') - pBase
console.log(`${MAPS} maps of ${TASK_MS} ms on ${PROCS} procs; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${cpus().length} CPUs`)
console.log(`killed once: map phase +${Math.round(kill)} ms = ${(kill / TASK_MS).toFixed(2)} x the task (target <= 1.10)`)
console.log(`thrown once: map phase +${Math.round(thrown)} ms = ${(thrown / TASK_MS).toFixed(2)} x the task (the retry on a fresh thread)`)
console.log(`stall with backups: map phase +${Math.round(stall)} ms = ${((stall / pBase) * 100).toFixed(1)} % (target <= 25 % of the job)`)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(new URL('./results/mapreduce-faults.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), maps: MAPS, procs: PROCS, taskMs: TASK_MS, load: loadavg(), rows, mapPhase: phaseRows }, null, 2))
