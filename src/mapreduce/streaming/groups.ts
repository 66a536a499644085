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
 *   > 0           the pid of a process the attempt started, which is its process group's id: the
 *                 group may still have members
 *
 * Transitions, by the attempt's thread only: NO_GROUP -> pid right after the spawn (store);
 * pid -> NO_GROUP once the process has exited, its pipes are closed, and what was left of its
 * group was killed (compareExchange, so a stale release cannot clear a newer pid). The main
 * thread reads the words and kills each group named (SIGKILL; a group already gone is ESRCH):
 * in its 'exit' listener, and when a job has ended its threads (JobGroups.close), for a thread
 * ended before its attempt had killed them.
 *
 * Not covered, by nature: a group spawned but not yet stored when the main thread exits (the
 * microseconds between spawn() and the store), and a main process killed by SIGKILL, which runs
 * no code at all.
 */

export const NO_GROUP = 0
/** Words per attempt: MAIN_ROLE (the mapper or reducer) and COMBINER. */
export const GROUPS_PER_ATTEMPT = 2
export const MAIN_ROLE = 0
export const COMBINER = 1

/** An attempt's words in its phase's table: `words[at + role]`. Passed to the attempt with its arguments. */
export interface AttemptGroups {
  readonly words: Int32Array
  readonly at: number
}

/** On the attempt's thread: `pid` was spawned for `role`. */
export function holdGroup(g: AttemptGroups, role: number, pid: number): void {
  Atomics.store(g.words, g.at + role, pid)
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

/** Kills every group named in `words`; returns how many were still there. */
function killAll(words: Int32Array): number {
  let n = 0
  for (let i = 0; i < words.length; i++) {
    const pid = Atomics.load(words, i)
    if (pid !== NO_GROUP && killGroup(pid)) n++
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
        for (const t of LIVE) killAll(t)
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
