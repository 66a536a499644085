/**
 * `gort stream-map` and `gort stream-reduce`: a JS job as the two executables Hadoop Streaming
 * runs, so the same job module runs on a cluster unchanged. Lines in on stdin, `key\tvalue` lines
 * out on stdout, counters as `reporter:counter:gort,NAME,N` lines on stderr.
 *
 * Invariants:
 * - Text is the contract (Hadoop's): keys and values are written as their text; a key holding a
 *   tab or a newline, or a value holding a newline, could not be read back as the same pair, so
 *   emitting one fails (StreamFormatError) instead of corrupting the job's data.
 * - stream-reduce groups contiguous lines with equal keys (its input is sorted, so each key's
 *   lines are contiguous), streams each key's values to `reduce` as they are read (a key with more
 *   values than memory holds still works), and parses them per the job's `values` declaration.
 *   Keys are strings here: Hadoop's keys are text.
 * - stream-map runs the job's combine (when it has one) over what it buffered, every
 *   COMBINE_PAIRS pairs and at the end: in-mapper combining. Keys reach combine with the type
 *   they were emitted with, as in process.
 * - Output is written in batches of about BATCH characters with backpressure (a write waits for
 *   'drain'): no write per line.
 */

import { isAscii } from 'node:buffer'
import type { Readable, Writable } from 'node:stream'
import { describeValue } from '../../errors.js'
import { commonJsHint, jobModule, missingGortHint, syntaxErrorWhere } from '../compile.js'
import { TaskCounters } from '../counters.js'
import { checkJobFile, jobOf, isTypeScript, jobUrl, type JobSpec, type MapContext, type Scalar, type TaskContext } from '../job.js'
import { importFailure, JobModuleError, StreamFormatError } from '../errors.js'
import { checkKey, checkValue, compareKeys, textOf } from '../keys.js'
import { ArrayValues } from '../spill.js'
import { BATCH, LineSplitter, splitLine } from './pipe.js'

/** Pairs buffered by stream-map before they go through combine. */
export const COMBINE_PAIRS = 1 << 16

/**
 * Imports a job module and returns its job; JobModuleError when it is not one. A TypeScript job
 * is compiled as `runJob` compiles it for its Ms (compile.ts: one ESM file, whatever the type of
 * the package it is in), so both load the same module; tsx imports the compiled file when it
 * imports TypeScript, and the job itself when it does not compile.
 */
export async function importJob(job: string): Promise<JobSpec> {
  const url = jobUrl(job)
  checkJobFile(url, job)
  // A top-level await that never settles leaves the event loop nothing to wait for: without this
  // the process would end with Node's bare exit code 13 and no word of why.
  const unsettled = new JobModuleError(job, 'its import never finished (nothing was left to wait for): a top-level await that never settles?')
  let drained = (): void => {}
  const never = new Promise<never>((_, reject) => {
    drained = () => reject(unsettled)
    process.once('beforeExit', drained)
  })
  let mod: unknown
  let hint = ''
  let compileError: string | undefined
  try {
    mod = await Promise.race([load(), never])
  } catch (e) {
    if (e === unsettled) throw e
    // esbuild's words, where it could not compile the job (compile.ts CompileError).
    if (compileError !== undefined) throw new JobModuleError(job, compileError, { cause: e })
    const message = importFailure(e) + syntaxErrorWhere(url, e)
    throw new JobModuleError(job, message + hint + missingGortHint(message), { cause: e })
  } finally {
    process.off('beforeExit', drained)
  }
  const r = jobOf(mod)
  if ('problem' in r) throw new JobModuleError(job, r.problem + hint)
  return r.job

  async function load(): Promise<unknown> {
    if (!isTypeScript(url)) return import(url)
    const compiled = await jobModule(url)
    if (compiled.url === url) hint = commonJsHint(url)
    compileError = compiled.compileError
    try {
      if (compiled.loader === 'none') return await import(compiled.url)
      const { tsImport } = await import('tsx/esm/api')
      return await tsImport(compiled.url, import.meta.url)
    } finally {
      compiled.remove()
    }
  }
}

/** Batches text for a Writable; `add` returns a promise when the caller must wait for 'drain'. */
class TextOut {
  #parts: string[] = []
  #chars = 0
  readonly #out: Writable

  constructor(out: Writable) {
    this.#out = out
  }

  add(text: string): void {
    this.#parts.push(text)
    this.#chars += text.length
  }

  get full(): boolean {
    return this.#chars >= BATCH
  }

  flush(): Promise<void> | undefined {
    if (this.#parts.length === 0) return undefined
    const text = this.#parts.join('')
    this.#parts = []
    this.#chars = 0
    if (this.#out.write(text)) return undefined
    return new Promise<void>((resolve, reject) => {
      const done = (e?: unknown): void => {
        this.#out.off('drain', done)
        this.#out.off('error', done)
        if (e !== undefined) reject(e as Error)
        else resolve()
      }
      this.#out.on('drain', done)
      this.#out.on('error', done)
    })
  }
}

/** One `key\tvalue\n` line of a checked pair, or StreamFormatError. */
function lineOf(k: unknown, v: unknown): string {
  const key = textOf(checkKey(k))
  const value = textOf(checkValue(v))
  // Hadoop ends a line at '\r' too (its LineReader): a pair holding one would come apart there.
  if (/[\t\n\r]/.test(key)) throw new StreamFormatError(`emit: the key ${JSON.stringify(key)} holds a tab or a line end (\\n, \\r), which streaming's key<TAB>value lines cannot carry`)
  if (/[\n\r]/.test(value)) throw new StreamFormatError(`emit: the value ${JSON.stringify(value)} of key ${JSON.stringify(key)} holds a line end (\\n, \\r), which streaming's lines cannot carry`)
  return `${key}\t${value}\n`
}

/** The task a streaming executable runs as, from Hadoop's job variables (a local pipeline has none: task 0, attempt 1). */
function contextOf(phase: 'map' | 'reduce', env: NodeJS.ProcessEnv, counters: TaskCounters, params: ReadonlyMap<string, string> = new Map()): TaskContext {
  const n = Number(env['mapreduce_task_partition'] ?? '0')
  const task = `${phase === 'map' ? 'm' : 'r'}-${String(Number.isInteger(n) && n >= 0 ? n : 0).padStart(5, '0')}`
  const a = /_(\d+)$/.exec(env['mapreduce_task_attempt_id'] ?? '')
  const attempt = a === null ? 1 : Number(a[1]) + 1
  const r = Number(env['mapreduce_job_reduces'] ?? '1')
  return {
    phase, task, attempt, attemptId: `${task}-${attempt}`, partition: phase === 'reduce' ? (Number.isInteger(n) ? n : 0) : -1,
    reducers: Number.isInteger(r) && r >= 0 ? r : 1, counters, params: new Map(params),
  }
}

/** The counters as reporter lines, once per name, at the end (Hadoop adds them up per attempt). */
function reportCounters(counters: TaskCounters, stderr: Writable): void {
  const lines: string[] = []
  for (const [name, n] of counters.pairs()) {
    if (/[,\n]/.test(name)) throw new StreamFormatError(`counter ${JSON.stringify(name)}: a name with a comma or a newline cannot be reported to Hadoop`)
    if (!Number.isSafeInteger(n)) throw new StreamFormatError(`counter ${JSON.stringify(name)} is ${n}: Hadoop's counters are integers`)
    lines.push(`reporter:counter:gort,${name},${n}\n`)
  }
  if (lines.length > 0) stderr.write(lines.join(''))
}

/**
 * Reads `input` as lines of bytes (latin1 byte strings, as pipe.ts carries them): grouping,
 * order and offsets are the bytes' own, so two keys that differ only in bytes that are not UTF-8
 * stay two keys, and ctx.offset counts bytes. `text()` gives a line as the job sees it (UTF-8
 * decoded); it costs nothing for a batch of plain ASCII, where the two are the same string.
 * `next()` gives each line in order, undefined at the end.
 */
class LineSource {
  readonly #it: AsyncIterator<Buffer | string>
  /** Lines keep a '\r' before '\n': the caller drops it (and counts its byte). */
  readonly #split = new LineSplitter(true, 'latin1')
  #lines: string[] = []
  #i = 0
  #ended = false
  /** Whether every byte of the current batch of lines is ASCII (then `text(l)` is `l`). */
  #ascii = true
  /** Whether the bytes held back for the next batch (a line not yet ended) were all ASCII. */
  #restAscii = true
  /** Whether a '\r' was read at all: only then may a line hold one that is not its CRLF's. */
  hasCR = false

  constructor(input: AsyncIterable<Buffer | string>) {
    this.#it = input[Symbol.asyncIterator]()
  }

  /** The next line without a promise when one is buffered, else undefined (call more()). */
  nextSync(): string | undefined {
    return this.#i < this.#lines.length ? this.#lines[this.#i++] : undefined
  }

  /** A line of the current batch (the last one nextSync gave, or a part of it) as UTF-8 text. */
  text(bytes: string): string {
    return this.#ascii ? bytes : Buffer.from(bytes, 'latin1').toString('utf8')
  }

  /** Reads until a line is buffered; false at the end of the input. */
  async more(): Promise<boolean> {
    while (this.#i >= this.#lines.length) {
      if (this.#ended) return false
      const r = await this.#it.next()
      this.#i = 0
      if (r.done === true) {
        this.#ended = true
        this.#ascii = this.#restAscii
        this.#lines = this.#split.end()
      } else {
        const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value
        const ascii = isAscii(chunk)
        if (!this.hasCR && chunk.indexOf(0x0d) >= 0) this.hasCR = true
        this.#lines = this.#split.push(chunk)
        // A batch holds what was held back too; what this chunk holds back starts the next one.
        this.#ascii = ascii && this.#restAscii
        if (this.#lines.length > 0) this.#restAscii = ascii
        else this.#restAscii &&= ascii
      }
    }
    return true
  }

  async next(): Promise<string | undefined> {
    const l = this.nextSync()
    if (l !== undefined) return l
    return (await this.more()) ? this.nextSync() : undefined
  }
}

export interface StreamIO {
  readonly input: Readable | AsyncIterable<Buffer | string>
  readonly output: Writable
  readonly stderr: Writable
  readonly env: NodeJS.ProcessEnv
  /** The job's parameters (`--param`): ctx.params. */
  readonly params?: ReadonlyMap<string, string>
}

type MapFn = (k: string, v: string, emit: (k: Scalar, v: Scalar) => void, ctx: MapContext) => void | Promise<void>
type ReduceFn = (key: Scalar, values: AsyncIterable<Scalar>, emit: (k: Scalar, v: Scalar) => void, ctx: TaskContext) => void | Promise<void>

/** `gort stream-map`: the job's map (and combine) over the lines of `io.input`. */
export async function streamMap(job: JobSpec, io: StreamIO): Promise<void> {
  const counters = new TaskCounters()
  const file = io.env['mapreduce_map_input_file'] ?? ''
  const start = Number(io.env['mapreduce_map_input_start'] ?? '0')
  const ctx: { -readonly [K in keyof MapContext]: MapContext[K] } = { ...contextOf('map', io.env, counters, io.params), file, offset: Number.isSafeInteger(start) ? start : 0 }
  const out = new TextOut(io.output)
  const combine = job.combine as ReduceFn | undefined
  const pairs = new Map<Scalar, Scalar[]>()
  let buffered = 0
  // A number value leaves as text; a job that does not declare its values gets that text back
  // in stream-reduce, where `n += v` concatenates. Said once, on stderr (a task log under Hadoop).
  let undeclared = job.values === undefined
  const write = (k: Scalar, v: Scalar): void => {
    if (undeclared && typeof v === 'number') {
      undeclared = false
      io.stderr.write(`gort stream-map: the job emits number values but declares no \`values\` type, so gort stream-reduce will hand them to reduce as strings; add values: 'number' to the job (or values: 'string' to keep them text)\n`)
    }
    out.add(lineOf(k, v))
  }
  const emit = combine === undefined
    ? write
    : (k: Scalar, v: Scalar): void => {
      const key = checkKey(k)
      const value = checkValue(v)
      const vs = pairs.get(key)
      if (vs === undefined) pairs.set(key, [value])
      else vs.push(value)
      buffered++
    }
  const combineAll = async (): Promise<void> => {
    const keys = [...pairs.keys()].sort(compareKeys)
    for (const k of keys) {
      const r = combine!(k, new ArrayValues(pairs.get(k)!), write, ctx)
      if (r !== undefined) await r
    }
    pairs.clear()
    buffered = 0
  }
  const map = job.map as MapFn
  const lines = new LineSource(io.input)
  if (job.setup !== undefined) await job.setup(ctx)
  let offset = ctx.offset
  for (;;) {
    let line = lines.nextSync()
    if (line === undefined) {
      const f = out.flush()
      if (f !== undefined) await f
      if (!(await lines.more())) break
      line = lines.nextSync()!
    }
    ctx.offset = offset
    offset += line.length + 1 // a byte string: one char per byte
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (lines.hasCR && line.includes('\r')) {
      // A lone '\r' ends a record, as in `gort mapreduce` and Hadoop (split.ts); Hadoop itself
      // hands a mapper no such line, but a local `cat file | gort stream-map` does.
      let at = ctx.offset
      for (const part of line.split('\r')) {
        ctx.offset = at
        at += part.length + 1
        const r = map(file, lines.text(part), emit, ctx)
        if (r !== undefined) await r
      }
    } else {
      const r = map(file, lines.text(line), emit, ctx)
      if (r !== undefined) await r
    }
    if (buffered >= COMBINE_PAIRS) await combineAll()
    if (out.full) {
      const f = out.flush()
      if (f !== undefined) await f
    }
  }
  if (job.cleanup !== undefined) await job.cleanup(ctx)
  if (combine !== undefined) await combineAll()
  const f = out.flush()
  if (f !== undefined) await f
  reportCounters(counters, io.stderr)
}

/**
 * A decimal number's text (what String(n) writes, and what other mappers write: `+3`, `.5`, `1E3`,
 * padded with blanks). Not `Number()`'s whole grammar: `0x10` or `0b11` as a count is a bug upstream.
 */
const DECIMAL = /^\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Infinity|NaN)\s*$/

/** A value of stream-reduce's input as the job declared its values. */
function valueParser(job: JobSpec): (text: string, key: string) => Scalar {
  if (job.values !== 'number') return (t) => t
  return (t, key) => {
    const n = Number(t)
    if (!DECIMAL.test(t)) {
      throw new StreamFormatError(`the value ${describeValue(t)} of key ${JSON.stringify(key)} is not a number, and the job declares values: 'number'`)
    }
    return n
  }
}

/**
 * A key for a message: its text, or, when its bytes are not UTF-8 (the text then shows U+FFFD
 * for each bad sequence, and two different keys can read alike), its bytes, \xNN past ASCII.
 */
function shownKey(text: string, bytes: string): string {
  if (!text.includes('\ufffd') || Buffer.from(text, 'utf8').toString('latin1') === bytes) return JSON.stringify(text)
  return `"${bytes.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}" (bytes)`
}

/** `gort stream-reduce`: the job's reduce over sorted `key\tvalue` lines, once per run of equal keys. */
export async function streamReduce(job: JobSpec, io: StreamIO): Promise<void> {
  const counters = new TaskCounters()
  const ctx = contextOf('reduce', io.env, counters, io.params)
  const out = new TextOut(io.output)
  const parse = valueParser(job)
  const reduce = (job.reduce as ReduceFn | undefined) ?? (async (key, values, emit): Promise<void> => {
    for await (const v of values) emit(key, v)
  })
  const emit = (k: Scalar, v: Scalar): void => out.add(lineOf(k, v))
  const lines = new LineSource(io.input)
  /** The next line's bytes, its '\r' dropped; `text` is the same line decoded, for the job. */
  let text = ''
  const read = async (): Promise<string | undefined> => {
    let l = lines.nextSync() ?? (await lines.next())
    if (l === undefined) return undefined
    if (l.endsWith('\r')) l = l.slice(0, -1)
    text = lines.text(l)
    return l
  }
  if (job.setup !== undefined) await job.setup(ctx)
  /** The first line of the next group, read ahead (bytes and text). */
  let ahead = await read()
  let aheadText = text
  let prev: string | undefined
  let prevKey = ''
  while (ahead !== undefined) {
    // Keys group and order by their bytes (a tab is one byte either way, so both split alike).
    const bytes = splitLine(ahead)[0]
    const [key, first] = splitLine(aheadText)
    // Unsorted input (the sort left out of a pipeline) would reduce a key's lines in pieces.
    if (prev !== undefined && bytes < prev) {
      throw new StreamFormatError(`the input is not sorted by key: ${shownKey(key, bytes)} comes after ${shownKey(prevKey, prev)} (sort the map output first: LC_ALL=C sort)`)
    }
    prev = bytes
    prevKey = key
    ahead = undefined
    let pending: string | undefined = first
    let open = true
    /** The key's next value text, or undefined when its lines are done (the next key's line is then `ahead`). */
    const step = async (): Promise<string | undefined> => {
      if (!open) return undefined
      if (pending !== undefined) {
        const v = pending
        pending = undefined
        return v
      }
      const l = await read()
      if (l !== undefined) {
        const [k, v] = splitLine(l)
        if (k === bytes) return text === l ? v : splitLine(text)[1]
        ahead = l
        aheadText = text
      }
      open = false
      return undefined
    }
    const values: AsyncIterable<Scalar> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const t = await step()
          return t === undefined ? { done: true, value: undefined } : { done: false, value: parse(t, key) }
        },
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    }
    const r = reduce(key, values, emit, ctx)
    if (r !== undefined) await r
    while ((await step()) !== undefined); // what reduce left unread
    if (out.full) {
      const f = out.flush()
      if (f !== undefined) await f
    }
  }
  if (job.cleanup !== undefined) await job.cleanup(ctx)
  const f = out.flush()
  if (f !== undefined) await f
  reportCounters(counters, io.stderr)
}
