/**
 * The k-way merge of sorted runs, as a stream: a binary heap of readers ordered by their current
 * record, ties broken by the reader's index, so records with equal keys come out run by run, each
 * run's in its own order. Memory is one buffer per open run, whatever the runs hold.
 *
 * `groups` turns the merged stream into one (key, values) group per distinct key, where values is
 * an AsyncIterable that pulls records from the merge as it is iterated: a key with more values
 * than memory holds streams through. Whatever the consumer leaves unread is skipped before the
 * next group starts. More runs than FAN_IN are first merged, FAN_IN at a time, into bigger runs
 * (`mergePasses`), so the number of open files stays bounded too.
 */

import { rmSync } from 'node:fs'
import path from 'node:path'
import type { Scalar } from './job.js'
import { RunReader, RunWriter, type KeyBytes } from './runfile.js'
import { DONE } from './spill.js'

/** Most runs open at once in one merge. */
export const FAN_IN = 64

export class Merger {
  /** A binary min-heap of the readers that have a current record, by (record, rank). */
  readonly #heap: RunReader[] = []
  /** rank[i]: the index in the constructor's list of the reader at heap slot i (ties go to the lower). */
  readonly #rank: number[] = []
  /** The reader holding the current record, or undefined before the first next() and at the end. */
  current: RunReader | undefined
  #started = false

  constructor(readers: readonly RunReader[]) {
    readers.forEach((r, i) => {
      if (r.next()) this.#push(r, i)
    })
  }

  /** Moves to the next record in merged order; false at the end. */
  next(): boolean {
    if (this.#started && this.current !== undefined) {
      // The previous record's reader (the top) moves on: it sifts down from the top when it has
      // more, else the heap's last reader takes its place.
      const h = this.#heap
      if (h[0]!.next()) {
        this.#down(0)
      } else {
        const last = h.pop()!
        const rank = this.#rank.pop()!
        if (h.length > 0) {
          h[0] = last
          this.#rank[0] = rank
          this.#down(0)
        }
      }
    }
    this.#started = true
    this.current = this.#heap[0]
    return this.current !== undefined
  }

  /** Whether heap slot i's reader comes before slot j's. */
  #less(i: number, j: number): boolean {
    const c = this.#heap[i]!.compare(this.#heap[j]!)
    return c < 0 || (c === 0 && this.#rank[i]! < this.#rank[j]!)
  }

  #swap(i: number, j: number): void {
    const h = this.#heap
    const rk = this.#rank
    const r = h[i]!
    h[i] = h[j]!
    h[j] = r
    const x = rk[i]!
    rk[i] = rk[j]!
    rk[j] = x
  }

  #push(r: RunReader, rank: number): void {
    let i = this.#heap.push(r) - 1
    this.#rank.push(rank)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(i, p)) break
      this.#swap(i, p)
      i = p
    }
  }

  #down(i: number): void {
    const n = this.#heap.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.#less(l, m)) m = l
      if (r < n && this.#less(r, m)) m = r
      if (m === i) return
      this.#swap(i, m)
      i = m
    }
  }
}

/** One distinct key and its values, streamed from the merge. */
export interface Group {
  readonly key: Scalar
  readonly values: AsyncIterable<Scalar>
}

/**
 * The groups of a merge, in key order, as a cursor: `next()` moves to the next distinct key,
 * skipping whatever values of the previous one were left unread; `key` is its key and `values()`
 * the AsyncIterable of its values, which pulls records from the merge as it is iterated (at
 * most once, and only until the next `next()`). `onValue` sees every value read from the runs.
 */
export class Groups {
  key: Scalar = ''
  readonly #m: Merger
  readonly #onValue: () => void
  /** The current group's key identity, for sameKey once its first reader has moved on. */
  readonly #id: KeyBytes = { num: 0, bytes: Buffer.allocUnsafe(64), len: 0 }
  /** A record of the current group is current in the merge and not yet read as a value. */
  #first = false
  /** The current group may have values left. */
  #open = false
  /** The merge has a current record (false once it is exhausted). */
  #more: boolean
  #started = false

  constructor(m: Merger, onValue: () => void = () => {}) {
    this.#m = m
    this.#onValue = onValue
    this.#more = false
  }

  /** Moves to the next group; false when there is none. */
  next(): boolean {
    if (!this.#started) {
      this.#started = true
      this.#more = this.#m.next()
    } else {
      while (this.step()); // skip what the consumer left unread
    }
    if (!this.#more) return false
    const r = this.#m.current!
    this.key = r.key()
    r.copyKey(this.#id)
    this.#first = true
    this.#open = true
    return true
  }

  /** The current group's values (iterate once, before the next `next()`). */
  values(): AsyncIterable<Scalar> {
    return new GroupValues(this)
  }

  /** Moves to the current group's next value; false (and the group closed) when its values are done. */
  step(): boolean {
    if (!this.#open) return false
    if (this.#first) {
      this.#first = false
    } else {
      this.#more = this.#m.next()
      if (!this.#more || !this.#m.current!.sameKey(this.#id)) return (this.#open = false)
    }
    this.#onValue()
    return true
  }

  /** The value step() moved to. */
  value(): Scalar {
    return this.#m.current!.value()
  }
}

class GroupValues implements AsyncIterable<Scalar> {
  readonly #g: Groups

  constructor(g: Groups) {
    this.#g = g
  }

  [Symbol.asyncIterator](): AsyncIterator<Scalar> {
    return new GroupIterator(this.#g)
  }
}

class GroupIterator implements AsyncIterator<Scalar> {
  readonly #g: Groups

  constructor(g: Groups) {
    this.#g = g
  }

  next(): Promise<IteratorResult<Scalar>> {
    const g = this.#g
    return g.step() ? Promise.resolve({ done: false, value: g.value() }) : DONE
  }

  return(): Promise<IteratorResult<Scalar>> {
    return DONE
  }
}

/**
 * The groups of a merge, in key order (see Groups). Each group's `values` may be iterated at
 * most once, and only until the next group is asked for.
 */
export async function* groups(m: Merger, onValue: () => void = () => {}): AsyncGenerator<Group> {
  const g = new Groups(m, onValue)
  while (g.next()) yield { key: g.key, values: g.values() }
}

/**
 * Merges `paths` until at most FAN_IN remain, writing intermediate runs into `dir` (and deleting
 * the intermediate ones it made once merged again). Returns the runs to merge last.
 */
export function mergePasses(paths: readonly string[], dir: string, fanIn = FAN_IN): string[] {
  let runs = [...paths]
  const made = new Set<string>()
  let pass = 0
  while (runs.length > fanIn) {
    const next: string[] = []
    for (let i = 0; i < runs.length; i += fanIn) {
      const batch = runs.slice(i, i + fanIn)
      if (batch.length === 1) {
        next.push(batch[0]!)
        continue
      }
      const out = path.join(dir, `merge-${pass}-${i / fanIn}.run`)
      mergeToFile(batch, out)
      for (const p of batch) if (made.delete(p)) rmSync(p, { force: true })
      made.add(out)
      next.push(out)
    }
    runs = next
    pass++
  }
  return runs
}

/** Merges the runs at `paths` into one run at `out`. */
export function mergeToFile(paths: readonly string[], out: string): number {
  const readers = paths.map((p) => new RunReader(p))
  const w = new RunWriter(out)
  try {
    const m = new Merger(readers)
    while (m.next()) w.addRaw(m.current!.raw())
  } finally {
    w.close()
    for (const r of readers) r.close()
  }
  return w.records
}
