/**
 * A streaming map task attempt: the split's lines go to the mapper process's stdin (the line
 * only, as Hadoop's TextInputFormat pipes it: the offset key is dropped), its stdout lines are
 * cut at the first tab into text keys and values, which take the in-process path from there:
 * MapBuffer (partition, sort, spill) or, in a map-only job, the part-m file.
 *
 * Invariants:
 * - The same as maptask.ts's: everything goes under the attempt's directory, the part-m file is
 *   renamed into place as the last act, the attempt's signal is checked every ABORT_EVERY lines (and
 *   an abandoned attempt kills its process).
 * - MapBuffer gets no combine function here: its spill is then synchronous in effect, so a spill
 *   in the middle of the mapper's output sees no concurrent add. A combiner command runs over
 *   each run a spill writes (one process per spill and partition, as Hadoop runs a combiner),
 *   while the mapper's stdout is paused; the combined run replaces the spilled one.
 * - The attempt settles only after every process it started has exited.
 */

import { rmSync } from 'node:fs'
import path from 'node:path'
import { TaskCounters, zeroStats } from '../counters.js'
import { CombineKeyError } from '../errors.js'
import { compareText } from '../keys.js'
import { ABORT_EVERY, checkAbort, finalRuns, type MapArgs, type MapResult } from '../maptask.js'
import { partName, taskId } from '../names.js'
import type { StreamSpec } from '../options.js'
import { PartWriter } from '../output.js'
import { streamPartitioners, type Partitioner } from '../partition.js'
import { RunReader, RunWriter } from '../runfile.js'
import { MapBuffer } from '../spill.js'
import { LineReader, storedBytes } from '../split.js'
import type { Command } from './command.js'
import { taskEnv } from './env.js'
import { COMBINER, MAIN_ROLE, type AttemptGroups } from './groups.js'
import { Pipe, splitLine } from './pipe.js'
import { makeDirs } from '../dirs.js'

/** `progress`: tells the task timeout the attempt is working (clock.ts): the Pipe calls it as its process takes and writes lines. */
export async function runStreamMap(a: MapArgs & { readonly stream: StreamSpec }, signal: AbortSignal, progress: () => void = () => {}): Promise<MapResult> {
  checkAbort(signal)
  makeDirs(a.dir)
  const id = taskId('m', a.task)
  const counters = new TaskCounters()
  const stats = zeroStats()
  // Keys and values are byte strings from here to the part files (streaming/pipe.ts).
  const { partition, bytePartition } = streamPartitioners(Math.max(1, a.reducers), a.partition)
  const buffer = a.reducers === 0 ? undefined : new MapBuffer({
    reducers: a.reducers, limit: a.memory, dir: a.dir, partition, bytePartition, combine: undefined,
    ctx: { phase: 'map', task: id, attempt: a.attempt, attemptId: `${id}-${a.attempt}`, partition: -1, reducers: a.reducers, counters, params: new Map(a.params) },
  })
  const part = a.reducers === 0 ? new PartWriter(path.join(a.dir, partName('m', a.task)), { bytes: true }) : undefined
  const env = taskEnv({ phase: 'map', task: a.task, attempt: a.attempt, reducers: a.reducers, file: a.name, start: a.origin?.start ?? a.start, length: storedBytes(a) })
  const combiner = a.stream.combiner
  /** Spills (and their combines) in order; the first failure fails the attempt. */
  let work: Promise<void> = Promise.resolve()
  let failure: { error: unknown } | undefined
  const spill = (): Promise<void> => {
    const before = buffer!.runs.map((r) => r.length)
    return buffer!.spill().then(() => combiner === undefined ? undefined : combineNew(buffer!, before, combiner, partition, env, counters, stats, a.dir, a.groups, progress))
  }
  let pipe: Pipe | undefined
  let spillQueued = false
  const onLine = (line: string): void => {
    const [k, v] = splitLine(line)
    stats.mapOutputRecords++
    if (buffer === undefined) {
      part!.add(k, v)
      return
    }
    buffer.add(k, v)
    // The spill runs after the rest of this stdout chunk is buffered (a chunk is at most 64 KiB):
    // queue it once, not once per line until then.
    if (buffer.full && !spillQueued && failure === undefined) {
      spillQueued = true
      stats.spills++
      pipe!.pauseOutput()
      work = work.then(() => {
        spillQueued = false
        return spill()
      }).then(() => pipe!.resumeOutput(), (e: unknown) => {
        failure ??= { error: e }
        pipe!.kill('was stopped: a spill of its output failed')
      })
    }
  }
  const reader = new LineReader(a.path, a.start, a.end, { name: a.name, encoding: 'latin1' })
  try {
    pipe = new Pipe('mapper', a.stream.mapper, env, counters, onLine, a.groups === undefined ? undefined : { attempt: a.groups, role: MAIN_ROLE }, progress)
    pipe.watchAbort(signal)
    stats.inputBytes = storedBytes(a)
    try {
      // A process that stopped reading gets no more: its exit status decides.
      while (!pipe.inputGone && reader.next()) {
        const w = pipe.write(reader.line + '\n')
        if (w !== undefined) await w
        if (++stats.mapInputRecords % ABORT_EVERY === 0) checkAbort(signal)
      }
      await pipe.end()
    } catch (e) {
      pipe.kill('was stopped: its task ended')
      await pipe.done().catch(() => {})
      throw e
    }
    try {
      await pipe.done()
    } catch (e) {
      checkAbort(signal) // killed because the job was abandoned: not this attempt's failure
      throw e
    }
    await work
    if (failure !== undefined) throw failure.error
    checkAbort(signal)
    let runs: (string | null)[] = []
    if (buffer !== undefined) {
      await spill()
      // Only here, on success: a failed attempt may still have a spill queued on `work`.
      buffer.release()
      // Counted after combining, as in process: every spilled run went through the combiner,
      // whose output took its place.
      Object.assign(stats, { spilledRecords: combiner === undefined ? buffer.counters.spilledRecords : stats.combineOutputRecords })
      runs = finalRuns(buffer.runs, a.dir, progress)
    } else {
      part!.commit(path.join(a.outDir, partName('m', a.task)))
      stats.outputBytes = part!.bytes
    }
    return { runs, stats, counters: counters.pairs() }
  } finally {
    reader.close()
    part?.close()
  }
}

/**
 * Runs the combiner over each run the last spill added (runs[p] beyond before[p]): one process
 * per run, fed its `key\tvalue` lines in order; its output lines, cut at the first tab, become
 * the run in its place. A key the combiner moves to another partition is CombineKeyError; output
 * out of key order is sorted again (stable).
 */
async function combineNew(
  buffer: MapBuffer, before: readonly number[], combiner: Command, partition: Partitioner, mapEnv: Readonly<Record<string, string>>,
  counters: TaskCounters, stats: { combineInputRecords: number; combineOutputRecords: number }, dir: string, groups: AttemptGroups | undefined,
  progress: () => void,
): Promise<void> {
  for (let p = 0; p < buffer.runs.length; p++) {
    const rs = buffer.runs[p]!
    for (let i = before[p]!; i < rs.length; i++) {
      const from = rs[i]!
      const out: [string, string][] = []
      let sorted = true
      const pipe = new Pipe('combiner', combiner, mapEnv, counters, (line) => {
        const kv = splitLine(line)
        const q = partition(kv[0])
        if (q !== p) throw new CombineKeyError(kv[0], '(combiner output)', q, p)
        if (sorted && out.length > 0 && compareText(out[out.length - 1]![0], kv[0]) > 0) sorted = false
        out.push(kv)
      }, groups === undefined ? undefined : { attempt: groups, role: COMBINER }, progress)
      const r = new RunReader(from)
      try {
        while (r.next()) {
          const line = `${String(r.key())}\t${String(r.value())}\n`
          for (let n = r.reps(); n > 0; n--) {
            stats.combineInputRecords++
            const w = pipe.write(line)
            if (w !== undefined) await w
          }
        }
        await pipe.end()
      } catch (e) {
        pipe.kill('was stopped: its task ended')
        await pipe.done().catch(() => {})
        throw e
      } finally {
        r.close()
      }
      await pipe.done()
      if (!sorted) out.sort((x, y) => compareText(x[0], y[0]))
      const to = path.join(dir, `${path.basename(from, '.run')}-c.run`)
      const w = new RunWriter(to)
      try {
        for (const [k, v] of out) w.add(k, v)
      } finally {
        w.close()
      }
      stats.combineOutputRecords += out.length
      rmSync(from, { force: true })
      rs[i] = to
    }
  }
}
