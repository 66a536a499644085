/**
 * Ending the M that runs a cancelled task (goWith's `killAfterMs`): the worker is terminated and
 * recovery treats it as a dead M (recovery.ts): its P and queued Gs go to other Ms, the other
 * tasks started there reject with MDiedError, and a spare takes its place.
 *
 * Where a thread may be ended. `worker.terminate()` stops JavaScript at whatever point it has
 * reached; in gort's own code on that thread it could leave a completion ring with a reserved,
 * unwritten slot (its owner's drain stops there for good), a G taken from a ring but not claimed
 * (lost), or a lock held. So main ends an M only inside the synchronous body of the G it was
 * asked to kill, where only user code runs: the M publishes that G in its O_CUR word around the
 * call (runner.ts; go() steps out while it spawns, spawn.ts), and main claims it by CAS
 * (gid + 1 -> CUR_KILLED). If the body returns first, the M finds its word claimed and waits
 * there to be ended, still having written nothing; if the claim fails (the body has not started,
 * or the task is suspended at an await or running a continuation), main tries again later while
 * the G runs. A continuation cannot be told from gort's code on that thread without V8's promise
 * hooks, so a task suspended at an await is never ended this way (docs/scheduler.md).
 *
 * Invariants:
 * - Only a G that is still running (or claimed) with the record generation its cancel named is
 *   killed: a finished G, or its record reused by another G, is left alone.
 * - A claim is given back (with a notify, the M may be waiting on it) when the record turns out
 *   reused between the check and the claim.
 * - `#waiting` holds exactly the kills being retried (gid -> its M): a G past its deadline that
 *   is not in its body. The monitor may hand such an M's P to a spare even while the M computes
 *   (`abandonedOn`): what it computes is then most likely the continuation of a task its caller
 *   gave up on, and no safe point comes to end it at.
 */

import { CUR_KILLED, G_CANCEL, G_M, G_STATE, G_TASK, GS_CLAIMED, GS_RUNNING, O_CUR, gOff, oOff } from '../shared/layout.js'
import type { Sched } from '../shared/sched.js'

/** How often a kill whose task is not in its synchronous body is tried again. */
const RETRY_MS = 5

export class Killer {
  readonly #s: Sched
  readonly #terminate: (m: number) => void
  readonly #closed: () => boolean
  /** Ms being ended, with the task each was ended for (`url#name`): recovery names it. */
  readonly killed = new Map<number, string>()
  /** Kills being retried: the G (cancelled, past its deadline, not in its body) and the M it runs on. */
  readonly #waiting = new Map<number, number>()

  constructor(s: Sched, terminate: (m: number) => void, closed: () => boolean) {
    this.#s = s
    this.#terminate = terminate
    this.#closed = closed
  }

  /** Ends the M running G `gid` if that G, cancelled at generation `gen`, still runs. */
  kill(gid: number, gen: number): void {
    if (this.#closed()) return
    const s = this.#s
    const I = s.I
    const go = gOff(s.l, gid)
    const cancelled = (gen << 1) | 1
    const st = Atomics.load(I, go + G_STATE)
    if ((st !== GS_RUNNING && st !== GS_CLAIMED) || Atomics.load(I, go + G_CANCEL) !== cancelled) {
      this.#waiting.delete(gid)
      return
    }
    const m = Atomics.load(I, go + G_M)
    const cur = oOff(s.l, m) + O_CUR
    if (Atomics.compareExchange(I, cur, gid + 1, CUR_KILLED) !== gid + 1) {
      this.#waiting.set(gid, m)
      setTimeout(() => this.kill(gid, gen), RETRY_MS).unref()
      return
    }
    this.#waiting.delete(gid)
    if (Atomics.load(I, go + G_CANCEL) !== cancelled) {
      // The G ended and its record was reused by another G now in its body on the same M.
      Atomics.store(I, cur, gid + 1)
      Atomics.notify(I, cur)
      return
    }
    this.killed.set(m, s.tasks.keyOf(I[go + G_TASK]!))
    this.#terminate(m)
  }

  /**
   * Whether M `m` runs a G whose kill is being retried: cancelled, past its `killAfterMs`, and
   * suspended or in a continuation rather than in its body (as of its last try, RETRY_MS ago).
   */
  abandonedOn(m: number): boolean {
    for (const on of this.#waiting.values()) if (on === m) return true
    return false
  }
}
