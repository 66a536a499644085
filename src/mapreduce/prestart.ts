/**
 * A job's Ms, spawned before the coordinator's modules are read (scheduler/main/prestart.ts):
 * Node's start-up of the threads and their modules then overlap this thread's own reading of the
 * coordinator and the Runtime, which took the first worker's spawn 65-70 ms into `runJob` before
 * (bench/NOTES.md). `procs` of them when it is given; else one, since the count then depends on
 * the input's size and every job runs at least one M. So the threads are used whenever the job
 * starts; a job refused before it starts (bad options, a missing input) ends them.
 *
 * Invariant: the worker options here are the ones the coordinator starts its Runtime with
 * (`M_YOUNG_MB`, the loader it guesses, `taskStdout`): a thread prestarted with others is never
 * taken, only ended.
 */

import { MAX_PROCS } from '../scheduler/main/options.js'
import { NO_THREAD, prestartM, specOf, type Prestarted, type WorkerSpec } from '../scheduler/main/prestart.js'
import { jobUrl, likelyLoader } from './job.js'
import { openFileLimit, threadsForFiles } from './filelimit.js'
import type { RunJobOptions } from './options.js'

/**
 * Young-generation cap of each M (MB). A task spawns no Gs of its own, so the scheduler's large
 * nursery (sized for bursts of spawned promises) only holds the map buffer's garbage longer: 16
 * left word count's CPU where it was and took 70-150 MB off its peak RSS (bench/NOTES.md).
 */
export const M_YOUNG_MB = 16

/** The loader the coordinator first starts the Ms with: the likely one for a job module, 'auto' for streaming. */
export function guessLoader(url: string | undefined): 'auto' | 'tsx' | 'none' {
  return url === undefined ? 'auto' : likelyLoader(url)
}

interface Plan {
  readonly spec: WorkerSpec
  readonly n: number
  /** What the threads depend on: two plans with the same start interchangeable threads. */
  readonly sig: string
}

/** The threads `options` ask for, or undefined for options too malformed to tell the worker from (the coordinator reports them) or past the open-file limit. */
function planOf(options: PrestartOptions): Plan | undefined {
  try {
    let url: string | undefined
    if (options.mapper === undefined) {
      if (options.job === undefined || options.job === '') return undefined
      url = jobUrl(options.job)
    }
    const stdout = options.taskStdout === 'stderr' ? 'stderr' : 'stdout'
    const loader = guessLoader(url)
    const spec = specOf({ loader, youngMb: M_YOUNG_MB, stdout })
    const p = options.procs
    const n = typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= MAX_PROCS ? p : 1
    // Past the open-file limit, starting them would fail anywhere: runJob says so instead.
    if (n > threadsForFiles(openFileLimit())) return undefined
    return { spec, n, sig: `${loader} ${stdout}` }
  } catch {
    return undefined
  }
}

function start(spec: WorkerSpec, n: number): Prestarted {
  const threads = Array.from({ length: n }, () => prestartM(spec))
  return {
    threadId: threads[0]?.threadId ?? 0,
    discard: () => Promise.all(threads.map((t) => t.discard())).then(() => {}),
  }
}

/** What the threads depend on, of runJob's options. */
export type PrestartOptions = Pick<RunJobOptions, 'job' | 'mapper' | 'procs' | 'taskStdout'>

/** Threads started by prestartEarly, for the prestartMs that comes next. */
let early: { readonly plan: Plan; readonly handle: Prestarted } | undefined

/**
 * Starts the threads of the job the CLI is about to run, from its arguments (cli/early.ts), before
 * the CLI's own modules load: the next prestartMs takes them when its options ask for the same
 * kind, and ends them otherwise.
 */
export function prestartEarly(options: PrestartOptions): void {
  void early?.handle.discard()
  const plan = planOf(options)
  early = plan === undefined ? undefined : { plan, handle: start(plan.spec, plan.n) }
}

/**
 * Spawns the job's Ms now, for the Runtime the coordinator starts: `procs` of them when it is
 * given, else one (the thread count then depends on the input's size, read later; every job runs
 * at least one M). The caller discards the handle when the job ends (or once the Runtime
 * started): it ends those no Runtime took. Threads prestartEarly started for the same kind count
 * toward them; those of another kind are ended.
 */
export function prestartMs(options: RunJobOptions): Prestarted {
  const pre = early
  early = undefined
  const plan = planOf(options)
  if (pre !== undefined && plan !== undefined && pre.plan.sig === plan.sig) {
    const more = start(plan.spec, Math.max(0, plan.n - pre.plan.n))
    return {
      threadId: pre.handle.threadId,
      discard: () => Promise.all([pre.handle.discard(), more.discard()]).then(() => {}),
    }
  }
  void pre?.handle.discard()
  return plan === undefined ? NO_THREAD : start(plan.spec, plan.n)
}
