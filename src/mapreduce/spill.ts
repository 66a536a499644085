/**
 * The map side's buffer: emitted pairs grouped by key in memory until the task's share of the
 * memory budget fills, then spilled: keys bucketed by partition (one partitioner call per distinct
 * key and spill, not per emit), per partition sorted, the combiner run over each key's values, and
 * the result written as one sorted run file.
 *
 * With a combiner, a key whose values reach COMBINE_AT is combined early, between records (the
 * task calls `combineReady()` when `ready` is set): its values are replaced by what combine emits
 * for them. So a frequent key holds a few values, not one per emit, and the buffer spills later.
 * Combine may thus see a key several times, on consecutive batches of its values and then on
 * what those batches became, as Hadoop's combiner may run on each spill and again on merges:
 * valid for the commutative and associative functions a combiner must be.
 *
 * Invariants:
 * - Keys live in Maps (a key `__proto__` is an ordinary key; 1 and '1' are different keys).
 * - Within a key, values keep their emit order, in memory and in the run (an early combine's
 *   output takes the place of the batch it combined, ahead of the values emitted after it).
 * - `bytes` is an estimate of the heap the buffered pairs hold (V8's sizes, rounded up), checked
 *   between records: a single map call that emits more than the share still goes to memory first.
 * - After `spill()`, the buffer is empty and every pair emitted so far is in exactly one run of
 *   the partition its key hashes to (combine must not move a key to another partition: checked,
 *   early combines too).
 * - `#plain` is true only while every buffered key is a string without a UTF-16 unit from U+D800
 *   up: then JS's default string order is code point order, and sort needs no comparator.
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

/** Values of one key that make it combined early (between records). */
export const COMBINE_AT = 64

/** A UTF-16 unit whose order differs from its code point's (surrogates and U+E000 up), or that is not ASCII-safe for sort. */
const NOT_PLAIN = /[\ud800-\uffff]/

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
  #plain = true
  /** Keys whose values reached COMBINE_AT since their last combine; `ready` says the list is not empty. */
  #ready: Scalar[] = []
  ready = false
  /** Early combining stays on while it shrinks what it combines (a combine that does not, e.g. one that passes values through, would only cost). */
  #early: boolean
  /** What the combine in progress got: its key and partition, and where its output goes. */
  #cKey: Scalar = ''
  #cPart = 0
  #cOut: (k: Scalar, v: Scalar) => void = () => {}
  #cEmitted = 0
  #cMoved = false
  readonly #emit = (k: unknown, v: unknown): void => this.#combineEmit(k, v)

  constructor(o: { reducers: number; limit: number; dir: string; partition: Partitioner; combine: Combine | undefined; ctx: TaskContext }) {
    this.#reducers = o.reducers
    this.runs = Array.from({ length: o.reducers }, () => [])
    this.#limit = o.limit
    this.#dir = o.dir
    this.#partition = o.partition
    this.#combine = o.combine
    this.#early = o.combine !== undefined
    this.#ctx = o.ctx
  }

  /** Buffers one checked pair (its partition is checked when it spills). */
  add(key: Scalar, value: Scalar): void {
    const vs = this.#pairs.get(key)
    if (vs === undefined) {
      this.#pairs.set(key, [value])
      this.bytes += 64 + sizeOf(key) + sizeOf(value)
      if (this.#plain && (typeof key !== 'string' || NOT_PLAIN.test(key))) this.#plain = false
    } else {
      this.bytes += 8 + sizeOf(value)
      if (vs.push(value) === COMBINE_AT && this.#early) {
        this.#ready.push(key)
        this.ready = true
      }
    }
  }

  get full(): boolean {
    return this.bytes >= this.#limit
  }

  get empty(): boolean {
    return this.bytes === 0
  }

  /** Combines the keys whose values reached COMBINE_AT, each in place (precondition: a combiner). */
  async combineReady(): Promise<void> {
    const keys = this.#ready
    this.#ready = []
    this.ready = false
    const early = this.#early
    this.#early = false // what combine emits goes back through add(): no key becomes ready meanwhile
    let got = 0
    let gave = 0
    try {
      for (const k of keys) {
        const vs = this.#pairs.get(k)!
        for (const v of vs) this.bytes -= 8 + sizeOf(v)
        this.#pairs.set(k, []) // the entry's own share (64 + key) stays counted
        got += vs.length
        gave += await this.#run(k, this.#partition(k), vs, (ek, ev) => this.#readd(ek, ev))
      }
    } finally {
      this.#early = early && gave * 2 <= got
    }
  }

  /** A combine's output pair, back into the buffer (an empty entry counts no value yet). */
  #readd(k: Scalar, v: Scalar): void {
    const vs = this.#pairs.get(k)
    if (vs !== undefined && vs.length === 0) {
      vs.push(v)
      this.bytes += 8 + sizeOf(v)
    } else {
      this.add(k, v)
    }
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
    const pairs = this.#pairs
    for (let p = 0; p < this.#reducers; p++) {
      const keys = byPart[p]!
      if (keys.length === 0) continue
      if (this.#plain) keys.sort()
      else keys.sort(compareKeys)
      const w = new RunWriter(path.join(this.#dir, `spill-${n}-p${p}.run`))
      try {
        if (this.#combine === undefined) {
          for (const k of keys) w.addAll(k, pairs.get(k)!)
        } else {
          await this.#combineInto(w, p, keys)
        }
      } finally {
        w.close()
      }
      this.counters.spilledRecords += w.records
      this.runs[p]!.push(w.path)
    }
    pairs.clear()
    this.#plain = true
    this.#ready = []
    this.ready = false
    this.bytes = 0
  }

  async #combineInto(w: RunWriter, p: number, keys: readonly Scalar[]): Promise<void> {
    const outK: Scalar[] = []
    const outV: Scalar[] = []
    const collect = (k: Scalar, v: Scalar): void => {
      outK.push(k)
      outV.push(v)
    }
    this.#cMoved = false
    for (const k of keys) {
      const vs = this.#pairs.get(k)!
      if (vs.length > 0) await this.#run(k, p, vs, collect)
    }
    let order = outK.map((_, i) => i)
    // A combine that emits other keys than it got may break the order: sort (stable) again.
    if (this.#cMoved) order = order.sort((a, b) => compareKeys(outK[a]!, outK[b]!))
    for (const i of order) w.add(outK[i]!, outV[i]!)
  }

  /** Runs combine on key `k` of partition `p` over `vs`, its checked output to `out`; returns how many pairs it emitted. */
  async #run(k: Scalar, p: number, vs: readonly Scalar[], out: (k: Scalar, v: Scalar) => void): Promise<number> {
    this.#cKey = k
    this.#cPart = p
    this.#cOut = out
    this.#cEmitted = 0
    this.counters.combineInputRecords += vs.length
    const r = this.#combine!(k, new ArrayValues(vs), this.#emit as never, this.#ctx)
    if (r !== undefined) await r
    this.counters.combineOutputRecords += this.#cEmitted
    return this.#cEmitted
  }

  #combineEmit(ek0: unknown, ev0: unknown): void {
    const ek = checkKey(ek0)
    const ev = checkValue(ev0)
    const k = this.#cKey
    if (ek !== k && !(Number.isNaN(ek) && Number.isNaN(k))) {
      const q = this.#partition(ek)
      if (q !== this.#cPart) throw new CombineKeyError(textOf(ek), textOf(k), q, this.#cPart)
      this.#cMoved = true
    }
    this.#cEmitted++
    this.#cOut(ek, ev)
  }
}

/** An array as the AsyncIterable combine and reduce take (classes, so the iteration sites stay monomorphic). */
export class ArrayValues<T> implements AsyncIterable<T> {
  readonly #xs: readonly T[]

  constructor(xs: readonly T[]) {
    this.#xs = xs
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new ArrayValuesIterator(this.#xs)
  }
}

class ArrayValuesIterator<T> implements AsyncIterator<T> {
  readonly #xs: readonly T[]
  #i = 0

  constructor(xs: readonly T[]) {
    this.#xs = xs
  }

  next(): Promise<IteratorResult<T>> {
    const xs = this.#xs
    return Promise.resolve(this.#i < xs.length ? { done: false, value: xs[this.#i++]! } : { done: true, value: undefined })
  }
}
