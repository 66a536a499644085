/**
 * Sampling for a range partitioner (a job with `sample`): Hadoop's InputSampler.SplitSampler and
 * the partition file its TotalOrderPartitioner reads, on one machine.
 *
 * Before the map phase, one G (an ordinary task on an M, since only Ms import job modules) maps
 * the first records of a few splits spread over the input, keeps the keys `map` emits, sorts them
 * in key order and writes reducers - 1 evenly spaced ones, the cuts, to `_temporary/_cuts.json`.
 * Each map attempt reads that file once and partitions with `rangePartition(key, cuts)` (or the
 * job's own partitioner, which gets the cuts). Then every key of part i sorts before every key of
 * part i + 1, and the part files in name order are one sorted sequence.
 *
 * Invariants:
 * - The cuts are sorted in key order and distinct (a run of equal sampled keys yields one cut,
 *   Hadoop's rule), so a partition may be empty but keys are never out of order across parts.
 * - The sample's emits, counters and attempt are not the job's: nothing it does is counted or
 *   written anywhere but the cuts file. `map` must not depend on being called for every record.
 * - Keys cross the file as [isNumber, text] pairs, so a number key stays a number (NaN too).
 */

import { readFileSync, writeFileSync } from 'node:fs'
import { TaskCounters } from './counters.js'
import { loadedJob, loadJob, type MapContext, type Scalar } from './job.js'
import { checkKey, compareKeys, textOf } from './keys.js'
import type { Split } from './split.js'
import { LineReader, readWholeFile } from './split.js'

export const DEFAULT_SAMPLE_RECORDS = 10_000
export const DEFAULT_SAMPLE_SPLITS = 10

export interface SampleArgs {
  readonly job: string
  /** The splits to sample, spread over the input (`sampleSplits`). */
  readonly splits: readonly Split[]
  readonly records: 'lines' | 'files'
  /** Records to map from the start of each split. */
  readonly perSplit: number
  readonly reducers: number
  readonly params: readonly (readonly [string, string])[]
  /** Where to write the cuts. */
  readonly file: string
}

export interface SampleResult {
  /** Keys sampled, and cuts written (at most reducers - 1). */
  readonly keys: number
  readonly cuts: number
}

/** Up to `n` of `splits`, evenly spaced, first included. */
export function sampleSplits(splits: readonly Split[], n: number): Split[] {
  if (splits.length <= n) return [...splits]
  return Array.from({ length: n }, (_, i) => splits[Math.floor((i * splits.length) / n)]!)
}

/**
 * R - 1 cuts from keys sorted in key order: the key at each i * len / R, moved past the previous
 * cut and the keys equal to it, so the cuts are strictly increasing. Fewer when the sample has too few distinct keys; none from an empty sample.
 */
export function pickCuts(sorted: readonly Scalar[], reducers: number): Scalar[] {
  const cuts: Scalar[] = []
  const step = sorted.length / reducers
  let last = -1
  for (let i = 1; i < reducers; i++) {
    let k = Math.max(Math.round(step * i), last + 1)
    while (last >= 0 && k < sorted.length && compareKeys(sorted[last]!, sorted[k]!) === 0) k++
    if (k >= sorted.length) break
    cuts.push(sorted[k]!)
    last = k
  }
  return cuts
}

export function writeCuts(file: string, cuts: readonly Scalar[]): void {
  writeFileSync(file, JSON.stringify(cuts.map((k) => [typeof k === 'number' ? 1 : 0, textOf(k)])))
}

export function readCuts(file: string): Scalar[] {
  const pairs = JSON.parse(readFileSync(file, 'utf8')) as [0 | 1, string][]
  return pairs.map(([n, t]) => (n === 1 ? Number(t) : t))
}

/** Runs on an M: maps the sample, writes the cuts. */
export async function runSample(a: SampleArgs): Promise<SampleResult> {
  // Without an await before the first record when the job is loaded (the probe loaded it), so that
  // a map that hangs does so in the task's synchronous body, where its M can be ended.
  const job = loadedJob(a.job) ?? (await loadJob(a.job))
  const keys: Scalar[] = []
  const ctx: { -readonly [K in keyof MapContext]: MapContext[K] } = {
    phase: 'map', task: 'sample', attempt: 1, attemptId: 'sample-1', partition: -1, reducers: a.reducers,
    counters: new TaskCounters(), params: new Map(a.params), file: '', offset: 0,
  }
  const emit = (k: unknown): void => void keys.push(checkKey(k))
  const map = job.map as (k: string, v: string, emit: (k: unknown) => void, ctx: MapContext) => void | Promise<void>
  if (job.setup !== undefined) await job.setup(ctx)
  for (const s of a.splits) {
    ctx.file = s.name
    if (a.records === 'files') {
      ctx.offset = 0
      const r = map(s.name, readWholeFile(s.path), emit, ctx)
      if (r !== undefined) await r
      continue
    }
    const reader = new LineReader(s.path, s.start, s.end, { name: s.name })
    try {
      for (let n = 0; n < a.perSplit && reader.next(); n++) {
        ctx.offset = reader.offset + (s.origin?.shift ?? 0)
        const r = map(s.name, reader.line, emit, ctx)
        if (r !== undefined) await r
      }
    } finally {
      reader.close()
    }
  }
  if (job.cleanup !== undefined) await job.cleanup(ctx)
  keys.sort(compareKeys)
  const cuts = pickCuts(keys, a.reducers)
  writeCuts(a.file, cuts)
  return { keys: keys.length, cuts: cuts.length }
}
