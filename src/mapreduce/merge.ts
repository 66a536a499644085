/**
 * The k-way merge of sorted runs, as a stream: a loser tree of readers ordered by their current
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
import { InternalError } from '../errors.js'
import { AfterReturnError, ValuesOnceError } from './errors.js'
import { textOf } from './keys.js'
import type { Scalar } from './job.js'
import { RunReader, RunWriter, type KeyBytes } from './runfile.js'
import { DONE, repeated } from './spill.js'
import { makeDirs } from './dirs.js'

/** Most runs open at once in one merge. */
export const FAN_IN = 64

export class Merger {
  /** The readers, by rank (their index in the constructor's list: ties go to the lower). */
  readonly #r: readonly RunReader[]
  /** live[i]: reader i has a current record. */
  readonly #live: Uint8Array
  /**
   * A loser tree over the readers: leaf i sits at k + i, node n's children at 2n and 2n + 1,
   * tree[n] (n >= 1) holds the loser of the match at node n, tree[0] the overall winner. Moving
   * on replays one leaf-to-root path: one comparison per level, log2(k) in all, against a
   * binary heap's two per level.
   */
  readonly #tree: Int32Array
  /** The reader holding the current record, or undefined before the first next() and at the end. */
  current: RunReader | undefined
  #started = false

  constructor(readers: readonly RunReader[]) {
    const k = readers.length
    this.#r = readers
    this.#live = new Uint8Array(k)
    readers.forEach((r, i) => {
      this.#live[i] = r.next() ? 1 : 0
    })
    this.#tree = new Int32Array(Math.max(1, k))
    if (k === 0) return
    // Play the matches bottom-up: win[n] is the winner below node n, leaves being themselves.
    const win = new Int32Array(2 * k)
    for (let i = 0; i < k; i++) win[k + i] = i
    for (let n = k - 1; n >= 1; n--) {
      const a = win[2 * n]!
      const b = win[2 * n + 1]!
      const aWins = this.#less(a, b)
      win[n] = aWins ? a : b
      this.#tree[n] = aWins ? b : a
    }
    this.#tree[0] = k === 1 ? 0 : win[1]!
  }

  /** Moves to the next record in merged order; false at the end. */
  next(): boolean {
    const k = this.#r.length
    if (k === 0) return false
    const t = this.#tree
    if (this.#started) {
      // The previous record's reader moves on, then replays its matches up to the root.
      let w = t[0]!
      if (this.#live[w] === 1) this.#live[w] = this.#r[w]!.next() ? 1 : 0
      for (let n = (k + w) >> 1; n >= 1; n >>= 1) {
        const l = t[n]!
        if (this.#less(l, w)) {
          t[n] = w
          w = l
        }
      }
      t[0] = w
    }
    this.#started = true
    const w = t[0]!
    this.current = this.#live[w] === 1 ? this.#r[w] : undefined
    return this.current !== undefined
  }

  /** Whether reader a's current record comes before reader b's: by record, then rank; an exhausted reader last. */
  #less(a: number, b: number): boolean {
    if (this.#live[a] === 0) return false
    if (this.#live[b] === 0) return true
    const c = this.#r[a]!.compare(this.#r[b]!)
    return c < 0 || (c === 0 && a < b)
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
 * most once, and only until the next `next()`). `onValue(n)` sees every record read from the runs, n the values it stands for.
 */
export class Groups {
  key: Scalar = ''
  readonly #m: Merger
  readonly #onValue: (n: number) => void
  /** The current group's key identity, for sameKey once its first reader has moved on. */
  readonly #id: KeyBytes = { num: 0, bytes: Buffer.allocUnsafe(64), len: 0 }
  /** A record of the current group is current in the merge and not yet read as a value. */
  #first = false
  /** The current group may have values left. */
  #open = false
  /** The merge has a current record (false once it is exhausted). */
  #more: boolean
  #started = false

  constructor(m: Merger, onValue: (n: number) => void = () => {}) {
    this.#m = m
    this.#onValue = onValue
    this.#more = false
  }

  /** Counts the groups next() moved to: a GroupIterator of an earlier one sees it changed. */
  seq = 0
  /** The first read of a group's values after the merge moved on (AfterReturnError), for the task to fail with. */
  late: Error | undefined

  /** Moves to the next group; false when there is none. */
  next(): boolean {
    this.seq++
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

  /**
   * Moves to the current group's next record; false (and the group closed) when its records are
   * done. The record stands for its value `reps` times (a record with a count, runfile.ts).
   */
  step(): boolean {
    if (!this.#open) return false
    if (this.#first) {
      this.#first = false
    } else {
      this.#more = this.#m.next()
      if (!this.#more || !this.#m.current!.sameKey(this.#id)) return (this.#open = false)
    }
    this.reps = this.#m.current!.reps()
    this.#onValue(this.reps)
    return true
  }

  /** How many times the value of the record step() moved to stands. */
  reps = 1

  /** The value of the record step() moved to. */
  value(): Scalar {
    return this.#m.current!.value()
  }
}

class GroupValues implements AsyncIterable<Scalar> {
  readonly #g: Groups
  readonly #key: Scalar
  readonly #seq: number
  #iterated = false

  constructor(g: Groups) {
    this.#g = g
    this.#key = g.key
    this.#seq = g.seq
  }

  [Symbol.asyncIterator](): AsyncIterator<Scalar> {
    if (this.#iterated) throw new ValuesOnceError(textOf(this.#key))
    this.#iterated = true
    return new GroupIterator(this.#g, this.#seq, this.#key)
  }
}

/** A group's values: each record's value, `reps` times over, a repeat being the one settled result (as ListIterator's). */
class GroupIterator implements AsyncIterator<Scalar> {
  readonly #g: Groups
  /** The group this iterates (Groups.seq when it was current), and its key, for the error. */
  readonly #seq: number
  readonly #key: Scalar
  /** The current record's result, and how many of its repeats are still to come. */
  #p: Promise<IteratorResult<Scalar>> = DONE
  #reps = 0

  constructor(g: Groups, seq: number, key: Scalar) {
    this.#g = g
    this.#seq = seq
    this.#key = key
  }

  next(): Promise<IteratorResult<Scalar>> {
    if (this.#reps > 0) {
      this.#reps--
      return this.#p
    }
    const g = this.#g
    // The merge moved on to other keys: this reduce returned without awaiting its reading.
    if (g.seq !== this.#seq) {
      const e = new AfterReturnError('reduce', 'values', textOf(this.#key))
      g.late ??= e
      return Promise.reject(e)
    }
    if (!g.step()) return DONE
    const value = g.value()
    if (g.reps === 1) return Promise.resolve({ done: false, value })
    this.#p = repeated(value)
    this.#reps = g.reps - 1
    return this.#p
  }

  return(): Promise<IteratorResult<Scalar>> {
    return DONE
  }
}

/**
 * The groups of a merge, in key order (see Groups). Each group's `values` may be iterated at
 * most once, and only until the next group is asked for.
 */
export async function* groups(m: Merger, onValue: (n: number) => void = () => {}): AsyncGenerator<Group> {
  const g = new Groups(m, onValue)
  while (g.next()) yield { key: g.key, values: g.values() }
}

/**
 * Merges `paths` until at most FAN_IN remain, writing intermediate runs into `dir` (made if it is
 * not there; deleting the intermediate ones it made once merged again). Returns the runs to merge
 * last.
 */
export function mergePasses(paths: readonly string[], dir: string, fanIn = FAN_IN, progress: () => void = () => {}): string[] {
  // Below 2 a pass would never reduce the number of runs.
  if (!Number.isInteger(fanIn) || fanIn < 2) throw new InternalError(`mergePasses: a fan-in of ${fanIn} (at least 2)`)
  let runs = [...paths]
  const made = new Set<string>()
  let pass = 0
  if (runs.length > fanIn) makeDirs(dir)
  while (runs.length > fanIn) {
    const next: string[] = []
    for (let i = 0; i < runs.length; i += fanIn) {
      const batch = runs.slice(i, i + fanIn)
      if (batch.length === 1) {
        next.push(batch[0]!)
        continue
      }
      const out = path.join(dir, `merge-${pass}-${i / fanIn}.run`)
      mergeToFile(batch, out, progress)
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
export function mergeToFile(paths: readonly string[], out: string, progress: () => void = () => {}): number {
  const readers = paths.map((p) => new RunReader(p))
  const w = new RunWriter(out)
  try {
    const m = new Merger(readers)
    while (m.next()) {
      w.addRaw(m.current!.raw(), m.current!.reps())
      progress() // a long merge is work: the task timeout counts from the last record (clock.ts)
    }
  } finally {
    w.close()
    for (const r of readers) r.close()
  }
  return w.records
}
