/**
 * goAll: many Gs of one task spawned in one call, with one promise for all their results.
 *
 * Why: a G's own promise (its resolving functions, the Promise.all slot that awaits it) costs
 * more than the G itself when tasks are tiny; a batch settles one Group instead, and writes its
 * records and queues its gids in one pass.
 *
 * Invariants:
 * - The Group settles once: with every result in argument order, or with the first error (as
 *   Promise.all does; the other children still run, their results are dropped). A settled-mode
 *   group (goAllSettled) never rejects: it resolves once every child has settled, with each
 *   outcome in argument order, as Promise.allSettled does.
 * - writeRecords either fills a record for every tuple it returns a gid for, or frees them all
 *   and throws: a bad argument loses nothing and queues nothing.
 */

import { encodeArgs, encodeArgsTransfer, remoteOf, writeNumsFast, writePayload, type Encoded, type RemotePayload } from './codec.js'
import { UncloneableArgError } from '../errors.js'
import { G_ERR, G_FLAGS, G_KIND, G_STATE, G_TASK, GS_FREE, GS_QUEUED, K_ARENA, K_ARENA_SHARED, K_REMOTE, K_SHARED, gOff } from './layout.js'
import type { Owner } from './owner.js'
import type { Sched } from './sched.js'

export class Group {
  readonly #results: unknown[]
  #left: number
  #failed = false
  readonly #resolve: (v: unknown[]) => void
  readonly #reject: (e: unknown) => void
  /** Collect every outcome as a PromiseSettledResult instead of rejecting on the first error. */
  readonly #settled: boolean

  constructor(n: number, resolve: (v: unknown[]) => void, reject: (e: unknown) => void, settled = false) {
    this.#results = new Array<unknown>(n)
    this.#left = n
    this.#resolve = resolve
    this.#reject = reject
    this.#settled = settled
  }

  /** Child `k` is an ordinary go() (its batch ran out of G records): settle with its promise. */
  follow(k: number, p: Promise<unknown>): void {
    p.then(
      (v) => this.done(k, v, false),
      (e: unknown) => this.done(k, e, true),
    )
  }

  /** Child `k` settled. */
  done(k: number, value: unknown, isErr: boolean): void {
    if (this.#failed) return
    if (this.#settled) {
      this.#results[k] = isErr ? { status: 'rejected', reason: value } : { status: 'fulfilled', value }
      if (--this.#left === 0) this.#resolve(this.#results)
      return
    }
    if (isErr) {
      this.#failed = true
      this.#reject(value)
      return
    }
    this.#results[k] = value
    if (--this.#left === 0) this.#resolve(this.#results)
  }
}

/**
 * Fills G record `gid` with task `tid` and `args`, QUEUED but not yet in any queue. Returns the
 * payload to stash with the main thread when the arguments travel by message. Throws what the
 * encoder threw for arguments that cannot be cloned (the record is then the caller's to free with
 * unwriteRecord). Shared buffers go by the registry when they fit (sharedbufs.ts); `owner` keeps
 * such arguments until the G settles.
 */
export function writeRecord(
  s: Sched, owner: Owner, gid: number, tid: number, args: readonly unknown[], transfer?: readonly ArrayBuffer[], enc?: Encoded,
): RemotePayload | undefined {
  const I = s.I
  const go = gOff(s.l, gid)
  let stash: RemotePayload | undefined
  if (transfer !== undefined) {
    // The caller asked for its buffers to move: by message, whatever the size (arena slots copy).
    stash = placePayload(s, go, enc ?? encodeArgsTransfer(args, transfer), false)
  } else if (!writeNumsFast(I, s.F, go, args)) {
    if (s.bufs.tryWrite(I, s.F, go, args)) {
      owner.keep(gid, args)
    } else {
      // `enc`: the arguments encoded when go() was called, for a G published later (main's
      // overflow queue), so that what runs is what was passed, as Go copies at the call. Views
      // inside the arguments go by id when the bytes fit an arena slot (K_ARENA_SHARED).
      const e = enc ?? encodeArgs(args, (v) => s.bufs.writeNested(s.arena, go, v))
      if (e.kind === K_ARENA_SHARED) owner.keep(gid, args)
      else stash = placePayload(s, go, e, false)
    }
  }
  I[go + G_TASK] = tid
  I[go + G_FLAGS] = 0 // a killable spawn sets its flag after this (Sched.cancelOn)
  // A plain store: the queue push that follows (an atomic store or RMW) publishes the record.
  I[go + G_STATE] = GS_QUEUED
  return stash
}

/**
 * Writes an encoded payload into the record at word offset `go`: inline, else in an arena slot of
 * this thread (arena.ts) when its bytes fit one and one is free. Returns what must travel by
 * message instead (K_REMOTE), or undefined.
 */
export function placePayload(s: Sched, go: number, enc: Encoded, isErr: boolean): RemotePayload | undefined {
  if (enc.kind === K_REMOTE && enc.bytes !== undefined && s.arena.put(go, enc.bytes)) {
    s.I[go + G_ERR] = isErr ? 1 : 0
    return undefined
  }
  writePayload(s.I, s.F, s.U8, go, enc, isErr)
  return enc.kind === K_REMOTE ? remoteOf(enc) : undefined
}

/**
 * Gives back what the arguments in record `go` hold, for a G that will not be called with them
 * (never published, skipped, failed before its call) or that was decoded ahead of its call
 * (keeping them) and is called now: its registry references and its arena slot.
 */
export function dropArgs(s: Sched, go: number): void {
  const kind = s.I[go + G_KIND]
  if (kind === K_SHARED) s.bufs.drop(s.I, go)
  else if (kind === K_ARENA) s.arena.free(go)
  else if (kind === K_ARENA_SHARED) {
    s.bufs.dropNested(s.arena.read(go))
    s.arena.free(go)
  }
}

/** Takes back a record writeRecord filled that was never published: its buffer references and arena slot too. */
export function unwriteRecord(s: Sched, owner: Owner, gid: number): void {
  const go = gOff(s.l, gid)
  dropArgs(s, go)
  s.I[go + G_STATE] = GS_FREE
  owner.unalloc(gid)
}

/**
 * Writes the tuples of argsList into fresh G records of `owner` (task `tid`) with writeRecord,
 * until the tuples or the records run out. Returns their gids in order.
 */
export function writeRecords(
  s: Sched, owner: Owner, tid: number, key: string, argsList: readonly (readonly unknown[])[], stash: (gid: number, p: RemotePayload) => void,
): Int32Array {
  const gids = new Int32Array(argsList.length)
  let stashes: [number, RemotePayload][] | undefined
  let n = 0
  try {
    for (; n < argsList.length; n++) {
      const gid = owner.alloc()
      if (gid < 0) break
      gids[n] = gid
      const payload = writeRecord(s, owner, gid, tid, argsList[n]!) // each an array: checkArgsList
      if (payload !== undefined) (stashes ??= []).push([gid, payload])
    }
  } catch (e) {
    // The record of tuple n was allocated too (its write failed); the ones before it were written.
    owner.unalloc(gids[n]!)
    for (let i = n - 1; i >= 0; i--) unwriteRecord(s, owner, gids[i]!)
    throw new UncloneableArgError(key, { cause: e })
  }
  if (stashes !== undefined) for (const [gid, p] of stashes) stash(gid, p)
  return gids.subarray(0, n)
}
