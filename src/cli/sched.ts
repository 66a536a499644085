/**
 * `gort sched`: the scheduler's throughput shapes on this machine, with gort alone (no peers, no
 * dev dependencies), so an installed package can answer "how fast is it here?". The full bench
 * with piscina, poolifier and Go beside it is bench/scheduler.bench.ts in the repository.
 *
 * Invariants:
 * - Every shape checks its results (a wrong sum is exit 1), so a rate is never of lost work.
 * - Each shape prints as it finishes; --json prints one object at the end instead.
 * - The runtime is closed on every path, so the process exits by itself.
 * - Exit codes: 0 success; 1 a shape failed; 2 usage errors and bad options, with the reason.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { GortError } from '../errors.js'
import { MAX_PROCS, Runtime, SchedulerArgError, type SchedStats } from '../scheduler/index.js'
import { subcommand } from './subcommand.js'
import { add, fib, serialFib, spawnWaves } from './sched-tasks.js'

const HELP = `usage:
  gort sched [--procs N] [--tasks N] [--fib N] [--cutoff N] [--rounds N] [--json]

Runs the scheduler's shapes with gort alone and prints each as it finishes:
tiny tasks submitted from the main thread (a go() each, then one goAll), tiny
tasks spawned inside tasks (waves of 128), fork-join fib(N) against the same fib
on one thread, and the runtime's counters. Rates are medians over the rounds.

options:
  --procs N    Ps, as GOMAXPROCS, 1 to ${MAX_PROCS} (default: the GOMAXPROCS
               variable, else the CPUs, at most ${MAX_PROCS})
  --tasks N    tiny tasks per burst (default 200000)
  --fib N      fork-join fib(N), 2 to 40 (default 32)
  --cutoff N   fib below this runs serially inside one task, 2 to N (default 20)
  --rounds N   timed rounds per shape (default 5)
  --json       print one JSON object at the end instead of lines
GODEBUG=schedtrace=1000 prints Go's SCHED line every second as well.`

class UsageError extends GortError {
  constructor(message: string) {
    super('ERR_SCHED_USAGE', message)
  }
}

/** Children in flight per parent inside tasks: the bench's small waves, which stay in cache. */
const WAVE = 128
const MAX_FIB_GS = 2_000_000

function intOption(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`)
  }
  return n
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * Median wall time (ms) and process CPU (µs) of `rounds` calls of `body`, after untimed ones: at
 * least one, and more for up to 300 ms (20 at most), since each M compiles the hot paths on its
 * own and a small --tasks would otherwise time the interpreter.
 */
async function timed(rounds: number, body: () => Promise<void>): Promise<{ ms: number; cpuUs: number }> {
  const warmStart = performance.now()
  for (let i = 0; i < 1 || (i < 20 && performance.now() - warmStart < 300); i++) await body()
  const ms: number[] = []
  const cpu: number[] = []
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await body()
    ms.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push(c.user + c.system)
  }
  return { ms: median(ms), cpuUs: median(cpu) }
}

function check(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: got ${got}, want ${want} (a task was lost or ran twice)`)
}

const rate = (perSec: number): string =>
  perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)}M tasks/s` : `${(perSec / 1e3).toFixed(1)}k tasks/s`

interface Report {
  procs: number
  cpus: number
  cpuModel: string
  node: string
  tasks: number
  rounds: number
  goFromMain: { perSec: number; cpuUsPerTask: number }
  goAllFromMain: { perSec: number; cpuUsPerTask: number }
  insideTasks: { parents: number; wave: number; goPerSec: number; goAllPerSec: number }
  fib: { n: number; cutoff: number; gs: number; ms: number; singleMs: number; speedup: number }
  stats: SchedStats['total'] & { threads: number; mDeaths: number }
}

async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      procs: { type: 'string' },
      tasks: { type: 'string' },
      fib: { type: 'string' },
      cutoff: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const procs = values.procs === undefined ? undefined : intOption('procs', values.procs, 0, 1, MAX_PROCS)
  const tasks = intOption('tasks', values.tasks, 200_000, 1, 10_000_000)
  const n = intOption('fib', values.fib, 32, 2, 40)
  const cutoff = intOption('cutoff', values.cutoff, Math.min(20, n), 2, n)
  // 15 or more calls are timed: keep each to a few million Gs.
  const fibGs = forkJoinGs(n, cutoff)
  if (fibGs > MAX_FIB_GS) throw new UsageError(`fib(${n}) with cut-off ${cutoff} makes ${fibGs} Gs a call (at most ${MAX_FIB_GS}): raise --cutoff`)
  const rounds = intOption('rounds', values.rounds, 5, 1, 1000)
  const say = values.json ? (): void => {} : (line: string): void => console.log(line)

  const rt = await Runtime.start(procs === undefined ? {} : { procs })
  try {
    const cpus = os.cpus()
    const cpuModel = cpus[0]?.model.trim() ?? 'unknown'
    say(`gort sched: ${rt.procs} procs on ${os.availableParallelism()} CPUs (${cpuModel}), Node ${process.version}; median of ${rounds} rounds`)

    const wantAdds = tasks + (tasks * (tasks - 1)) / 2 // sum of add(i, 1) for i < tasks
    const goMain = await timed(rounds, async () => {
      const ps: Promise<number>[] = new Array<Promise<number>>(tasks)
      for (let i = 0; i < tasks; i++) ps[i] = rt.go(add, i, 1)
      let sum = 0
      for (const r of await Promise.all(ps)) sum += r
      check('go from main', sum, wantAdds)
    })
    const goFromMain = { perSec: (tasks / goMain.ms) * 1000, cpuUsPerTask: goMain.cpuUs / tasks }
    say(`  go from main         ${rate(goFromMain.perSec).padStart(18)}  ${goFromMain.cpuUsPerTask.toFixed(2)} µs CPU/task, all threads (${tasks} tasks, a promise each)`)

    const tuples = Array.from({ length: tasks }, (_, i): [number, number] => [i, 1])
    const goAllMain = await timed(rounds, async () => {
      let sum = 0
      for (const r of await rt.goAll(add, tuples)) sum += r
      check('goAll from main', sum, wantAdds)
    })
    const goAllFromMain = { perSec: (tasks / goAllMain.ms) * 1000, cpuUsPerTask: goAllMain.cpuUs / tasks }
    say(`  goAll from main      ${rate(goAllFromMain.perSec).padStart(18)}  ${goAllFromMain.cpuUsPerTask.toFixed(2)} µs CPU/task (one call, one promise)`)

    // As many parents as 2 per P, each spawning its share of `tasks` in waves.
    const parents = 2 * rt.procs
    const share = Math.max(1, Math.floor(tasks / parents))
    const full = Math.floor(share / WAVE)
    const rest = share % WAVE
    const wantShare = full * ((WAVE * (WAVE + 1)) / 2) + (rest * (rest + 1)) / 2
    const inside = async (batch: number): Promise<number> => {
      const t = await timed(rounds, async () => {
        const sums = await Promise.all(Array.from({ length: parents }, () => rt.go(spawnWaves, share, WAVE, batch)))
        for (const s of sums) check('spawned inside tasks', s, wantShare)
      })
      return ((share * parents) / t.ms) * 1000
    }
    const goInside = await inside(0)
    const goAllInside = await inside(1)
    const insideTasks = { parents, wave: WAVE, goPerSec: goInside, goAllPerSec: goAllInside }
    say(`  go inside tasks      ${rate(goInside).padStart(18)}  (${parents} parents x ${share} children, waves of ${WAVE})`)
    say(`  goAll inside tasks   ${rate(goAllInside).padStart(18)}  (one goAll a wave)`)

    // Fork-join: gort and one thread alternate, so both see the same moments of this machine.
    // Warm-up: each M compiles the scheduler's paths and fib on its own, and a fresh runtime
    // takes tens of calls to reach its steady state. At least 300 ms, and 30 calls unless they
    // take over 2 s (a large fib takes about a second a call).
    const want = serialFib(n)
    const warmStart = performance.now()
    const warming = (i: number): boolean => {
      const spent = performance.now() - warmStart
      return i < 3 || spent < 300 || (i < 30 && spent < 2000)
    }
    for (let i = 0; warming(i); i++) {
      serialFib(n)
      check(`fib(${n})`, await rt.go(fib, n, cutoff), want)
    }
    const g: number[] = []
    const single: number[] = []
    const ratios: number[] = []
    for (let r = 0; r < Math.max(3 * rounds, 9); r++) {
      const t0 = performance.now()
      serialFib(n)
      const t1 = performance.now()
      check(`fib(${n})`, await rt.go(fib, n, cutoff), want)
      const t2 = performance.now()
      single.push(t1 - t0)
      g.push(t2 - t1)
      ratios.push((t1 - t0) / (t2 - t1))
    }
    const fibReport = { n, cutoff, gs: fibGs, ms: median(g), singleMs: median(single), speedup: median(ratios) }
    say(`  fib(${n}), cut-off ${cutoff}   ${`${fibReport.ms.toFixed(2)} ms`.padStart(18)}  ${fibReport.speedup.toFixed(2)}x one thread (${fibReport.singleMs.toFixed(2)} ms); ${fibReport.gs} Gs a call`)

    const st = rt.stats()
    const stats = { ...st.total, threads: st.threads, mDeaths: st.mDeaths }
    say(`  scheduler: runs ${stats.runs}, spawns ${stats.spawns}, steals ${stats.steals} in ${stats.stealAttempts} attempts, global pulls ${stats.globalPulls}, parks ${stats.parks}, hand-offs ${stats.handoffs}, inlined ${stats.inlined}; ${stats.threads} threads`)

    if (values.json) {
      const report: Report = {
        procs: rt.procs, cpus: os.availableParallelism(), cpuModel, node: process.version, tasks, rounds,
        goFromMain, goAllFromMain, insideTasks, fib: fibReport, stats,
      }
      console.log(JSON.stringify(report))
    }
    return 0
  } finally {
    await rt.close()
  }
}

/** The Gs one fib(n) call makes with this cut-off: the call itself, and two children for each call at or above it. */
function forkJoinGs(n: number, cutoff: number): number {
  const gs = [1, 1]
  for (let k = 2; k <= n; k++) gs.push(k < cutoff ? 1 : 1 + gs[k - 1]! + gs[k - 2]!)
  return n < cutoff ? 1 : gs[n]!
}

export const command = subcommand(
  'sched',
  "the scheduler's throughput shapes on this machine, gort alone",
  (error) => error instanceof UsageError || error instanceof SchedulerArgError,
  run,
)
