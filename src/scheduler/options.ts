/**
 * Runtime.start options, their defaults and validation, and which worker entry the Ms load.
 * Validation errors echo the bad value.
 */

import os from 'node:os'
import { SchedulerArgError, describe } from './errors.js'

export interface RuntimeOptions {
  /** Number of Ps (GOMAXPROCS). Default: the GOMAXPROCS env variable, else os.availableParallelism(). */
  readonly procs?: number
  /** Spare Ms started ahead of time for hand-offs. Default: max(1, ceil(procs / 4)). */
  readonly spares?: number
  /** Upper bound on live Ms. Default: 2 * procs + 2. */
  readonly maxThreads?: number
  /** Hand a P to a spare M when its M has not ticked for this long while work waits (ms, 0: never). Default 10. */
  readonly handoffMs?: number
  /**
   * How long the main thread polls for results before it waits for a wake-up (µs, 0 to 1000; 0:
   * never). A wake-up costs 15-40 µs; an M that is spinning answers within a few µs. The poll
   * blocks the event loop for at most this long and stops polling while polls keep missing.
   * Default 10.
   */
  readonly mainSpinUs?: number
  /**
   * Old-generation cap of each M's heap, in MB (at least 16). An M that runs out is ended, not
   * the process: its started tasks reject with MDiedError ('out of memory'), its unstarted ones
   * run elsewhere, and a fresh M replaces it. Default: V8's own limit.
   */
  readonly mHeapMb?: number
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
}

export function defaultProcs(): number {
  const env = process.env['GOMAXPROCS']
  if (env !== undefined && env !== '') {
    const n = Number(env)
    if (Number.isInteger(n) && n >= 1) return n
  }
  return os.availableParallelism()
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
    return { url: new URL('./worker-bootstrap.mjs', here), entry: new URL('./worker.ts', here).href }
  }
  if (loader === 'tsx' || (loader === 'auto' && underTsx())) {
    return { url: new URL('./worker-tsx.js', here), entry: new URL('./worker.js', here).href }
  }
  return { url: new URL('./worker.js', here), entry: undefined }
}
