/**
 * `gort stream-map` and `gort stream-reduce`: a job module as Hadoop Streaming's mapper and
 * reducer executables (src/mapreduce/streaming/executable.ts does the work).
 *
 * Invariants:
 * - stdout carries nothing but the job's `key\tvalue` lines; messages go to stderr.
 * - Exit 0 when the input is consumed and the output flushed; 1 when the job throws (the attempt
 *   fails, and Hadoop or `gort mapreduce` retries it); 2 for a bad option or a job module that
 *   cannot be imported.
 */
import { parseArgs } from 'node:util'
import { GortError } from '../errors.js'
import { importJob, streamMap, streamReduce } from '../mapreduce/streaming/executable.js'
import { tightenHeapGrowth } from './heap.js'
import { paramsOf } from './params.js'
import { subcommand } from './subcommand.js'

const help = (name: 'stream-map' | 'stream-reduce'): string => `usage:
  gort ${name} --job JOB [--param NAME=VALUE...]

${name === 'stream-map'
    ? `Runs the job's map over the lines on stdin and writes key<TAB>value lines on
stdout: Hadoop Streaming's mapper. The record's key is the
mapreduce_map_input_file variable (Hadoop sets it), else ''. A job with a
combine runs it over each 65536 pairs mapped (in-mapper combining).`
    : `Runs the job's reduce once per run of equal keys in the sorted key<TAB>value
lines on stdin and writes key<TAB>value lines on stdout: Hadoop Streaming's
reducer. Values are parsed as the job declares them (values: 'number').`}
Counters go to stderr as reporter:counter:gort,NAME,N lines.

  cat input | gort stream-map --job wc.js | LC_ALL=C sort | gort stream-reduce --job wc.js

options:
  --job JOB           the job module (.ts or .js): export default defineJob(...)
  --param NAME=VALUE  a job parameter, ctx.params.get('NAME'), as gort mapreduce
                      --param gives it; repeat for more`

class UsageError extends GortError {
  constructor(message: string) {
    super('ERR_STREAM_USAGE', message)
  }
}

const USAGE_CODES = new Set(['ERR_STREAM_USAGE', 'ERR_MR_JOB_MODULE'])

function make(name: 'stream-map' | 'stream-reduce'): ReturnType<typeof subcommand> {
  return subcommand(
    name,
    name === 'stream-map' ? "a job's map as a Hadoop Streaming mapper (stdin lines to key<TAB>value lines)" : "a job's reduce as a Hadoop Streaming reducer",
    (error) => USAGE_CODES.has(String((error as { code?: unknown }).code)),
    async (argv) => {
      const { values } = parseArgs({
        args: [...argv], strict: true, allowPositionals: false,
        options: { job: { type: 'string' }, param: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } },
      })
      if (values.help) {
        console.log(help(name))
        return 0
      }
      if (values.job === undefined || values.job === '') throw new UsageError(`--job is required (gort ${name} --help)`)
      const params = paramsOf(values.param, (m) => new UsageError(m))
      tightenHeapGrowth() // a streaming task's buffer, as gort mapreduce's Ms (heap.ts)
      try {
        const job = await importJob(values.job)
        // Hadoop Streaming hands a mapper lines: a job that maps raw chunks or whole files cannot run so.
        if (name === 'stream-map' && job.records !== undefined && job.records !== 'lines') {
          throw new UsageError(`the job maps records: '${job.records}', and gort stream-map reads lines (as Hadoop Streaming hands them): run it with gort mapreduce --job`)
        }
        const io = { input: process.stdin, output: process.stdout, stderr: process.stderr, env: process.env, params }
        await (name === 'stream-map' ? streamMap(job, io) : streamReduce(job, io))
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('gort mapreduce: ')) e.message = e.message.slice('gort mapreduce: '.length)
        throw e
      }
      return 0
    },
  )
}

export const streamMapCommand = make('stream-map')
export const streamReduceCommand = make('stream-reduce')
