/**
 * Counters: the built-in ones every task keeps (typed fields), and the job's own, by name.
 * A task returns both as plain data; the coordinator adds up those of successful attempts only,
 * one attempt per task, so a retried task is counted once (the paper's §4.9).
 */

import type { Counters } from './job.js'

/** What every task counts. Map tasks fill the map fields, reduce tasks the reduce fields. */
export interface TaskStats {
  /** Bytes of input splits mapped. */
  inputBytes: number
  mapInputRecords: number
  mapOutputRecords: number
  combineInputRecords: number
  combineOutputRecords: number
  /** Times a map task's buffer filled (its share of `memory`) and was written to disk before its input ended. */
  spills: number
  /** Records written to run files by map tasks (every spill and the final one). */
  spilledRecords: number
  /** Bytes of run files read by reduce tasks (the shuffle). */
  shuffleBytes: number
  reduceInputGroups: number
  reduceInputRecords: number
  reduceOutputRecords: number
  /** Bytes of part files written. */
  outputBytes: number
}

export function zeroStats(): TaskStats {
  return {
    inputBytes: 0, mapInputRecords: 0, mapOutputRecords: 0, combineInputRecords: 0, combineOutputRecords: 0,
    spills: 0, spilledRecords: 0, shuffleBytes: 0, reduceInputGroups: 0, reduceInputRecords: 0, reduceOutputRecords: 0, outputBytes: 0,
  }
}

export function addStats(into: TaskStats, s: TaskStats): void {
  for (const k of Object.keys(s) as (keyof TaskStats)[]) into[k] += s[k]
}

/** The job's own counters on one task attempt: names in a Map, so `__proto__` is a name like any other. */
export class TaskCounters implements Counters {
  readonly #m = new Map<string, number>()

  increment(name: string, by = 1): void {
    if (typeof name !== 'string') throw new TypeError(`gort mapreduce: counters.increment: the name must be a string, got ${typeof name}`)
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new TypeError(`gort mapreduce: counters.increment(${JSON.stringify(name)}): by must be a finite number, got ${String(by)}`)
    this.#m.set(name, (this.#m.get(name) ?? 0) + by)
  }

  /** As plain data for the trip back to the main thread. */
  pairs(): [string, number][] {
    return [...this.#m]
  }
}

/** Adds counter pairs into a Map. */
export function addPairs(into: Map<string, number>, pairs: readonly (readonly [string, number])[]): void {
  for (const [k, v] of pairs) into.set(k, (into.get(k) ?? 0) + v)
}
