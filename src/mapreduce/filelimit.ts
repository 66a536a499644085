/**
 * How many threads a job can start under the process's limit on open files. Past it, a thread's
 * start or one of its module imports fails with EMFILE wherever it happens to ("Cannot find
 * package" when the resolver meets it), or Node aborts; so the limit is checked before any
 * thread starts (options.ts threadsWithin; prestart.ts). No imports but node:fs: the CLI's
 * prestart reads this before the coordinator's modules.
 */

import { readFileSync } from 'node:fs'

/**
 * Open files a job takes besides its threads, and per thread while it starts (measured with
 * `ulimit -n` on word count: 1 thread needed about 43, 2 about 64, 4 about 100, 8 about 150, 12
 * about 230; a worker thread holds an event loop's epoll and eventfd and a signal pipe, and opens
 * its modules as it loads them), with room for the job's own files.
 */
export const FILES_BASE = 32
export const FILES_PER_THREAD = 24

/**
 * This process's limit on open files (Linux's /proc/self/limits: the soft limit, which Node
 * raises to the hard one as it starts), or undefined where it cannot be read or is unlimited.
 */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  let text: string
  try {
    text = readFileSync(limits, 'latin1')
  } catch {
    return undefined
  }
  const m = /^Max open files\s+(\d+)/m.exec(text)
  return m === null ? undefined : Number(m[1])
}

/** The most threads `limit` open files allow (Infinity when there is no known limit). */
export function threadsForFiles(limit: number | undefined): number {
  return limit === undefined ? Infinity : Math.max(0, Math.floor((limit - FILES_BASE) / FILES_PER_THREAD))
}
