/**
 * `gort mapreduce`: runs a MapReduce job (a module whose default export is defineJob(...)) over
 * input files on this machine's threads, and prints where the output went and the job's counters.
 *
 * Invariants:
 * - Every check that needs no thread (options, sizes, inputs, the output directory, and in
 *   streaming mode the mapper/reducer/combiner programs) runs before the runtime starts; the job
 *   module is imported by an M before any task runs. Each failing check is exit 2 with the reason.
 * - A job that fails after it started is exit 1, and leaves no output directory behind.
 * - SIGINT, SIGTERM and SIGHUP (the terminal closed: Node's default would end this process at
 *   once, and streaming commands, in sessions of their own, never get the hangup) stop the job
 *   (attempts cancelled, threads ended, the output directory removed) and exit 130, 143 or 129;
 *   a second one exits at once (streaming commands are killed on the way out,
 *   streaming/groups.ts; the output directory may stay, and the message says so).
 *   The handlers are removed when the job ends, so the process exits by itself.
 * - Failed attempts are reported on stderr as they happen, retried or not. The progress line
 *   (stderr, a terminal only unless --progress) is erased before anything else is written.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { GortError } from '../errors.js'
import { JobStoppedError, MapReduceArgError, TaskFailedError, formatSize, parseDuration, parseSize, runJob, type JobResult, type ProgressEvent } from '../mapreduce/index.js'
import { MIN_MEMORY, MIN_TASK_TIMEOUT } from '../mapreduce/options.js'
import { tightenHeapGrowth } from './heap.js'
import { onOutputFailure } from './output.js'
import { paramsOf } from './params.js'
import { formatElapsed, ProgressLine } from './mapreduce-progress.js'
import { MAX_PROCS } from '../scheduler/main/options.js'
import { subcommand } from './subcommand.js'

const HELP = `usage:
  gort mapreduce --job JOB --input PATTERN [--input PATTERN...] --output DIR
                 [--reducers R] [--procs P] [--split-size SIZE] [--memory SIZE]
                 [--max-attempts N] [--task-timeout DURATION] [--no-backup]
                 [--partitioner hadoop] [--progress | --no-progress] [--json]
                 [--param NAME=VALUE...] [--pack-files]
  gort mapreduce --mapper CMD [--reducer CMD] [--combiner CMD] --input ... --output DIR ...

Runs a MapReduce job on this machine: one map task per split of the input, R
reduce tasks, each a goroutine on P threads. Data moves through files; the
output is DIR/part-r-NNNNN (key<TAB>value lines, sorted by key bytes) and an
empty DIR/_SUCCESS, written last. A failed attempt (an error, a thread that
exits, a timeout) runs again; stragglers near the end of a phase get a backup
copy. Ctrl-C stops the job and removes DIR.

options:
  --job JOB           the job module (.ts or .js): export default defineJob({ map, reduce })
  --mapper CMD        streaming mode (Hadoop Streaming's contract), instead of --job:
                      a program and its arguments ('./map.sh', 'gort stream-map --job
                      wc.js'), one process per map task attempt, split lines on
                      stdin, key<TAB>value lines on stdout
  --reducer CMD       streaming: gets key<TAB>value lines sorted by key on stdin
                      (default: none, the sorted pairs are the output; NONE, as
                      in Hadoop: a map-only job, --reducers 0)
  --combiner CMD      streaming: run over each sorted spill of a map task
  --input PATTERN     input files: a path, a directory or a glob ('data/*.txt',
                      'logs/**/*.log', 'logs/{jan,feb}/*'; quote it); repeat
                      for more. .gz .deflate .bz2 .zst files are read
                      decompressed
  --output DIR        the output directory; it must not exist
  --reducers R        reduce tasks, 0 for a map-only job (part-m files)
                      (default: the threads it runs on, P or fewer)
  --procs P           threads running tasks, 1 to ${MAX_PROCS} (default: the GOMAXPROCS
                      variable, else the CPUs; for a job module, one per 8MiB of
                      input if that is fewer, since each thread's code warms up first)
  --split-size SIZE   bytes per map task's split, e.g. 64MiB, 512KiB (default 64MiB;
                      an input under P x 64MiB is cut in P splits of at least 1MiB;
                      over 2 x P x 64MiB, its last P x 64MiB in halves and quarters,
                      so that the threads finish the maps together)
  --memory SIZE       memory for map-side buffers, shared by the tasks running at
                      once; beyond it they spill sorted runs to disk (default
                      128MiB a thread, at least 256MiB, at most a quarter of RAM)
  --max-attempts N    failed attempts per task before the job fails (default 4)
  --param NAME=VALUE  a job parameter, ctx.params.get('NAME') in every task;
                      repeat for more (not with --mapper: give it to the
                      command, as in --mapper 'gort stream-map --job J --param
                      NAME=VALUE')
  --task-timeout D    an attempt that makes no progress for this long (reads no
                      record or key; a streaming process writes no line on
                      stdout or stderr) fails and runs again, as in Hadoop; its
                      thread is ended if it does not stop: 10m, 90s, 500ms
                      (default 10m)
  --no-backup         no backup copies of stragglers
  --pack-files        small files share map tasks, about a split each (Hadoop's
                      CombineFileInputFormat): faster on many small files; not
                      with --mapper
  --partitioner P     'hadoop': keys go to the reducer Hadoop's default partitioner
                      (Java Text.hashCode) picks, so part files match a Hadoop run;
                      'default': FNV-1a (the default)
  --progress          show the progress line on stderr even when it is not a
                      terminal (--no-progress: never; default: on a terminal)
  --json              print the result as one JSON object (and what the job prints, to stderr)`

class UsageError extends GortError {
  constructor(message: string) {
    super('ERR_MAPREDUCE_USAGE', message)
  }
}

/** What the caller got wrong: exit 2. */
const USAGE_CODES = new Set(['ERR_MAPREDUCE_USAGE', 'ERR_INVALID_ARG', 'ERR_MR_NO_INPUT', 'ERR_MR_INPUT_UNREADABLE', 'ERR_MR_OUTPUT_EXISTS', 'ERR_MR_JOB_MODULE', 'ERR_MR_INPUT_TOO_LARGE', 'ERR_MR_COMMAND'])

function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`)
  }
  return n
}

function required(name: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UsageError(`--${name} is required (gort mapreduce --help)`)
  return v
}

/** runJob's options whose flag is not their name in kebab case. */
const FLAG_OF: Readonly<Record<string, string>> = { partition: '--partitioner', backupTasks: '--no-backup', taskStdout: '--json', params: '--param' }

/** The flag a runJob option came from: `splitSize` is --split-size (a name that is a flag already stays). */
export function flagOf(option: string): string {
  if (option.startsWith('-')) return option
  return Object.hasOwn(FLAG_OF, option) ? FLAG_OF[option]! : `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/**
 * The library's messages start with `gort mapreduce: `, which subcommand() prints already. A bad
 * option runJob refused is named by its flag, as the user typed it (`--split-size`, not `splitSize`).
 */
async function run(argv: readonly string[]): Promise<number> {
  try {
    return await runCli(argv)
  } catch (caught) {
    const e = caught instanceof MapReduceArgError ? new MapReduceArgError(flagOf(caught.option), caught.value, caught.want) : caught
    if (e instanceof Error && e.message.startsWith('gort mapreduce: ')) e.message = e.message.slice('gort mapreduce: '.length)
    // A usage error too: a script that reads stdout gets one JSON object whatever went wrong.
    if (argv.includes('--json') && !(typeof caught === 'object' && caught !== null && printedJson.has(caught))) console.log(JSON.stringify({ error: errorJson(e) }))
    throw e
  }
}

/** Hadoop Streaming's options, as its users type them (one dash), and gort's for them. */
const HADOOP_FLAGS: ReadonlyMap<string, string> = new Map([
  ['-mapper', '--mapper'], ['-reducer', '--reducer'], ['-combiner', '--combiner'], ['-input', '--input'], ['-output', '--output'],
  ['-numReduceTasks', '--reducers'], ['-partitioner', '--partitioner hadoop (Hadoop\'s default; a Java class cannot run here)'],
])

/** Hadoop Streaming's options with no counterpart here (-Dname=value is one too). */
const HADOOP_ONLY: ReadonlySet<string> = new Set([
  '-D', '-file', '-files', '-cmdenv', '-jobconf', '-inputformat', '-outputformat', '-cacheFile', '-cacheArchive', '-archives',
  '-libjars', '-lazyOutput', '-verbose', '-info', '-background', '-io', '-mapdebug', '-reducedebug',
])

/** The flags that take a number. */
const NUMBER_FLAGS: ReadonlySet<string> = new Set(['--reducers', '--procs', '--split-size', '--memory', '--max-attempts', '--task-timeout'])

/**
 * `--reducers -1` as `--reducers=-1`: parseArgs takes a value that starts with a dash for a
 * missing one ("argument is ambiguous"), where the flag's own check says what is wrong with it.
 */
function negativesJoined(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = argv[i + 1]
    if (NUMBER_FLAGS.has(a) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/**
 * A stop signal that comes again this soon is the same request delivered twice, not a second
 * Ctrl-C: coreutils' `timeout -s INT` signals the command and then its process group, and tsx or
 * a shell script may pass on a signal the group already got. Taken as "exit at once", it left the
 * output directory behind.
 */
export const REPEAT_MS = 100

/**
 * What a stop signal arriving at `now` (ms) means: the first stops the job ('stop'), the same
 * one again within REPEAT_MS is that request delivered twice ('repeat': ignored), any other
 * ends the process at once ('exit').
 */
export class StopRequests {
  #first: { sig: NodeJS.Signals; at: number } | undefined

  on(sig: NodeJS.Signals, now: number): 'stop' | 'repeat' | 'exit' {
    const f = this.#first
    if (f === undefined) {
      this.#first = { sig, at: now }
      return 'stop'
    }
    return sig === f.sig && now - f.at < REPEAT_MS ? 'repeat' : 'exit'
  }
}

/** Errors that --json has already printed on stdout (the job's own, from runJob). */
const printedJson = new WeakSet<object>()

async function runCli(argv: readonly string[]): Promise<number> {
  // parseArgs would read `-mapper` as -m -a -p…: "Unknown option '-m'".
  for (const a of argv) {
    const ours = HADOOP_FLAGS.get(a)
    if (ours !== undefined) throw new UsageError(`${a} is Hadoop Streaming's spelling: gort takes ${ours} (gort mapreduce --help)`)
    if (HADOOP_ONLY.has(a) || /^-D\w/.test(a)) {
      throw new UsageError(`${a.startsWith('-D') ? '-D' : a} is a Hadoop Streaming option gort has no use for: the commands run here, in this working directory and environment, with Hadoop's defaults (gort mapreduce --help)`)
    }
  }
  const { values, tokens } = parseArgs({
    args: negativesJoined(argv),
    strict: true,
    allowPositionals: false,
    tokens: true,
    options: {
      job: { type: 'string' },
      mapper: { type: 'string' },
      reducer: { type: 'string' },
      combiner: { type: 'string' },
      partitioner: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string' },
      reducers: { type: 'string' },
      procs: { type: 'string' },
      'split-size': { type: 'string' },
      memory: { type: 'string' },
      'max-attempts': { type: 'string' },
      'task-timeout': { type: 'string' },
      'no-backup': { type: 'boolean', default: false },
      'pack-files': { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      param: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  // A flag that takes one value, given twice, is a mistake parseArgs would settle silently (the
  // last wins): `--output o --output o2` wrote o2.
  const seen = new Set<string>()
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === 'input' || t.name === 'param') continue
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice (gort mapreduce --help)`)
    seen.add(t.name)
  }
  // Hadoop Streaming's map-only job: `-reducer NONE`.
  if (values.reducer === 'NONE' && values.job === undefined) {
    if (values.reducers !== undefined && values.reducers !== '0') throw new UsageError(`--reducer NONE is a map-only job, and --reducers is ${values.reducers}`)
    delete values.reducer
    values.reducers = '0'
  }
  const streaming = values.mapper !== undefined || values.reducer !== undefined || values.combiner !== undefined
  if (streaming && values.job !== undefined) throw new UsageError('--job and --mapper/--reducer/--combiner are two ways to give a job: use one (gort mapreduce --help)')
  if (streaming && values.mapper === undefined) throw new UsageError('--mapper is required with --reducer or --combiner (gort mapreduce --help)')
  if (streaming && values['pack-files']) throw new UsageError('--pack-files is for job modules, not --mapper: a streaming map task reads one file, which its environment names')
  if (!streaming && (values.job === undefined || values.job === '')) throw new UsageError('--job (a job module) or --mapper (a streaming command) is required (gort mapreduce --help)')
  const job = streaming ? undefined : values.job!
  if (streaming && values.param !== undefined) throw new UsageError("--param is for job modules: give a streaming command its parameters on its own command line, as --mapper 'gort stream-map --job J --param NAME=VALUE', or in the environment")
  const params = paramsOf(values.param, (m) => new UsageError(m))
  // A job module or streaming commands, as the checks above left it.
  const kind = job !== undefined
    ? { job, params }
    : {
      mapper: values.mapper!, // given when streaming (checked above); runJob checks the command
      ...(values.reducer === undefined ? {} : { reducer: values.reducer }),
      ...(values.combiner === undefined ? {} : { combiner: values.combiner }),
    }
  const partition = values.partitioner
  if (partition !== undefined && partition !== 'hadoop' && partition !== 'default') throw new UsageError(`--partitioner must be 'hadoop' or 'default', got ${JSON.stringify(partition)}`)
  const input = values.input ?? []
  if (input.length === 0) throw new UsageError('--input is required (gort mapreduce --help)')
  const output = required('output', values.output)
  const reducers = intOption('reducers', values.reducers, 0, 100_000)
  const procs = intOption('procs', values.procs, 1, MAX_PROCS)
  const maxAttempts = intOption('max-attempts', values['max-attempts'], 1, 100)
  const splitSize = values['split-size'] === undefined ? undefined : parseSize('--split-size', values['split-size'], 1)
  const memory = values.memory === undefined ? undefined : parseSize('--memory', values.memory, MIN_MEMORY)
  const taskTimeout = values['task-timeout'] === undefined ? undefined : parseDuration('--task-timeout', values['task-timeout'], MIN_TASK_TIMEOUT)
  if (values.progress && values['no-progress']) throw new UsageError('--progress and --no-progress: choose one')
  const showProgress = values.progress || (!values['no-progress'] && process.stderr.isTTY === true)

  const line = showProgress ? new ProgressLine(process.stderr) : undefined
  const say = (message: string): void => {
    if (line !== undefined) line.log(message)
    else console.error(message)
  }
  const onProgress = (e: ProgressEvent): void => {
    line?.event(e)
    if (e.type === 'attempt' && e.state === 'failed') say(`gort mapreduce: ${e.task} attempt ${e.attempt} failed: ${e.error ?? ''}${whereFailed(e.cause)}`)
  }
  const stop = new AbortController()
  const requests = new StopRequests()
  const onSignal = (sig: NodeJS.Signals): void => {
    const what = requests.on(sig, performance.now())
    if (what === 'repeat') return
    if (what === 'exit') {
      // A second one: stop waiting for the cleanup.
      line?.stop()
      const left = existsSync(output) ? `; ${output} is left behind: remove it before running again` : ''
      console.error(`gort mapreduce: ${sig} while stopping: exiting now${left}`)
      process.exit(SIGNAL_EXIT[sig])
    }
    say(`gort mapreduce: ${sig}: stopping (${sig === 'SIGINT' ? 'Ctrl-C again' : sig === 'SIGQUIT' ? 'Ctrl-\\ again' : 'send it again'} to exit at once)`)
    stop.abort(new JobStoppedError(sig))
  }
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal)
  // stdout or stderr failing mid-job (`| head -1` closed it, a full disk): the job stops as on a
  // signal, its output directory removed. The SIGPIPE Node ignores would have ended the process
  // there and then, with the directory half-written.
  onOutputFailure((e) => {
    if (stop.signal.aborted) return
    line?.stop()
    stop.abort(new JobStoppedError(e.code === 'EPIPE' ? 'SIGPIPE' : `an output error (${e.code ?? e.message})`))
  })
  tightenHeapGrowth() // before runJob starts the Ms: their heaps read the flag
  const t0 = performance.now()
  let result: JobResult
  try {
    result = await runJob({
      ...kind, input, output, onProgress, signal: stop.signal,
      ...(partition === undefined ? {} : { partition }),
      ...(reducers === undefined ? {} : { reducers }),
      ...(procs === undefined ? {} : { procs }),
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(splitSize === undefined ? {} : { splitSize }),
      ...(memory === undefined ? {} : { memory }),
      ...(taskTimeout === undefined ? {} : { taskTimeout }),
      ...(values['no-backup'] ? { backupTasks: false } : {}),
      ...(values['pack-files'] ? { packFiles: true } : {}),
      // With --json, stdout is the result alone: what the job prints goes to stderr.
      ...(values.json ? { taskStdout: 'stderr' as const } : {}),
    })
  } catch (e) {
    // With --json, stdout holds one JSON object either way: the result, or the error.
    if (values.json) {
      console.log(JSON.stringify({ error: errorJson(e) }))
      if (typeof e === 'object' && e !== null) printedJson.add(e)
    }
    if (e instanceof JobStoppedError) {
      line?.stop()
      console.error(`gort mapreduce: stopped by ${e.by}; ${output} was removed`)
      return SIGNAL_EXIT[e.by as NodeJS.Signals] ?? 1
    }
    if (e instanceof TaskFailedError && e.attempts.some((a) => a.error.includes('\n'))) {
      // Each attempt's failure was said as it came (onProgress), with a streaming command's
      // stderr tail: all of them again, joined, made a traceback of 4 lines 50. The last line
      // names the task and the last cause's first line only.
      const last = e.attempts[e.attempts.length - 1]!
      const first = last.error.split('\n', 1)[0]!
      e.message = `task ${e.task} failed ${e.attempts.length} attempt${e.attempts.length === 1 ? '' : 's'} (each above), the last: ${first}${first === last.error ? '' : ' …'}`
    }
    throw e
  } finally {
    line?.stop()
    // After a stop, a repeat of its signal may still be on its way: it must not kill the process
    // (the default action) while it prints that it stopped and exits.
    if (!stop.signal.aborted) {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal)
      onOutputFailure(undefined) // a reader gone after the job committed: bin/gort.js exits quietly
    }
  }
  const elapsedMs = Math.round(performance.now() - t0)
  if (values.json) console.log(JSON.stringify(toJson(result, elapsedMs)))
  else print(result, elapsedMs)
  const hint = values['pack-files'] || values.mapper !== undefined ? undefined : packHint(result)
  if (hint !== undefined) console.error(hint)
  return 0
}

/** 128 + the signal's number, as shells report a process a signal ended. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGQUIT: 131, SIGPIPE: 141 }
/** The signals that stop a job cleanly. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const

function toJson(r: JobResult, elapsedMs: number): object {
  return {
    output: r.output, files: r.files, maps: r.maps, reduces: r.reduces, threads: r.threads, memory: r.memory, elapsedMs, counters: r.counters,
    userCounters: Object.fromEntries(r.userCounters),
  }
}

/** The summary: a first line that says it all, then the counters. */
export function summary(r: JobResult, elapsedMs: number): string[] {
  const c = r.counters
  const recordsOut = r.reduces > 0 ? c.reduceOutputRecords : c.mapOutputRecords
  const lines = [
    `gort mapreduce: ${n(r.maps, 'map')}, ${n(r.reduces, 'reduce')} on ${n(r.threads, 'thread')}; ${c.mapInputRecords} records in, ${recordsOut} out; ` +
      `${n(c.spills, 'spill')}; ${n(c.failedAttempts, 'failed attempt')}`,
    `output: ${r.output} (${n(r.files.length, 'part file')}, _SUCCESS)`,
    `  in:       ${c.mapInputRecords} records, ${formatSize(c.inputBytes)}`,
    `  shuffle:  ${c.mapOutputRecords} pairs mapped, ${c.spilledRecords} spilled in ${c.spills} extra spills, ${formatSize(c.shuffleBytes)} read`,
    `  out:      ${recordsOut} records, ${formatSize(c.outputBytes)}`,
    `  attempts: ${c.mapAttempts} map, ${c.reduceAttempts} reduce; ${c.failedAttempts} failed (${c.timedOutAttempts} timed out), ` +
      `${c.backupTasks} backups, ${c.cancelledAttempts} cancelled`,
    `  elapsed:  ${formatElapsed(elapsedMs)}`,
  ]
  for (const [name, n] of r.userCounters) lines.push(`  ${name}: ${n}`)
  return lines
}

/** `1 map`, `2 maps`. */
function n(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** Map tasks from which a job of small ones is worth a hint: each costs about a millisecond of its own (a directory, its run files, a round trip). */
const HINT_MIN_MAPS = 64
/** Below this many input bytes a map task on average, its own costs weigh. */
const HINT_MAX_AVERAGE = 1 << 20

/** A note for stderr when the job ran many small map tasks (a directory of small files) and --pack-files would have run fewer. */
export function packHint(r: JobResult): string | undefined {
  const average = r.counters.inputBytes / Math.max(1, r.maps)
  if (r.maps < HINT_MIN_MAPS || average >= HINT_MAX_AVERAGE) return undefined
  return `gort mapreduce: note: ${r.maps} map tasks read ${formatSize(Math.round(average))} each on average; ` +
    '--pack-files runs small files together (fewer tasks, fewer runs for each reduce to merge)'
}

/** gort's own code, whose stack frames are not where a job failed. */
const GORT_CODE = [fileURLToPath(new URL('../', import.meta.url)), fileURLToPath(new URL('../../src/', import.meta.url))]

/**
 * ` (at file:line:column)`: the first frame of a failed attempt's stack in the job's own code (not
 * gort's, not Node's), relative to the working directory; '' when there is none.
 */
export function whereFailed(cause: unknown): string {
  const stack = typeof cause === 'object' && cause !== null ? (cause as { stack?: unknown }).stack : undefined
  if (typeof stack !== 'string') return ''
  for (const line of stack.split('\n').slice(1)) {
    const m = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (m === null) continue
    let file = m[1]!
    if (file.startsWith('node:') || !(file.startsWith('/') || file.startsWith('file:'))) continue
    if (file.startsWith('file:')) file = fileURLToPath(file)
    if (GORT_CODE.some((d) => file.startsWith(d))) continue
    return ` (at ${path.relative(process.cwd(), file) || file}:${m[2]}:${m[3]})`
  }
  return ''
}

/** An error as --json prints it: its name, code, message and own fields (an attempt's cause as its name, code and message). */
export function errorJson(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: String(e) }
  const out: Record<string, unknown> = { name: e.name, message: e.message }
  for (const [k, v] of Object.entries(e)) {
    out[k] = k === 'attempts' && Array.isArray(v) ? v.map((a: { attempt: number; error: string; code: string | undefined }) => ({ attempt: a.attempt, error: a.error, code: a.code })) : v
  }
  return out
}

function print(r: JobResult, elapsedMs: number): void {
  for (const l of summary(r, elapsedMs)) console.log(l)
}

export const command = subcommand(
  'mapreduce',
  'runs a MapReduce job (a defineJob module) over input files on this machine',
  (error) => USAGE_CODES.has(String((error as { code?: unknown }).code)),
  run,
)
