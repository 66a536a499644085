/**
 * The process groups of streaming attempts, in shared memory, so that the main thread can end
 * them when it exits before their threads could: a second Ctrl-C (`process.exit` at once), an
 * uncaught error, a program that calls `process.exit` while `runJob` runs. Exiting stops the
 * threads with the process, but each streaming command runs in a process group of its own
 * (pipe.ts), which outlives them, and a command that never reads its stdin (`sleep`, a daemon)
 * never sees the pipe close.
 *
 * One Int32Array per phase, GROUPS_PER_ATTEMPT words per attempt (the attempt's slot in the
 * phase's clocks, clock.ts, times GROUPS_PER_ATTEMPT): the first for the mapper or reducer, the
 * second for the combiner run now (a map attempt runs one at a time). A word's states, the only
 * place they are named:
 *
 *   NO_GROUP (0)  no process of this role runs for the attempt
 *   SPAWNING (-1) the attempt's thread is in spawn(): a process may run whose pid is not here yet
 *   > 0           the pid of a process the attempt started, which is its process group's id: the
 *                 group may still have members
 *
 * Transitions, by the attempt's thread only: NO_GROUP -> SPAWNING just before the spawn, SPAWNING
 * -> pid (or NO_GROUP when the spawn failed) right after it, with a notify; pid -> NO_GROUP once
 * the process has exited, its pipes are closed, and what was left of its group was killed
 * (compareExchange, so a stale release cannot clear a newer pid). The main thread reads the
 * words and kills each group named (SIGKILL; a group already gone is ESRCH): in its 'exit'
 * listener, where it waits (Atomics.wait, at most SPAWN_WAIT_MS in all) for a SPAWNING word to
 * name its pid, since the process started before spawn() returned and the threads still run
 * then; and when a job has ended its threads (JobGroups.close), for a thread ended before its
 * attempt had killed them.
 *
 * Not covered, by nature: a main process killed by SIGKILL, which runs no code at all; and a
 * spawn still unfinished after SPAWN_WAIT_MS (a thread starved that long as the process exits).
 */

export const NO_GROUP = 0
export const SPAWNING = -1
/** How long, in all, the 'exit' listener waits for SPAWNING words to name their pids. */
const SPAWN_WAIT_MS = 250
/** Words per attempt: MAIN_ROLE (the mapper or reducer) and COMBINER. */
export const GROUPS_PER_ATTEMPT = 2
export const MAIN_ROLE = 0
export const COMBINER = 1

/** An attempt's words in its phase's table: `words[at + role]`. Passed to the attempt with its arguments. */
export interface AttemptGroups {
  readonly words: Int32Array
  readonly at: number
}

/** On the attempt's thread, just before it spawns the process of `role`. */
export function spawningGroup(g: AttemptGroups, role: number): void {
  Atomics.store(g.words, g.at + role, SPAWNING)
}

/** On the attempt's thread, right after the spawn: its pid, undefined when it failed. */
export function holdGroup(g: AttemptGroups, role: number, pid: number | undefined): void {
  Atomics.store(g.words, g.at + role, pid ?? NO_GROUP)
  Atomics.notify(g.words, g.at + role)
}

/** On the attempt's thread: `pid`'s group is over. */
export function releaseGroup(g: AttemptGroups, role: number, pid: number): void {
  Atomics.compareExchange(g.words, g.at + role, pid, NO_GROUP)
}

/** Kills the group of `pid` (SIGKILL); false when there is none left. */
export function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, 'SIGKILL')
    return true
  } catch {
    return false // ESRCH: every member has exited
  }
}

/** Every table of a job that has not closed, for the 'exit' listener. */
const LIVE = new Set<Int32Array>()
let listening = false

/**
 * Kills every group named in `words`; returns how many were still there. `waitUntil`: a
 * Date.now() up to which a SPAWNING word is waited for (its thread still runs), else it is skipped.
 * Exported for tests; the 'exit' listener and JobGroups.close are its callers.
 */
export function killAll(words: Int32Array, waitUntil = 0): number {
  let n = 0
  for (let i = 0; i < words.length; i++) {
    let pid = Atomics.load(words, i)
    while (pid === SPAWNING && Date.now() < waitUntil) {
      Atomics.wait(words, i, SPAWNING, waitUntil - Date.now())
      pid = Atomics.load(words, i)
    }
    if (pid > 0 && killGroup(pid)) n++
  }
  return n
}

/** On the main thread: the tables of one streaming job's phases. */
export class JobGroups {
  readonly #tables: Int32Array[] = []

  /** A table for a phase of `slots` attempt slots, watched by this process's 'exit' listener until close(). */
  table(slots: number): Int32Array {
    const words = new Int32Array(new SharedArrayBuffer(4 * GROUPS_PER_ATTEMPT * Math.max(1, slots)))
    this.#tables.push(words)
    LIVE.add(words)
    if (!listening) {
      listening = true
      process.on('exit', () => {
        const until = Date.now() + SPAWN_WAIT_MS
        for (const t of LIVE) killAll(t, until)
      })
    }
    return words
  }

  /**
   * Once the job's threads are ended: kills the groups an attempt had not (its thread was ended
   * first) and stops watching the tables. Returns how many groups were still there.
   */
  close(): number {
    let n = 0
    for (const t of this.#tables) {
      n += killAll(t)
      LIVE.delete(t)
    }
    this.#tables.length = 0
    return n
  }
}
