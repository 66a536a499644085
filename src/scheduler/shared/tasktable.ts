/**
 * The shared task-name intern table: task key (`url#name`) <-> small integer id, so a G record
 * names its task in one word.
 *
 * Invariants: entries are append-only under H_TASK_LOCK; an id, once published by bumping
 * H_TASK_COUNT (after its bytes are written), never changes. Each thread caches both directions.
 */

import { InternalError } from '../../errors.js'
import { H_TASK_BYTES, H_TASK_COUNT, H_TASK_LOCK, TASK_BYTES, TASK_MAX, type Layout } from './layout.js'
import { SchedulerArgError } from '../errors.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

export class TaskTable {
  readonly #I: Int32Array
  readonly #U8: Uint8Array
  readonly #l: Layout
  readonly #ids = new Map<string, number>()
  readonly #keys: string[] = []

  constructor(I: Int32Array, U8: Uint8Array, l: Layout) {
    this.#I = I
    this.#U8 = U8
    this.#l = l
  }

  /** idOf(ref.key), cached by reference: the hot path of go() skips the string lookup. */
  idOfTask(ref: { readonly key: string }): number {
    let id = this.#byRef.get(ref)
    if (id === undefined) {
      id = this.idOf(ref.key)
      this.#byRef.set(ref, id)
    }
    return id
  }

  readonly #byRef = new WeakMap<object, number>()

  idOf(key: string): number {
    const cached = this.#ids.get(key)
    if (cached !== undefined) return cached
    const I = this.#I
    while (Atomics.compareExchange(I, H_TASK_LOCK, 0, 1) !== 0) {
      // Interning happens once per task per thread; contention is negligible.
    }
    try {
      const n = I[H_TASK_COUNT]!
      for (let id = this.#keys.length; id < n; id++) this.#keys[id] = this.#read(id)
      for (let id = 0; id < n; id++) {
        if (this.#keys[id] === key) {
          this.#ids.set(key, id)
          return id
        }
      }
      const bytes = enc.encode(key)
      const used = I[H_TASK_BYTES]!
      if (n >= TASK_MAX || used + bytes.length > TASK_BYTES) {
        throw new SchedulerArgError(`gort: too many distinct tasks (limit ${TASK_MAX} names / ${TASK_BYTES} bytes)`)
      }
      this.#U8.set(bytes, this.#l.taskByteBase + used)
      I[this.#l.taskOffBase + n] = used
      I[this.#l.taskLenBase + n] = bytes.length
      I[H_TASK_BYTES] = used + bytes.length
      Atomics.store(I, H_TASK_COUNT, n + 1)
      this.#keys[n] = key
      this.#ids.set(key, n)
      return n
    } finally {
      Atomics.store(I, H_TASK_LOCK, 0)
    }
  }

  keyOf(id: number): string {
    let k = this.#keys[id]
    if (k === undefined) {
      if (id >= Atomics.load(this.#I, H_TASK_COUNT)) throw new InternalError(`unknown task id ${id}`)
      k = this.#read(id)
      this.#keys[id] = k
      this.#ids.set(k, id)
    }
    return k
  }

  #read(id: number): string {
    const off = this.#l.taskByteBase + this.#I[this.#l.taskOffBase + id]!
    return dec.decode(this.#U8.slice(off, off + this.#I[this.#l.taskLenBase + id]!))
  }
}
