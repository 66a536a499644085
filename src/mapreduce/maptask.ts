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
 * - The attempt's signal (its taskSignal()) is checked before the first record and every
 *   ABORT_EVERY records (every chunk of a records: 'chunks' job): an attempt that was cancelled
 *   (a job that failed or stopped, a timeout, a backup copy that lost) ends soon, with
 *   JobAbortedError, instead of running to its end.
 * - Between records, and only there, the buffer combines the keys that are ready and spills when
 *   full (`between`); a chunk job's byte table spills (or drains into the buffer) when full and at the end,
 *   so its sums go through the same combine, spill and merge as emitted pairs.
 */

import { rmSync } from 'node:fs'
import path from 'node:path'
import { EmitTypeError, JobAbortedError } from './errors.js'
import { EmitGate } from './gate.js'
import { ByteTable } from './bytetable.js'
import { loadJob, loadedJob, type ChunkContext, type MapContext, type RecordKind, type Scalar } from './job.js'
import { checkKey, checkValue } from './keys.js'
import { mergePasses, mergeToFile } from './merge.js'
import { partName, taskId } from './names.js'
import { PartWriter } from './output.js'
import { bytePartitioner, partitioner, type PartitionKind } from './partition.js'
import type { StreamSpec } from './options.js'
import type { AttemptGroups } from './streaming/groups.js'
import { readCuts } from './sample.js'
import { MapBuffer, type Combine } from './spill.js'
import { ChunkReader, LineReader, readWholeFile, storedBytes, type Origin, type Split } from './split.js'
import { TaskCounters, zeroStats, type TaskStats } from './counters.js'
import { makeDirs } from './dirs.js'

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
  /** When `path` is a decompressed copy (codec.ts): the compressed file's size, which the split counts. */
  readonly stored?: number
  /** When `path` is a copy of part of a `.bz2` file (codec.ts): where that part came from. */
  readonly origin?: Origin
  readonly records: RecordKind
  readonly reducers: number
  /** This task's share of the memory budget, in bytes. */
  readonly memory: number
  /** The attempt's private directory (created here). */
  readonly dir: string
  /** The job's output directory (map-only jobs rename their part file into it). */
  readonly outDir: string
  /** 'hadoop' replaces the job's partitioner with Hadoop's (see partition.ts). */
  readonly partition: PartitionKind
  /** Streaming mode's commands (then `job` is ''): the attempt runs in streaming/maptask.ts. */
  readonly stream: StreamSpec | undefined
  /** Streaming mode: the attempt's words in the phase's process groups (streaming/groups.ts). */
  readonly groups?: AttemptGroups
  readonly params: readonly (readonly [string, string])[]
  /** The sampled cuts' file (sample.ts), for a job with `sample`. */
  readonly cuts?: string
  /** Further splits this task reads after the first, in order (packSplits: small files share a task). Not for streaming. */
  readonly more?: readonly Split[]
  /** Whether a failure of the job's code retires this M (tasks.ts retireOnFailure): the coordinator's call, while replacements last. */
  readonly retire?: boolean
}

export interface MapResult {
  /** runs[p]: partition p's run file, or null when this task emitted nothing for it. Empty for map-only jobs. */
  readonly runs: (string | null)[]
  readonly stats: TaskStats
  readonly counters: [string, number][]
}

/** Ends the attempt when its signal (taskSignal(): a word in shared memory) says so. */
export function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new JobAbortedError()
}

/** `progress`: tells the task timeout the attempt is working (clock.ts), once a record (an increment in shared memory). */
export async function runMap(a: MapArgs, signal: AbortSignal, progress: () => void = () => {}): Promise<MapResult> {
  checkAbort(signal)
  const job = loadedJob(a.job) ?? (await loadJob(a.job))
  makeDirs(a.dir)
  const id = taskId('m', a.task)
  const counters = new TaskCounters()
  const chunks = a.records === 'chunks'
  const cuts = a.cuts === undefined ? undefined : readCuts(a.cuts)
  // A chunk job's byte table spills straight to runs when its partitioner needs no key text (and
  // then takes three quarters of the task's share, the buffer only the pairs map emits); else it
  // drains into the buffer, and takes a quarter.
  const byBytes = chunks && a.reducers > 0 ? bytePartitioner(a.reducers, job.partition, a.partition, cuts) : undefined
  const tableShare = !chunks ? 0 : byBytes !== undefined ? Math.floor(a.memory * 0.75) : Math.floor(a.memory / 4)
  const table = chunks ? new ByteTable(tableShare) : undefined
  // Map's emit and ctx.emitBytes write while records are mapped (and cleanup runs), not while
  // the buffer combines or spills, nor after cleanup, when the byte table's arrays go to the
  // thread's next task (gate.ts).
  const gate = new EmitGate('map', `${id}-${a.attempt}`, () => ctx.file)
  const ctx: { -readonly [K in keyof ChunkContext]: ChunkContext[K] } = {
    phase: 'map', task: id, attempt: a.attempt, attemptId: `${id}-${a.attempt}`, partition: -1, reducers: a.reducers,
    counters, params: new Map(a.params), file: a.name, offset: 0,
    emitBytes: (bytes, start, end, n = 1) => {
      if (table === undefined) throw new TypeError(`gort mapreduce: emitBytes is for records: 'chunks' jobs (this one reads ${a.records})`)
      if (!gate.open) return gate.refuse('emitBytes')
      if (!(bytes instanceof Uint8Array)) throw new EmitTypeError('key', bytes, 'emitBytes')
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > bytes.length || start > end) {
        throw new RangeError(`gort mapreduce: emitBytes: [${String(start)}, ${String(end)}) is not a range of a ${bytes.length}-byte array`)
      }
      if (typeof n !== 'number') throw new EmitTypeError('value', n, 'emitBytes')
      table.add(bytes, start, end, n)
    },
  }
  const stats = zeroStats()
  const buffer = a.reducers === 0 ? undefined : new MapBuffer({
    reducers: a.reducers, limit: a.memory - tableShare, dir: a.dir,
    partition: partitioner(a.reducers, job.partition as never, a.partition, cuts),
    bytePartition: bytePartitioner(a.reducers, job.partition, a.partition, cuts),
    combine: job.combine as Combine | undefined, ctx,
  })
  const part = a.reducers === 0 ? new PartWriter(path.join(a.dir, partName('m', a.task))) : undefined
  const emit = (k: unknown, v: unknown): void => {
    if (!gate.open) return gate.refuse('emit')
    if (typeof k !== 'string' && typeof k !== 'number') throw new EmitTypeError('key', k)
    const value = checkValue(v)
    stats.mapOutputRecords++
    // The buffer makes a string key well-formed itself, once per new key rather than per emit.
    if (buffer !== undefined) buffer.add(k, value)
    else part!.add(checkKey(k), value)
  }
  const map = job.map as unknown as (k: string, v: string, emit: (k: Scalar, v: Scalar) => void, ctx: MapContext) => void | Promise<void>
  /**
   * The byte table's sums: a spill of their own, straight from the bytes, when every key is
   * well-formed UTF-8 and the partitioner needs no text; else into the buffer (or the part file)
   * as pairs as emit makes them, already checked. True when it spilled.
   */
  const drain = (): boolean => {
    if (byBytes !== undefined && table!.wellFormed()) {
      buffer!.spillTable(table!, byBytes)
      return true
    }
    const sink = buffer ?? part!
    table!.drain((k, v) => sink.add(k, v))
    return false
  }
  /** Between records: early combines, then a spill when the buffer is full. */
  const between = async (): Promise<void> => {
    if (buffer === undefined) return
    gate.open = false
    if (buffer.ready) await buffer.combineReady()
    if (buffer.full) {
      stats.spills++
      await buffer.spill()
    }
    gate.open = true
  }
  let reader: LineReader | undefined
  let chunkReader: ChunkReader | undefined
  try {
    if (job.setup !== undefined) await job.setup(ctx)
    const pieces: readonly Split[] = [a, ...(a.more ?? [])]
    if (chunks) {
      const mapChunk = job.map as unknown as (k: string, v: Uint8Array, emit: (k: Scalar, v: Scalar) => void, ctx: ChunkContext) => void | Promise<void>
      for (const s of pieces) {
        stats.inputBytes += storedBytes(s)
        ctx.file = s.name
        chunkReader = new ChunkReader(s.path, s.start, s.end)
        const shift = s.origin?.shift ?? 0
        while (chunkReader.next()) {
          checkAbort(signal)
          progress()
          ctx.offset = chunkReader.offset + shift
          const r = mapChunk(s.name, chunkReader.chunk, emit, ctx)
          if (r !== undefined) await r
          stats.mapInputRecords++
          if (table!.full && drain()) stats.spills++
          await between()
        }
        chunkReader.close()
        chunkReader = undefined
      }
      drain()
      stats.mapOutputRecords += table!.adds
    } else if (a.records === 'files') {
      // One record a file, read whole when its turn comes: a packed task holds one at a time.
      for (const s of pieces) {
        checkAbort(signal)
        progress()
        const text = readWholeFile(s.path)
        stats.inputBytes += storedBytes(s) // the file's size, as the inputs were listed
        stats.mapInputRecords++
        ctx.file = s.name
        ctx.offset = 0
        const r = map(s.name, text, emit, ctx)
        if (r !== undefined) await r
        if (buffer !== undefined && (buffer.ready || buffer.full)) await between()
      }
    } else {
      for (const s of pieces) {
        stats.inputBytes += storedBytes(s)
        ctx.file = s.name
        reader = new LineReader(s.path, s.start, s.end, { name: s.name })
        const shift = s.origin?.shift ?? 0
        while (reader.next()) {
          ctx.offset = reader.offset + shift
          const r = map(s.name, reader.line, emit, ctx)
          if (r !== undefined) await r
          progress()
          if (++stats.mapInputRecords % ABORT_EVERY === 0) checkAbort(signal)
          if (buffer !== undefined && (buffer.ready || buffer.full)) await between()
        }
        reader.close()
        reader = undefined
      }
    }
    if (job.cleanup !== undefined) await job.cleanup(ctx)
    gate.open = false
    checkAbort(signal)
    let runs: (string | null)[] = []
    if (buffer !== undefined) await buffer.spill()
    // Work that map or a combine started and did not await runs now, before the output is handed
    // over: an emit from it fails the attempt (AfterReturnError) rather than going missing.
    await new Promise(setImmediate)
    const l = gate.late ?? buffer?.late
    if (l !== undefined) throw l
    if (buffer !== undefined) {
      Object.assign(stats, { ...buffer.counters, spills: stats.spills })
      runs = finalRuns(buffer.runs, a.dir, progress)
    } else {
      part!.commit(path.join(a.outDir, partName('m', a.task)))
      stats.outputBytes = part!.bytes
    }
    gate.committed()
    return { runs, stats, counters: counters.pairs() }
  } finally {
    gate.end()
    reader?.close()
    chunkReader?.close()
    part?.close()
    buffer?.release()
    table?.release()
  }
}

/**
 * One run per partition from its spills (runs[p]): none, the only one, or the spills merged into
 * `dir`/p-NNNNN.run (and removed). More spills than FAN_IN are merged FAN_IN at a time first (in
 * `dir`/merge-pNNNNN/, removed after), so a task opens at most FAN_IN of them at once, however
 * small its memory: 1210 spills of a 64 KiB budget once opened 606 files at a time and met
 * EMFILE under a limit of 256.
 */
export function finalRuns(runs: readonly (readonly string[])[], dir: string, progress: () => void = () => {}): (string | null)[] {
  return runs.map((spills, p) => {
    if (spills.length === 0) return null
    if (spills.length === 1) return spills[0]!
    const id = String(p).padStart(5, '0')
    const merged = path.join(dir, `p-${id}.run`)
    const passes = path.join(dir, `merge-p${id}`)
    mergeToFile(mergePasses(spills, passes, undefined, progress), merged, progress)
    for (const s of spills) rmSync(s, { force: true })
    rmSync(passes, { recursive: true, force: true })
    return merged
  })
}
