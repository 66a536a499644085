/**
 * The shared-memory layout of one Runtime: a single SharedArrayBuffer viewed as
 * Int32 words (and as Float64 for inline numeric arguments/results).
 *
 * Regions, in order:
 *   header      HW words: counts that every thread reads (nmspinning, npidle, closed…)
 *   procs       PW words per P: owner M, runnext, ring head/tail, tick, counters, 256-entry ring,
 *               and the backlog ring (goAll's children beyond the ring, see runq.ts)
 *   owners      OW words per owner (index 0 is the main thread, 1..maxM are Ms):
 *               doorbell, waiting flag, completion ring head/tail, M state, held P, outbox
 *   runs        one row per owner: the Gs that M ran from each P (rows start on a line of their own)
 *   gq ring     the global run queue (capacity gqCap, a power of two), under H_GQ_LOCK
 *   tasks       the task-name intern table (TASK_MAX names), under H_TASK_LOCK
 *   sbufs       SB_SLOTS slots of the shared-buffer registry (sharedbufs.ts)
 *   crings      one completion ring per owner, as long as that owner's G range
 *   gs          GW words per G record: state, task, flags, running M, payload kind/len, cancel word, inline data
 *               (its owner follows from its range)
 *   arena       per owner, a slab of ARENA_SLOT-byte slots for payloads too large for a G record
 *               (arena.ts): one state word per slot, then the slots' bytes
 *
 * Invariants:
 * - Every offset is computed once from (procs, maxM, gMain, gPerM) by `computeLayout`, so all
 *   threads agree on it by construction; the header records those parameters.
 * - G records are 16 words (64 bytes) and start 64-byte aligned, so the inline data at word 8
 *   is 8-byte aligned for the Float64 view.
 * - Each owner allocates and frees only G records of its own range (no shared free list, so no
 *   ABA); a completion ring never holds more entries than its owner's range has records.
 */

import { InternalError } from '../../errors.js'

export const RING = 256 // local run queue capacity per P (Go: len(p.runq))
export const RING_MASK = RING - 1

// Header words.
export const H_MAGIC = 0
export const H_NPROCS = 1
export const H_CLOSED = 2
export const H_NMSPINNING = 3
export const H_NPIDLE = 4
export const H_GQ_LOCK = 5
export const H_GQ_HEAD = 6
export const H_GQ_SIZE = 7
export const H_TASK_LOCK = 8
export const H_TASK_COUNT = 9
export const H_TASK_BYTES = 10
export const H_MAXM = 11
export const H_GMAIN = 12
export const H_GPERM = 13
export const H_MTASKS = 14 // Runtime's mTasks: a fixed admission window for every M (0: adaptive)
export const HW = 16
export const MAGIC = 0x676f7274 // "gort"

// P words (relative to the P's base). Words 0-15 (one cache line) are what thieves poll; the
// owner's per-G bookkeeping (tick, counters) has a line of its own, so a spinning thief does not
// pull the owner's line away on every G it runs.
export const P_OWNER = 0 // M index that holds this P (1..maxM), 0 when none
export const P_RUNNEXT = 1 // gid + 1, 0 when empty
export const P_HEAD = 2 // consumers (owner and thieves) advance it by CAS
export const P_TAIL = 3 // only the owner writes it
export const P_IDLE = 5 // 1 while the owner M is parked
export const P_TICK = 16 // schedtick: bumped on every G run and loop iteration (the monitor watches it)
export const P_STEAL_TASKS = 18 // Gs this P took from others
export const P_STEAL_ATTEMPTS = 19
export const P_GLOBAL_PULLS = 20 // Gs this P took from the global queue
export const P_PARKS = 21
export const P_SPAWNS = 22 // Gs created by tasks running on this P
export const P_HANDOFFS = 23 // times the monitor or crash recovery moved this P to another M
export const P_INLINED = 24 // go() calls inside tasks that ran inline: their M had no free G record
export const P_BL_HEAD = 8 // backlog: consumers (the owner refilling its ring, thieves) advance it by CAS
export const P_BL_TAIL = 12 // backlog: only the owner writes it
export const P_RING = 32
export const BACKLOG = 8192 // backlog capacity per P
export const BACKLOG_MASK = BACKLOG - 1
export const P_BACKLOG = P_RING + RING
export const PW = P_BACKLOG + BACKLOG

// Owner words (relative to the owner's base). Owner 0 is the main thread.
export const O_DOORBELL = 0 // bumped by whoever wants this thread to look again; waited on
export const O_WAITING = 1 // 1 while the thread is (about to be) waiting on O_DOORBELL
export const O_CR_HEAD = 2 // completion ring: consumer index (owner only)
export const O_CR_TAIL = 3 // completion ring: producers reserve with Atomics.add
// How many records of the owner's G range have ever been allocated, counted from its first: one
// past the highest gid it handed out (owner.ts; written by the owner only, only upward, before
// the gid is published). Scans of G records (crash recovery, the deadlock check) stop there: a
// record beyond it was never written, and reading it would fault in its page of shared memory.
export const O_GHIGH = 4
// The M's outbox (see outbox.ts): completions it holds back to announce in one batch.
export const O_OUTBOX_LOCK = 16 // taken by the M around each change, by the monitor to flush for a stuck M
export const O_OUTBOX_N = 17 // held gids
// The M's own words (the monitor writes O_HANDOFF, rarely), on the outbox's line rather than the
// first one: the M writes its state twice per G, and the first line is where other threads
// announce completions to it.
export const O_MSTATE = 18 // M state, see MS_*
export const O_P = 19 // P index + 1 this M holds (written by the M itself; for stats/monitor), 0 when none
export const O_HANDOFF = 20 // P index + 1 handed to this (P-less) M by the monitor or crash recovery
export const O_TID = 21 // the M's kernel thread id (Linux; 0 when unknown), so the monitor can ask the kernel whether it is blocked
export const O_LOADING = 22 // 1 while the M waits for a task module to import (see Machine.#awaitLoad)
// gid + 1 of the G whose synchronous body runs on this M now (written by the runner around the
// call, cleared by CAS), 0 outside one, CUR_KILLED once main claimed it to terminate the M there
// (see main/kill.ts): the only point where ending the thread can leave no shared structure half-written.
export const O_CUR = 23
export const CUR_KILLED = -1
// Retirement (retireThisM, m/machine.ts), written by the M only: 0, then RETIRING once a task
// retired it (no hand-off to it any more: Threads.findSpare), then RETIRED just before it ends
// its thread with no task live, so that main takes its exit for a replacement, not a death.
export const O_RETIRED = 24
export const RETIRING = 1
export const RETIRED = 2
export const O_OUTBOX = 32 // OUTBOX_CAP gids
export const OUTBOX_CAP = 32
// Each owner's words start on a cache line of their own (OW is a multiple of 16 words): with two
// owners to a line, an M's state writes pulled the main thread's completion-ring line away from it.
export const OW = O_OUTBOX + OUTBOX_CAP

// M states live in park.ts, the one module that writes them.

// G words.
export const G_STATE = 0
export const G_TASK = 1
// Flags the spawner sets before the G is published (writeRecord clears them): GF_KILLABLE for a
// goWith with killAfterMs, whose synchronous body runs in a frame main may end (main/kill.ts).
export const G_FLAGS = 2
export const GF_KILLABLE = 1
export const G_M = 3 // the M that started it
export const G_KIND = 4 // payload kind, see K_*
export const G_LEN = 5 // numbers or bytes inline
export const G_ERR = 6 // 1 when the inline result is an error
// Cancellation: (generation << 1) | flag. Only the owner writes it: the flag when its caller's
// signal fires after an M took the G (the task's own signal reads it, see shared/cancel.ts), the
// generation + 1 (flag cleared) each time it frees the record, so a late cancel or kill for an
// earlier G of the same record never matches.
export const G_CANCEL = 7
export const G_DATA = 8 // inline payload: 8 words = 32 bytes = 4 float64
export const GW = 16
export const INLINE_BYTES = 32
export const INLINE_NUMS = 4

export const GS_FREE = 0
export const GS_QUEUED = 1
export const GS_RUNNING = 2
export const GS_DONE = 3
export const GS_CLAIMED = 4 // taken by an M, not yet called (module import or payload fetch pending)
export const GS_CANCELLED = 5 // its caller's AbortSignal fired before any M took it: the M that meets it skips it

export const K_UNDEF = 0
export const K_NUMS = 1 // G_LEN float64 values inline (arguments: the array; result: one number)
export const K_BYTES = 2 // v8-serialized value inline, G_LEN bytes
export const K_REMOTE = 3 // payload travels by message through the main thread
export const K_SHARED = 4 // numbers and shared buffers (by registry id) inline, see sharedbufs.ts
export const K_ARENA = 5 // v8-serialized value, G_LEN bytes, in an arena slot: words G_DATA (arena owner) and G_DATA + 1 (slot)
export const K_ARENA_SHARED = 6 // arguments as K_ARENA, serialized with their shared views by registry id (sharedbufs.ts, writeNested)

// The payload arena (arena.ts): per owner, slots of ARENA_SLOT bytes, each with a state word.
export const ARENA_SLOT = 512
export const ARENA_MAIN = 1024 // the main thread's slots (at most its G records)
export const ARENA_M = 256 // each M's slots (at most its G records)

export const TASK_MAX = 1024
export const TASK_BYTES = 64 * 1024

// The shared-buffer registry: SB_SLOTS slots of SBW words (see sharedbufs.ts).
export const SB_SLOTS = 256
export const SB_GEN = 0 // generation: odd while the slot holds a buffer, even while it is free
export const SB_PENDING = 1 // Gs spawned with this buffer that no M has decoded yet
export const SB_ORPHAN = 2 // 1 once the registering thread's buffer object is gone (or that thread died)
export const SB_OWNER = 3 // the registering thread (owner index)
export const SBW = 4

export interface Layout {
  readonly procs: number
  readonly maxM: number
  readonly gMain: number // G records of the main thread (power of two)
  readonly gPerM: number // G records of each M (power of two)
  readonly pBase: number
  readonly oBase: number
  readonly runsBase: number
  readonly runsStride: number // words per owner's row of run counts: procs, rounded up to a cache line
  readonly gqBase: number
  readonly gqCap: number
  readonly taskOffBase: number // TASK_MAX words: byte offset of each name
  readonly taskLenBase: number // TASK_MAX words: byte length of each name
  readonly taskByteBase: number // byte offset of the name bytes
  readonly sbBase: number // word offset of the shared-buffer registry's slots
  readonly crBase: number // word offset of owner 0's completion ring
  readonly gBase: number // word offset of G record 0
  readonly gTotal: number
  readonly arenaMain: number // the main thread's arena slots
  readonly arenaPerM: number // each M's arena slots
  readonly arenaBase: number // word offset of owner 0's arena state words (every owner's follow, in order)
  readonly arenaBytes: number // byte offset of owner 0's arena slots (every owner's follow, in order)
  readonly words: number
}

function pow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

export function computeLayout(procs: number, maxM: number, gMain: number, gPerM: number): Layout {
  gMain = pow2(gMain)
  gPerM = pow2(gPerM)
  const gTotal = gMain + maxM * gPerM
  const gqCap = pow2(gTotal)
  const pBase = HW
  const oBase = pBase + procs * PW
  const runsBase = oBase + (maxM + 1) * OW
  const runsStride = Math.ceil(procs / 16) * 16
  const gqBase = runsBase + (maxM + 1) * runsStride
  const taskOffBase = gqBase + gqCap
  const taskLenBase = taskOffBase + TASK_MAX
  const taskByteBase = (taskLenBase + TASK_MAX) * 4
  const sbBase = (taskByteBase + TASK_BYTES) / 4
  const crBase = sbBase + SB_SLOTS * SBW
  let gBase = crBase + gTotal
  gBase = Math.ceil(gBase / GW) * GW // 64-byte alignment for the Float64 view
  const arenaMain = Math.min(gMain, ARENA_MAIN)
  const arenaPerM = Math.min(gPerM, ARENA_M)
  const arenaSlots = arenaMain + maxM * arenaPerM
  const arenaBase = gBase + gTotal * GW
  // Slots start on a 64-byte line, as G records do.
  const arenaBytes = Math.ceil((arenaBase + arenaSlots) / GW) * GW * 4
  const words = arenaBytes / 4 + (arenaSlots * ARENA_SLOT) / 4
  return {
    procs, maxM, gMain, gPerM, pBase, oBase, runsBase, runsStride, gqBase, gqCap, taskOffBase, taskLenBase, taskByteBase, sbBase, crBase, gBase, gTotal,
    arenaMain, arenaPerM, arenaBase, arenaBytes, words,
  }
}

export function layoutFromHeader(I: Int32Array): Layout {
  if (I[H_MAGIC] !== MAGIC) throw new InternalError('not a scheduler shared buffer')
  return computeLayout(I[H_NPROCS]!, I[H_MAXM]!, I[H_GMAIN]!, I[H_GPERM]!)
}

export function writeHeader(I: Int32Array, l: Layout): void {
  I[H_NPROCS] = l.procs
  I[H_MAXM] = l.maxM
  I[H_GMAIN] = l.gMain
  I[H_GPERM] = l.gPerM
  I[H_MAGIC] = MAGIC
}

export const pOff = (l: Layout, p: number): number => l.pBase + p * PW
export const oOff = (l: Layout, owner: number): number => l.oBase + owner * OW
/**
 * Where M `m` counts the Gs it ran from P `p`. Only M `m` writes its row, with plain increments
 * (an Atomics.add per G is a lock-prefixed RMW): a P's runs are the sum over Ms, exact without a
 * lock-prefixed add even when two Ms took Gs from the same P (a hand-off in an INTASK span).
 */
export const runsOff = (l: Layout, m: number, p: number): number => l.runsBase + m * l.runsStride + p
export const gOff = (l: Layout, gid: number): number => l.gBase + gid * GW

/** First gid of an owner's range, and its size. */
export function gRange(l: Layout, owner: number): { first: number; count: number; cr: number } {
  if (owner === 0) return { first: 0, count: l.gMain, cr: l.crBase }
  const first = l.gMain + (owner - 1) * l.gPerM
  return { first, count: l.gPerM, cr: l.crBase + first }
}

/**
 * The gids of `owner`'s range that may have been used: [first, end). A gid published before the
 * caller's read of O_GHIGH (a G another thread claimed, ran or finished) is below `end`, since
 * the owner raises O_GHIGH before it publishes the gid.
 */
export function gUsed(I: Int32Array, l: Layout, owner: number): { first: number; end: number } {
  const r = gRange(l, owner)
  return { first: r.first, end: r.first + Math.min(r.count, Atomics.load(I, oOff(l, owner) + O_GHIGH)) }
}

/** An owner's arena: its first slot's index over all owners, and its slot count. */
export function arenaRange(l: Layout, owner: number): { first: number; count: number } {
  if (owner === 0) return { first: 0, count: l.arenaMain }
  return { first: l.arenaMain + (owner - 1) * l.arenaPerM, count: l.arenaPerM }
}

/** The owner of a gid follows from its range. */
export function ownerOf(l: Layout, gid: number): number {
  return gid < l.gMain ? 0 : 1 + Math.floor((gid - l.gMain) / l.gPerM)
}
