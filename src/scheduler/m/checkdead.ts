/**
 * The M's side of the cross-thread deadlock check (main/checkdead.ts, docs/design/deadlock.md):
 * the answer to main's 'dead?' probe. It runs in a message handler, so an M parked in
 * Atomics.waitAsync with tasks pinned here (PARKED_LIVE) answers at once; an M asleep in
 * Atomics.wait has no started task and owns no pending G, and is not asked to answer.
 */

import { parentPort, threadId } from 'node:worker_threads'
import type { DeadAnswer } from '../shared/protocol.js'
import { blockedOps, threadBusy } from '../shared/quiet.js'
import { sleepEpoch } from '../shared/sharedchan-wait.js'

/**
 * This M's answer. `work`: why the M's own loop has something to do (a G to start, a result to
 * take), null when nothing; `msgs`: messages from main it has handled (part of its epoch). The
 * parent port is the M's own handle; its only ref'd timer is sharedchan-wait's keep-alive.
 */
export function answerDeadCheck(work: string | null, msgs: number): DeadAnswer {
  return { busy: work ?? threadBusy(0, (h) => h === parentPort), epoch: sleepEpoch() + msgs, threadId, ops: blockedOps() }
}
