/**
 * Errors users of gort/mapreduce may catch. Each has a stable `code`, declared as a literal type
 * (`e.code === 'ERR_MR_TASK_FAILED'` narrows to TaskFailedError), and carries its data as
 * fields. Errors thrown inside a task (EmitTypeError, PartitionError) cross back to the main
 * thread as plain data and are rebuilt there as the same class (registered with the scheduler's
 * codec at the end of this module), with their code, message, stack and own fields.
 */

import { GortError, describeValue } from '../errors.js'
import { registerErrorClasses } from '../scheduler/shared/codec.js'

/**
 * Errors that every attempt of a task would meet again, whatever its thread: the task fails at the
 * first, rather than after maxAttempts of them (a line no string holds: each attempt would read it
 * again, up to half a GiB, to fail the same way; a compressed input that is corrupt, or whose text
 * is too large for records: 'files', codec.ts), and a runtime with no thread left to run any.
 */
export const FAIL_AT_ONCE: ReadonlySet<string> = new Set(['ERR_MR_RECORD_TOO_LONG', 'ERR_MR_INPUT_UNREADABLE', 'ERR_MR_INPUT_TOO_LARGE', 'ERR_M_EXHAUSTED'])

/** An error's string `code`, if it has one. */
export const codeOf = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown } | null)?.code
  return typeof c === 'string' ? c : undefined
}

/** A bad option to runJob or the CLI (a size such as `12parsecs`, reducers out of range…). */
export class MapReduceArgError extends GortError {
  declare readonly code: 'ERR_INVALID_ARG'
  /** The option, as runJob names it (`splitSize`, `memory`, `reducers`…). */
  readonly option: string
  readonly value: unknown
  /** What the option must be (`a size of at least 1 byte`…), as the message says it. */
  readonly want: string

  constructor(option: string, value: unknown, want: string) {
    super('ERR_INVALID_ARG', `gort mapreduce: ${option} must be ${want}, got ${describeValue(value)}`)
    this.option = option
    this.value = value
    this.want = want
  }
}

/** An input pattern that names no file (a missing path, or a glob that matches nothing). */
export class InputNotFoundError extends GortError {
  declare readonly code: 'ERR_MR_NO_INPUT'
  readonly pattern: string

  /** `what`: what the pattern names instead, when it names something (`a FIFO, not a file`). */
  constructor(pattern: string, what = 'matches no file') {
    super('ERR_MR_NO_INPUT', `gort mapreduce: input ${JSON.stringify(pattern)} ${what}`)
    this.pattern = pattern
  }
}

/** An input file this process may not read (checked before the job starts: every attempt would fail the same way). */
export class InputUnreadableError extends GortError {
  declare readonly code: 'ERR_MR_INPUT_UNREADABLE'
  /** The file, as the input pattern matched it. */
  readonly file: string
  /** The system's code, `EACCES` say. */
  readonly reason: string

  constructor(file: string, reason: string) {
    super('ERR_MR_INPUT_UNREADABLE', `gort mapreduce: input file ${JSON.stringify(file)} cannot be read (${reason})`)
    this.file = file
    this.reason = reason
  }
}

/** An input file too large to be one string, as `records: 'files'` passes each file to map. */
export class InputTooLargeError extends GortError {
  declare readonly code: 'ERR_MR_INPUT_TOO_LARGE'
  /** The file, as the input pattern matched it. */
  readonly file: string
  readonly size: number
  /** The most UTF-8 bytes gort lets one file record have (the longest string V8 makes). */
  readonly limit: number

  constructor(file: string, size: number, limit: number) {
    super('ERR_MR_INPUT_TOO_LARGE', `gort mapreduce: input ${JSON.stringify(file)} is ${size} bytes, too large for one string with records: 'files' (at most ${limit} bytes); use records: 'lines'`)
    this.file = file
    this.size = size
    this.limit = limit
  }
}

/**
 * A line of a `records: 'lines'` input longer than one string can hold: no attempt can read it, so
 * the task fails at its first attempt (attempts.ts), not after `maxAttempts` of them.
 */
export class RecordTooLongError extends GortError {
  declare readonly code: 'ERR_MR_RECORD_TOO_LONG'
  /** The file, as the input pattern matched it. */
  readonly file: string
  /** The byte offset of the line in the file. */
  readonly offset: number
  /** The most UTF-8 bytes gort reads as one line (the longest string V8 makes). */
  readonly limit: number

  constructor(file: string, offset: number, limit: number) {
    super('ERR_MR_RECORD_TOO_LONG', `gort mapreduce: input ${JSON.stringify(file)}: the line at byte ${offset} is longer than ${limit} bytes, the most one string holds; split it into shorter lines, or read the input with records: 'chunks'`)
    this.file = file
    this.offset = offset
    this.limit = limit
  }
}

/** The output directory exists already (Hadoop's FileAlreadyExistsException): nothing was run. */
export class OutputExistsError extends GortError {
  declare readonly code: 'ERR_MR_OUTPUT_EXISTS'
  readonly path: string

  /** `what`: what is there, when it is not a directory (a file, say). */
  constructor(path: string, what?: string) {
    super('ERR_MR_OUTPUT_EXISTS', what === undefined ? `gort mapreduce: output directory ${path} already exists` : `gort mapreduce: output ${path} already exists, and is ${what}`)
    this.path = path
  }
}

/** The job module cannot be imported, or its default export is not a job (no `map`). */
export class JobModuleError extends GortError {
  declare readonly code: 'ERR_MR_JOB_MODULE'
  /** The module, as given (path or URL). */
  readonly job: string
  readonly reason: string

  constructor(job: string, reason: string, options?: ErrorOptions) {
    // defineJob's own TypeError, rethrown by the import, carries the prefix already.
    reason = reason.replace(/^gort mapreduce: /, '')
    super('ERR_MR_JOB_MODULE', `gort mapreduce: job module ${job}: ${reason}`, options)
    this.job = job
    this.reason = reason
  }
}

/**
 * The process may open too few files for the job's threads: its limit (`ulimit -n`, read before
 * any thread starts) is below what `threads` threads take as they start, so starting them would
 * fail in whatever module import or thread start met EMFILE first (or abort the process).
 */
export class TooManyOpenFilesError extends GortError {
  declare readonly code: 'ERR_MR_TOO_MANY_FILES'
  /** The threads asked for (`procs`). */
  readonly threads: number
  /** The process's limit on open files. */
  readonly limit: number
  /** The most threads that limit allows (0: not even one). */
  readonly most: number

  constructor(threads: number, limit: number, most: number) {
    const fix = most > 0 ? `raise it (ulimit -n 4096) or run at most ${most} thread${most === 1 ? '' : 's'} (procs)` : 'raise it (ulimit -n 4096)'
    super('ERR_MR_TOO_MANY_FILES', `gort mapreduce: ${threads} thread${threads === 1 ? ' needs' : 's need'} more open files than this process may have (ulimit -n is ${limit}): ${fix}`)
    this.threads = threads
    this.limit = limit
    this.most = most
  }
}

/** What a failed import of a job module says: an Error's message, or what else it threw (`throw null`). */
export function importFailure(e: unknown): string {
  return e instanceof Error ? e.message : `it threw ${describeValue(e)}`
}

/** One failed attempt of a task: its number (1 and up) and what it failed with. */
export interface AttemptFailure {
  readonly attempt: number
  /** The error's `name: message`, less a leading `gort mapreduce: ` (`TaskTimeoutError: task m-00000 attempt 1 timed out after 1s`, `MDiedError: its thread (M3) died: exit code 1`). */
  readonly error: string
  /** The error's code, when it has one (`ERR_M_DIED`). */
  readonly code: string | undefined
  /**
   * The error itself: a TaskTimeoutError, ThreadExitError, StreamProcessError or the scheduler's
   * MDiedError, or what the job threw, as it came back from its thread (a copy: its class, message,
   * stack and own fields, where they survive the structured clone).
   */
  readonly cause: unknown
}

/** A task failed `maxAttempts` times: the job failed, and left no part files and no _SUCCESS. */
export class TaskFailedError extends GortError {
  declare readonly code: 'ERR_MR_TASK_FAILED'
  /** The task id, `m-00003` or `r-00000`. */
  readonly task: string
  readonly attempts: readonly AttemptFailure[]

  constructor(task: string, attempts: readonly AttemptFailure[], options?: ErrorOptions) {
    const list = attempts.map((a) => `attempt ${a.attempt}: ${a.error}`).join('; ')
    super('ERR_MR_TASK_FAILED', `gort mapreduce: task ${task} failed ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}: ${list}`, options)
    this.task = task
    this.attempts = attempts
  }
}

/**
 * `emit` got a key or value that is neither a string nor a number; or `ctx.emitBytes` got key
 * bytes that are not a Uint8Array (`what` 'key') or a count that is not a number ('value').
 */
export class EmitTypeError extends GortError {
  declare readonly code: 'ERR_MR_EMIT_TYPE'
  readonly what: 'key' | 'value'
  /** The bad value as text (it may not cross threads itself). */
  readonly got: string

  constructor(what: 'key' | 'value', got: unknown, call: 'emit' | 'emitBytes' = 'emit') {
    const must = call === 'emit' ? `the ${what} must be a string or a number` : what === 'key' ? 'the key bytes must be a Uint8Array' : 'the count must be a number'
    super('ERR_MR_EMIT_TYPE', `gort mapreduce: ${call}: ${must}, got ${describeValue(got)}`)
    this.what = what
    this.got = describeValue(got)
  }
}

/**
 * `map`, `reduce` or `combine` used what it was given after it returned: an emit, or its
 * `values`, from work it started and did not await (or return). Its pairs would be lost, or land
 * under another key, so the attempt fails instead.
 */
export class AfterReturnError extends GortError {
  declare readonly code: 'ERR_MR_AFTER_RETURN'
  /** 'map', 'combine' or 'reduce'. */
  readonly fn: string
  /** What was used late: 'emit', 'emitBytes' or 'values'. */
  readonly what: string

  constructor(fn: string, what: string, key: string) {
    const used = what === 'values' ? 'the values were read' : `${what} was called`
    super('ERR_MR_AFTER_RETURN', `gort mapreduce: ${used} after ${fn}(${JSON.stringify(key)}) returned: await (or return) the work that ${what === 'values' ? 'reads them' : 'emits'}`)
    this.fn = fn
    this.what = what
  }
}

/** `values` iterated a second time (a reduce's values stream from the merge once). */
export class ValuesOnceError extends GortError {
  declare readonly code: 'ERR_MR_VALUES_ONCE'
  constructor(key: string) {
    super('ERR_MR_VALUES_ONCE', `gort mapreduce: reduce(${JSON.stringify(key)}) iterated its values a second time: they stream from the merge once; keep what you need from the first pass`)
  }
}

/** The job's partitioner returned something other than an integer in [0, reducers). */
export class PartitionError extends GortError {
  declare readonly code: 'ERR_MR_PARTITION'
  readonly key: string
  readonly got: string
  readonly reducers: number

  constructor(key: string, got: unknown, reducers: number) {
    super('ERR_MR_PARTITION', `gort mapreduce: partition(${JSON.stringify(key)}, ${reducers}) must return an integer from 0 to ${reducers - 1}, got ${describeValue(got)}`)
    this.key = key
    this.got = describeValue(got)
    this.reducers = reducers
  }
}

/** An attempt ran longer than the task timeout: it counts as failed (and its M is ended if it does not stop). */
export class TaskTimeoutError extends GortError {
  declare readonly code: 'ERR_MR_TASK_TIMEOUT'
  readonly task: string
  readonly attempt: number
  /** The timeout, in milliseconds. */
  readonly timeout: number

  /** `idle`: the timeout counted from the attempt's last progress (a map or reduce attempt), not from its start (the sample). */
  constructor(task: string, attempt: number, timeout: number, shown: string, idle = false) {
    super('ERR_MR_TASK_TIMEOUT', `gort mapreduce: task ${task} attempt ${attempt} timed out after ${shown}${idle ? ' without progress' : ''}`)
    this.task = task
    this.attempt = attempt
    this.timeout = timeout
  }
}

/**
 * An attempt's thread exited while running it (`process.exit` in the job's code): the attempt
 * failed. Seen through the attempt's clock (clock.ts) as the thread exits; when the scheduler's
 * MDiedError arrives first, that is the attempt's error instead.
 */
export class ThreadExitError extends GortError {
  declare readonly code: 'ERR_MR_THREAD_EXIT'
  readonly task: string
  readonly attempt: number
  readonly exitCode: number

  constructor(task: string, attempt: number, exitCode: number) {
    super('ERR_MR_THREAD_EXIT', `gort mapreduce: task ${task} attempt ${attempt}: its thread exited (exit code ${exitCode})`)
    this.task = task
    this.attempt = attempt
    this.exitCode = exitCode
  }
}

/** The job was stopped from outside (runJob's signal without a reason of its own, or the CLI's SIGINT/SIGTERM/SIGHUP/SIGQUIT). */
export class JobStoppedError extends GortError {
  declare readonly code: 'ERR_MR_STOPPED'
  /** What stopped it: 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', or 'signal'. */
  readonly by: string

  constructor(by: string) {
    super('ERR_MR_STOPPED', `gort mapreduce: the job was stopped (${by}); its output directory is removed`)
    this.by = by
  }
}

/** Thrown inside a task that saw the job being abandoned (another task failed for good). */
export class JobAbortedError extends GortError {
  declare readonly code: 'ERR_MR_ABORTED'
  constructor() {
    super('ERR_MR_ABORTED', 'gort mapreduce: the attempt was cancelled (the job failed or stopped, it timed out, or its backup copy won)')
  }
}

/** combine emitted a key that belongs to another partition than the key it was given. */
export class CombineKeyError extends GortError {
  declare readonly code: 'ERR_MR_COMBINE_KEY'
  readonly key: string
  readonly from: string
  readonly partition: number
  readonly want: number

  constructor(key: string, from: string, partition: number, want: number) {
    super('ERR_MR_COMBINE_KEY', `gort mapreduce: combine of key ${JSON.stringify(from)} (partition ${want}) emitted key ${JSON.stringify(key)}, which belongs to partition ${partition}: combine must keep keys in their partition`)
    this.key = key
    this.from = from
    this.partition = partition
    this.want = want
  }
}

/** The mapper, reducer or combiner command cannot be run: a usage error, found before the job starts. */
export class StreamCommandError extends GortError {
  declare readonly code: 'ERR_MR_COMMAND'
  /** 'mapper', 'reducer' or 'combiner'. */
  readonly option: string
  readonly command: string
  readonly reason: string

  constructor(option: string, command: string, reason: string) {
    super('ERR_MR_COMMAND', `gort mapreduce: ${option} ${JSON.stringify(command)}: ${reason}`)
    this.option = option
    this.command = command
    this.reason = reason
  }
}

/** A streaming process failed: its attempt fails (and is retried as any failed attempt). */
export class StreamProcessError extends GortError {
  declare readonly code: 'ERR_MR_STREAM_FAILED'
  /** 'mapper', 'reducer' or 'combiner'. */
  readonly role: string
  readonly command: string
  /** The exit code, or null when a signal ended it. */
  readonly exitCode: number | null
  readonly signal: string | null
  /** The last lines the process wrote to stderr (reporter lines left out). */
  readonly stderr: string

  constructor(role: string, command: string, exitCode: number | null, signal: string | null, stderr: string, why?: string) {
    const status = why ?? (signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`)
    super('ERR_MR_STREAM_FAILED', `gort mapreduce: ${role} ${JSON.stringify(command)} ${status}${stderr === '' ? '' : `; its stderr ends: ${stderr}`}`)
    this.role = role
    this.command = command
    this.exitCode = exitCode
    this.signal = signal
    this.stderr = stderr
  }
}

/** A pair that cannot travel as one `key\tvalue` line, or a value stream-reduce cannot parse. */
export class StreamFormatError extends GortError {
  declare readonly code: 'ERR_MR_STREAM_FORMAT'
  constructor(message: string) {
    super('ERR_MR_STREAM_FORMAT', `gort mapreduce: ${message}`)
  }
}

registerErrorClasses({
  MapReduceArgError, InputNotFoundError, InputUnreadableError, InputTooLargeError, RecordTooLongError, OutputExistsError, JobModuleError,
  TaskFailedError, EmitTypeError, AfterReturnError, ValuesOnceError, PartitionError, TaskTimeoutError, ThreadExitError, JobStoppedError,
  JobAbortedError, CombineKeyError, StreamCommandError, StreamProcessError, StreamFormatError, TooManyOpenFilesError,
})
