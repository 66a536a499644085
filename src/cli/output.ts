/**
 * When the CLI's own stdout or stderr fails: its reader went away (EPIPE: `gort ... | head -1`),
 * or the disk behind it is full (ENOSPC). bin/gort.js listens for both streams' errors and asks
 * here first: a subcommand with work to stop cleanly (a MapReduce job, whose output directory
 * must not be left half-written) takes the error while it runs; otherwise the process ends as a
 * Unix tool does on SIGPIPE, quietly.
 */

let taker: ((error: NodeJS.ErrnoException) => void) | undefined

/** Sets (or, with undefined, clears) who takes a failure of stdout or stderr. */
export function onOutputFailure(f: ((error: NodeJS.ErrnoException) => void) | undefined): void {
  taker = f
}

/** bin/gort.js: stdout or stderr failed with `error`; true when a subcommand took it. */
export function outputFailed(error: NodeJS.ErrnoException): boolean {
  if (taker === undefined) return false
  taker(error)
  return true
}
