/**
 * An M's outbox: gids of finished Gs owned by other threads, announced to each owner's completion
 * ring in batches instead of one by one.
 *
 * Why: announcing costs contended atomics on the owner's cache lines (ring tail, doorbell) and
 * often an Atomics.notify, a large share of an M's time for tiny tasks. While the M runs Gs back
 * to back it holds them, and one reservation and one doorbell ring cover the batch.
 *
 * Invariants:
 * - A G's result is written and its record GS_DONE before its gid enters the outbox, so a flush
 *   only announces.
 * - The outbox lives in shared memory under a lock word. The M takes the lock only in scheduler
 *   code (never across user code), and the monitor takes it to flush for an M that has been in
 *   user code for a while: a G that blocks its M (or runs long) cannot hold back the results of
 *   the Gs that ran before it.
 * - The M flushes before every await and park, and completions that happen outside its run loop
 *   (async tasks settling in a later turn) are announced at once.
 */

import { O_OUTBOX, O_OUTBOX_LOCK, O_OUTBOX_N, OUTBOX_CAP, oOff, ownerOf } from './layout.js'
import type { Sched } from './sched.js'

export class Outbox {
  readonly #s: Sched
  readonly #I: Int32Array
  readonly #o: number
  /** True while the M runs Gs back to back; outside that, completions go out at once. */
  holding = false

  constructor(s: Sched, me: number) {
    this.#s = s
    this.#I = s.I
    this.#o = oOff(s.l, me)
  }

  /** Announces (now or at the next flush) that G `gid`, whose result is written, is done. */
  post(gid: number): void {
    if (!this.holding) {
      this.#s.complete(gid)
      return
    }
    const I = this.#I
    const o = this.#o
    lock(I, o)
    const n = I[o + O_OUTBOX_N]!
    I[o + O_OUTBOX + n] = gid
    if (n + 1 === OUTBOX_CAP) announce(this.#s, o, n + 1)
    else I[o + O_OUTBOX_N] = n + 1
    Atomics.store(I, o + O_OUTBOX_LOCK, 0)
  }

  flush(): void {
    const I = this.#I
    const o = this.#o
    if (I[o + O_OUTBOX_N] === 0) return
    lock(I, o)
    announce(this.#s, o, I[o + O_OUTBOX_N]!)
    Atomics.store(I, o + O_OUTBOX_LOCK, 0)
  }
}

/** The monitor's side: flushes M `m`'s outbox unless the M holds its lock right now. */
export function flushFor(s: Sched, m: number): void {
  const I = s.I
  const o = oOff(s.l, m)
  if (Atomics.load(I, o + O_OUTBOX_N) === 0) return
  if (Atomics.compareExchange(I, o + O_OUTBOX_LOCK, 0, 1) !== 0) return
  const n = I[o + O_OUTBOX_N]!
  if (n > 0) announce(s, o, n)
  Atomics.store(I, o + O_OUTBOX_LOCK, 0)
}

function lock(I: Int32Array, o: number): void {
  // Held by the monitor for a few stores at most: spin.
  while (Atomics.compareExchange(I, o + O_OUTBOX_LOCK, 0, 1) !== 0);
}

/** Announces the n held gids (lock held) and empties the outbox. Runs of one owner go together. */
function announce(s: Sched, o: number, n: number): void {
  const I = s.I
  const base = o + O_OUTBOX
  let start = 0
  while (start < n) {
    const owner = ownerOf(s.l, I[base + start]!)
    let end = start + 1
    while (end < n && ownerOf(s.l, I[base + end]!) === owner) end++
    s.completeMany(owner, I, base + start, base + end)
    start = end
  }
  Atomics.store(I, o + O_OUTBOX_N, 0)
}
