/**
 * The payload arena: payloads too large for a G record's 32 inline bytes but no larger than one
 * slot (ARENA_SLOT bytes: a path, an offset and a length; a small object) travel in shared memory
 * instead of by message through the main thread.
 *
 * Why: a G record holds 32 bytes. Before the arena, a 46-byte `(path, offset, length)` tuple went
 * to the main thread by message and the M that started the G asked for it by message (two hops
 * when a task spawned it, and the main thread had to be free to answer); a result of the same
 * size for a G a task spawned went M -> main -> M too.
 *
 * How: every thread (owner index, main 0, Ms 1..maxM) has a slab of fixed-size slots, each with
 * a state word (0 free, 1 in use). The writer of a payload takes a slot of its OWN slab (the
 * spawner for arguments, the M that ran the G for a result), copies the serialized bytes in, and
 * names the slot in the G record (K_ARENA: G_LEN bytes, slot index in word G_DATA). The reader
 * (the M that starts the G, the owner that reads the result) copies the bytes out and frees the
 * slot with one atomic store.
 *
 * Invariants:
 * - Only a slab's thread allocates from it (a cursor over its state words), so there is no shared
 *   free list and no ABA. The one other writer of a state word is the slot's single reader, and it
 *   only ever stores 1 -> 0, after its last read of the bytes: the allocator's Atomics.load that
 *   sees the 0 orders its overwrite after that read.
 * - A slot is named by exactly one G record at a time, and freed exactly once: by the reader that
 *   decodes it, by the M that skips a cancelled G, by the spawner that takes back a record it never
 *   published, or (a result whose owner died) by the result's publisher or the main thread that
 *   reclaims the dead owner, whichever claims the record's kind by CAS first.
 * - A G decoded ahead of its call (its module was loading) keeps its slot until the call, since an
 *   M that dies in between has that G run again elsewhere.
 * - A full slab is not an error: the payload goes by message as before.
 */

import { ARENA_SLOT, G_DATA, G_KIND, G_LEN, K_ARENA, K_UNDEF, arenaRange, type Layout } from './layout.js'

export class Arena {
  readonly #I: Int32Array
  readonly #U8: Uint8Array
  readonly #states: number // word offset of slot 0's state word (all owners)
  readonly #bytes: number // byte offset of slot 0's bytes (all owners)
  readonly #first: number // this thread's first slot
  readonly #count: number // this thread's slots
  #cursor = 0

  constructor(I: Int32Array, U8: Uint8Array, l: Layout, me: number) {
    this.#I = I
    this.#U8 = U8
    this.#states = l.arenaBase
    this.#bytes = l.arenaBytes
    const r = arenaRange(l, me)
    this.#first = r.first
    this.#count = r.count
  }

  /**
   * Copies `bytes` into a free slot of this thread's slab and names it in the G record at word
   * offset `go` (as `kind`: K_ARENA, or K_ARENA_SHARED for arguments that name shared buffers).
   * False, writing nothing, when they do not fit a slot or every slot is in use.
   */
  put(go: number, bytes: Uint8Array, kind = K_ARENA): boolean {
    if (bytes.byteLength > ARENA_SLOT) return false
    const I = this.#I
    for (let i = 0; i < this.#count; i++) {
      const k = this.#cursor
      this.#cursor = k + 1 === this.#count ? 0 : k + 1
      const slot = this.#first + k
      if (Atomics.load(I, this.#states + slot) !== 0) continue
      Atomics.store(I, this.#states + slot, 1)
      this.#U8.set(bytes, this.#bytes + slot * ARENA_SLOT)
      I[go + G_DATA] = slot
      I[go + G_LEN] = bytes.byteLength
      I[go + G_KIND] = kind
      return true
    }
    return false
  }

  /** A copy of the bytes record `go` names (K_ARENA or K_ARENA_SHARED); the slot stays in use (see `free`). */
  read(go: number): Uint8Array {
    const at = this.#bytes + this.#I[go + G_DATA]! * ARENA_SLOT
    // slice copies into a fresh (unshared) buffer, which is what v8.deserialize reads.
    return this.#U8.slice(at, at + this.#I[go + G_LEN]!)
  }

  /** Frees the slot record `go` names: its reader is done with the bytes. */
  free(go: number): void {
    Atomics.store(this.#I, this.#states + this.#I[go + G_DATA]!, 0)
  }

  /** read, then free. */
  take(go: number): Uint8Array {
    const b = this.read(go)
    this.free(go)
    return b
  }

  /**
   * Frees the slot of a result whose owner died, unless another thread claimed the record first:
   * the kind goes K_ARENA -> K_UNDEF by CAS, so of two threads dropping it one frees the slot.
   */
  dropResult(go: number): void {
    if (Atomics.compareExchange(this.#I, go + G_KIND, K_ARENA, K_UNDEF) === K_ARENA) this.free(go)
  }

  /** Slots of this thread's slab in use now (tests). */
  inUse(): number {
    let n = 0
    for (let k = 0; k < this.#count; k++) if (Atomics.load(this.#I, this.#states + this.#first + k) !== 0) n++
    return n
  }
}
