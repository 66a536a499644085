/**
 * The coordinator: runs a job on the main thread, each map and reduce task attempt a G on a
 * Runtime of its own, and keeps the paper's per-task state (idle, in progress, completed).
 *
 * Invariants:
 * - Nothing is created before every check passed (options, inputs, the job module, the output
 *   directory's absence); from then on the output directory is the job's, and a failed or
 *   aborted job removes it whole: no part file and no _SUCCESS outlive a failure. The one thing
 *   made before the checks end is a TypeScript job's compiled module (compile.ts), outside the
 *   output directory, since the probe imports it; it is removed when runJob settles.
 * - At most `procs` attempts run at once, so each may buffer `memory / procs` bytes, and each
 *   has an M to itself (the Runtime's mTasks 1): otherwise an M whose attempt awaits I/O would
 *   start a second one, the budget would no longer hold, and a second attempt that stalls would
 *   hold up the first one's continuation while another M sat idle. Attempts, retries, timeouts
 *   and backup copies: attempts.ts.
 * - A task's result is taken from its first successful attempt only; a failed or cancelled
 *   attempt's directory is removed (its counters are never added).
 * - The runtime is closed (every M ended) before the output directory is committed or removed:
 *   a cancelled attempt may still run until then, and nothing writes into the output directory
 *   once runJob has settled.
 * - _SUCCESS is written after every part file is in place, and `_temporary` is removed before it.
 */

import { constants as bufferConstants } from 'node:buffer'
import { mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { setMaxListeners } from 'node:events'
import path from 'node:path'
// Only a type: the Runtime is imported when a job starts, so that the Ms, which import this module
// through the job's `gort/mapreduce`, do not load the main thread's scheduler.
import type { Runtime } from '../scheduler/main/runtime.js'
import { KILL_GRACE_MS, attemptSlots, describeError, runPhase } from './attempts.js'
import { addPairs, addStats, zeroStats, type TaskStats } from './counters.js'
import { codeOf, importFailure, InputTooLargeError, JobModuleError, MapReduceArgError, OutputExistsError, TaskFailedError, TaskTimeoutError } from './errors.js'
import { formatDuration } from './duration.js'
import { expandInputs, type InputFile } from './inputs.js'
import { commonJsHint, jobModule, missingGortHint, syntaxErrorWhere, UnresolvedImportError, type JobModule } from './compile.js'
import { guessLoader, M_YOUNG_MB } from './prestart.js'
import type { Prestarted } from '../scheduler/main/prestart.js'
import type { MapArgs, MapResult } from './maptask.js'
import { taskId } from './names.js'
import { checkJobFile, type RecordKind } from './job.js'
import { codecOf, expandCompressed, plainPieces, recordTextSizes, textSize } from './codec.js'
import { autoProcs, autoSplitSize, defaultMemory, MIN_AUTO_SPLIT, resolveJobOptions, threadsWithin, type ProgressEvent, type Resolved, type RunJobOptions } from './options.js'
import { defaultProcs } from '../scheduler/main/options.js'
import type { ReduceArgs, ReduceResult } from './reducetask.js'
import { computeSplits, packSplits, storedBytes, taperSplits, type Split } from './split.js'
import { jobTasks, probeJob, sampleTask, type JobInfo } from './tasks.js'
import type { SampleArgs } from './sample.js'
import { sampleSplits } from './sample.js'
import { makeDirs } from './dirs.js'
import { GROUPS_PER_ATTEMPT, JobGroups, type AttemptGroups } from './streaming/groups.js'
import type { AttemptClock } from './clock.js'

/** The built-in counters of a job, summed over successful attempts, and its attempts. */
export interface JobCounters extends TaskStats {
  mapAttempts: number
  reduceAttempts: number
  /** Attempts that threw, whose M died, or that timed out. */
  failedAttempts: number
  /** Of those, the ones that ran past the task timeout. */
  timedOutAttempts: number
  /** Backup copies of stragglers started. */
  backupTasks: number
  /** Attempts cancelled without failing: the other copy of their task won, or the job ended. */
  cancelledAttempts: number
}

export interface JobResult {
  /** The output directory, absolute. */
  readonly output: string
  /** The part files, absolute, in order. */
  readonly files: readonly string[]
  readonly maps: number
  readonly reduces: number
  /** The threads (Ps) the job ran on: procs as given, or the default, fewer for a small input (autoProcs). */
  readonly threads: number
  /** The map-side buffer budget the job ran with, in bytes: `memory` as given, or the default for its threads (defaultMemory). */
  readonly memory: number
  readonly counters: JobCounters
  /** The job's own counters (ctx.counters.increment), by name. */
  readonly userCounters: Map<string, number>
}

/** Runs a job to completion: resolves once _SUCCESS is written, rejects (output removed) otherwise. */
/** `first`: the job's Ms, prestarted (prestart.ts): those the Runtime did not take are ended here once it has started. */
export async function runJob(options: RunJobOptions, first?: Prestarted): Promise<JobResult> {
  const o = resolveJobOptions(options)
  // A missing job file is said so here, before any thread starts (an M's import would say it in
  // Node's words, naming gort's own module as the importer).
  if (o.stream === undefined) checkJobFile(o.url, o.jobLabel)
  const inputs = recordTextSizes(expandInputs(o.patterns))
  checkOutput(o.output, String(options.output))
  options.signal?.throwIfAborted()
  // Threads: as given, else the default, or fewer for a small input (autoProcs, by its text: a
  // compressed file's as its format records it, else about four times its size, codec.ts
  // textSize); as many as the open-file limit allows.
  const threads = threadsWithin(o.procs ?? autoProcs(inputs.reduce((n, f) => n + textSize(f), 0), defaultProcs(), o.stream !== undefined), o.procs !== undefined)
  const { rt, mod } = await start(o, threads)
  await first?.discard()
  try {
    return await runWith(rt, o, mod?.url ?? o.url, inputs, options, mod?.compileError)
  } finally {
    await rt.close()
    mod?.remove()
  }
}

/**
 * The job's Runtime, and the module its Ms import: a TypeScript job compiled once here so that the
 * Ms import plain JavaScript (compile.ts). The compile runs while the Ms start: it is mostly
 * esbuild's own process, and the Ms' loader is guessed ('none': the compiled module imports no
 * TypeScript); on the rare wrong guess the Runtime is started again with the right one.
 * No spare M: at most `procs` attempts run at once and none waits for a hand-off, so a spare
 * would only cost its start-up; a dead M's replacement is started when it dies. Few G records:
 * the main thread has at most `procs` attempts and as many probes in flight, and a task that
 * spawns more children than its M has records runs the rest inline (the scheduler's rule), so
 * the default tables (hundreds of thousands of records, tens of MiB) would only cost start-up.
 */
const G_RECORDS = 1024
/**
 * Threads a job may lose and replace (a map that calls process.exit, a task ended after its
 * timeout): the scheduler's default 8 let a job whose every first attempt died hang after 14
 * deaths on 2 procs. Each costs G_RECORDS records of shared memory, faulted in only when used.
 */
const M_REPLACEMENTS = 256

async function start(o: Resolved, procs: number): Promise<{ rt: Runtime; mod: JobModule | undefined }> {
  // The Ms are on the critical path: a Worker takes 100-150 ms to start. They are spawned as soon
  // as the Runtime's modules are read; only then does this thread load esbuild's API and spawn
  // its process (30-40 ms), which would otherwise delay them by as much.
  const guess = guessLoader(o.stream === undefined ? o.url : undefined)
  const { Runtime } = await import('../scheduler/main/runtime.js')
  const runtime = (loader: JobModule['loader']): Promise<Runtime> => Runtime.start({ procs, spares: 0, mTasks: 1, replacements: M_REPLACEMENTS, mainSlots: G_RECORDS, mSlots: G_RECORDS, mYoungMb: M_YOUNG_MB, mStdout: o.taskStdout, loader })
  const starting = runtime(guess)
  const compiling = o.stream === undefined ? jobModule(o.url) : Promise.resolve(undefined)
  const [m, r] = await Promise.allSettled([compiling, starting])
  if (m.status === 'rejected' || r.status === 'rejected') {
    if (r.status === 'fulfilled') await r.value.close()
    if (m.status === 'fulfilled') m.value?.remove()
    if (m.status === 'rejected' && m.reason instanceof UnresolvedImportError) throw new JobModuleError(o.jobLabel, m.reason.message)
    throw m.status === 'rejected' ? m.reason : (r as PromiseRejectedResult).reason
  }
  const mod = m.value
  if (mod === undefined || mod.loader === guess) return { rt: r.value, mod }
  await r.value.close()
  try {
    return { rt: await runtime(mod.loader), mod }
  } catch (e) {
    mod.remove()
    throw e
  }
}

/** The least time the Ms get to import the job (see runWith). */
const IMPORT_MIN_MS = 10_000

/** runJob once its Runtime runs; `url`: the job module the Ms import; `compileError`: why it is not compiled, if it could not be (compile.ts). */
async function runWith(rt: Runtime, o: Resolved, url: string, inputs: ReturnType<typeof expandInputs>, options: RunJobOptions, compileError?: string): Promise<JobResult> {
  let info
  if (o.stream !== undefined) {
    // Streaming mode: the commands were resolved with the options; there is no module to probe.
    info = { records: 'lines' as const, combine: o.stream.combiner !== undefined, reduce: o.stream.reducer !== undefined, sample: null }
  } else {
    // The import gets the time a task gets, but IMPORT_MIN_MS at least (a top-level await that
    // never settles would hold the job for good; gort's own modules load on every M in that time
    // too, 1-2 s on a loaded machine, more than a short task timeout), and the job's signal stops
    // it as it stops the tasks.
    const importMs = Math.max(o.taskTimeout, IMPORT_MIN_MS)
    const late = new AbortController()
    const timer = setTimeout(() => late.abort(), importMs)
    const signal = options.signal === undefined ? late.signal : AbortSignal.any([options.signal, late.signal])
    // One abort listener per probe (a goWith each): past 10, Node warns of a leak that is not one.
    setMaxListeners(Math.max(10, rt.procs + 1), signal)
    try {
      // One probe per P: each M that takes one imports the job now, all at once, rather than
      // each at its first task (a retry on a fresh M, a skewed first wave).
      info = (await Promise.all(Array.from({ length: rt.procs }, () => rt.goWith({ signal, killAfterMs: KILL_GRACE_MS }, probeJob, url))))[0]!
    } catch (e) {
      options.signal?.throwIfAborted()
      if (late.signal.aborted) {
        const limit = importMs === o.taskTimeout ? `${formatDuration(importMs)} (the task timeout)` : formatDuration(importMs)
        throw new JobModuleError(o.jobLabel, `its import did not finish within ${limit}: a top-level await that never settles?`)
      }
      // esbuild's words, where it could not compile the job: where the error is, in the file named.
      if (compileError !== undefined) throw new JobModuleError(o.jobLabel, compileError, { cause: e })
      // A job tsx loads as given (not compiled) may be in a CommonJS package: say so.
      const message = importFailure(e) + syntaxErrorWhere(url, e)
      const hint = (url === o.url ? commonJsHint(url) : '') + missingGortHint(message)
      throw new JobModuleError(o.jobLabel, message + hint, { cause: e })
    } finally {
      clearTimeout(timer)
    }
  }
  options.signal?.throwIfAborted()
  if (info.records === 'files') {
    // Checked here, not left to the map task, whose every attempt would fail the same way.
    const big = inputs.find((f) => f.size > bufferConstants.MAX_STRING_LENGTH)
    if (big !== undefined) throw new InputTooLargeError(big.name, big.size, bufferConstants.MAX_STRING_LENGTH)
  }
  const reducers = o.reducers ?? rt.procs
  // The output's missing parents, made here and removed with it when the job fails or stops.
  const parents = missingParents(o.output)
  const removeParents = (): void => {
    for (const d of parents) {
      try {
        rmdirSync(d)
      } catch {
        return // not empty (something else put a file there), or gone: what is above stays too
      }
    }
  }
  makeDirs(path.dirname(o.output))
  try {
    mkdirSync(o.output)
  } catch (e) {
    removeParents()
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputExistsError(o.output)
    throw e
  }
  let result: Omit<JobResult, 'files'>
  // A streaming job's process groups: killed when this process exits first, and once the Ms are
  // ended, any that an attempt ended with its thread had not killed itself (streaming/groups.ts).
  const groups = o.stream === undefined ? undefined : new JobGroups()
  try {
    // Large compressed files that cannot be split are decompressed first, and their text split
    // (codec.ts expandCompressed); the split size is then chosen for the text.
    const tmp = path.join(o.output, '_temporary')
    mkdirSync(tmp)
    const texts = await expandCompressed(
      inputs, info.records, o.splitSize ?? autoSplitSize(inputs.reduce((n, f) => n + textSize(f), 0), rt.procs), path.join(tmp, 'input'), rt.procs, options.signal,
      (files, bytes) => observe(options.onProgress, { type: 'decompress', files, bytes }),
    ).catch((e: unknown) => {
      // As a task that failed at once, as the same file read by a map attempt would (and the
      // sample's failure is): not refused input, which the CLI reports as a usage error.
      options.signal?.throwIfAborted()
      throw new TaskFailedError('decompress', [{ attempt: 1, error: describeError(e), code: codeOf(e), cause: e }], { cause: e })
    })
    const splitSize = o.splitSize ?? autoSplitSize(texts.reduce((n, f) => n + f.size, 0), rt.procs)
    let splits = computeSplits(texts, splitSize, info.records)
    // A split size the user gave is kept as given; gort's own tapers at the end (packed tasks are
    // shaped by packSplits instead).
    if (o.splitSize === undefined && !o.packFiles && info.records !== 'files') splits = taperSplits(splits, splitSize, rt.procs, MIN_AUTO_SPLIT)
    // With packFiles, small files share map tasks, about a split's text each: a compressed split
    // weighs its bytes times its file's text per byte (textSize), and the automatic size is the
    // text's over the threads. (A .bz2's own splits stay in its bytes, as Hadoop cuts one.) A
    // streaming attempt's environment names one file: a task per split.
    const mapTasks = o.packFiles && o.stream === undefined ? packByText(splits, texts, o.splitSize, rt.procs) : splits.map((s) => [s])
    result = await execute(rt, { ...o, url }, splits, mapTasks, reducers, info, options, groups)
  } catch (e) {
    // Attempts that were cancelled may still run: end every M before the directory goes.
    await rt.close()
    groups?.close()
    rmSync(o.output, { recursive: true, force: true })
    removeParents()
    throw e
  }
  await rt.close()
  groups?.close()
  rmSync(path.join(o.output, '_temporary'), { recursive: true, force: true })
  const files = readdirSync(o.output).filter((f) => f.startsWith('part-')).sort().map((f) => path.join(o.output, f))
  writeFileSync(path.join(o.output, '_SUCCESS'), '')
  observe(options.onProgress, { type: 'committed', files })
  return { ...result, files }
}

/**
 * Refuses an output that exists (OutputExistsError) or that cannot be a directory because a
 * parent on its path is a file (MapReduceArgError: Node's ENOTDIR would name neither).
 */
function checkOutput(output: string, given: string): void {
  for (let d = output; ; d = path.dirname(d)) {
    let st
    try {
      st = statSync(d, { throwIfNoEntry: false })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') continue // a file further up: found on the way
      throw e
    }
    if (st !== undefined) {
      if (d === output) throw new OutputExistsError(output, st.isDirectory() ? undefined : st.isFile() ? 'a file' : 'not a directory')
      if (!st.isDirectory()) throw new MapReduceArgError('output', given, `a directory path, but ${d} is a file`)
      return
    }
    if (path.dirname(d) === d) return
  }
}

/** The directories above `output` that do not exist, deepest first (each is empty once made). */
function missingParents(output: string): string[] {
  const out: string[] = []
  for (let d = path.dirname(output); path.dirname(d) !== d && statSync(d, { throwIfNoEntry: false }) === undefined; d = path.dirname(d)) out.push(d)
  return out
}

/**
 * Hands `e` to the program's onProgress, an observer: what it throws (or an async one rejects
 * with) becomes a process warning and changes nothing in the job. Thrown through, it failed the
 * job mid-phase, or after _SUCCESS was written, leaving the output of a job that had rejected; a
 * rejection was unhandled.
 */
function observe(cb: ((e: ProgressEvent) => void) | undefined, e: ProgressEvent): void {
  if (cb === undefined) return
  const warn = (err: unknown): void => process.emitWarning(`onProgress threw at a '${e.type}' event: ${err instanceof Error ? err.message : String(err)} (the job goes on)`, 'GortProgressWarning')
  try {
    const r = cb(e) as unknown
    if (typeof (r as { then?: unknown } | undefined)?.then === 'function') (r as Promise<unknown>).then(undefined, warn)
  } catch (err) {
    warn(err)
  }
}

/** packSplits over `splits` of `files`, each weighing its bytes times its file's text per byte (textSize), at `splitSize` or the text's share of the threads. */
function packByText(splits: readonly Split[], files: readonly InputFile[], splitSize: number | undefined, procs: number): Split[][] {
  const perByte = new Map(files.filter((f) => f.size > 0 && codecOf(f.path) !== undefined).map((f) => [f.path, textSize(f) / f.size]))
  const weight = (s: Split): number => (s.end - s.start) * (perByte.get(s.path) ?? 1)
  return packSplits(splits, splitSize ?? autoSplitSize(splits.reduce((n, s) => n + weight(s), 0), procs), weight)
}

async function execute(
  rt: Runtime, o: Resolved, splits: readonly Split[], mapTasks: readonly (readonly Split[])[], reducers: number, info: JobInfo, options: RunJobOptions, groups: JobGroups | undefined,
): Promise<Omit<JobResult, 'files'>> {
  const records = info.records
  const cb = options.onProgress
  const emit = (e: ProgressEvent): void => observe(cb, e)
  const tmp = path.join(o.output, '_temporary')
  const counters: JobCounters = { ...zeroStats(), mapAttempts: 0, reduceAttempts: 0, failedAttempts: 0, timedOutAttempts: 0, backupTasks: 0, cancelledAttempts: 0 }
  const userCounters = new Map<string, number>()
  const procs = rt.procs
  const tasks = jobTasks(o.stream === undefined ? o.url : undefined)
  // mapTasks: one split each, or with packFiles several (a 'files' job's task then maps its files
  // one after another).
  emit({ type: 'start', maps: mapTasks.length, reduces: reducers, procs, inputBytes: splits.reduce((n, s) => n + storedBytes(s), 0) })
  const attemptDir = (kind: 'm' | 'r') => (t: number, a: number): string => path.join(tmp, `${taskId(kind, t)}-${a}`)
  const memory = o.memory ?? defaultMemory(procs)
  const share = Math.floor(memory / procs)
  // A streaming attempt's processes must die with it: a phase over waits (at most the kill grace)
  // for its abandoned attempts to kill them before the job can end their threads. An attempt of
  // a job module leaves nothing behind that the end of its thread would not end.
  const drainMs = o.stream === undefined ? 0 : KILL_GRACE_MS
  const common = { procs, maxAttempts: o.maxAttempts, taskTimeout: o.taskTimeout, backupTasks: o.backupTasks, stop: options.signal, emit, counters, drainMs }
  const cuts = info.sample !== null && reducers > 1 ? await sample(rt, o, splits, reducers, info, path.join(tmp, '_cuts.json')) : undefined
  /** A phase's process groups, for its attempts' arguments: each attempt's words by its clock's slot. */
  const groupsOf = (count: number): ((clock: AttemptClock) => { groups?: AttemptGroups }) => {
    const words = groups?.table(attemptSlots(count, o.maxAttempts))
    return words === undefined ? () => ({}) : (clock) => ({ groups: { words, at: clock.slot * GROUPS_PER_ATTEMPT } })
  }
  const mapGroups = groupsOf(mapTasks.length)
  // A failed attempt of the job's code retires its M, so that the retry runs on another (tasks.ts
  // retireOnFailure), while the runtime may start more than procs threads still: the last ones
  // are kept to replace Ms that die. A streaming attempt's code has a process of its own.
  const retire = (): boolean => o.stream === undefined && rt.threadsLeft > procs

  const maps = await runPhase<MapResult>({
    ...common, kind: 'm', count: mapTasks.length, dir: attemptDir('m'),
    bytesOf: (r) => r.stats.inputBytes,
    launch: (t, a, signal, clock) => {
      const dir = attemptDir('m')(t, a)
      const run = (group: readonly Split[]): Promise<MapResult> => {
        const s = group[0]!
        const more = group.slice(1)
        const args: MapArgs = {
          job: o.url, task: t, attempt: a, path: s.path, name: s.name, start: s.start, end: s.end, ...(s.stored === undefined ? {} : { stored: s.stored }), ...(s.origin === undefined ? {} : { origin: s.origin }), records,
          reducers, memory: share, dir, outDir: o.output, partition: o.partition, stream: o.stream,
          params: o.params, ...(cuts === undefined ? {} : { cuts }), ...(more.length === 0 ? {} : { more }), ...mapGroups(clock), retire: retire(),
        }
        return rt.goWith({ signal, killAfterMs: KILL_GRACE_MS }, tasks.map, args, clock)
      }
      const group = mapTasks[t]!
      return group.some((s) => codecOf(s.path) !== undefined) ? runDecompressed(group, dir, records, signal, run) : run(group)
    },
  })
  for (const m of maps) {
    addStats(counters, m.stats)
    addPairs(userCounters, m.counters)
  }
  emit({ type: 'phase', phase: 'map', tasks: maps.length })

  if (reducers > 0) {
    const reduceGroups = groupsOf(reducers)
    const reduces = await runPhase<ReduceResult>({
      ...common, kind: 'r', count: reducers, dir: attemptDir('r'),
      launch: (t, a, signal, clock) => {
        const runs = maps.flatMap((m) => (m.runs[t] === null || m.runs[t] === undefined ? [] : [m.runs[t]]))
        const args: ReduceArgs = {
          job: o.url, task: t, attempt: a, reducers, runs, dir: attemptDir('r')(t, a), outDir: o.output, stream: o.stream, params: o.params, ...reduceGroups(clock),
          retire: retire(),
        }
        return rt.goWith({ signal, killAfterMs: KILL_GRACE_MS }, tasks.reduce, args, clock)
      },
    })
    for (const r of reduces) {
      addStats(counters, r.stats)
      addPairs(userCounters, r.counters)
    }
    emit({ type: 'phase', phase: 'reduce', tasks: reduces.length })
  }
  return { output: o.output, maps: mapTasks.length, reduces: reducers, threads: procs, memory, counters, userCounters }
}

/**
 * A map attempt over `group`, some of it compressed (codec.ts): the compressed splits are
 * decompressed into the attempt's directory first, from this thread's event loop (zlib works on
 * libuv's pool, bzip2 and zstd in their own processes), and `run` maps the copies; they are
 * removed when the attempt ends. The copies keep the stored sizes, which the attempt counts as
 * its bytes in, as the job's start counted them (Hadoop counts the bytes it read from the file
 * system). `maxText`: the longest text a 'files' record may have (tests).
 */
export async function runDecompressed(
  group: readonly Split[], dir: string, records: RecordKind, signal: AbortSignal, run: (g: readonly Split[]) => Promise<MapResult>,
  maxText = bufferConstants.MAX_STRING_LENGTH,
): Promise<MapResult> {
  const plain = await plainPieces(group, dir, signal)
  try {
    if (records === 'files') {
      // Checked for the stored size before the job started; a file's text may be far larger.
      const i = plain.pieces.findIndex((s) => s.end > maxText)
      if (i >= 0) throw new InputTooLargeError(group[i]!.name, plain.pieces[i]!.end, maxText)
    }
    return await run(plain.pieces)
  } finally {
    await plain.remove()
  }
}

/**
 * Runs the job's sample (sample.ts) as one G and returns the cuts file's path. A sample that
 * throws, whose thread dies, or that runs past `taskTimeout` (its M is then ended, as a hung
 * attempt's is) fails the job with TaskFailedError for task `sample`. It is not retried: it is the
 * map code on records the map phase would run too.
 */
async function sample(rt: Runtime, o: Resolved, splits: readonly Split[], reducers: number, info: JobInfo, file: string): Promise<string> {
  const s = info.sample!
  const chosen = sampleSplits(splits, s.splits)
  const records = info.records === 'chunks' ? 'lines' : info.records
  const perSplit = Math.max(1, Math.ceil(s.records / Math.max(1, chosen.length)))
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(new TaskTimeoutError('sample', 1, o.taskTimeout, formatDuration(o.taskTimeout))), o.taskTimeout)
  // A compressed split's sampled records are its first ones: only as much of it is decompressed
  // (all of it for records: 'files'), into a directory of its own, removed after.
  const dir = path.join(path.dirname(file), '_sample')
  try {
    // Its copies go with `dir`, below.
    const plain = await plainPieces(chosen, dir, ac.signal, records === 'lines' ? perSplit : undefined)
    const args: SampleArgs = { job: o.url, splits: plain.pieces, records, perSplit, reducers, params: o.params, file }
    await rt.goWith({ signal: ac.signal, killAfterMs: KILL_GRACE_MS }, sampleTask, args)
  } catch (err) {
    const e = ac.signal.aborted ? ac.signal.reason as unknown : err
    throw new TaskFailedError('sample', [{ attempt: 1, error: describeError(e), code: codeOf(e), cause: e }], { cause: e })
  } finally {
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
  }
  return file
}
