// `gort stream-map` / `gort stream-reduce` (src/cli/stream.ts, src/mapreduce/streaming/executable.ts)
// as the executables of Hadoop Streaming's local recipe, through bin/gort.js from dist/, and under
// `gort mapreduce --mapper/--reducer`: the same job gives the same part files both ways.
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { command } from '../../src/cli/mapreduce.js'
import { runJob } from '../../src/mapreduce/index.js'
import { loadJob } from '../../src/mapreduce/job.js'
import { COMBINE_PAIRS, streamMap, streamReduce } from '../../src/mapreduce/streaming/executable.js'
import { runCaptured } from '../_support/cli.js'
import { deadline } from '../_support/deadline.js'
import { FIXTURES, tempDir, text } from '../mapreduce/_helpers.js'

const execFileAsync = promisify(execFile)
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const GORT = path.join(REPO, 'bin/gort.js')
const WC = path.join(REPO, 'examples/mapreduce/wc.ts')
const JOB = path.join(FIXTURES, 'stream-job.ts')
const MS = 120_000
const gort = `${process.execPath} ${GORT}`

/** Runs a shell pipeline; resolves with stdout, stderr and the exit code (never rejects on a non-zero exit). */
async function sh(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('sh', ['-c', script], { cwd, maxBuffer: 1 << 26, env: { ...process.env, NODE_OPTIONS: '' } })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string }
    return { code: x.code, stdout: x.stdout, stderr: x.stderr }
  }
}

function inputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), t))
  return path.join(dir, 'data')
}

const partsOf = (dir: string): Map<string, string> => new Map(readdirSync(dir).filter((f) => f.startsWith('part-')).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]))

const io = suite('streamMap / streamReduce')

/** Runs streamMap or streamReduce in process over `input`; what it wrote on stdout and stderr. */
async function runStream(fn: typeof streamMap, jobPath: string, input: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<{ out: string; err: string }> {
  const job = await loadJob(new URL(`file://${jobPath}`).href)
  const output = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  output.on('data', (c: Buffer) => void (out += c.toString()))
  stderr.on('data', (c: Buffer) => void (err += c.toString()))
  await fn(job, { input: Readable.from([Buffer.from(input)]), output, stderr, env })
  return { out, err }
}

io('stream-map: key = mapreduce_map_input_file, offsets from mapreduce_map_input_start; counters on stderr', deadline('map', async () => {
  const { out, err } = await runStream(streamMap, JOB, 'b a\r\nFILE\nlast', { mapreduce_map_input_file: 'hdfs://x/in.txt', mapreduce_map_input_start: '100', mapreduce_task_partition: '7' })
  assert.is(out, 'b\t1\na\t1\nfile=hdfs://x/in.txt offset=105 task=m-00007\t1\nFILE\t1\nlast\t1\n')
  assert.is(err, 'reporter:counter:gort,lines,3\n')
}))

io('stream-map: combine runs over what was buffered, keys in order with their emitted types', deadline('combine', async () => {
  const lines = Array.from({ length: COMBINE_PAIRS + 10 }, (_, i) => (i % 2 === 0 ? 'x y' : 'y'))
  const { out } = await runStream(streamMap, WC, lines.join('\n'))
  // One combine after COMBINE_PAIRS pairs (x: 21846, y: 43690 of the first 65536 pairs … whatever the cut), one at the end.
  const rows = out.trimEnd().split('\n').map((l) => l.split('\t'))
  assert.ok(rows.length <= 4, `${rows.length} lines`)
  const sum = (k: string): number => rows.filter((r) => r[0] === k).reduce((n, r) => n + Number(r[1]), 0)
  assert.is(sum('x'), Math.ceil(lines.length / 2))
  assert.is(sum('y'), lines.length)
}))

io('stream-reduce: one reduce per run of equal keys, values parsed as numbers', deadline('reduce', async () => {
  const { out, err } = await runStream(streamReduce, JOB, 'a\t1\na\t2\r\nb\t5\nc\t-1\nc\t3\nd\t1e3', { mapreduce_task_partition: '2' })
  assert.is(out, 'a\t3\nb\t5\nc\t2\nd\t1000\n')
  assert.is(err, 'reporter:counter:gort,keys,4\n')
}))

io('bytes that are not UTF-8: offsets count bytes, keys group and order by their bytes', deadline('bytes', async () => {
  // Two bytes that are not UTF-8 read as two U+FFFD (6 bytes): FILE's offset is still 4.
  const mapped = await runStream(streamMap, JOB, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\nFILE\n')]))
  assert.is(mapped.out, '\ufffd\ufffda\t1\nfile= offset=4 task=m-00000\t1\nFILE\t1\n')
  // Two keys that decode alike are still two keys (LC_ALL=C sort put 0xfe before 0xff).
  const reduced = await runStream(streamReduce, JOB, Buffer.concat([Buffer.from('zz\t1\n'), Buffer.from([0xfe]), Buffer.from('\t2\n'), Buffer.from([0xff]), Buffer.from('\t1\n')]))
  assert.is(reduced.out, 'zz\t1\n\ufffd\t2\n\ufffd\t1\n')
  assert.is(reduced.err, 'reporter:counter:gort,keys,3\n')
  // Their order is their bytes' too: 0xff then 0xfe is refused as unsorted.
  await runStream(streamReduce, JOB, Buffer.concat([Buffer.from([0xff]), Buffer.from('\t2\n'), Buffer.from([0xfe]), Buffer.from('\t1\n')])).then(() => assert.unreachable(), (e: Error) => {
    assert.match(e.message, /the input is not sorted by key/)
  })
  // A line whose 'é' came in an earlier chunk than its end (an ASCII one) still reads 'é'.
  const cut = Buffer.from('caf\u00e9\tdone\n')
  const job = await loadJob(new URL(`file://${JOB}`).href)
  let out = ''
  const output = new PassThrough().on('data', (c: Buffer) => void (out += c.toString()))
  await streamMap(job, { input: Readable.from([Buffer.from('x\n'), cut.subarray(0, 5), cut.subarray(5)]), output, stderr: new PassThrough(), env: {} })
  assert.is(out, 'x\t1\ncaf\u00e9\t1\ndone\t1\n')
}))

io('stream-map: a lone \\r ends a record, as gort mapreduce and Hadoop read files; offsets count it', deadline('cr', async () => {
  const { out, err } = await runStream(streamMap, JOB, 'a\rFILE\r\nb\rFILE')
  assert.is(out, 'a\t1\nfile= offset=2 task=m-00000\t1\nFILE\t1\nb\t1\nfile= offset=10 task=m-00000\t1\nFILE\t1\n')
  assert.match(err, /^reporter:counter:gort,lines,4$/m)
}))

io('bad pairs and bad values fail with a clear StreamFormatError', deadline('format', async () => {
  await runStream(streamMap, JOB, 'TAB-KEY\n').then(() => assert.unreachable(), (e: Error) => {
    assert.is((e as { code?: string }).code, 'ERR_MR_STREAM_FORMAT')
    assert.match(e.message, /the key "a\\tb" holds a tab or a line end \(\\n, \\r\)/)
  })
  // Hadoop ends a line at a '\r' too: a pair holding one would come apart there.
  await runStream(streamMap, JOB, 'CR-KEY\n').then(() => assert.unreachable(), (e: Error) => {
    assert.match(e.message, /the key "a\\rb" holds a tab or a line end/)
  })
  await runStream(streamMap, JOB, 'CR-VALUE\n').then(() => assert.unreachable(), (e: Error) => {
    assert.match(e.message, /the value "1\\r2" of key "v" holds a line end \(\\n, \\r\), which streaming's lines cannot carry/)
  })
  await runStream(streamReduce, JOB, 'a\t1\na\tone\n').then(() => assert.unreachable(), (e: Error) => {
    assert.match(e.message, /the value "one" of key "a" is not a number, and the job declares values: 'number'/)
  })
  await runStream(streamReduce, JOB, 'a\t1\nb\n').then(() => assert.unreachable(), (e: Error) => {
    assert.match(e.message, /the value "" of key "b" is not a number/)
  })
  // Decimal text only: Number() would take these as 16 and 3.
  for (const bad of ['0x10', '0b11']) {
    await runStream(streamReduce, JOB, `a\t${bad}\n`).then(() => assert.unreachable(bad), (e: Error) => {
      assert.match(e.message, new RegExp(`the value "${bad}" of key "a" is not a number`))
    })
  }
  // What other mappers write is still a number: a sign, a leading dot, blanks around.
  const { out } = await runStream(streamReduce, JOB, 'a\t+3\na\t.5\na\t 7 \na\t1E1\n')
  assert.is(out, 'a\t20.5\n')
}))

io('stream-map: a job that emits numbers without declaring its values is told so on stderr, once', deadline('undeclared', async () => {
  const t = tempDir()
  try {
    const job = path.join(t.dir, 'wc-undeclared.mts') // .mts: an ES module wherever it is
    // The word count as written there: no `values`, so stream-reduce would hand it '1's.
    writeFileSync(job, `import { defineJob } from ${JSON.stringify(path.join(REPO, 'src/mapreduce/index.ts'))}
const sum = async (w: string, vs: AsyncIterable<number>, emit: (k: string, v: number) => void) => { let n = 0; for await (const v of vs) n += v; emit(w, n) }
export default defineJob({ map(_k, line, emit) { for (const w of line.split(/\\s+/)) if (w) emit(w, 1) }, combine: sum, reduce: sum })
`)
    const { out, err } = await runStream(streamMap, job, 'a b\na\n')
    assert.is(out, 'a\t2\nb\t1\n')
    assert.is(err, "gort stream-map: the job emits number values but declares no `values` type, so gort stream-reduce will hand them to reduce as strings; add values: 'number' to the job (or values: 'string' to keep them text)\n")
    // Declared: nothing on stderr (JOB declares values: 'number' and counts lines).
    assert.not.match((await runStream(streamMap, WC, 'a b\na\n')).err, /values/)
  } finally {
    t.remove()
  }
}))

io.run()

const test = suite('gort stream-map | sort | gort stream-reduce')

test('the local recipe and gort mapreduce --mapper/--reducer equal the in-process job', deadline('recipe', async () => {
  const t = tempDir()
  try {
    const texts = [text(41, 800), text(42, 300, true)]
    const input = inputs(t.dir, texts)
    const inProcess = await runJob({ job: WC, input, output: path.join(t.dir, 'in-process'), reducers: 1, procs: 2 })
    const want = readFileSync(inProcess.files[0]!, 'utf8')
    const files = readdirSync(input).sort().map((f) => path.join(input, f))
    const r = await sh(`cat ${files.join(' ')} | ${gort} stream-map --job ${WC} | LC_ALL=C sort | ${gort} stream-reduce --job ${WC}`, t.dir)
    assert.is(r.stderr, '')
    assert.is(r.code, 0)
    // The recipe sees the last line of f0 glued to the first of f1 when f0 lacks its final '\n':
    // compare only when it has one (text() adds it for this seed).
    assert.ok(texts[0]!.endsWith('\n'))
    assert.is(r.stdout, want)

    // The same job under gort's streaming mode, R = 2, Hadoop's partitioner both ways: same part files.
    const hadoop = await runJob({ job: WC, input, output: path.join(t.dir, 'hadoop'), reducers: 2, procs: 2, partition: 'hadoop', splitSize: '8KiB' })
    const out = path.join(t.dir, 'streamed')
    const { code, err } = await runCaptured(command, [
      '--mapper', `${gort} stream-map --job ${WC}`, '--reducer', `${gort} stream-reduce --job ${WC}`,
      '--input', input, '--output', out, '--reducers', '2', '--procs', '2', '--partitioner', 'hadoop', '--split-size', '8KiB',
    ])
    assert.is(err, '')
    assert.is(code, 0)
    assert.equal(partsOf(out), partsOf(hadoop.output))
    assert.ok(partsOf(out).get('part-r-00001')!.length > 0)
  } finally {
    t.remove()
  }
}, MS))

test('--param reaches ctx.params under stream-map and stream-reduce, as under gort mapreduce: the grep example both ways', deadline('param', async () => {
  const t = tempDir()
  try {
    const GREP = path.join(REPO, 'examples/mapreduce/grep.ts')
    const texts = ['an ERROR here\nfine\nWARN and ERROR\n', 'nothing\nerror in lower case\n']
    const input = inputs(t.dir, texts)
    const local = await runJob({ job: GREP, input, output: path.join(t.dir, 'local'), reducers: 1, procs: 1, params: { pattern: 'ERROR', flags: 'i' } })
    const out = path.join(t.dir, 'streamed')
    const { code, err } = await runCaptured(command, [
      '--mapper', `${gort} stream-map --job ${GREP} --param pattern=ERROR --param flags=i`, '--reducer', `${gort} stream-reduce --job ${GREP} --param pattern=ERROR`,
      '--input', input, '--output', out, '--reducers', '1', '--procs', '1',
    ])
    assert.is(err, '')
    assert.is(code, 0)
    assert.equal(partsOf(out), partsOf(local.output))
    assert.is(readFileSync(path.join(out, 'part-r-00000'), 'utf8').split('\n').filter(Boolean).length, 3)
    // Without the pattern, the job's setup says what is missing: the attempt fails (exit 1).
    const none = await sh(`printf 'ERROR\n' | ${gort} stream-map --job ${GREP}`, t.dir)
    assert.is(none.code, 1)
    assert.match(none.stderr, /grep: no pattern/)
    const bad = await sh(`${gort} stream-map --job ${GREP} --param pattern < /dev/null`, t.dir)
    assert.is(bad.code, 2)
    assert.is(bad.stderr, 'gort stream-map: --param must be NAME=VALUE, got "pattern"\n')
  } finally {
    t.remove()
  }
}, MS))

test('a TypeScript job in a package that is not "type": "module" (npm init\'s default) runs both ways', deadline('commonjs package', async () => {
  // tsx would load such a job as CommonJS, and gort's modules (ES modules with a top-level await)
  // cannot be required: stream-map and stream-reduce failed with "Top-level await is currently
  // not supported with the "cjs" output format". They load the job compiled, as runJob does.
  const t = tempDir()
  try {
    writeFileSync(path.join(t.dir, 'package.json'), '{ "name": "user-project", "version": "1.0.0" }\n')
    const job = path.join(t.dir, 'wc.ts')
    writeFileSync(job, readFileSync(WC, 'utf8').replace("from 'gort/mapreduce'", `from ${JSON.stringify(path.join(REPO, 'dist/mapreduce/index.js'))}`))
    const input = inputs(t.dir, ['the cat\nthe hat\n', 'a cat\n'])
    const r = await sh(`cat data/*.txt | ${gort} stream-map --job wc.ts | LC_ALL=C sort | ${gort} stream-reduce --job wc.ts`, t.dir)
    assert.is(r.stderr, '')
    assert.is(r.code, 0)
    assert.is(r.stdout, 'a\t1\ncat\t2\nhat\t1\nthe\t2\n')
    const inProcess = await runJob({ job, input, output: path.join(t.dir, 'out'), reducers: 1, procs: 1 })
    assert.is(readFileSync(inProcess.files[0]!, 'utf8'), r.stdout)

    // A program there, run by tsx (as CommonJS), imports gort/mapreduce and runs the job: no
    // module on the main thread's import graph may have a top-level await.
    writeFileSync(path.join(t.dir, 'run.ts'), `import { runJob } from ${JSON.stringify(path.join(REPO, 'dist/mapreduce/index.js'))}
runJob({ job: './wc.ts', input: 'data', output: 'out-program', reducers: 1, procs: 1 }).then((r) => console.log(r.files.length))
`)
    // `--import tsx` as the user's project would resolve it (here: gort's own tsx).
    const tsx = import.meta.resolve('tsx')
    const program = await sh(`${process.execPath} --import ${tsx} run.ts`, t.dir)
    assert.is(program.stderr, '')
    assert.is(program.stdout, '1\n')
    assert.is(readFileSync(path.join(t.dir, 'out-program/part-r-00000'), 'utf8'), r.stdout)

    // One that cannot be compiled (import.meta) goes to tsx as it is. stream-map gets it as tsx's
    // CommonJS (exports.default, __esModule: jobOf takes the job); the Ms, whose tsx loads it
    // through import(), fail on a require() cycle, and the message says why in words about the
    // user's package, and what to do. From the command line, as a user runs it (in this tsx-run
    // test process, tsx loads it fine).
    writeFileSync(path.join(t.dir, 'meta.ts'), readFileSync(job, 'utf8').replace('export default', 'void import.meta.url\nexport default'))
    const streamed = await sh(`cat data/*.txt | ${gort} stream-map --job meta.ts | LC_ALL=C sort | ${gort} stream-reduce --job meta.ts`, t.dir)
    assert.is(streamed.stderr, '')
    assert.is(streamed.stdout, r.stdout)
    const hint = /\(tsx loads meta\.ts as CommonJS, since its package\.json does not say "type": "module"; .* because it uses import\.meta, .*: rename it \.mts or add "type": "module" to the package\.json\)/
    const ran = await sh(`${gort} mapreduce --job meta.ts --input data --output out-meta`, t.dir)
    assert.is(ran.code, 2)
    assert.match(ran.stderr, hint)
    assert.not.ok(existsSync(path.join(t.dir, 'out-meta')))
  } finally {
    t.remove()
  }
}, MS))

test('exit codes: 1 when the job throws, 2 for usage errors and a mapper that cannot run (nothing created)', deadline('exit', async () => {
  const t = tempDir()
  try {
    const throws = await sh(`printf 'ok\\nTHROW\\n' | ${gort} stream-map --job ${path.join(FIXTURES, 'faulty.ts')}`, t.dir)
    assert.is(throws.code, 1)
    assert.match(throws.stderr, /^gort stream-map: bad record at offset 3 of \n/)
    const noJob = await sh(`${gort} stream-reduce < /dev/null`, t.dir)
    assert.is(noJob.code, 2)
    assert.match(noJob.stderr, /^gort stream-reduce: --job is required/)
    const badJob = await sh(`${gort} stream-map --job ${path.join(FIXTURES, 'no-map.ts')} < /dev/null`, t.dir)
    assert.is(badJob.code, 2)
    assert.match(badJob.stderr, /job module .*no-map\.ts: its default export is not a job/)
    // The sort left out of a pipeline: refused, not reduced in pieces.
    const unsorted = await sh(`printf 'b\\t1\\na\\t2\\nb\\t5\\n' | ${gort} stream-reduce --job ${WC}`, t.dir)
    assert.is(unsorted.code, 1)
    assert.match(unsorted.stderr, /^gort stream-reduce: the input is not sorted by key: "a" comes after "b" \(sort the map output first: LC_ALL=C sort\)\n/)
    // Keys that are not UTF-8 are told apart by their bytes (both would read "\ufffd").
    const bytes = await sh(`printf 'x\\377\\t1\\nx\\376\\t1\\n' | ${gort} stream-reduce --job ${WC}`, t.dir)
    assert.is(bytes.code, 1)
    assert.match(bytes.stderr, /^gort stream-reduce: the input is not sorted by key: "x\\xfe" \(bytes\) comes after "x\\xff" \(bytes\)/)
    // A job that maps chunks cannot be a line-reading mapper.
    const chunks = await sh(`printf 'a b\\n' | ${gort} stream-map --job ${path.join(REPO, 'examples/mapreduce/wc-bytes.ts')}`, t.dir)
    assert.is(chunks.code, 2)
    assert.match(chunks.stderr, /the job maps records: 'chunks', and gort stream-map reads lines/)
    for (const name of ['nope.ts', 'nope.js']) {
      const missing = await sh(`${gort} stream-map --job ${name} < /dev/null`, t.dir)
      assert.is(missing.code, 2)
      assert.is(missing.stderr, `gort stream-map: job module ${name}: no such file\n`, 'as gort mapreduce says it')
    }
    // A top-level await that never settles: said so, exit 2 (was Node's silent exit 13).
    writeFileSync(path.join(t.dir, 'never.mjs'), 'await new Promise(() => {})\nexport default {}\n')
    for (const cmd of ['stream-map', 'stream-reduce']) {
      const never = await sh(`printf 'a\\t1\\n' | ${gort} ${cmd} --job never.mjs`, t.dir)
      assert.is(never.code, 2, never.stderr)
      assert.is(never.stderr, `gort ${cmd}: job module never.mjs: its import never finished (nothing was left to wait for): a top-level await that never settles?\n`)
    }

    const input = inputs(t.dir, ['a\n'])
    writeFileSync(path.join(t.dir, 'map.sh'), '#!/bin/sh\ncat\n')
    chmodSync(path.join(t.dir, 'map.sh'), 0o644)
    const out = path.join(t.dir, 'out')
    const cases: [string[], RegExp][] = [
      [['--mapper', path.join(t.dir, 'map.sh')], /^gort mapreduce: mapper ".*map\.sh": .*map\.sh is not executable \(chmod \+x/],
      [['--mapper', 'cat', '--reducer', 'no-such-reducer-program'], /^gort mapreduce: reducer "no-such-reducer-program": no-such-reducer-program is not an executable in the working directory or on PATH/],
      [['--mapper', 'cat', '--job', WC], /--job and --mapper\/--reducer\/--combiner are two ways/],
      [['--reducer', 'cat'], /--mapper is required with --reducer or --combiner/],
      [['--mapper', 'cat', '--partitioner', 'java'], /--partitioner must be 'hadoop' or 'default', got "java"/],
      // Hadoop Streaming's spellings are named, not read as -m -a -p… ("Unknown option '-m'").
      [['-mapper', 'cat'], /^gort mapreduce: -mapper is Hadoop Streaming's spelling: gort takes --mapper/],
      [['--mapper', 'cat', '-numReduceTasks', '2'], /-numReduceTasks is Hadoop Streaming's spelling: gort takes --reducers/],
      [['--mapper', 'cat', '-D', 'mapreduce.job.reduces=2'], /-D is a Hadoop Streaming option gort has no use for/],
      [['--mapper', 'cat', '-Dmapreduce.job.reduces=2'], /-D is a Hadoop Streaming option gort has no use for/],
      [['--mapper', 'cat', '-inputformat', 'TextInputFormat'], /-inputformat is a Hadoop Streaming option gort has no use for/],
      [['--mapper', 'cat', '--reducer', 'NONE', '--reducers', '2'], /--reducer NONE is a map-only job, and --reducers is 2/],
      [['--job', WC, '--reducer', 'NONE'], /--job and --mapper\/--reducer\/--combiner are two ways/],
      // No command would see it (it used to be dropped without a word).
      [['--mapper', 'cat', '--param', 'pattern=x'], /^gort mapreduce: --param is for job modules: give a streaming command its parameters on its own command line/],
    ]
    for (const [argv, re] of cases) {
      const r = await runCaptured(command, [...argv, '--input', input, '--output', out])
      assert.is(r.code, 2, `${argv.join(' ')}: ${r.err}`)
      assert.match(r.err, re)
      assert.not.ok(existsSync(out), `${argv.join(' ')} created the output`)
    }
    // Hadoop's map-only job, `-reducer NONE`: part-m files, no reducer program named NONE.
    const none = await runCaptured(command, ['--mapper', 'cat', '--reducer', 'NONE', '--input', input, '--output', out])
    assert.is(none.code, 0, none.err)
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-m-00000'])
    rmSync(out, { recursive: true })
    const failing = path.join(t.dir, 'fail.sh')
    writeFileSync(failing, '#!/bin/sh\nexit 4\n')
    chmodSync(failing, 0o755)
    const r = await runCaptured(command, ['--mapper', failing, '--input', input, '--output', out, '--max-attempts', '1'])
    assert.is(r.code, 1)
    assert.match(r.err, /task m-00000 failed 1 attempt: attempt 1: StreamProcessError: mapper ".*fail\.sh" exited with code 4/)
    assert.not.ok(existsSync(out))
    // A traceback on stderr is said with each attempt, and not all over again at the end.
    const noisy = path.join(t.dir, 'noisy.sh')
    writeFileSync(noisy, '#!/bin/sh\necho "Traceback: one" >&2\necho "  two" >&2\necho "ValueError: three" >&2\nexit 3\n', { mode: 0o755 })
    const n = await runCaptured(command, ['--mapper', noisy, '--input', input, '--output', out, '--max-attempts', '2'])
    assert.is(n.code, 1)
    assert.is(n.err.split('ValueError: three').length - 1, 2, n.err) // in each attempt's line (and passed through live)
    const last = n.err.trimEnd().split('\n').at(-1)!
    assert.match(last, /^gort mapreduce: task m-00000 failed 2 attempts \(each above\), the last: StreamProcessError: mapper ".*noisy\.sh" exited with code 3.* …$/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

test.run()
