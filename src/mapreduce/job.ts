/**
 * What a job is: `defineJob({ map, reduce, combine?, partition?, sample?, setup?, cleanup?, records? })`,
 * the module's default export, and how each thread loads it.
 *
 * Invariants:
 * - Keys and values are strings or numbers, and reach combine and reduce with the type they were
 *   emitted with (through memory and through spill files alike). A number key and a string key
 *   with the same text are different keys.
 * - A job module is imported at most once per thread (`loadJob` caches the promise by URL), on
 *   each M that runs one of its tasks; the job object crosses no thread, only its URL does.
 * - `checkJob` is the one place that decides whether a value is a job: the coordinator's probe
 *   and every task run the same check.
 */

import { statSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeValue } from '../errors.js'
import { JobModuleError } from './errors.js'

/** What keys and values may be. */
export type Scalar = string | number

/** Emits one intermediate (map, combine) or output (reduce) pair. */
export type Emit<K extends Scalar, V extends Scalar> = (key: K, value: V) => void

/** Named counters, summed by the coordinator over successful attempts only. */
export interface Counters {
  /** Adds `by` (default 1) to counter `name`; any string is a name, `__proto__` too. */
  increment(name: string, by?: number): void
}

/** What every call of a task gets, map or reduce. */
export interface TaskContext {
  readonly phase: 'map' | 'reduce'
  /** The task: `m-00003` (map) or `r-00000` (reduce). */
  readonly task: string
  /** Which attempt of the task this is: 1, then 2… when earlier ones failed. */
  readonly attempt: number
  /** `task-attempt`, e.g. `m-00003-1`: unique within the job. */
  readonly attemptId: string
  /** The reduce task's partition; -1 in a map task (its map, combine, setup and cleanup). */
  readonly partition: number
  readonly reducers: number
  readonly counters: Counters
  /** The job parameters (runJob's `params`, the CLI's `--param name=value`); empty when none. */
  readonly params: ReadonlyMap<string, string>
}

/** What `map` gets: the task's context, and where the current record comes from. */
export interface MapContext extends TaskContext {
  /** The input file, as the input pattern matched it. */
  readonly file: string
  /** Byte offset of the record in the file (0 for records: 'files'). */
  readonly offset: number
}

/** What `map` of a `records: 'chunks'` job gets: the map context, and the byte table's entry point. */
export interface ChunkContext extends MapContext {
  /**
   * Adds `n` (default 1) to the number kept for the key `bytes[start, end)` (its UTF-8 text), in a
   * table keyed by bytes on the map side: as `emit(text, n)` followed by a combiner that adds,
   * without a string or a promise per call. The sums reach combine and reduce as number values.
   */
  emitBytes(bytes: Uint8Array, start: number, end: number, n?: number): void
}

type Result = void | Promise<void>

/** How a map task reads its split. */
export type RecordKind = 'lines' | 'files' | 'chunks'

/** A job, as defineJob takes it. K, V: intermediate pairs; OK, OV: what reduce writes. */
export type JobSpec<K extends Scalar = Scalar, V extends Scalar = Scalar, OK extends Scalar = K, OV extends Scalar = V> =
  | TextJobSpec<K, V, OK, OV>
  | ChunkJobSpec<K, V, OK, OV>

/** A job over text records. */
export interface TextJobSpec<K extends Scalar = Scalar, V extends Scalar = Scalar, OK extends Scalar = K, OV extends Scalar = V> extends JobHooks<K, V, OK, OV> {
  /** 'lines' (default): one record per line, key = the file's name. 'files': one record per file, the whole text. */
  readonly records?: 'lines' | 'files'
  map(key: string, value: string, emit: Emit<K, V>, ctx: MapContext): Result
}

/**
 * A job over raw bytes: map gets the split as chunks of whole lines (`Uint8Array`, valid only
 * during the call), key = the file's name, and may emit pairs or sum them with `ctx.emitBytes`.
 */
export interface ChunkJobSpec<K extends Scalar = Scalar, V extends Scalar = Scalar, OK extends Scalar = K, OV extends Scalar = V> extends JobHooks<K, V, OK, OV> {
  readonly records: 'chunks'
  map(file: string, chunk: Uint8Array, emit: Emit<K, V>, ctx: ChunkContext): Result
  /** Not with chunks: the sample maps text records (defineJob refuses it too). */
  readonly sample?: never
}

/** What every job may have besides map. */
export interface JobHooks<K extends Scalar, V extends Scalar, OK extends Scalar, OV extends Scalar> {
  /**
   * The type of the intermediate values, for `gort stream-reduce` (and a streaming combine): under
   * Hadoop Streaming values travel as text, and 'number' parses each back with Number() before
   * combine/reduce see it. In process values keep the type they were emitted with; this field is
   * not consulted there. Default 'string'.
   */
  readonly values?: V extends number ? 'number' : V extends string ? 'string' : 'number' | 'string'
  /** Optional partial reduce on the map side; must keep each key in its partition (usually: emit the key it got). */
  readonly combine?: (key: K, values: AsyncIterable<V>, emit: Emit<K, V>, ctx: TaskContext) => Result
  /** Called once per distinct key, keys in increasing byte order. Default: identity (each value as is). */
  readonly reduce?: (key: K, values: AsyncIterable<V>, emit: Emit<OK, OV>, ctx: TaskContext) => Result
  /**
   * The reducer (0 to reducers - 1) of a key. `cuts`: the job's sampled cut keys (see `sample`),
   * else empty. Default: with `sample`, `rangePartition(key, cuts)` (a total order across the part
   * files); without, FNV-1a of the key's UTF-8 text, mod reducers.
   */
  readonly partition?: (key: K, reducers: number, cuts: readonly K[]) => number
  /**
   * Sample the input before the map phase, for a range partitioner (Hadoop's InputSampler and
   * TotalOrderPartitioner): one task runs `map` (with setup and cleanup) over the first records of
   * up to `splits` splits spread over the input, `records` in all, sorts the keys it emits and
   * takes reducers - 1 of them, evenly spaced, as the cuts every map task's partitioner gets.
   * Defaults: records 10000, splits 10. Skipped when reducers < 2.
   */
  readonly sample?: { readonly records?: number; readonly splits?: number }
  /** Once per task attempt, before its first record. */
  readonly setup?: (ctx: TaskContext) => Result
  /** Once per task attempt, after its last record. */
  readonly cleanup?: (ctx: TaskContext) => Result
}

/** A checked job: what defineJob returns and a job module exports by default. */
export type Job<K extends Scalar = Scalar, V extends Scalar = Scalar, OK extends Scalar = K, OV extends Scalar = V> = JobSpec<K, V, OK, OV> & {
  readonly [JOB]: true
}

const JOB: unique symbol = Symbol.for('gort.mapreduce.job') as never

/**
 * Declares a job: checks its shape now (a job without `map` fails where it is written) and returns
 * it. A job that declares `values: 'number'` (or 'string') has values of that type wherever no
 * annotation says more: an inline `reduce(word, values, emit)` sums numbers, and map's `emit`
 * takes only numbers.
 */
export function defineJob<K extends Scalar, V extends number = number, OK extends Scalar = K, OV extends Scalar = V>(
  spec: JobSpec<K, V, OK, OV> & { readonly values: 'number' },
): Job<K, V, OK, OV>
export function defineJob<K extends Scalar, V extends string = string, OK extends Scalar = K, OV extends Scalar = V>(
  spec: JobSpec<K, V, OK, OV> & { readonly values: 'string' },
): Job<K, V, OK, OV>
export function defineJob<K extends Scalar, V extends Scalar, OK extends Scalar = K, OV extends Scalar = V>(spec: JobSpec<K, V, OK, OV>): Job<K, V, OK, OV>
export function defineJob<K extends Scalar, V extends Scalar, OK extends Scalar = K, OV extends Scalar = V>(
  spec: JobSpec<K, V, OK, OV>,
): Job<K, V, OK, OV> {
  const problem = jobProblem(spec)
  if (problem !== undefined) throw new TypeError(`gort mapreduce: defineJob: ${problem}`)
  return Object.freeze({ ...jobFields(spec), [JOB]: true as const }) as unknown as Job<K, V, OK, OV>
}

const HOOKS = ['combine', 'reduce', 'partition', 'setup', 'cleanup'] as const
/** Every field a job has. */
const JOB_FIELDS: readonly string[] = ['map', ...HOOKS, 'records', 'values', 'sample']

/**
 * The job `spec` describes, as a plain object of its fields: read as properties (a class
 * instance's methods live on its prototype, which spreading would drop), and its functions bound
 * to `spec`, as calling them on it would (gort calls them as plain functions).
 */
function jobFields(spec: object): Record<string, unknown> {
  const s = spec as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of JOB_FIELDS) {
    const v = s[k]
    if (v !== undefined) out[k] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(spec) : v
  }
  return out
}

/** Why `spec` is not a job, or undefined when it is one. */
export function jobProblem(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return `a job is an object ({ map, reduce }), got ${describeValue(spec)}`
  const s = spec as Record<string, unknown>
  // A plain object's other fields are typos (`reduer`, `combiner`) that would leave a default in
  // place silently; a class instance may hold state of its own.
  const proto = Object.getPrototypeOf(spec) as unknown
  if (proto === Object.prototype || proto === null) {
    const odd = Object.keys(s).find((k) => !JOB_FIELDS.includes(k))
    if (odd !== undefined) return `${JSON.stringify(odd)} is not a field of a job (${JOB_FIELDS.join(', ')})`
  }
  if (typeof s['map'] !== 'function') return `the job has no map function (map is ${describeValue(s['map'])})`
  for (const h of HOOKS) {
    if (s[h] !== undefined && typeof s[h] !== 'function') return `${h} must be a function, got ${describeValue(s[h])}`
  }
  const sample = s['sample']
  if (sample !== undefined) {
    if (typeof sample !== 'object' || sample === null) return `sample must be an object ({ records?, splits? }), got ${describeValue(sample)}`
    for (const f of ['records', 'splits'] as const) {
      const n = (sample as Record<string, unknown>)[f]
      if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 10_000_000)) {
        return `sample.${f} must be an integer from 1 to 10000000, got ${describeValue(n)}`
      }
    }
  }
  if (s['records'] !== undefined && s['records'] !== 'lines' && s['records'] !== 'files' && s['records'] !== 'chunks') {
    return `records must be 'lines', 'files' or 'chunks', got ${describeValue(s['records'])}`
  }
  if (s['sample'] !== undefined && s['records'] === 'chunks') return `sample is not supported with records: 'chunks' (sampling runs map on text records)`
  if (s['values'] !== undefined && s['values'] !== 'number' && s['values'] !== 'string') {
    return `values must be 'number' or 'string', got ${describeValue(s['values'])}`
  }
  return undefined
}

/** The job a module exports by default, or why it has none. */
export function jobOf(mod: unknown): { job: JobSpec } | { problem: string } {
  let dflt = (mod as { default?: unknown }).default
  // A CommonJS module compiled from ESM (tsc's "module": "commonjs": `exports.default = job`
  // and `__esModule`): Node's default export is the exports object; the job is its `default`.
  if (typeof dflt === 'object' && dflt !== null && (dflt as { __esModule?: unknown }).__esModule === true && 'default' in dflt) {
    dflt = (dflt as { default: unknown }).default
  }
  if (dflt === undefined) return { problem: 'it has no default export (export default defineJob({ map, reduce }))' }
  const problem = jobProblem(dflt)
  return problem === undefined ? { job: jobFields(dflt as object) as unknown as JobSpec } : { problem: `its default export is not a job: ${problem}` }
}

/**
 * Throws JobModuleError 'no such file' for a file: URL that names nothing, before anything imports
 * it: Node's own message would name gort's module as the importer.
 */
export function checkJobFile(url: string, label: string): void {
  if (!url.startsWith('file:')) return
  let file: string
  try {
    file = fileURLToPath(url)
  } catch (e) {
    // `file://jobs/x.js` (a host, where `file:///...` or a path was meant), say.
    throw new JobModuleError(label, `not a file URL this system can open (${(e as Error).message}): give a path, or file:///absolute/path`)
  }
  const st = statSync(file, { throwIfNoEntry: false })
  if (st === undefined) throw new JobModuleError(label, 'no such file')
  if (st.isDirectory()) throw new JobModuleError(label, 'a directory, not a module file')
}

/** A job module's URL from a path (relative to the working directory) or a URL. */
export function jobUrl(job: string | URL): string {
  if (job instanceof URL) return job.href
  return /^(file|data):/.test(job) ? job : pathToFileURL(job).href
}

/** True when the module is TypeScript (its Ms need tsx's loader). */
export function isTypeScript(url: string): boolean {
  return /\.[mc]?tsx?$/.test(new URL(url).pathname)
}

/**
 * The loader compile.ts's jobModule(url) most likely returns, known before the compile ends: for
 * a TypeScript file, 'none' (a job that imports no TypeScript from outside its own files).
 */
export function likelyLoader(url: string): 'auto' | 'tsx' | 'none' {
  if (!isTypeScript(url)) return 'auto'
  return url.startsWith('file:') && process.env['GORT_MR_COMPILE'] !== '0' ? 'none' : 'tsx'
}

/** The temporary directory a TypeScript job is compiled into (compile.ts) starts with this. */
export const COMPILED_DIR_PREFIX = 'gort-job-'
const COMPILED = new RegExp(`/${COMPILED_DIR_PREFIX}[^/]+/[^/]+\\.mjs$`)

const loaded = new Map<string, Promise<JobSpec>>()
/** The jobs whose import finished on this thread: a task finds its job without an `await`. */
const ready = new Map<string, JobSpec>()

/**
 * The job at `url` if this thread has imported it already. A task that gets it here keeps its
 * synchronous body going (an `await` would end it), and only there can its M be ended when the
 * attempt hangs (goWith's killAfterMs).
 */
export function loadedJob(url: string): JobSpec | undefined {
  return ready.get(url)
}

/** Imports the job module at `url` once on this thread and returns its job (rejects with the reason it is not one). */
export function loadJob(url: string): Promise<JobSpec> {
  let p = loaded.get(url)
  if (p === undefined) {
    // A compiled job carries an inline source map: stack traces then name the .ts lines, as
    // they did under tsx (which turns source maps on as it registers).
    if (COMPILED.test(url)) process.setSourceMapsEnabled(true)
    p = import(url).then((mod: unknown) => {
      const r = jobOf(mod)
      if ('problem' in r) throw new TypeError(r.problem)
      ready.set(url, r.job)
      return r.job
    })
    loaded.set(url, p)
    // A failed import is not cached: the next attempt tries again (the file may have been fixed).
    p.catch(() => loaded.delete(url))
  }
  return p
}
