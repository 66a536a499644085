/**
 * Runtime.start options, their defaults and validation, and which worker entry the Ms load.
 * Validation errors echo the bad value.
 *
 * Invariant: every option is bounded so that the shared buffer the layout computes from them
 * (G records of the main thread and of every M index, the Ps' rings) stays within
 * MAX_SHARED_BYTES; a combination of in-range options that still exceeds it is refused with the
 * size it would need, before anything is allocated or any thread starts.
 */

import os from 'node:os'
import { SchedulerArgError, describe } from '../errors.js'
import { computeLayout, type Layout } from '../shared/layout.js'

/**
 * Most Ps a runtime may have. Each P is an M, a worker thread with a heap of its own, and brings
 * two more M indices (maxThreads defaults to 2 procs + 2), each with its G records (2 MiB at the
 * default mSlots): at 256 the default layout is about 1.2 GiB of shared memory, at 1000 it would
 * be 4.5 GiB, past what a typed array over one buffer may span on Node 20.
 */
export const MAX_PROCS = 256
/** Most live Ms (maxThreads; procs + spares). */
export const MAX_THREADS = 1024
export const MAX_MAIN_SLOTS = 1 << 22
export const MAX_M_SLOTS = 1 << 20
/**
 * The runtime's shared buffer at most: word offsets stay below 2^29, so the Float64 index
 * (`word >> 1`) and byte offsets (`word * 4`) stay exact in int32 arithmetic.
 */
export const MAX_SHARED_BYTES = 2 ** 31

export interface RuntimeOptions {
  /** Number of Ps (GOMAXPROCS). Default: the GOMAXPROCS env variable, else os.availableParallelism(). */
  readonly procs?: number
  /** Spare Ms started ahead of time for hand-offs. Default: max(1, ceil(procs / 4)). */
  readonly spares?: number
  /** Upper bound on live Ms. Default: 2 * procs + 2. */
  readonly maxThreads?: number
  /**
   * Ms that may die (or be killed, `killAfterMs`) and be replaced over the runtime's life, beyond
   * `maxThreads` (a dead M's index is never reused; each costs its G records of shared memory).
   * Once they are used up and no M is left, every pending task rejects with MExhaustedError, as
   * does every later `go`. Default 8; 0 to 4096.
   */
  readonly replacements?: number
  /** Hand a P to a spare M when its M has not ticked for this long while work waits (ms, 0: never). Default 10. */
  readonly handoffMs?: number
  /**
   * How long the main thread polls for results before it waits for a wake-up (µs, 0 to 1000; 0:
   * never). A wake-up costs far more than the answer of an M that is still spinning. The poll
   * blocks the event loop for at most this long and stops polling while polls keep missing.
   * Default 10.
   */
  readonly mainSpinUs?: number
  /**
   * While more than four Gs per P are awaited, the main thread takes results by a timer of this
   * period (µs, 0 to 100000; 0: never) instead of a wake-up per result, which preempts a busy M.
   * A result then waits at most this much longer; with fewer Gs awaited, results are taken at
   * once. Default 2000.
   */
  readonly resultBatchUs?: number
  /**
   * Old-generation cap of each M's heap, in MB (at least 16). An M that runs out is ended, not
   * the process: its started tasks reject with MDiedError ('out of memory'), its unstarted ones
   * run elsewhere, and a fresh M replaces it. Default: V8's own limit.
   */
  readonly mHeapMb?: number
  /**
   * Young-generation cap of each M's heap, in MB (1 to 1024). A large nursery means fewer
   * scavenges while hundreds of thousands of spawned Gs' promises are alive at once; a small one
   * keeps the resident memory of jobs that hold big heaps of their own (MapReduce's buffers)
   * down. Default 64.
   */
  readonly mYoungMb?: number
  /** G records of the main thread (in-flight Gs before `go` queues locally). Default 262144. */
  readonly mainSlots?: number
  /** G records of each M: children in flight per M before go() inside a task runs them inline. Default 32768. */
  readonly mSlots?: number
  /**
   * How workers load task modules when gort itself runs from dist/: 'tsx' registers tsx in each
   * worker (TypeScript task modules), 'none' loads plain JS. Default 'auto': tsx when this process
   * runs under tsx.
   */
  readonly loader?: 'auto' | 'tsx' | 'none'
  /**
   * Where what task code writes to stdout (console.log) goes: this process's stdout (default) or
   * its stderr, for a program whose stdout is data (`gort mapreduce --json`).
   */
  readonly mStdout?: 'stdout' | 'stderr'
  /**
   * The most tasks an M runs at once that it took from the shared queues (the global queue, or
   * by stealing), 1 to 1024. A started task cannot move to another M, so while one awaits I/O
   * its M may start others; one that then blocks the thread holds up the first one's
   * continuation too. 1 gives each such task an M to itself: a task that awaits and one that
   * computes for long never share a thread (MapReduce runs its attempts so). Children a task
   * spawns with `go()` still run on its M. Use it for independent tasks: a task that awaits a G
   * queued globally waits until some M has room. Default: adaptive (each M starts at 8, and
   * takes more while its tasks all wait, fewer while they compute).
   */
  readonly mTasks?: number
}

/** GOMAXPROCS, else the CPUs, at most MAX_PROCS (as Go once capped GOMAXPROCS, not refused it). */
export function defaultProcs(): number {
  const env = process.env['GOMAXPROCS']
  if (env !== undefined && env !== '') {
    const n = Number(env)
    if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_PROCS)
  }
  return Math.min(os.availableParallelism(), MAX_PROCS)
}

/** Runtime.start's options resolved: defaults filled in, each checked, and the layout they make. */
export interface Resolved {
  readonly procs: number
  readonly spares: number
  readonly maxThreads: number
  readonly handoffMs: number
  readonly mainSpinUs: number
  readonly resultBatchUs: number
  readonly mHeapMb: number | undefined
  readonly mYoungMb: number
  readonly loader: 'auto' | 'tsx' | 'none'
  readonly mStdout: 'stdout' | 'stderr'
  /** 0: adaptive. */
  readonly mTasks: number
  readonly layout: Layout
}

/** Checks Runtime.start's options; throws SchedulerArgError naming the first bad one and its value. */
export function resolveOptions(options: RuntimeOptions): Resolved {
  const procs = positiveInt('procs', options.procs, defaultProcs(), 1, MAX_PROCS)
  const spares = positiveInt('spares', options.spares, Math.max(1, Math.ceil(procs / 4)), 0, MAX_THREADS - procs)
  const maxThreads = Math.max(procs + spares, positiveInt('maxThreads', options.maxThreads, 2 * procs + 2, 1, MAX_THREADS))
  const handoffMs = positiveInt('handoffMs', options.handoffMs, 10, 0)
  const mainSlots = positiveInt('mainSlots', options.mainSlots, 1 << 18, 1, MAX_MAIN_SLOTS)
  const mSlots = positiveInt('mSlots', options.mSlots, 1 << 15, 1, MAX_M_SLOTS)
  const mainSpinUs = positiveInt('mainSpinUs', options.mainSpinUs, 10, 0, 1000)
  const resultBatchUs = positiveInt('resultBatchUs', options.resultBatchUs, 2000, 0, 100_000)
  const mHeapMb = options.mHeapMb === undefined ? undefined : positiveInt('mHeapMb', options.mHeapMb, 0, 16)
  const mYoungMb = positiveInt('mYoungMb', options.mYoungMb, 64, 1, 1024)
  const loader = options.loader ?? 'auto'
  if (loader !== 'auto' && loader !== 'tsx' && loader !== 'none') {
    throw new SchedulerArgError(`gort: Runtime.start: loader must be 'auto', 'tsx' or 'none', got ${describe(loader)}`)
  }
  const mStdout = options.mStdout ?? 'stdout'
  if (mStdout !== 'stdout' && mStdout !== 'stderr') {
    throw new SchedulerArgError(`gort: Runtime.start: mStdout must be 'stdout' or 'stderr', got ${describe(mStdout)}`)
  }
  const mTasks = options.mTasks === undefined ? 0 : positiveInt('mTasks', options.mTasks, 0, 1, 1024)
  // Indices of Ms that died are never reused, so leave room for replacements.
  const replacements = positiveInt('replacements', options.replacements, 8, 0, 4096)
  const layout = computeLayout(procs, maxThreads + replacements, mainSlots, mSlots)
  const bytes = layout.words * 4
  if (bytes > MAX_SHARED_BYTES) {
    const gib = (b: number): string => `${Math.round((b / 2 ** 30) * 10) / 10} GiB`
    throw new SchedulerArgError(
      `gort: Runtime.start: procs ${procs}, maxThreads ${maxThreads}, mainSlots ${layout.gMain} and mSlots ${layout.gPerM} need ` +
        `${gib(bytes)} of shared memory, more than the ${gib(MAX_SHARED_BYTES)} a runtime may have: lower mSlots, maxThreads or procs`,
    )
  }
  return { procs, spares, maxThreads, handoffMs, mainSpinUs, resultBatchUs, mHeapMb, mYoungMb, loader, mStdout, mTasks, layout }
}

export function positiveInt(name: string, v: number | undefined, dflt: number, min = 1, max = 1 << 24): number {
  if (v === undefined) return dflt
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new SchedulerArgError(`gort: Runtime.start: ${name} must be an integer from ${min} to ${max}, got ${describe(v)}`)
  }
  return v
}

/** True when this process runs under tsx (its task modules may be TypeScript). */
function underTsx(): boolean {
  const flags = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].join(' ')
  return /(^|[\s=/])tsx(\/|\s|$)/.test(flags) || (process.argv[1] ?? '').endsWith('.ts')
}

export function workerUrl(loader: 'auto' | 'tsx' | 'none'): { url: URL; entry: string | undefined } {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    // Running from the sources (tests, tsx): workers need tsx to load worker.ts itself.
    return { url: new URL('../m/worker-bootstrap.mjs', here), entry: new URL('../m/worker.ts', here).href }
  }
  if (loader === 'tsx' || (loader === 'auto' && underTsx())) {
    return { url: new URL('../m/worker-tsx.js', here), entry: new URL('../m/worker.js', here).href }
  }
  return { url: new URL('../m/worker.js', here), entry: undefined }
}
