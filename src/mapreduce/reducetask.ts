/**
 * A reduce task attempt, as it runs on an M: merge its partition's runs (one per map task that
 * emitted to it) as a stream, call `reduce` once per distinct key in key order with the key's
 * values streaming from the merge, and write `part-r-NNNNN` under the attempt's directory, renamed
 * into the output directory as the attempt's last act.
 *
 * Invariant: memory is bounded by the open runs' buffers (at most FAN_IN; more runs are merged in
 * passes first) plus what `reduce` itself keeps, whatever the partition holds.
 */

import { statSync } from 'node:fs'
import path from 'node:path'
import { TaskCounters, zeroStats, type TaskStats } from './counters.js'
import { loadJob, loadedJob, type Scalar, type TaskContext } from './job.js'
import { checkKey, checkValue, textOf } from './keys.js'
import { EmitGate } from './gate.js'
import { checkAbort } from './maptask.js'
import { partName, taskId } from './names.js'
import { Groups, Merger, mergePasses } from './merge.js'
import { PartWriter } from './output.js'
import type { StreamSpec } from './options.js'
import type { AttemptGroups } from './streaming/groups.js'
import { RunReader } from './runfile.js'
import { makeDirs } from './dirs.js'

export interface ReduceArgs {
  readonly job: string
  readonly task: number
  readonly attempt: number
  readonly reducers: number
  /** The partition's runs, one per map task that emitted to it, in map task order. */
  readonly runs: readonly string[]
  readonly dir: string
  readonly outDir: string
  /** Streaming mode's commands (then `job` is ''): the attempt runs in streaming/reducetask.ts. */
  readonly stream: StreamSpec | undefined
  /** Streaming mode: the attempt's words in the phase's process groups (streaming/groups.ts). */
  readonly groups?: AttemptGroups
  readonly params: readonly (readonly [string, string])[]
  /** Whether a failure of the job's code retires this M (tasks.ts retireOnFailure). */
  readonly retire?: boolean
}

export interface ReduceResult {
  readonly stats: TaskStats
  readonly counters: [string, number][]
}

type Reduce = (key: Scalar, values: AsyncIterable<Scalar>, emit: (k: Scalar, v: Scalar) => void, ctx: TaskContext) => void | Promise<void>

/** The reduce of a job without one: every value as it is. */
const identity: Reduce = async (key, values, emit) => {
  for await (const v of values) emit(key, v)
}

/** `progress`: tells the task timeout the attempt is working (clock.ts), once a record read (an increment in shared memory). */
export async function runReduce(a: ReduceArgs, signal: AbortSignal, progress: () => void = () => {}): Promise<ReduceResult> {
  checkAbort(signal)
  const job = loadedJob(a.job) ?? (await loadJob(a.job))
  makeDirs(a.dir)
  const id = taskId('r', a.task)
  const counters = new TaskCounters()
  const ctx: TaskContext = { phase: 'reduce', task: id, attempt: a.attempt, attemptId: `${id}-${a.attempt}`, partition: a.task, reducers: a.reducers, counters, params: new Map(a.params) }
  const stats = zeroStats()
  for (const r of a.runs) stats.shuffleBytes += statSync(r).size
  const reduce = (job.reduce as Reduce | undefined) ?? identity
  const out = new PartWriter(path.join(a.dir, partName('r', a.task)))
  // Closed once the last reduce returned: an emit after it is work reduce did not await (gate.ts).
  let lastKey: Scalar = ''
  const gate = new EmitGate('reduce', ctx.attemptId, () => textOf(lastKey))
  const emit = (k: unknown, v: unknown): void => {
    if (!gate.open) return gate.refuse('emit')
    out.add(checkKey(k), checkValue(v))
    stats.reduceOutputRecords++
  }
  let readers: RunReader[] = []
  try {
    if (job.setup !== undefined) await job.setup(ctx)
    readers = mergePasses(a.runs, a.dir, undefined, progress).map((p) => new RunReader(p))
    const merger = new Merger(readers)
    const g = new Groups(merger, (n) => {
      stats.reduceInputRecords += n
      progress()
    })
    while (g.next()) {
      if (++stats.reduceInputGroups % 256 === 0) checkAbort(signal)
      lastKey = g.key
      const r = reduce(g.key, g.values(), emit, ctx)
      if (r !== undefined) await r
    }
    if (job.cleanup !== undefined) await job.cleanup(ctx)
    gate.open = false
    // Work a reduce started and did not await runs now, before the part file is committed: what
    // it reads or emits fails the attempt rather than going missing (AfterReturnError).
    await new Promise(setImmediate)
    const late = gate.late ?? g.late
    if (late !== undefined) throw late
    checkAbort(signal)
    out.commit(path.join(a.outDir, partName('r', a.task)))
    stats.outputBytes = out.bytes
    gate.committed()
    return { stats, counters: counters.pairs() }
  } finally {
    gate.end()
    out.close()
    for (const r of readers) r.close()
  }
}
