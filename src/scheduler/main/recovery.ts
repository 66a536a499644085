/**
 * What the main thread does when an M dies (process.exit in a task, an uncaught error, OOM):
 * repair the shared counters it may have held, take back its P, and sort its Gs.
 *
 * Invariants:
 * - Its P is marked ownerless (P_OWNER 0) for the caller to hand to a spare; the P's ring and
 *   runnext keep their unstarted Gs.
 * - Gs it had taken but not yet called (GS_CLAIMED) go back to the global queue: unstarted work
 *   runs elsewhere. Gs it had started fail at their owners with MDiedError naming the task.
 * - Gs the dead M itself spawned are orphans: nobody waits for them any more.
 * - The results it finished and held in its outbox are announced to their owners.
 */

import { MDiedError } from '../errors.js'
import {
  G_KIND, G_M, G_STATE, G_TASK, GS_CLAIMED, GS_DONE, GS_QUEUED, GS_RUNNING,
  K_ARENA, K_SHARED, O_HANDOFF, O_P, P_OWNER, gOff, gUsed, oOff, pOff,
} from '../shared/layout.js'
import { flushFor } from '../shared/outbox.js'
import { leaveIdle, markDead } from '../shared/park.js'
import type { Sched } from '../shared/sched.js'

export function reclaimDeadM(
  s: Sched,
  m: number,
  reason: string,
  fail: (gid: number, err: MDiedError) => void,
): { orphaned: number[]; requeue: number[] } {
  const I = s.I
  const o = oOff(s.l, m)
  markDead(I, s.l, m)
  // Gs it finished and held back to announce in one batch (outbox.ts): their owners must still
  // hear of them. Skipped if it died holding the outbox's lock (then the outbox may be half-written).
  flushFor(s, m)
  Atomics.store(I, o + O_P, 0)
  Atomics.store(I, o + O_HANDOFF, 0)
  const orphaned: number[] = []
  for (let p = 0; p < s.l.procs; p++) {
    const po = pOff(s.l, p)
    if (Atomics.load(I, po + P_OWNER) !== m) continue
    leaveIdle(I, po)
    Atomics.store(I, po + P_OWNER, 0)
    orphaned.push(p)
  }
  // Shared results that were published to it and that it never read: their references go back
  // (sharedbufs.ts), or those slots never free; so do the arena slots of its unread results. Results published after the exchange above are
  // dropped by their publisher (result.ts).
  const own = gUsed(I, s.l, m)
  for (let gid = own.first; gid < own.end; gid++) {
    const go = gOff(s.l, gid)
    if (Atomics.load(I, go + G_STATE) !== GS_DONE) continue
    const kind = Atomics.load(I, go + G_KIND)
    if (kind === K_SHARED) s.bufs.dropResult(I, go)
    else if (kind === K_ARENA) s.arena.dropResult(go) // a slot of another M's slab (arena.ts)
  }
  // Its started Gs cannot finish: fail them at their owners, naming the task. Gs it had taken
  // but not called yet (module import or payload fetch pending) go back to the global queue.
  // Only the records each owner ever allocated (gUsed): the rest were never written, and reading
  // them all would fault in every page of the G table (tens of MiB) on the first death.
  const requeue: number[] = []
  for (let owner = 0; owner <= s.l.maxM; owner++) {
    const used = gUsed(I, s.l, owner)
    for (let gid = used.first; gid < used.end; gid++) {
      const go = gOff(s.l, gid)
      const st = Atomics.load(I, go + G_STATE)
      if ((st !== GS_RUNNING && st !== GS_CLAIMED) || Atomics.load(I, go + G_M) !== m) continue
      if (st === GS_CLAIMED && owner !== m) {
        Atomics.store(I, go + G_STATE, GS_QUEUED)
        requeue.push(gid)
        continue
      }
      if (owner === m) continue // its own children's results have nowhere to go
      Atomics.store(I, go + G_STATE, GS_DONE)
      const err = new MDiedError(m, reason, s.tasks.keyOf(I[go + G_TASK]!))
      fail(gid, err)
    }
  }
  return { orphaned, requeue }
}
