/**
 * The map side's buffer: emitted pairs grouped by key in memory until the task's
 * share of the memory budget fills, then spilled: keys bucketed by partition (one partitioner
 * call per distinct key and spill, not per emit), per partition sorted, the combiner run
 * over each key's values, and the result written as one sorted run file.
 *
 * Invariants:
 * - Keys live in Maps (a key `__proto__` is an ordinary key; 1 and '1' are different keys).
 * - Within a key, values keep their emit order, in memory and in the run.
 * - `bytes` is an estimate of the heap the buffered pairs hold (V8's sizes, rounded up), checked
 *   between records: a single map call that emits more than the share still goes to memory first.
 * - After `spill()`, the buffer is empty and every pair emitted so far is in exactly one run of
 *   the partition its key hashes to (combine must not move a key to another partition: checked).
 */

import path from 'node:path'
import { InternalError } from '../errors.js'
import { CombineKeyError } from './errors.js'
import type { Scalar, TaskContext } from './job.js'
import { checkKey, checkValue, compareKeys, textOf } from './keys.js'
import type { Partitioner } from './partition.js'
import { RunWriter } from './runfile.js'

/** An estimate of V8's heap bytes for a string or number held in an array or a Map. */
function sizeOf(v: Scalar): number {
  return typeof v === 'number' ? 16 : 24 + v.length * 2
}

export type Combine = (key: Scalar, values: AsyncIterable<Scalar>, emit: (k: Scalar, v: Scalar) => void, ctx: TaskContext) => void | Promise<void>

export interface SpillCounters {
  spills: number
  spilledRecords: number
  combineInputRecords: number
  combineOutputRecords: number
}

export class MapBuffer {
  /**
   * Key to its values in emit order, all partitions together: a key's partition is computed once
   * per spill, not once per emit.
   */
  readonly #pairs = new Map<Scalar, Scalar[]>()
  readonly #reducers: number
  bytes = 0
  /** The run files written so far: runs[p] lists partition p's, oldest first. */
  readonly runs: string[][]
  readonly counters: SpillCounters = { spills: 0, spilledRecords: 0, combineInputRecords: 0, combineOutputRecords: 0 }
  readonly #limit: number
  readonly #dir: string
  readonly #partition: Partitioner
  readonly #combine: Combine | undefined
  readonly #ctx: TaskContext

  constructor(o: { reducers: number; limit: number; dir: string; partition: Partitioner; combine: Combine | undefined; ctx: TaskContext }) {
    this.#reducers = o.reducers
    this.runs = Array.from({ length: o.reducers }, () => [])
    this.#limit = o.limit
    this.#dir = o.dir
    this.#partition = o.partition
    this.#combine = o.combine
    this.#ctx = o.ctx
  }

  /** Buffers one checked pair (its partition is checked when it spills). */
  add(key: Scalar, value: Scalar): void {
    const vs = this.#pairs.get(key)
    if (vs === undefined) {
      this.#pairs.set(key, [value])
      this.bytes += 64 + sizeOf(key) + sizeOf(value)
    } else {
      vs.push(value)
      this.bytes += 8 + sizeOf(value)
    }
  }

  get full(): boolean {
    return this.bytes >= this.#limit
  }

  get empty(): boolean {
    return this.bytes === 0
  }

  /** Writes everything buffered as one run per non-empty partition, and empties the buffer. */
  async spill(): Promise<void> {
    if (this.empty) return
    const n = this.counters.spills++
    const byPart: Scalar[][] = Array.from({ length: this.#reducers }, () => [])
    for (const k of this.#pairs.keys()) {
      const keys = byPart[this.#partition(k)]
      if (keys === undefined) throw new InternalError('the partitioner returned an unchecked partition')
      keys.push(k)
    }
    const part = this.#pairs
    for (let p = 0; p < this.#reducers; p++) {
      const keys = byPart[p]!
      if (keys.length === 0) continue
      keys.sort(compareKeys)
      const w = new RunWriter(path.join(this.#dir, `spill-${n}-p${p}.run`))
      try {
        if (this.#combine === undefined) {
          for (const k of keys) for (const v of part.get(k)!) w.add(k, v)
        } else {
          await this.#combineInto(w, p, keys, part)
        }
      } finally {
        w.close()
      }
      this.counters.spilledRecords += w.records
      this.runs[p]!.push(w.path)
    }
    part.clear()
    this.bytes = 0
  }

  async #combineInto(w: RunWriter, p: number, keys: readonly Scalar[], part: Map<Scalar, Scalar[]>): Promise<void> {
    const combine = this.#combine!
    const out: [Scalar, Scalar][] = []
    let moved = false
    for (const k of keys) {
      const vs = part.get(k)!
      this.counters.combineInputRecords += vs.length
      const emit = (ek0: unknown, ev0: unknown): void => {
        const ek = checkKey(ek0)
        const ev = checkValue(ev0)
        if (ek !== k && !(Number.isNaN(ek) && Number.isNaN(k))) {
          const q = this.#partition(ek)
          if (q !== p) throw new CombineKeyError(textOf(ek), textOf(k), q, p)
          moved = true
        }
        out.push([ek, ev])
      }
      const r = combine(k, iterate(vs), emit as never, this.#ctx)
      if (r !== undefined) await r
    }
    // A combine that emits other keys than it got may break the order: sort (stable) again.
    if (moved) out.sort((a, b) => compareKeys(a[0], b[0]))
    this.counters.combineOutputRecords += out.length
    for (const [k, v] of out) w.add(k, v)
  }
}

/** An array as the AsyncIterable combine and reduce take. */
export function iterate<T>(xs: readonly T[]): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0
      return {
        next: () => Promise.resolve(i < xs.length ? { done: false, value: xs[i++]! } : { done: true, value: undefined }),
      }
    },
  } as AsyncIterable<T>
}
