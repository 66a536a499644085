/**
 * Running Gs on an M: claiming a G's record, calling its task (straight from the record's inline
 * numbers on the hot path; other arguments from the record, the payload arena or the shared-buffer
 * registry), the slow path that imports a task module or fetches a payload first, and delivering
 * the result to the G's owner.
 *
 * Invariants:
 * - A G is claimed by CAS on its state (QUEUED -> RUNNING, or CLAIMED while its module or payload
 *   is on the way); a G cancelled before that is skipped and handed back to its owner.
 * - User code runs with the M in MS_INTASK; if the monitor took the P meanwhile (LOST), the M
 *   gives the P up (loseP) before it writes any queue again. Hot Gs called back to back share
 *   one INTASK span (MHold.inSpan): between them the M only claims Gs from its ring by CAS, which
 *   is safe on a P it has lost, and counts each run in its own row of counters for the same reason.
 * - Every started G counts in `live` until it settles, and settles exactly once: to its owner
 *   directly when the owner is this M, else through the outbox. With a fixed window (mTasks) the
 *   started Gs are also kept by gid until they settle (`#gids`), so that `held()` can leave out
 *   the cancelled ones.
 * - O_CUR is gid + 1 exactly while G gid's synchronous body runs (user code only: go() steps out
 *   while it spawns); only there may main end the thread (main/kill.ts).
 */

import { InternalError } from '../../errors.js'
import { decodeBytes, fromRemote, readPayload, smi, type RemotePayload } from '../shared/codec.js'
import {
  CUR_KILLED, G_DATA, G_ERR, G_FLAGS, G_KIND, G_LEN, G_M, G_STATE, G_TASK, GS_CLAIMED, GS_DONE, GS_QUEUED, GS_RUNNING, K_ARENA, K_ARENA_SHARED, K_NUMS, K_REMOTE,
  K_SHARED, K_UNDEF, GF_KILLABLE, H_MTASKS, O_CUR, gOff, oOff, ownerOf, runsOff,
} from '../shared/layout.js'
import { cancelFlagged } from '../shared/cancel.js'
import { Outbox } from '../shared/outbox.js'
import { dropArgs } from '../shared/batch.js'
import { handlesIn } from '../shared/handles.js'
import type { Owner } from '../shared/owner.js'
import type { MPark } from '../shared/park.js'
import type { LocalQueue } from '../shared/runq.js'
import type { FromM } from '../shared/protocol.js'
import { publishResult } from './result.js'
import { TaskResolver, type Fn } from './resolver.js'
import type { Sched } from '../shared/sched.js'
import type { TaskSignals } from './signals.js'

/** What the runner and the spawner take from the M they serve. */
export interface MParts {
  readonly s: Sched
  readonly me: number
  /** This M's G records and the promises of the Gs it spawned. */
  readonly owner: Owner
  /** Posts a message to the main thread. */
  readonly post: (msg: FromM) => void
  readonly hold: MHold
  /** The holder's handle of the M's run queues (spawns push to the held P through it). */
  readonly local: LocalQueue
  /** Gives up the P after the monitor took it (LOST) while user code ran. */
  readonly loseP: () => void
  /** Enters MS_INTASK (see MHold.inSpan). */
  readonly openSpan: () => void
  /** Ends the M's INTASK span: back to RUNNING, or loseP if the P was taken. */
  readonly endSpan: () => void
  /** The tasks' own signals (taskSignal()). */
  readonly signals: TaskSignals
}

/** The P an M holds, as its loop last set it; the runner and the spawner read it on every G. */
export interface MHold {
  /** P index, -1 when none. */
  p: number
  /** Word offset of that P (its counters). */
  po: number
  /** The M's state transitions (park.ts); `park.parkedAsync`: a spawn must ring this M's own doorbell. */
  readonly park: MPark
  /**
   * The M is in MS_INTASK (openSpan) and has not taken it back yet (endSpan): around a task
   * call, a turn of user time or a module import, and across hot Gs called back to back from its
   * loop, which share one span instead of a state store and a CAS each (a large share of a tiny
   * G's cost). In a span the loop only takes Gs from its own ring or runnext, by CAS, which is safe
   * even if the monitor took the P meanwhile; anything that writes the P's ring ends the span first.
   */
  inSpan: boolean
  /**
   * The G whose synchronous body runs now (taskSignal() answers for it), -1 outside one. For a
   * killable G also published in O_CUR for main's kill (main/kill.ts): see Runner.#enterFrame.
   */
  g: number
  /** That G has a frame in O_CUR (it is killable): a go() from its body steps out of it. */
  framed: boolean
  /**
   * The M refused work from outside its P because its admission window is full (machine.ts):
   * the next task to settle rings the M so that it looks again.
   */
  gated: boolean
}

interface ReadyCall {
  readonly gid: number
  readonly fn: Fn
  readonly args: unknown[]
}

export class Runner {
  readonly #m: MParts
  readonly #s: Sched
  readonly #I: Int32Array
  /** This M's row of run counts (see runsOff). */
  readonly #runs: number
  /** This M's O_CUR word. */
  readonly #cur: number
  readonly #resolver: TaskResolver
  readonly outbox: Outbox
  readonly #announce = (gid: number): void => this.outbox.post(gid)
  /** Started Gs that have not settled (their continuations are pinned to this M). */
  live = 0
  /** With a fixed window (Runtime's mTasks), the started Gs that have not settled, by gid; else undefined (the hot path adds nothing). */
  readonly #gids: Set<number> | undefined
  /** Payload requests sent to the main thread, by gid. */
  readonly fetches = new Map<number, (payload: RemotePayload) => void>()
  /** Gs whose module or payload arrived asynchronously, waiting to be called from the loop. */
  readonly ready: ReadyCall[] = []
  /**
   * A G this M claimed whose task module is being imported, or whose arguments are on their way
   * (a payload or a shared buffer fetched from main), until it is ready to run. Meanwhile the M
   * takes no more Gs: each would wait in `ready`, a private list nobody can steal from, so a cold M
   * (a fresh spare after a hand-off) used to swallow the whole global queue and then run it alone,
   * and an M that took a G which blocked it left the claimed one stranded behind it.
   */
  loading: Promise<unknown> | undefined

  constructor(m: MParts) {
    this.#m = m
    this.#s = m.s
    this.#I = m.s.I
    this.#runs = runsOff(m.s.l, m.me, 0)
    this.#cur = oOff(m.s.l, m.me) + O_CUR
    this.#resolver = new TaskResolver(m.s.tasks)
    this.outbox = new Outbox(m.s, m.me)
    this.#gids = m.s.I[H_MTASKS]! > 0 ? new Set() : undefined
  }

  /**
   * The started Gs that hold room in a fixed window: those not settled and not cancelled. A
   * cancelled G is over for its caller (its promise rejected); one suspended at an await that
   * never settles is left behind (main/kill.ts ends only a thread inside a task's body), and
   * counted, it would hold the M's room for good: with `mTasks: 1`, a timed-out MapReduce attempt
   * that awaited forever kept its retry off its thread, and a one-thread job hung. (Without a
   * fixed window: `live`.)
   */
  held(): number {
    const gids = this.#gids
    if (gids === undefined) return this.live
    let n = 0
    for (const gid of gids) if (!cancelFlagged(this.#I, gOff(this.#s.l, gid))) n++
    return n
  }

  /** A payload the main thread sent for a G that waited for it. */
  onPayload(gid: number, payload: RemotePayload): void {
    const f = this.fetches.get(gid)
    this.fetches.delete(gid)
    f?.(payload)
  }

  /** Shared-buffer requests sent to the main thread (this M missed their announcements), by id. */
  readonly #bufFetches = new Map<number, (() => void)[]>()

  /** A shared buffer the main thread sent (see sharedbufs.ts); undefined if it had none by that id. */
  onSharedBuf(id: number, buf: SharedArrayBuffer | undefined): void {
    if (buf !== undefined) this.#s.bufs.install(id, buf)
    const waiters = this.#bufFetches.get(id)
    this.#bufFetches.delete(id)
    if (waiters !== undefined) for (const w of waiters) w()
  }

  /** Waits until this M has every shared buffer `missing` names (it returns one it lacks, or -1); throws if the main thread has one no more. */
  async #fetchBufs(missing: () => number): Promise<void> {
    for (let id = missing(); id >= 0; ) {
      let waiters = this.#bufFetches.get(id)
      if (waiters === undefined) {
        this.#bufFetches.set(id, (waiters = []))
        this.#m.post({ t: 'sharedbuf?', id, m: this.#m.me })
      }
      await new Promise<void>((resolve) => waiters.push(resolve))
      const next = missing()
      if (next === id) throw new InternalError(`shared buffer ${id} of a queued G is not registered`)
      id = next
    }
  }

  /** Runs G `gid`, taken from a queue by this M (now, or after its module or payload arrives). */
  run(gid: number): void {
    const s = this.#s
    const I = this.#I
    const go = gOff(s.l, gid)
    I[go + G_M] = this.#m.me // published by the CAS below (crash recovery reads it after the state)
    const tid = I[go + G_TASK]!
    const fn = this.#resolver.get(tid)
    // Hot path: task loaded and up to four inline numbers. It is called right below, so it goes
    // straight to RUNNING (one atomic on the record instead of two).
    const hot = fn !== undefined && I[go + G_KIND] === K_NUMS
    if (Atomics.compareExchange(I, go + G_STATE, GS_QUEUED, hot ? GS_RUNNING : GS_CLAIMED) !== GS_QUEUED) {
      // Cancelled before any M took it: skip it, and let its owner free the record.
      dropArgs(s, go)
      I[go + G_KIND] = K_UNDEF
      I[go + G_ERR] = 0
      Atomics.store(I, go + G_STATE, GS_DONE)
      if (ownerOf(s.l, gid) === this.#m.me) this.#m.owner.settle(gid, undefined, false)
      else this.outbox.post(gid)
      return
    }
    // In this M's own row (see runsOff): in a span the monitor may have handed the P to another
    // M, which counts its runs of the same P in its row. Published with the result that follows.
    const rw = this.#runs + this.#m.hold.p
    I[rw] = I[rw]! + 1
    this.live++
    this.#gids?.add(gid)
    if (hot) {
      // Up to four inline numbers, passed straight from the record (no args array), in the span.
      this.#callInSpan(gid, fn, go)
      return
    }
    this.#m.endSpan()
    const kind = I[go + G_KIND]
    let args: unknown[] | undefined
    if (kind === K_ARENA_SHARED && fn !== undefined) {
      // Views by id inside the bytes: decoded here unless this M lacks one of their buffers.
      let v: unknown[] | undefined
      try {
        v = s.bufs.readNested(s.arena.read(go)) as unknown[] | undefined
      } catch (e) {
        dropArgs(s, go) // nothing was released: the bytes' references and slot go back now
        this.#complete(gid, e, true)
        return
      }
      if (v !== undefined) {
        // Released with the read: the slot goes too, and nothing may drop this record's arguments again.
        s.arena.free(go)
        try {
          args = handlesIn(v)
        } catch (e) {
          this.#complete(gid, e, true)
          return
        }
      }
    }
    if (fn === undefined || kind === K_REMOTE || (kind === K_SHARED && s.bufs.missing(I, go) >= 0) || (kind === K_ARENA_SHARED && args === undefined)) {
      const prepared = this.#prepare(gid, tid).then(
        (call) => {
          this.ready.push(call)
          s.ring(this.#m.me)
        },
        (e: unknown) => {
          // Its arguments were never handed to a call: an arena slot and registry references they hold go back now.
          dropArgs(s, go)
          this.#complete(gid, e, true)
        },
      )
      // Module or payload: either way the M takes no more Gs until this one is ready (see
      // `loading`), or one of them could block the M with this G stranded in `ready`.
      this.loading = prepared
      void prepared.then(() => {
        if (this.loading === prepared) this.loading = undefined
      })
      return
    }
    if (args === undefined) {
      try {
        args = kind === K_SHARED ? s.bufs.decode(I, s.F, go) : (readPayload(I, s.F, s.U8, go, true, s.arena) as unknown[])
      } catch (e) {
        this.#complete(gid, e, true)
        return
      }
    }
    this.#call(gid, fn, args, go)
  }

  /** Calls the Gs whose module or payload has arrived. */
  runReady(): void {
    while (this.ready.length > 0) {
      const c = this.ready.shift()!
      const go = gOff(this.#s.l, c.gid)
      // Decoded ahead with its buffer references (or arena slot) kept (see SharedBufs.decode,
      // arena.ts): given back now.
      dropArgs(this.#s, go)
      this.#call(c.gid, c.fn, c.args, go)
    }
  }

  /** Calls `fn` with `args` in an INTASK state of its own. */
  #call(gid: number, fn: Fn, args: unknown[], go: number): void {
    // The span is closed here: run() ends it before a G that is not hot, and runReady runs at
    // the top of the M's loop, where every span has ended.
    Atomics.store(this.#I, go + G_STATE, GS_RUNNING)
    this.#m.openSpan()
    let r: unknown
    let threw = false
    const framed = this.#enterFrame(gid, go)
    try {
      r = fn(...args)
    } catch (e) {
      r = e
      threw = true
    }
    this.#leaveFrame(gid, framed)
    this.#m.endSpan()
    this.#settle(gid, r, threw)
  }

  /** Calls `fn` with the record's inline numbers (the G is RUNNING already), opening or extending the M's INTASK span. */
  #callInSpan(gid: number, fn: Fn, go: number): void {
    const I = this.#I
    if (!this.#m.hold.inSpan) this.#m.openSpan()
    let r: unknown
    let threw = false
    const framed = this.#enterFrame(gid, go)
    try {
      r = callNums(fn, this.#s.F, (go + G_DATA) >> 1, I[go + G_LEN]!)
    } catch (e) {
      r = e
      threw = true
    }
    this.#leaveFrame(gid, framed)
    this.#settle(gid, r, threw)
  }

  /**
   * G `gid`'s synchronous body is about to run. O_CUR says so to main, which may claim it by CAS
   * (gid + 1 -> CUR_KILLED) to end this thread there: inside the body no gort code runs (go()
   * steps out of the frame while it spawns, spawn.ts), so no shared structure is half-written.
   * A plain store: seen late, main's claim only fails and is retried. Only a killable G (goWith's
   * killAfterMs, G_FLAGS) gets a frame: main kills no other, and the frame's CAS on the way out
   * would cost every G. Returns whether it has one (MHold.framed).
   */
  #enterFrame(gid: number, go: number): boolean {
    const hold = this.#m.hold
    hold.g = gid
    const framed = (this.#I[go + G_FLAGS]! & GF_KILLABLE) !== 0
    hold.framed = framed
    if (framed) this.#I[this.#cur] = gid + 1
    return framed
  }

  /** The body returned (or threw): take the frame back, or wait here to be ended if main claimed it. */
  #leaveFrame(gid: number, framed: boolean): void {
    const hold = this.#m.hold
    hold.g = -1
    hold.framed = false
    if (framed) leaveFrame(this.#I, this.#cur, gid)
  }

  #settle(gid: number, r: unknown, threw: boolean): void {
    if (threw) this.#complete(gid, r, true)
    else if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      ;(r as PromiseLike<unknown>).then(
        (v) => this.#complete(gid, v, false),
        (e: unknown) => this.#complete(gid, e, true),
      )
    } else this.#complete(gid, r, false)
  }

  /** Slow path of a G: import its module and/or fetch its stashed arguments. */
  async #prepare(gid: number, tid: number): Promise<{ gid: number; fn: Fn; args: unknown[] }> {
    const s = this.#s
    const fn = await this.#resolver.load(tid)
    const go = gOff(s.l, gid)
    if (this.#I[go + G_KIND] === K_SHARED) {
      await this.#fetchBufs(() => s.bufs.missing(this.#I, go))
      return { gid, fn, args: s.bufs.decode(this.#I, s.F, go, true) }
    }
    if (this.#I[go + G_KIND] === K_ARENA_SHARED) {
      const bytes = s.arena.read(go)
      await this.#fetchBufs(() => s.bufs.missingNested(bytes))
      const v = s.bufs.readNested(bytes, true) as unknown[] | undefined
      if (v === undefined) throw new InternalError('a shared buffer of a queued G is not registered')
      return { gid, fn, args: handlesIn(v) }
    }
    // Read, not taken: the slot goes back when the G is called (runReady).
    if (this.#I[go + G_KIND] === K_ARENA) return { gid, fn, args: decodeBytes(s.arena.read(go), true) as unknown[] }
    if (this.#I[go + G_KIND] !== K_REMOTE) return { gid, fn, args: readPayload(this.#I, s.F, s.U8, go, true) as unknown[] }
    const payload = await new Promise<RemotePayload>((resolve) => {
      this.fetches.set(gid, resolve)
      this.#m.post({ t: 'fetch', gid, m: this.#m.me })
    })
    return { gid, fn, args: fromRemote(payload, true) as unknown[] }
  }

  #complete(gid: number, value: unknown, isErr: boolean): void {
    this.live--
    this.#gids?.delete(gid)
    const hold = this.#m.hold
    if (hold.gated) {
      hold.gated = false
      this.#s.ring(this.#m.me)
    }
    this.#m.signals.done(gid)
    const s = this.#s
    const owner = ownerOf(s.l, gid)
    if (owner === this.#m.me) {
      // Spawned and run here: hand the value over directly, no encoding. settle frees the record
      // (GS_FREE) at once; no other thread reads it in between, so it skips GS_DONE.
      this.#m.owner.settle(gid, value, isErr)
      return
    }
    publishResult(s, gid, value, isErr, this.#m.post, this.#announce)
  }
}

/** MHold.g while a child that ran inline (its M had no free G record) runs its synchronous body. */
export const INLINED = -2

/**
 * Clears O_CUR (gid + 1 -> 0) when a frame ends. If main claimed it (CUR_KILLED), the thread is
 * being terminated: wait for the end here, where nothing is half-done. Main gives a claim back
 * only when it finds the record reused (main/kill.ts), and then this goes on.
 */
export function leaveFrame(I: Int32Array, cur: number, gid: number): void {
  while (Atomics.compareExchange(I, cur, gid + 1, 0) !== gid + 1) Atomics.wait(I, cur, CUR_KILLED)
}

function callNums(fn: Fn, F: Float64Array, f: number, len: number): unknown {
  switch (len) {
    case 0:
      return fn()
    case 1:
      return fn(smi(F[f]!))
    case 2:
      return fn(smi(F[f]!), smi(F[f + 1]!))
    case 3:
      return fn(smi(F[f]!), smi(F[f + 1]!), smi(F[f + 2]!))
    default:
      return fn(smi(F[f]!), smi(F[f + 1]!), smi(F[f + 2]!), smi(F[f + 3]!))
  }
}
