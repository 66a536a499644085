/**
 * `gort mapreduce`: runs a MapReduce job (a module whose default export is defineJob(...)) over
 * input files on this machine's threads, and prints where the output went and the job's counters.
 *
 * Invariants:
 * - Every check that needs no thread (options, sizes, inputs, the output directory) runs before
 *   the runtime starts; the job module is imported by an M before any task runs. Each failing
 *   check is exit 2 with the reason.
 * - A job that fails after it started is exit 1, and leaves no output directory behind.
 * - Failed attempts are reported on stderr as they happen, retried or not.
 */
import { parseArgs } from 'node:util'
import { GortError } from '../errors.js'
import { parseSize, runJob, type JobResult, type ProgressEvent } from '../mapreduce/index.js'
import { MIN_MEMORY } from '../mapreduce/options.js'
import { MAX_PROCS } from '../scheduler/index.js'
import { subcommand } from './subcommand.js'

const HELP = `usage:
  gort mapreduce --job JOB --input PATTERN [--input PATTERN...] --output DIR
                 [--reducers R] [--procs P] [--split-size SIZE] [--memory SIZE]
                 [--max-attempts N] [--param NAME=VALUE...] [--json]

Runs a MapReduce job on this machine: one map task per split of the input, R
reduce tasks, each a goroutine on P threads. Data moves through files; the
output is DIR/part-r-NNNNN (key<TAB>value lines, sorted by key bytes) and an
empty DIR/_SUCCESS, written last.

options:
  --job JOB           the job module (.ts or .js): export default defineJob({ map, reduce })
  --input PATTERN     input files: a path, a directory or a glob ('data/*.txt',
                      'logs/**/*.log'; quote it); repeat for more
  --output DIR        the output directory; it must not exist
  --reducers R        reduce tasks, 0 for a map-only job (part-m files)
                      (default: P)
  --procs P           threads running tasks, 1 to ${MAX_PROCS} (default: the GOMAXPROCS
                      variable, else the CPUs)
  --split-size SIZE   bytes per map task's split, e.g. 64MiB, 512KiB (default 64MiB)
  --memory SIZE       memory for map-side buffers, shared by the tasks running at
                      once; beyond it they spill sorted runs to disk (default 256MiB)
  --max-attempts N    attempts per task before the job fails (default 4)
  --param NAME=VALUE  a job parameter, ctx.params.get('NAME') in every task;
                      repeat for more
  --json              print the result as one JSON object`

class UsageError extends GortError {
  constructor(message: string) {
    super('ERR_MAPREDUCE_USAGE', message)
  }
}

/** What the caller got wrong: exit 2. */
const USAGE_CODES = new Set(['ERR_MAPREDUCE_USAGE', 'ERR_INVALID_ARG', 'ERR_MR_NO_INPUT', 'ERR_MR_OUTPUT_EXISTS', 'ERR_MR_JOB_MODULE'])

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

/** The library's messages start with `gort mapreduce: `, which subcommand() prints already. */
async function run(argv: readonly string[]): Promise<number> {
  try {
    return await runCli(argv)
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('gort mapreduce: ')) e.message = e.message.slice('gort mapreduce: '.length)
    throw e
  }
}

async function runCli(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      job: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string' },
      reducers: { type: 'string' },
      procs: { type: 'string' },
      'split-size': { type: 'string' },
      memory: { type: 'string' },
      'max-attempts': { type: 'string' },
      param: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const job = required('job', values.job)
  const input = values.input ?? []
  if (input.length === 0) throw new UsageError('--input is required (gort mapreduce --help)')
  const output = required('output', values.output)
  const reducers = intOption('reducers', values.reducers, 0, 100_000)
  const procs = intOption('procs', values.procs, 1, MAX_PROCS)
  const maxAttempts = intOption('max-attempts', values['max-attempts'], 1, 100)
  const splitSize = values['split-size'] === undefined ? undefined : parseSize('--split-size', values['split-size'], 1)
  const memory = values.memory === undefined ? undefined : parseSize('--memory', values.memory, MIN_MEMORY)
  const params = new Map<string, string>()
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new UsageError(`--param must be NAME=VALUE, got ${JSON.stringify(p)}`)
    params.set(p.slice(0, eq), p.slice(eq + 1))
  }
  const onProgress = (e: ProgressEvent): void => {
    if (e.type === 'attempt' && e.state === 'failed') console.error(`gort mapreduce: ${e.task} attempt ${e.attempt} failed: ${e.error ?? ''}`)
  }
  const result = await runJob({
    job, input, output, onProgress, params,
    ...(reducers === undefined ? {} : { reducers }),
    ...(procs === undefined ? {} : { procs }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(splitSize === undefined ? {} : { splitSize }),
    ...(memory === undefined ? {} : { memory }),
  })
  if (values.json) console.log(JSON.stringify(toJson(result)))
  else print(result)
  return 0
}

function toJson(r: JobResult): object {
  return { output: r.output, files: r.files, maps: r.maps, reduces: r.reduces, counters: r.counters, userCounters: Object.fromEntries(r.userCounters) }
}

function print(r: JobResult): void {
  const c = r.counters
  console.log(`gort mapreduce: ${r.maps} maps, ${r.reduces} reduces; ${c.mapInputRecords} records in, ${r.reduces > 0 ? c.reduceOutputRecords : c.mapOutputRecords} out; ` +
    `${c.spills} spills; ${c.failedAttempts} failed attempts`)
  console.log(`output: ${r.output} (${r.files.length} part files, _SUCCESS)`)
  for (const [name, n] of r.userCounters) console.log(`  ${name}: ${n}`)
}

export const command = subcommand(
  'mapreduce',
  'runs a MapReduce job (a defineJob module) over input files on this machine',
  HELP,
  (error) => USAGE_CODES.has(String((error as { code?: unknown }).code)),
  run,
)
