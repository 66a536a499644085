/**
 * The first M of a job, spawned before the coordinator's modules are read
 * (scheduler/main/prestart.ts): Node's start-up of the thread and its modules then overlap this
 * thread's own reading of the coordinator and the Runtime, which took the worker's spawn 65-70 ms
 * into `runJob` before (bench/NOTES.md). Every job runs at least one M, so the thread is used
 * whenever the job starts; a job refused before it starts (bad options, a missing input) ends it.
 *
 * Invariant: the worker options here are the ones the coordinator starts its Runtime with
 * (`M_YOUNG_MB`, the loader it guesses, `taskStdout`): a thread prestarted with others is never
 * taken, only ended.
 */

import { prestartM, specOf, type Prestarted } from '../scheduler/main/prestart.js'
import { jobUrl, likelyLoader } from './job.js'
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

const NONE: Prestarted = { threadId: 0, discard: () => Promise.resolve() }

/**
 * Spawns the job's first M now, for the Runtime the coordinator starts; the caller discards the
 * handle when the job ends (or once the Runtime started). Options too malformed to tell the
 * worker from get no thread: the coordinator reports them.
 */
export function prestartFirstM(options: RunJobOptions): Prestarted {
  let url: string | undefined
  try {
    if (options.mapper === undefined) {
      if (options.job === undefined || options.job === '') return NONE
      url = jobUrl(options.job)
    }
    return prestartM(specOf({ loader: guessLoader(url), youngMb: M_YOUNG_MB, stdout: options.taskStdout === 'stderr' ? 'stderr' : 'stdout' }))
  } catch {
    return NONE
  }
}
