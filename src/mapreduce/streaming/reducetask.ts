/**
 * A streaming reduce task attempt: the merged, sorted runs of its partition go to the reducer
 * process's stdin as `key\tvalue` lines (every value of a key, keys in byte order, equal keys
 * contiguous, no grouping marks: the reducer sees where a key changes itself); its stdout lines,
 * cut at the first tab, are the part file's pairs, so a line without a tab comes out as
 * `line\t` as Hadoop's TextOutputFormat writes it. Without a reducer command the merged pairs go
 * to the part file as they are (Hadoop's IdentityReducer).
 *
 * Invariants: those of reducetask.ts (bounded memory: the merge streams, the pipe has
 * backpressure; the part file is renamed into place as the last act), and the attempt settles
 * only after its process has exited.
 */

import { statSync } from 'node:fs'
import path from 'node:path'
import { TaskCounters, zeroStats } from '../counters.js'
import { checkAbort } from '../maptask.js'
import { Merger, mergePasses } from '../merge.js'
import type { StreamSpec } from '../options.js'
import { partName } from '../names.js'
import { PartWriter } from '../output.js'
import type { ReduceArgs, ReduceResult } from '../reducetask.js'
import { RunReader, type KeyBytes } from '../runfile.js'
import { taskEnv } from './env.js'
import { MAIN_ROLE } from './groups.js'
import { Pipe, splitLine } from './pipe.js'
import { makeDirs } from '../dirs.js'

/** `progress`: tells the task timeout the attempt is working (clock.ts): records merged, and the Pipe's lines in and out. */
export async function runStreamReduce(a: ReduceArgs & { readonly stream: StreamSpec }, signal: AbortSignal, progress: () => void = () => {}): Promise<ReduceResult> {
  checkAbort(signal)
  makeDirs(a.dir)
  const counters = new TaskCounters()
  const stats = zeroStats()
  for (const r of a.runs) stats.shuffleBytes += statSync(r).size
  // Byte strings, as the map side wrote them (streaming/pipe.ts).
  const out = new PartWriter(path.join(a.dir, partName('r', a.task)), { bytes: true })
  const add = (k: string, v: string): void => {
    out.add(k, v)
    stats.reduceOutputRecords++
  }
  let readers: RunReader[] = []
  let pipe: Pipe | undefined
  try {
    readers = mergePasses(a.runs, a.dir, undefined, progress).map((p) => new RunReader(p))
    const merger = new Merger(readers)
    const reducer = a.stream.reducer
    if (reducer !== undefined) {
      pipe = new Pipe('reducer', reducer, taskEnv({ phase: 'reduce', task: a.task, attempt: a.attempt, reducers: a.reducers }), counters, (line) => {
        const [k, v] = splitLine(line)
        add(k, v)
      }, a.groups === undefined ? undefined : { attempt: a.groups, role: MAIN_ROLE }, progress)
      pipe.watchAbort(signal)
    }
    let last: KeyBytes | undefined
    records: while (merger.next()) {
      const r = merger.current!
      if (last === undefined || !r.sameKey(last)) {
        stats.reduceInputGroups++
        last = r.keyBytes()
      }
      const key = String(r.key())
      const value = String(r.value())
      // One line per record, written once for each value it stands for.
      const line = pipe === undefined ? '' : `${key}\t${value}\n`
      for (let n = r.reps(); n > 0; n--) {
        if (++stats.reduceInputRecords % 1024 === 0) checkAbort(signal)
        if (pipe === undefined) {
          progress()
          add(key, value)
          continue
        }
        if (pipe.inputGone) break records // it stopped reading: its exit status decides
        const w = pipe.write(line)
        if (w !== undefined) await w
      }
    }
    if (pipe !== undefined) {
      await pipe.end()
      try {
        await pipe.done()
      } catch (e) {
        checkAbort(signal) // killed because the job was abandoned: not this attempt's failure
        throw e
      }
    }
    checkAbort(signal)
    out.commit(path.join(a.outDir, partName('r', a.task)))
    stats.outputBytes = out.bytes
    return { stats, counters: counters.pairs() }
  } catch (e) {
    if (pipe !== undefined) {
      pipe.kill('was stopped: its task ended')
      await pipe.done().catch(() => {})
    }
    throw e
  } finally {
    out.close()
    for (const r of readers) r.close()
  }
}
