/**
 * SharedChan's memory: one SharedArrayBuffer per channel, read as Int32/Float64/Uint8/Uint16 views.
 * Every offset and every state name of the protocol is here, in one place; the invariants that tie
 * them together are in sharedchan.ts's header.
 *
 *   header (HDR words) | ring: cap slots | waiter records: nwait records
 *
 * A slot (ring entry, or the value part of a waiter record) is a value in the codec's form
 * (sharedchan-codec.ts): S_KIND, S_LEN, then `slotBytes` bytes of data, 8-byte aligned so a
 * number is one Float64 store.
 *
 * A waiter record is Go's sudog: one blocked send or receive. The records live in the channel's
 * own buffer (so any thread that can see the channel can see its waiters, with no registry of
 * per-thread memory) and are linked into the receive queue, the send queue or the free list by
 * index + 1 (0 = none).
 */

// ---- states: the one table ----

/** A waiter record's W_STATE. */
export const WS_FREE = 0 // on the free list
export const WS_WAITING = 1 // queued; its owner spins or sleeps on this word
export const WS_DONE = 2 // a partner completed it: value delivered (recv) or taken (send)
export const WS_CLOSED = 3 // close woke it: a receiver gets ok=false, a sender panics
export const WS_CANCELLED = 4 // its owner withdrew it (abort) before any partner claimed it
export const WS_NAMES = ['FREE', 'WAITING', 'DONE', 'CLOSED', 'CANCELLED'] as const

/**
 * A select's done word (W_DONE of its first shared case's record; protocol.ts names DONE_OPEN,
 * DONE_CANCELLED and `case + 1`). SharedChan adds two states that only the select's own thread
 * enters and leaves, while it publishes a case or looks at its cases again:
 * - DW_ENQ: the select acts as a partner itself; a remote partner must not claim it, and must
 *   not drop its waiter either: it keeps the waiter queued and marks the word DW_DIRTY.
 * - DW_DIRTY: some partner came by during DW_ENQ; before the select opens the word again it looks
 *   at every case once more (a partner that skipped it may now wait in the opposite queue).
 * The select's thread moves DW_ENQ/DW_DIRTY to DONE_OPEN or to `case + 1`; others only ever move
 * DW_ENQ to DW_DIRTY and DONE_OPEN to `case + 1` (the claim).
 */
export const DW_ENQ = -2
export const DW_DIRTY = -3
export const DW_NAMES: Readonly<Record<number, string>> = { 0: 'OPEN', [-1]: 'CANCELLED', [-2]: 'ENQ', [-3]: 'DIRTY' }

/** The lock word, H_LOCK (Drepper's futex mutex: "Futexes are tricky", mutex3). */
export const LK_FREE = 0
export const LK_HELD = 1
export const LK_CONTENDED = 2 // held, and a worker thread may sleep in Atomics.wait on it
export const LK_NAMES = ['FREE', 'HELD', 'CONTENDED'] as const

/** The channel's H_CLOSED. */
export const CH_OPEN = 0
export const CH_CLOSED = 1

// ---- header (Int32 word indices) ----
//
// Four 64-byte lines (16 words each), so that the buffered fast path touches no line the other
// side writes on every op: line 0 is the slow path's (the lock, the queues), line 1 is read-mostly
// (the id and the gate every fast op reads), line 2 is the senders' (their lock and the tail),
// line 3 the receivers' (their lock and the head). See sharedchan.ts, "The buffered fast path".

export const H_MAGIC = 0 // MAGIC: a buffer made by new SharedChan
export const H_LOCK = 1
export const H_CAP = 2 // Go's dataqsiz
export const H_SLOT = 3 // data bytes per slot (a multiple of 8)
export const H_NWAIT = 4 // waiter records
export const H_NRECVQ = 5 // lengths of the queues (written under the lock; the gate is made from them)
export const H_NSENDQ = 6
export const H_CLOSED = 8
export const H_RECVQ = 9 // head, tail (index + 1)
export const H_SENDQ = 11 // head, tail
export const H_FREE = 13 // free list of waiter records (index + 1)
export const H_FREESEQ = 14 // bumped (and notified) when a record is freed while ops wait for one
export const H_FREEWAIT = 15 // ops waiting for a free record
export const H_ID = 16 // two words: a random id naming the channel across threads (registry)
export const H_INFLIGHT = 18 // copies of this channel sent inside other channels, not yet received
export const H_GATE = 19 // G_* bits: which fast paths are shut (written under every lock)
// The ring's positions count modulo 2 * cap (so that full and empty differ); slot = pos mod cap.
export const H_SLOCK = 32 // the senders' lock (SL_*): a fast send, or the slow path, holds it
export const H_TAIL = 33 // next position to fill; written under H_SLOCK
export const H_SHEAD = 34 // the senders' copy of H_HEAD (under H_SLOCK): never ahead of it
export const H_RLOCK = 48 // the receivers' lock
export const H_HEAD = 49 // next position to take; written under H_RLOCK
export const H_RTAIL = 50 // the receivers' copy of H_TAIL (under H_RLOCK): never ahead of it
export const HDR = 64 // words; even, so slots start 8-byte aligned

/** H_GATE's bits: set while a fast op of that kind could break an invariant. */
export const G_NO_SEND = 1 // receivers are queued (a value must go to them), or closed (a send panics)
export const G_NO_RECV = 2 // senders are queued (a receive must refill from them)

/** A side lock (H_SLOCK, H_RLOCK). Held for a few stores, never while waiting: holders spin. */
export const SL_FREE = 0
export const SL_HELD = 1

export const MAGIC = 0x47434831 // 'GCH1'

// ---- a slot ----

export const S_KIND = 0
export const S_LEN = 1
export const S_DATA = 2 // first data word; even within an even-aligned slot

// ---- a waiter record ----

export const W_STATE = 0
export const W_NEXT = 1 // index + 1 of the next record in its queue or the free list
export const W_PREV = 2
export const W_FLAGS = 3 // WF_* below; written under the lock
export const W_SLEEP = 4 // 1 once the owner sleeps in Atomics.waitAsync: a waker must notify
export const W_OWNER = 5 // threadId of the owner (diagnostics)
// A select's waiter (WF_SELECT): which case, and where its done word is. The done word lives in
// the record of the select's first shared case, in that case's channel: (W_DLO, W_DHI) is that
// channel's id (this channel's own id when it is the same), W_DAT the word index there.
export const W_CASE = 6
export const W_DLO = 7
export const W_DHI = 8
export const W_DAT = 9
export const W_DONE = 10 // the done word, in the first shared case's record only
export const W_DSLEEP = 11 // = W_DONE + 1: 1 once the select's thread sleeps on W_DONE (claimers notify)
export const W_WAKER = 12 // threadId of the partner that completed it (the owner's spin adapts to it)
export const W_SLOT = 14 // the value slot (sender's value, or receiver's destination)
export const W_HDR = 14 // even

export const WF_SEND = 1
export const WF_QUEUED = 2
/** A select's case: claimed through its done word (DONE_OPEN -> case + 1), not by CAS on W_STATE. */
export const WF_SELECT = 4

/** Defaults and limits. */
export const DEFAULT_SLOT_BYTES = 128
export const MAX_SLOT_BYTES = 1 << 20
export const DEFAULT_WAITERS = 256
export const MAX_WAITERS = 1 << 16
/** The largest buffer made (bytes); beyond it `new SharedChan` is a RangeError, as makechan's. */
export const MAX_BUFFER_BYTES = 2 ** 31 - 8

export interface ChanLayout {
  readonly cap: number
  readonly slotBytes: number
  readonly nwait: number
  /** Words per slot: S_DATA + slotBytes / 4. */
  readonly slotWords: number
  /** Word index of the ring's first slot. */
  readonly ring: number
  /** Words per waiter record, and the word index of the first. */
  readonly wWords: number
  readonly waiters: number
  readonly words: number
}

export function chanLayout(cap: number, slotBytes: number, nwait: number): ChanLayout {
  const slotWords = S_DATA + slotBytes / 4
  const ring = HDR
  const wWords = W_HDR + slotWords
  const waiters = ring + cap * slotWords
  return { cap, slotBytes, nwait, slotWords, ring, wWords, waiters, words: waiters + nwait * wWords }
}

/** Reads the layout back from a buffer's header (another thread's view of the same channel). */
export function readLayout(I: Int32Array): ChanLayout {
  return chanLayout(I[H_CAP]!, I[H_SLOT]!, I[H_NWAIT]!)
}

/** Word index of ring slot `i`. */
export const slotAt = (l: ChanLayout, i: number): number => l.ring + i * l.slotWords
/** Word index of waiter record `i` (0-based). */
export const waiterAt = (l: ChanLayout, i: number): number => l.waiters + i * l.wWords
