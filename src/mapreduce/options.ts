/**
 * runJob's options: defaults, checks, and what they resolve to. Every check throws
 * MapReduceArgError naming the option and echoing its value, before anything runs or is written.
 */

import { totalmem } from 'node:os'
import path from 'node:path'
import { MAX_PROCS } from '../scheduler/main/options.js'
import { MapReduceArgError, TooManyOpenFilesError } from './errors.js'
import { openFileLimit, threadsForFiles } from './filelimit.js'
import { jobUrl } from './job.js'
import type { PartitionKind } from './partition.js'
import { parseSize } from './size.js'
import { parseDuration } from './duration.js'
import { resolveCommand, type Command } from './streaming/command.js'

/** What runJob reports as it goes (see ProgressEvent in docs/mapreduce.md). */
export type ProgressEvent =
  /** Large compressed inputs are decompressed before the maps (docs: Compressed input): `files` of them, `bytes` stored. */
  | { readonly type: 'decompress'; readonly files: number; readonly bytes: number }
  | { readonly type: 'start'; readonly maps: number; readonly reduces: number; readonly procs: number; readonly inputBytes: number }
  | {
    readonly type: 'attempt'
    readonly phase: 'map' | 'reduce'
    /** `m-00003` / `r-00000`. */
    readonly task: string
    readonly attempt: number
    /**
     * 'cancelled': the other copy of the task won (backup tasks), or the job stopped; not a
     * failure. 'failed' includes a timed-out attempt (`TaskTimeoutError: ...`).
     */
    readonly state: 'started' | 'succeeded' | 'failed' | 'cancelled'
    /** True for a backup copy of a straggler (state 'started', and its later states). */
    readonly backup: boolean
    /** The failure, as `name: message` (state 'failed'). */
    readonly error?: string
    /** The failure itself (state 'failed'), as in TaskFailedError's `attempts`: `cause instanceof TaskTimeoutError`, say. */
    readonly cause?: unknown
    /** Input bytes the attempt mapped (a map's state 'succeeded'). */
    readonly bytes?: number
    /** How long the attempt ran, in ms, from the start of its body (state 'succeeded'): its thread's start-up and imports not counted. */
    readonly ms?: number
    /** Tasks of this phase done so far, and in all. */
    readonly done: number
    readonly total: number
  }
  | { readonly type: 'phase'; readonly phase: 'map' | 'reduce'; readonly tasks: number }
  | { readonly type: 'committed'; readonly files: readonly string[] }

/**
 * runJob's options: a job module (`job`) or streaming commands (`mapper`, and `reducer` and
 * `combiner` if any), never both, and the options both kinds share.
 */
export type RunJobOptions = ModuleJobOptions | StreamingJobOptions

/** A job written as a module: `job` names it; no streaming command. */
export interface ModuleJobOptions extends SharedJobOptions {
  /** The job module: a path (relative to the working directory) or a URL; its default export is defineJob(...). */
  readonly job: string | URL
  readonly mapper?: never
  readonly reducer?: never
  readonly combiner?: never
  /**
   * Job parameters, visible to every task as `ctx.params` (a Map): how a job gets a pattern or a
   * threshold without an environment variable. Names and values are strings.
   */
  readonly params?: Readonly<Record<string, string>> | ReadonlyMap<string, string>
}

/** A streaming job (Hadoop Streaming's contract): commands instead of a module. */
export interface StreamingJobOptions extends SharedJobOptions {
  readonly job?: never
  /** The mapper command (Hadoop Streaming's `-mapper 'CMD ARGS'`), one process per map task attempt. */
  readonly mapper: string
  /** The reducer command, one process per reduce task attempt. Default: none (the sorted pairs as they are). */
  readonly reducer?: string
  /** The combiner command, one process per spill and partition of a map task. */
  readonly combiner?: string
  /** A command takes its parameters on its own command line (`gort stream-map --param`) or from the environment. */
  readonly params?: never
}

/** The options of every job, module or streaming. */
export interface SharedJobOptions {
  /** 'hadoop': partition as Hadoop's HashPartitioner does (Java Text.hashCode), replacing the job's own partitioner. Default 'default' (FNV-1a). */
  readonly partition?: PartitionKind
  /** Input files: paths, directories or globs (`data/*.txt`, `logs/**\/*.log`). */
  readonly input: string | readonly string[]
  /** The output directory; it must not exist. */
  readonly output: string
  /** Reduce tasks (part-r files). 0: a map-only job (part-m files). Default: the threads the job runs on (procs, or fewer for a small input). */
  readonly reducers?: number
  /**
   * Threads (Ps) running tasks. Default: GOMAXPROCS, else the CPUs; fewer for a small input, one
   * per 8 MiB (autoProcs: a thread's code must warm up before it pays), for a job module.
   */
  readonly procs?: number
  /**
   * Bytes per split (text input): a number or a size such as '64MiB'. Default 64 MiB, or less when
   * the input is smaller than one split per thread (autoSplitSize); with the default, the last
   * wave of a large input is cut finer (split.ts taperSplits). A size given is used as given.
   */
  readonly splitSize?: number | string
  /**
   * Memory for map-side buffers, shared by the tasks running at once: a number or '256MiB'.
   * Default 128 MiB a thread, at least 256 MiB, and past that at most a quarter of the machine's
   * memory (defaultMemory).
   */
  readonly memory?: number | string
  /** Failed attempts per task before the job fails. Default 4. */
  readonly maxAttempts?: number
  /**
   * How long one attempt may run before it counts as failed and runs again (its M is ended if it
   * does not stop): milliseconds or a duration such as '10m', '90s'. Default 10 minutes.
   */
  readonly taskTimeout?: number | string
  /**
   * Backup copies of stragglers near the end of each phase (the paper's §3.6): once no task of the
   * phase waits to start, an attempt running more than twice the phase's median (and at least
   * BACKUP_MIN_MS) gets one copy; the first to finish wins. Default true.
   */
  readonly backupTasks?: boolean
  /**
   * Small files share map tasks, about a split's size each (Hadoop's CombineFileInputFormat; the
   * default is Hadoop's FileInputFormat, a task per split of each file). Fewer, fuller tasks: each
   * buffer sees more of each key, so fewer pairs cross the shuffle and each reduce merges fewer
   * runs. With records: 'files', a task maps its files one after another. Not for streaming,
   * whose tasks stay one a file (its environment names the file). Default false.
   */
  readonly packFiles?: boolean
  /**
   * Where what map, combine and reduce write to stdout (console.log) goes: this process's stdout
   * (default) or its stderr, for a program whose stdout is data (`gort mapreduce --json`).
   */
  readonly taskStdout?: 'stdout' | 'stderr'
  readonly onProgress?: (event: ProgressEvent) => void
  /** Stops the job: running tasks end at their next check, the output directory is removed, and runJob rejects with signal.reason. */
  readonly signal?: AbortSignal
}

/** A streaming job's commands, resolved. */
export interface StreamSpec {
  readonly mapper: Command
  readonly reducer: Command | undefined
  readonly combiner: Command | undefined
}

export interface Resolved {
  /** The job module's URL; '' in streaming mode. */
  readonly url: string
  /** The job as given (or the mapper command), for messages. */
  readonly jobLabel: string
  /** Streaming mode's commands, else undefined. */
  readonly stream: StreamSpec | undefined
  readonly partition: PartitionKind
  readonly patterns: readonly string[]
  /** Absolute. */
  readonly output: string
  readonly reducers: number | undefined
  readonly procs: number | undefined
  /** undefined: automatic (autoSplitSize, once the input's size is known). */
  readonly splitSize: number | undefined
  /** undefined: automatic (defaultMemory, once the threads are known). */
  readonly memory: number | undefined
  readonly maxAttempts: number
  readonly taskTimeout: number
  readonly backupTasks: boolean
  readonly packFiles: boolean
  readonly taskStdout: 'stdout' | 'stderr'
  /** The job parameters as pairs, for the trip to each task. */
  readonly params: readonly (readonly [string, string])[]
}

export const DEFAULT_SPLIT = 64 * 2 ** 20
/** The least split size autoSplitSize picks: below it a task's fixed costs outweigh what it parallelizes. */
export const MIN_AUTO_SPLIT = 2 ** 20
/** The least memory budget when none is given: two threads' worth (defaultMemory). */
export const DEFAULT_MEMORY = 256 * 2 ** 20
/** The buffer a running task gets from the budget when none is given (defaultMemory). */
export const MEMORY_PER_THREAD = 128 * 2 ** 20
/** The least memory budget: a few small buffers per task. */
export const MIN_MEMORY = 64 * 2 ** 10
export const MAX_REDUCERS = 100_000
export const DEFAULT_TASK_TIMEOUT = 10 * 60_000
/** The shortest task timeout: below it, thread start-up and module import alone could trip it. */
export const MIN_TASK_TIMEOUT = 100

function stdoutOption(v: unknown): 'stdout' | 'stderr' {
  if (v === undefined) return 'stdout'
  if (v === 'stdout' || v === 'stderr') return v
  throw new MapReduceArgError('taskStdout', v, "'stdout' or 'stderr'")
}

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

/** runJob's options, by name: any other key is a mistake (a typo a JavaScript caller gets no type error for). */
const OPTION_NAMES: ReadonlySet<string> = new Set<keyof RunJobOptions>([
  'job', 'mapper', 'reducer', 'combiner', 'partition', 'input', 'output', 'reducers', 'procs', 'splitSize', 'memory', 'maxAttempts',
  'taskTimeout', 'backupTasks', 'packFiles', 'params', 'taskStdout', 'onProgress', 'signal',
])

export function resolveJobOptions(o: RunJobOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw new MapReduceArgError('options', o, 'an object ({ job, input, output })')
  for (const k of Object.keys(o)) {
    if (!OPTION_NAMES.has(k)) throw new MapReduceArgError(k, (o as unknown as Record<string, unknown>)[k], `left out: it is not an option of runJob (${[...OPTION_NAMES].join(', ')})`)
  }
  const stream = resolveStream(o)
  if (stream === undefined && !(o.job instanceof URL) && (typeof o.job !== 'string' || o.job === '')) throw new MapReduceArgError('job', o.job, 'a path or URL of the job module (or a mapper command)')
  if (o.partition !== undefined && o.partition !== 'default' && o.partition !== 'hadoop') throw new MapReduceArgError('partition', o.partition, "'default' or 'hadoop'")
  const patterns = typeof o.input === 'string' ? [o.input] : o.input
  if (!Array.isArray(patterns) || patterns.length === 0) throw new MapReduceArgError('input', o.input, 'a path, directory or glob, or a non-empty array of them')
  const bad = patterns.findIndex((p) => typeof p !== 'string' || p === '')
  if (bad >= 0) throw new MapReduceArgError('input', patterns[bad], 'a path, directory or glob, not empty')
  if (typeof o.output !== 'string' || o.output === '') throw new MapReduceArgError('output', o.output, 'a directory path')
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new MapReduceArgError('onProgress', o.onProgress, 'a function')
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new MapReduceArgError('signal', o.signal, 'an AbortSignal')
  if (o.backupTasks !== undefined && typeof o.backupTasks !== 'boolean') throw new MapReduceArgError('backupTasks', o.backupTasks, 'true or false')
  if (o.packFiles !== undefined && typeof o.packFiles !== 'boolean') throw new MapReduceArgError('packFiles', o.packFiles, 'true or false')
  // Said, not ignored: a streaming task's environment names the one file it reads.
  if (o.packFiles === true && stream !== undefined) throw new MapReduceArgError('packFiles', o.packFiles, 'false with a mapper (a streaming task reads one file, which its environment names)')
  const params = resolveParams(o.params)
  // Said, not ignored: no command would see them.
  if (params.length > 0 && stream !== undefined) {
    throw new MapReduceArgError('params', o.params, "left out with a mapper: a streaming command takes its parameters on its own command line (gort stream-map --job J --param NAME=VALUE) or from the environment")
  }
  return {
    url: stream === undefined ? jobUrl(o.job!) : '',
    jobLabel: stream === undefined ? String(o.job) : stream.mapper.text,
    stream,
    partition: o.partition ?? 'default',
    patterns,
    output: path.resolve(o.output),
    reducers: o.reducers === undefined ? undefined : int('reducers', o.reducers, 0, MAX_REDUCERS),
    procs: o.procs === undefined ? undefined : int('procs', o.procs, 1, MAX_PROCS),
    splitSize: o.splitSize === undefined ? undefined : parseSize('splitSize', o.splitSize, 1),
    memory: o.memory === undefined ? undefined : parseSize('memory', o.memory, MIN_MEMORY),
    maxAttempts: o.maxAttempts === undefined ? 4 : int('maxAttempts', o.maxAttempts, 1, 100),
    taskTimeout: o.taskTimeout === undefined ? DEFAULT_TASK_TIMEOUT : parseDuration('taskTimeout', o.taskTimeout, MIN_TASK_TIMEOUT),
    backupTasks: o.backupTasks ?? true,
    packFiles: o.packFiles ?? false,
    taskStdout: stdoutOption(o.taskStdout),
    params,
  }
}

/** The options that choose between a job module and streaming commands, as a JavaScript caller may mix them. */
interface LooseCommands {
  readonly job?: unknown
  readonly mapper?: unknown
  readonly reducer?: unknown
  readonly combiner?: unknown
  readonly reducers?: unknown
}

/** Streaming mode's commands, resolved (StreamCommandError when one cannot run), or undefined for a job module. */
function resolveStream(o: LooseCommands): StreamSpec | undefined {
  const given = (['mapper', 'reducer', 'combiner'] as const).filter((k) => o[k] !== undefined)
  if (given.length === 0) return undefined
  if (o.job !== undefined) throw new MapReduceArgError('job', o.job, `left out when ${given.join(' and ')} ${given.length === 1 ? 'is' : 'are'} given (a job is either a module or streaming commands)`)
  const text = (k: 'mapper' | 'reducer' | 'combiner'): string | undefined => {
    const v = o[k]
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new MapReduceArgError(k, v, 'a command line (a program and its arguments)')
    return v
  }
  const [mapper, reducer, combiner] = [text('mapper'), text('reducer'), text('combiner')]
  // Said, not ignored (Hadoop ignores them): with no reduce tasks, neither command would run.
  for (const [k, v] of [['reducer', reducer], ['combiner', combiner]] as const) {
    if (v !== undefined && o.reducers === 0) throw new MapReduceArgError(k, v, 'left out with reducers 0 (a map-only job runs no reducer and no combiner)')
  }
  if (mapper === undefined) throw new MapReduceArgError('mapper', mapper, `a command line when ${given.join(' and ')} ${given.length === 1 ? 'is' : 'are'} given`)
  return {
    mapper: resolveCommand('mapper', mapper),
    reducer: reducer === undefined ? undefined : resolveCommand('reducer', reducer),
    combiner: combiner === undefined ? undefined : resolveCommand('combiner', combiner),
  }
}

/**
 * The threads a job runs with under the open-file `limit`: `threads` when they fit; else, for a
 * job that did not ask for a count (`asked` false), as many as fit; else TooManyOpenFilesError,
 * before any thread starts (past the limit, a thread start or module import fails with EMFILE
 * wherever it happens to, or Node aborts).
 */
export function threadsWithin(threads: number, asked: boolean, limit = openFileLimit()): number {
  const most = threadsForFiles(limit)
  if (threads <= most) return threads
  if (asked || most === 0) throw new TooManyOpenFilesError(threads, limit!, most)
  return most
}

/** Input bytes per thread below which a job whose procs was not given runs on fewer threads (autoProcs). */
export const BYTES_PER_THREAD = 8 * 2 ** 20

/**
 * The threads of a job whose `procs` was not given: `procs` (the default: GOMAXPROCS, else the
 * CPUs), or fewer for a small input, one per BYTES_PER_THREAD, at least one. Each thread runs
 * gort's code and the job's cold: V8 compiles some 80 functions on each (0.3-0.45 s of CPU on
 * the 2-core machine of bench/NOTES.md), on the same cores, which a few MiB do not repay. Word
 * count there: 4 MiB ended in 0.99 s on one thread against 1.11 s on two, 8 MiB was even (1.49
 * against 1.45 s), 16 MiB took 2.19 s against 1.95. A streaming job's code runs in processes of
 * its own, warm or not whatever the threads: all of them.
 */
export function autoProcs(totalBytes: number, procs: number, streaming: boolean): number {
  if (streaming) return procs
  return Math.max(1, Math.min(procs, Math.ceil(totalBytes / BYTES_PER_THREAD)))
}

/**
 * The memory budget when none is given: MEMORY_PER_THREAD for each of the job's `threads`, at
 * least DEFAULT_MEMORY, and above that at most a quarter of `machine` (the process's memory:
 * the machine's, or its cgroup's limit when lower; machineMemory). Each running task buffers
 * `budget / threads`; a fixed 256 MiB split 16 ways left 16 MiB a task, and word count's 48 MiB
 * map then spilled 8 runs and merged them, 15 % slower than with 128 MiB (bench/NOTES.md), so a
 * job ran slower per task the more cores it had. One or two threads get 256 MiB, as before.
 */
export function defaultMemory(threads: number, machine = machineMemory()): number {
  return Math.max(DEFAULT_MEMORY, Math.min(threads * MEMORY_PER_THREAD, Math.floor(machine / 4)))
}

/** This process's memory: the machine's, or its cgroup's limit when that is lower (process.constrainedMemory: 0 or undefined when none is known). */
export function machineMemory(): number {
  const limit = process.constrainedMemory?.() ?? 0
  return limit > 0 ? Math.min(limit, totalmem()) : totalmem()
}

/**
 * The split size when none is given: DEFAULT_SPLIT, or less for an input smaller than `procs`
 * splits of it, so that every thread maps a share (as Hadoop's old FileInputFormat takes the
 * least of the block size and total / the map count asked for), but never below MIN_AUTO_SPLIT.
 */
export function autoSplitSize(totalBytes: number, procs: number): number {
  return Math.max(MIN_AUTO_SPLIT, Math.min(DEFAULT_SPLIT, Math.ceil(totalBytes / procs)))
}
