/**
 * runJob's options: defaults, checks, and what they resolve to. Every check throws
 * MapReduceArgError naming the option and echoing its value, before anything runs or is written.
 */

import path from 'node:path'
import { MAX_PROCS } from '../scheduler/index.js'
import { MapReduceArgError } from './errors.js'
import { jobUrl } from './job.js'
import { parseSize } from './size.js'

/** What runJob reports as it goes (see ProgressEvent in docs/mapreduce.md). */
export type ProgressEvent =
  | { readonly type: 'start'; readonly maps: number; readonly reduces: number; readonly procs: number }
  | {
    readonly type: 'attempt'
    readonly phase: 'map' | 'reduce'
    /** `m-00003` / `r-00000`. */
    readonly task: string
    readonly attempt: number
    readonly state: 'started' | 'succeeded' | 'failed'
    /** The failure, as `name: message` (state 'failed'). */
    readonly error?: string
    /** Tasks of this phase done so far, and in all. */
    readonly done: number
    readonly total: number
  }
  | { readonly type: 'phase'; readonly phase: 'map' | 'reduce'; readonly tasks: number }
  | { readonly type: 'committed'; readonly files: readonly string[] }

export interface RunJobOptions {
  /** The job module: a path (relative to the working directory) or a URL; its default export is defineJob(...). */
  readonly job: string | URL
  /** Input files: paths, directories or globs (`data/*.txt`, `logs/**\/*.log`). */
  readonly input: string | readonly string[]
  /** The output directory; it must not exist. */
  readonly output: string
  /** Reduce tasks (part-r files). 0: a map-only job (part-m files). Default: procs. */
  readonly reducers?: number
  /** Threads (Ps) running tasks. Default: GOMAXPROCS, else the CPUs. */
  readonly procs?: number
  /** Bytes per split (text input): a number or a size such as '64MiB'. Default 64 MiB. */
  readonly splitSize?: number | string
  /** Memory for map-side buffers, shared by the tasks running at once: a number or '256MiB'. Default 256 MiB. */
  readonly memory?: number | string
  /** Attempts per task before the job fails. Default 4. */
  readonly maxAttempts?: number
  /**
   * Job parameters, visible to every task as `ctx.params` (a Map): how a job gets a pattern or a
   * threshold without an environment variable. Names and values are strings.
   */
  readonly params?: Readonly<Record<string, string>> | ReadonlyMap<string, string>
  readonly onProgress?: (event: ProgressEvent) => void
  /** Stops the job: running tasks end at their next check, the output directory is removed, and runJob rejects with signal.reason. */
  readonly signal?: AbortSignal
}

export interface Resolved {
  readonly url: string
  /** The job as given, for messages. */
  readonly jobLabel: string
  readonly patterns: readonly string[]
  /** Absolute. */
  readonly output: string
  readonly reducers: number | undefined
  readonly procs: number | undefined
  readonly splitSize: number
  readonly memory: number
  readonly maxAttempts: number
  /** The job parameters as pairs, for the trip to each task. */
  readonly params: readonly (readonly [string, string])[]
}

export const DEFAULT_SPLIT = 64 * 2 ** 20
export const DEFAULT_MEMORY = 256 * 2 ** 20
/** The least memory budget: a few small buffers per task. */
export const MIN_MEMORY = 64 * 2 ** 10
export const MAX_REDUCERS = 100_000

function int(option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new MapReduceArgError(option, v, `an integer from ${min} to ${max}`)
  return v
}

/** The params option as pairs: a Map, or an object's own enumerable names (`__proto__` included), every value a string. */
function resolveParams(p: unknown): [string, string][] {
  if (p === undefined) return []
  const pairs: unknown[][] | undefined = p instanceof Map
    ? [...p]
    : typeof p === 'object' && p !== null && !Array.isArray(p) ? Object.entries(p) : undefined
  if (pairs === undefined || pairs.some(([k, v]) => typeof k !== 'string' || typeof v !== 'string')) {
    throw new MapReduceArgError('params', p, 'a Map or an object of string names to string values')
  }
  return pairs as [string, string][]
}

export function resolveJobOptions(o: RunJobOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw new MapReduceArgError('options', o, 'an object ({ job, input, output })')
  if (!(o.job instanceof URL) && (typeof o.job !== 'string' || o.job === '')) throw new MapReduceArgError('job', o.job, 'a path or URL of the job module')
  const patterns = typeof o.input === 'string' ? [o.input] : o.input
  if (!Array.isArray(patterns) || patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p === '')) {
    throw new MapReduceArgError('input', o.input, 'a path, directory or glob, or a non-empty array of them')
  }
  if (typeof o.output !== 'string' || o.output === '') throw new MapReduceArgError('output', o.output, 'a directory path')
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new MapReduceArgError('onProgress', o.onProgress, 'a function')
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new MapReduceArgError('signal', o.signal, 'an AbortSignal')
  return {
    url: jobUrl(o.job),
    jobLabel: String(o.job),
    patterns,
    output: path.resolve(o.output),
    reducers: o.reducers === undefined ? undefined : int('reducers', o.reducers, 0, MAX_REDUCERS),
    procs: o.procs === undefined ? undefined : int('procs', o.procs, 1, MAX_PROCS),
    splitSize: o.splitSize === undefined ? DEFAULT_SPLIT : parseSize('splitSize', o.splitSize, 1),
    memory: o.memory === undefined ? DEFAULT_MEMORY : parseSize('memory', o.memory, MIN_MEMORY),
    maxAttempts: o.maxAttempts === undefined ? 4 : int('maxAttempts', o.maxAttempts, 1, 100),
    params: resolveParams(o.params),
  }
}
