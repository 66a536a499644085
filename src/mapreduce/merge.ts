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
import { RunReader, RunWriter } from './runfile.js'

/** Most runs open at once in one merge. */
export const FAN_IN = 64

export class Merger {
  readonly #heap: RunReader[] = []
  readonly #rank = new Map<RunReader, number>()
  /** The reader holding the current record, or undefined before the first next() and at the end. */
  current: RunReader | undefined
  #started = false

  constructor(readers: readonly RunReader[]) {
    readers.forEach((r, i) => this.#rank.set(r, i))
    for (const r of readers) if (r.next()) this.#push(r)
  }

  /** Moves to the next record in merged order; false at the end. */
  next(): boolean {
    if (this.#started && this.current !== undefined) {
      // The previous record's reader moves on and goes back into the heap if it has more.
      const r = this.#pop()
      if (r.next()) this.#push(r)
    }
    this.#started = true
    this.current = this.#heap[0]
    return this.current !== undefined
  }

  #less(a: RunReader, b: RunReader): boolean {
    const c = a.compare(b)
    return c < 0 || (c === 0 && this.#rank.get(a)! < this.#rank.get(b)!)
  }

  #push(r: RunReader): void {
    const h = this.#heap
    let i = h.push(r) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  #pop(): RunReader {
    const h = this.#heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

/** One distinct key and its values, streamed from the merge. */
export interface Group {
  readonly key: Scalar
  readonly values: AsyncIterable<Scalar>
}

/**
 * The groups of a merge, in key order. Each group's `values` may be iterated at most once, and
 * only until the next group is asked for; `onValue` sees every value read from the runs (counters).
 */
export async function* groups(m: Merger, onValue: () => void = () => {}): AsyncGenerator<Group> {
  let more = m.next()
  while (more) {
    const r = m.current!
    const key = r.key()
    const id = r.keyBytes()
    let first = true
    let open = true
    /** Moves to this key's next value; false (and `open` false) when the key's values are done. */
    const step = (): boolean => {
      if (!open) return false
      if (first) {
        first = false
      } else {
        more = m.next()
        if (!more || !m.current!.sameKey(id)) return (open = false)
      }
      onValue()
      return true
    }
    const values: AsyncIterable<Scalar> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve(step() ? { done: false, value: m.current!.value() } : { done: true, value: undefined }),
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    }
    yield { key, values }
    while (step()); // skip what the consumer left unread
  }
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
