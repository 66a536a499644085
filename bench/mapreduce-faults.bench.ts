/**
 * What faults cost a MapReduce job (the targets), against the same job without faults
 * in the same run. MAPS map tasks (one file each), each sleeping TASK_MS in Atomics.wait, so a
 * task's length does not depend on this machine's load; PROCS threads; 2 reducers.
 *
 *   no fault              the baseline
 *   map killed once       the last map's first attempt ends its thread (process.exit) after its
 *                         work: that work is lost and the task runs again. Target: the job costs
 *                         at most TASK_MS + 10 % more than the baseline
 *   map stalls, backups   the last map's first attempt sleeps 10 x TASK_MS; a backup copy wins.
 *                         Target: at most 25 % more than the baseline
 *   map stalls, no backup the same with backupTasks: false (what the backup saves)
 *
 * The faulty task is the last one, which starts in the last wave: the worst place for both.
 * runJob comes from dist/ (build first: npx tsc -p tsconfig.json) so that a replaced M starts
 * without tsx, as under the CLI.
 *
 * Usage: tsx bench/mapreduce-faults.bench.ts [--quick]. Writes bench/results/mapreduce-faults.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Bench } from 'tinybench'
import { runJob, type JobResult } from '../dist/mapreduce/index.js'

const quick = process.argv.includes('--quick')
const MAPS = quick ? 16 : 32
const PROCS = 4
const TASK_MS = quick ? 250 : 500
const JOB = fileURLToPath(new URL('./mapreduce/faults-job.mjs', import.meta.url))

const dir = mkdtempSync(path.join(tmpdir(), 'gort-mr-faults-'))
mkdirSync(path.join(dir, 'in'))
for (let i = 0; i < MAPS; i++) writeFileSync(path.join(dir, 'in', `f${String(i).padStart(3, '0')}.txt`), `w${i % 7} w${i % 3} common\n`)
const last = `m-${String(MAPS - 1).padStart(5, '0')}`
let run = 0

async function job(fault: 'none' | 'exit' | 'stall', backupTasks: boolean): Promise<JobResult> {
  process.env['GORT_BENCH_TASK_MS'] = String(TASK_MS)
  process.env['GORT_BENCH_FAULT'] = fault
  process.env['GORT_BENCH_FAULT_TASK'] = last
  const output = path.join(dir, `out-${run++}`)
  const r = await runJob({ job: JOB, input: path.join(dir, 'in'), output, procs: PROCS, reducers: 2, backupTasks })
  rmSync(output, { recursive: true, force: true })
  const c = r.counters
  if (r.maps !== MAPS || c.mapInputRecords !== MAPS) throw new Error('wrong job')
  if (fault === 'exit' && c.failedAttempts !== 1) throw new Error(`killed once: ${c.failedAttempts} failed attempts`)
  if (fault === 'stall' && backupTasks && c.backupTasks !== 1) throw new Error(`stall: ${c.backupTasks} backups`)
  if (fault === 'none' && (c.mapAttempts !== MAPS || c.backupTasks !== 0)) throw new Error(`no fault: ${c.mapAttempts} attempts, ${c.backupTasks} backups`)
  return r
}

const names = { base: 'no fault', kill: 'map killed once', stall: 'map stalls 10x, backups', stallOff: 'map stalls 10x, no backup' } as const
const bench = new Bench({ iterations: quick ? 2 : 4, time: 0, warmup: false })
bench
  .add(names.base, async () => void (await job('none', true)))
  .add(names.kill, async () => void (await job('exit', true)))
  .add(names.stall, async () => void (await job('stall', true)))
  .add(names.stallOff, async () => void (await job('stall', false)))
try {
  await bench.run()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const p50 = (name: string): number => {
  const r = bench.getTask(name)?.result
  if (r === undefined || !('latency' in r)) throw new Error(`benchmark task ${name} produced no result`)
  return r.latency.p50
}
const base = p50(names.base)
const rows = Object.values(names).map((n) => ({ task: n, medianMs: Math.round(p50(n)), overBaselineMs: Math.round(p50(n) - base), ratio: +(p50(n) / base).toFixed(3) }))
console.table(rows)
const kill = p50(names.kill) - base
const stall = p50(names.stall) - base
console.log(`${MAPS} maps of ${TASK_MS} ms on ${PROCS} procs; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${cpus().length} CPUs`)
console.log(`killed once: +${Math.round(kill)} ms = ${(kill / TASK_MS).toFixed(2)} x the task (target <= 1.10)`)
console.log(`stall with backups: +${Math.round(stall)} ms = ${((stall / base) * 100).toFixed(1)} % of the job (target <= 25 %)`)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(new URL('./results/mapreduce-faults.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), maps: MAPS, procs: PROCS, taskMs: TASK_MS, load: loadavg(), rows }, null, 2))
