// One job of bench/mapreduce-faults.bench.ts, in a process of its own under plain node (as the
// CLI runs: its Ms load no tsx): node faults-run.mjs INPUT_DIR OUTPUT_DIR FAULT BACKUPS PROCS
// TASK_MS. Prints {"mapPhaseMs", "jobMs", "counters"} as JSON.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runJob } from '../../dist/mapreduce/index.js'

const [input, output, fault, backups, procs, taskMs] = process.argv.slice(2)
process.env.GORT_BENCH_TASK_MS = taskMs
process.env.GORT_BENCH_FAULT = fault
const t0 = performance.now()
let first
let end = 0
const r = await runJob({
  job: fileURLToPath(new URL('./faults-job.mjs', import.meta.url)), input, output, procs: Number(procs), reducers: 2,
  backupTasks: backups === 'on',
  onProgress: (e) => {
    if (e.type === 'attempt' && e.phase === 'map' && e.state === 'started') first ??= performance.now()
    if (e.type === 'phase' && e.phase === 'map') end = performance.now()
  },
})
const jobMs = performance.now() - t0
rmSync(output, { recursive: true, force: true })
console.log(JSON.stringify({ mapPhaseMs: end - first, jobMs, maps: r.maps, counters: r.counters }))
