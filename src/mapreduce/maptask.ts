/**
 * A map task attempt, as it runs on an M: read the split's records, call `map` on each, and
 * either buffer, combine, sort and spill the pairs per partition (reducers > 0), or write them as
 * they come to this task's part-m file (a map-only job).
 *
 * Invariants:
 * - Everything the attempt writes is under its own directory `dir` (`_temporary/m-00003-1`),
 *   except the part-m file of a map-only job, which is renamed into the output directory as the
 *   attempt's last act. So a failed attempt's debris is one directory to remove.
 * - On success, the result names at most one run per partition (spills are merged), so a reduce
 *   task opens at most one run per map task.
 * - The abort word is checked before the first record and every ABORT_EVERY records: an attempt
 *   of a job that has failed ends soon, with JobAbortedError, instead of running to its end.
 */

import { mkdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { JobAbortedError } from './errors.js'
import { loadJob, type MapContext, type Scalar } from './job.js'
import { checkKey, checkValue } from './keys.js'
import { mergeToFile } from './merge.js'
import { PartWriter, partName } from './output.js'
import { partitioner } from './partition.js'
import { readCuts } from './sample.js'
import { MapBuffer, type Combine } from './spill.js'
import { LineReader, readWholeFile } from './split.js'
import { TaskCounters, zeroStats, type TaskStats } from './counters.js'

export const ABORT_EVERY = 1024

export interface MapArgs {
  readonly job: string
  readonly task: number
  readonly attempt: number
  /** The split: absolute path, name as matched, byte range. */
  readonly path: string
  readonly name: string
  readonly start: number
  readonly end: number
  readonly records: 'lines' | 'files'
  readonly reducers: number
  /** This task's share of the memory budget, in bytes. */
  readonly memory: number
  /** The attempt's private directory (created here). */
  readonly dir: string
  /** The job's output directory (map-only jobs rename their part file into it). */
  readonly outDir: string
  readonly params: readonly (readonly [string, string])[]
  /** The sampled cuts' file (sample.ts), for a job with `sample`. */
  readonly cuts?: string
}

export interface MapResult {
  /** runs[p]: partition p's run file, or null when this task emitted nothing for it. Empty for map-only jobs. */
  readonly runs: (string | null)[]
  readonly stats: TaskStats
  readonly counters: [string, number][]
}

export function taskId(kind: 'm' | 'r', n: number): string {
  return `${kind}-${String(n).padStart(5, '0')}`
}

export function checkAbort(abort: Int32Array): void {
  if (Atomics.load(abort, 0) !== 0) throw new JobAbortedError()
}

export async function runMap(a: MapArgs, abort: Int32Array): Promise<MapResult> {
  checkAbort(abort)
  const job = await loadJob(a.job)
  mkdirSync(a.dir, { recursive: true })
  const id = taskId('m', a.task)
  const counters = new TaskCounters()
  const ctx: { -readonly [K in keyof MapContext]: MapContext[K] } = {
    phase: 'map', task: id, attempt: a.attempt, attemptId: `${id}-${a.attempt}`, partition: -1, reducers: a.reducers,
    counters, params: new Map(a.params), file: a.name, offset: 0,
  }
  const stats = zeroStats()
  const buffer = a.reducers === 0 ? undefined : new MapBuffer({
    reducers: a.reducers, limit: a.memory, dir: a.dir, partition: partitioner(a.reducers, job.partition as never, a.cuts === undefined ? undefined : readCuts(a.cuts)),
    combine: job.combine as Combine | undefined, ctx,
  })
  const part = a.reducers === 0 ? new PartWriter(path.join(a.dir, partName('m', a.task))) : undefined
  const emit = (k: unknown, v: unknown): void => {
    const key = checkKey(k)
    const value = checkValue(v)
    stats.mapOutputRecords++
    if (buffer !== undefined) buffer.add(key, value)
    else part!.add(key, value)
  }
  const map = job.map as (k: string, v: string, emit: (k: Scalar, v: Scalar) => void, ctx: MapContext) => void | Promise<void>
  let reader: LineReader | undefined
  try {
    if (job.setup !== undefined) await job.setup(ctx)
    if (a.records === 'files') {
      const text = readWholeFile(a.path)
      stats.inputBytes = statSync(a.path).size
      stats.mapInputRecords = 1
      const r = map(a.name, text, emit, ctx)
      if (r !== undefined) await r
    } else {
      stats.inputBytes = a.end - a.start
      reader = new LineReader(a.path, a.start, a.end)
      while (reader.next()) {
        ctx.offset = reader.offset
        const r = map(a.name, reader.line, emit, ctx)
        if (r !== undefined) await r
        if (++stats.mapInputRecords % ABORT_EVERY === 0) checkAbort(abort)
        if (buffer?.full === true) {
          stats.spills++
          await buffer.spill()
        }
      }
    }
    if (job.cleanup !== undefined) await job.cleanup(ctx)
    checkAbort(abort)
    let runs: (string | null)[] = []
    if (buffer !== undefined) {
      await buffer.spill()
      Object.assign(stats, { ...buffer.counters, spills: stats.spills })
      runs = buffer.runs.map((rs, p) => finalRun(rs, path.join(a.dir, `p-${String(p).padStart(5, '0')}.run`)))
    } else {
      part!.commit(path.join(a.outDir, partName('m', a.task)))
      stats.outputBytes = part!.bytes
    }
    return { runs, stats, counters: counters.pairs() }
  } finally {
    reader?.close()
    part?.close()
  }
}

/** One run for a partition's spills: none, the only one, or the spills merged (and removed). */
function finalRun(spills: readonly string[], merged: string): string | null {
  if (spills.length === 0) return null
  if (spills.length === 1) return spills[0]!
  mergeToFile(spills, merged)
  for (const s of spills) rmSync(s, { force: true })
  return merged
}
