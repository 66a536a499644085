/**
 * Publishing a finished G's result to a thread other than the one that ran it: written into the
 * G record (numbers without a serializer; a shared buffer or view by registry id; other values
 * v8-serialized, into the record or, up to ARENA_SLOT bytes, into a slot of this M's arena), then
 * announced on the owner's completion ring. Larger results go by message through the main thread;
 * one that is a large ArrayBuffer or a view on one moves there instead of being copied (codec.ts,
 * `transferable`): the task's own references to that buffer are detached once it returned it.
 *
 * Invariant: the record is GS_DONE with its result written before the owner can see the gid, and
 * a result that cannot be cloned becomes an error result (UncloneableResultError) instead of being lost.
 */

import { placePayload } from '../shared/batch.js'
import { encodeResult, errorToPlain, isShared, writeNumResult } from '../shared/codec.js'
import { UncloneableResultError } from '../errors.js'
import { G_KIND, G_STATE, G_TASK, GS_DONE, K_ARENA, gOff, ownerOf } from '../shared/layout.js'
import { isDead, mState } from '../shared/park.js'
import type { FromM } from '../shared/protocol.js'
import type { Sched } from '../shared/sched.js'

export function publishResult(s: Sched, gid: number, value: unknown, isErr: boolean, post: (msg: FromM) => void, announce: (gid: number) => void): void {
  const I = s.I
  const go = gOff(s.l, gid)
  if (!isErr && typeof value === 'number') {
    writeNumResult(I, s.F, go, value)
    Atomics.store(I, go + G_STATE, GS_DONE)
    announce(gid)
    return
  }
  // A shared buffer or view stays shared: by registry id, as arguments do (sharedbufs.ts). The
  // owner heard the announcement before the gid reaches its ring, since it was posted first.
  if (!isErr && isShared(value) && s.bufs.tryWrite(I, s.F, go, [value])) {
    Atomics.store(I, go + G_STATE, GS_DONE)
    // An owner that died will never read it: give its reference back, or the slot never frees.
    // The main thread's reclaimDeadM drops the results that were DONE when it marked the owner
    // dead; this catches the ones published after (both sequentially consistent: one sees the other).
    const owner = ownerOf(s.l, gid)
    if (owner !== 0 && isDead(mState(I, s.l, owner))) s.bufs.dropResult(I, go)
    announce(gid)
    return
  }
  let enc
  try {
    enc = encodeResult(isErr ? errorToPlain(value) : value)
  } catch (e) {
    // The caller gets an error that names the task, with the DataCloneError as its cause.
    isErr = true
    enc = encodeResult(errorToPlain(new UncloneableResultError(s.tasks.keyOf(I[go + G_TASK]!), { cause: e })))
  }
  const remote = placePayload(s, go, enc, isErr)
  Atomics.store(I, go + G_STATE, GS_DONE)
  if (remote !== undefined) {
    post({ t: 'result', gid, payload: remote, err: isErr })
    return
  }
  // An arena slot is this M's: an owner that died will never free it (as for shared results above).
  if (I[go + G_KIND] === K_ARENA) {
    const owner = ownerOf(s.l, gid)
    if (owner !== 0 && isDead(mState(I, s.l, owner))) s.arena.dropResult(go)
  }
  announce(gid)
}
