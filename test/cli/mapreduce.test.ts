// `gort mapreduce` (src/cli/mapreduce.ts): in-process from the sources, and once through
// bin/gort.js from dist/ as an installed user runs it, with a TypeScript job module (compiled
// once by esbuild, which is why esbuild is a dependency, not a dev one; tsx too, for the modules
// that fall back to it).
import { execFile, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { constants as bufferConstants } from 'node:buffer'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { command, flagOf, packHint, REPEAT_MS, StopRequests, summary } from '../../src/cli/mapreduce.js'
import { heapGrowthFlag, HEAP_GROWING_PERCENT } from '../../src/cli/heap.js'
import { formatProgress, newProgressState, ProgressLine, applyEvent } from '../../src/cli/mapreduce-progress.js'
import { prestartFromArgv } from '../../src/cli/early.js'
import { prestartMs } from '../../src/mapreduce/prestart.js'
import type { RunJobOptions } from '../../src/mapreduce/index.js'
import { waitingCount } from '../../src/scheduler/main/prestart.js'
import { runCaptured } from '../_support/cli.js'
import { deadline } from '../_support/deadline.js'
import { FIXTURES, readParts, countsOf, sortedEntries, tempDir, wordCount } from '../mapreduce/_helpers.js'

const execFileAsync = promisify(execFile)
const cli = (...argv: string[]): ReturnType<typeof runCaptured> => runCaptured(command, argv)
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const WC = path.join(REPO, 'examples/mapreduce/wc.ts')

function inputs(dir: string): { glob: string; texts: string[] } {
  const texts = ['the cat\nthe hat\n', 'a cat\r\nno hat']
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `in${i}.txt`), t))
  return { glob: path.join(dir, 'data/*.txt'), texts }
}

test('--json runs the job and reports files and counters', deadline('json', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const { code, out: stdout, err } = await cli('--job', WC, '--input', glob, '--output', out, '--reducers', '2', '--procs', '2', '--split-size', '8', '--memory', '64KiB', '--json')
    assert.is(err, '')
    assert.is(code, 0)
    const r = JSON.parse(stdout) as { files: string[]; maps: number; reduces: number; threads: number; memory: number; counters: { mapInputRecords: number } }
    assert.equal(r.files, [path.join(out, 'part-r-00000'), path.join(out, 'part-r-00001')])
    assert.equal([r.reduces, r.threads, r.memory], [2, 2, 64 * 1024])
    assert.ok(r.maps >= 4, `${r.maps} maps of 8 bytes`)
    assert.is(r.counters.mapInputRecords, 4)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, 60_000))

test('--json on failure: stdout is one JSON object, the error with its fields; stderr and the exit code as without', deadline('json error', async () => {
  const t = tempDir()
  try {
    const { glob } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const failing = await cli('--job', path.join(FIXTURES, 'faulty.ts'), '--input', path.join(t.dir, 'bad.txt'), '--output', out, '--json')
    assert.is(failing.code, 2)
    assert.equal(JSON.parse(failing.out), { error: { name: 'InputNotFoundError', message: `gort mapreduce: input "${path.join(t.dir, 'bad.txt')}" matches no file`, code: 'ERR_MR_NO_INPUT', pattern: path.join(t.dir, 'bad.txt') } })
    writeFileSync(path.join(t.dir, 'data', 'in9.txt'), 'x\nTHROW\n')
    const thrown = await cli('--job', path.join(FIXTURES, 'faulty.ts'), '--input', glob, '--output', out, '--max-attempts', '1', '--json')
    assert.is(thrown.code, 1)
    assert.match(thrown.err, /task m-\d+ failed 1 attempt/)
    // The failure's line names where in the job it happened (the .ts line, through the source map).
    assert.match(thrown.err, /m-\d+ attempt 1 failed: Error: bad record at offset 2 of \S+ \(at \S*test\/mapreduce\/fixtures\/faulty\.ts:\d+:\d+\)\n/)
    const e = (JSON.parse(thrown.out) as { error: { name: string; code: string; task: string; attempts: { attempt: number; error: string }[] } }).error
    assert.equal([e.name, e.code, e.attempts.length, e.attempts[0]!.attempt], ['TaskFailedError', 'ERR_MR_TASK_FAILED', 1, 1])
    assert.match(e.attempts[0]!.error, /^Error: bad record at offset 2 of /)
  } finally {
    t.remove()
  }
}, 60_000))

test('--pack-files: the inputs\' small files share one map task; the same counts', deadline('pack-files', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const { code, out: stdout, err } = await cli('--job', WC, '--input', glob, '--output', out, '--procs', '2', '--split-size', '1MiB', '--pack-files', '--json')
    assert.is(err, '')
    assert.is(code, 0)
    const r = JSON.parse(stdout) as { maps: number }
    assert.ok(texts.filter((x) => x !== '').length > 1, 'several files')
    assert.is(r.maps, 1)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, 60_000))

test("V8's heap growth is tightened unless the process was started with its own", () => {
  const ours = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`
  assert.is(heapGrowthFlag(''), ours)
  assert.is(heapGrowthFlag('--import tsx --max-old-space-size=4096'), ours)
  assert.is(heapGrowthFlag('--heap-growing-percent=50'), undefined)
  assert.is(heapGrowthFlag('--enable-source-maps --heap_growing_percent=30'), undefined)
})

test('usage errors are exit 2 with the reason, and create nothing', deadline('usage', async () => {
  const t = tempDir()
  try {
    const { glob } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    mkdirSync(path.join(t.dir, 'exists'))
    const base = ['--job', WC, '--input', glob, '--output', out]
    const cases: [string[], RegExp][] = [
      [[...base, '--split-size', '12parsecs'], /^gort mapreduce: --split-size must be a size such as 64MiB, .*got "12parsecs"/],
      [[...base, '--memory', '1KiB'], /--memory must be a size .* at least 64 KiB, got "1KiB"/],
      [['--job', WC, '--input', path.join(t.dir, 'data/*.csv'), '--output', out], /^gort mapreduce: input ".*data\/\*\.csv" matches no file/],
      [['--job', WC, '--input', path.join(t.dir, 'missing.txt'), '--output', out], /input ".*missing\.txt" matches no file/],
      [['--job', WC, '--input', glob, '--output', path.join(t.dir, 'exists')], /^gort mapreduce: output directory .*exists already exists/],
      [['--job', path.join(FIXTURES, 'throws-on-import.ts'), '--input', glob, '--output', out], /job module .*throws-on-import\.ts: this module fails on purpose/],
      [['--job', path.join(FIXTURES, 'no-map.ts'), '--input', glob, '--output', out], /job module .*no-map\.ts: its default export is not a job: the job has no map function/],
      [['--job', path.join(t.dir, 'nope.ts'), '--input', glob, '--output', out], /job module .*nope\.ts: /],
      [['--input', glob, '--output', out], /--job \(a job module\) or --mapper \(a streaming command\) is required/],
      [['--job', t.dir, '--input', glob, '--output', out], /job module .*: a directory, not a module file$/m],
      [['--job', WC, '--input', glob, '--output', path.join(t.dir, 'afile')], /^gort mapreduce: output .*afile already exists, and is a file$/m],
      // A negative value is the flag's own mistake, not parseArgs' "argument is ambiguous".
      [[...base, '--reducers', '-1'], /^gort mapreduce: --reducers must be an integer from 0 to 100000, got "-1"$/m],
      [[...base, '--split-size', '-5'], /^gort mapreduce: --split-size must be a size such as 64MiB, .*got "-5"/m],
      [['--job', WC, '--output', out], /--input is required/],
      [[...base, '--reducers', 'many'], /--reducers must be an integer from 0/],
      [[...base, '--procs', '0'], /--procs must be an integer from 1 to 256, got "0"/],
      [[...base, '--bogus'], /Unknown option '--bogus'/],
      [[...base, '--task-timeout', '12parsecs'], /--task-timeout must be a duration such as 10m, .*got "12parsecs"/],
      [[...base, '--task-timeout', '10ms'], /--task-timeout must be a duration .*at least 100ms, got "10ms"/],
      [[...base, '--progress', '--no-progress'], /--progress and --no-progress: choose one/],
      [[...base, '--output', path.join(t.dir, 'out2')], /^gort mapreduce: --output is given twice/],
      [[...base, '--reducers', '2', '--reducers', '3'], /--reducers is given twice/],
      [['--mapper', 'cat', '--pack-files', '--input', glob, '--output', out], /^gort mapreduce: --pack-files is for job modules, not --mapper/],
      // Refused by runJob, named by the flag the user typed, not the option's name.
      [['--mapper', '', '--input', glob, '--output', out], /^gort mapreduce: --mapper must be a command line .*, got ""/],
      [['--job', path.join(REPO, 'examples/mapreduce/inverted-index.ts'), '--input', path.join(t.dir, 'big'), '--output', out],
        /input ".*big\/huge\.txt" is \d+ bytes, too large for one string with records: 'files'/],
    ]
    writeFileSync(path.join(t.dir, 'afile'), 'not a directory\n')
    // A sparse file one byte past the longest string: refused before it is read.
    mkdirSync(path.join(t.dir, 'big'))
    writeFileSync(path.join(t.dir, 'big/huge.txt'), '')
    truncateSync(path.join(t.dir, 'big/huge.txt'), bufferConstants.MAX_STRING_LENGTH + 1)
    for (const [argv, message] of cases) {
      const { code, out: stdout, err } = await cli(...argv)
      assert.is(code, 2, `${argv.join(' ')}: ${err}`)
      assert.is(stdout, '')
      assert.match(err, message)
      assert.not.ok(existsSync(out), `${argv.join(' ')} created the output`)
    }
    // A malformed option says so in one line and points at --help, rather than printing it all.
    const bogus = await cli(...base, '--bogus')
    assert.is(bogus.err, "gort mapreduce: Unknown option '--bogus'\n(gort mapreduce --help lists the options)\n")
    // With --json, stdout holds one JSON object whatever went wrong, a usage error too.
    for (const argv of [[...base, '--split-size', '12parsecs'], [...base, '--bogus'], ['--input', glob, '--output', out], [...base, '--reducers', 'x']]) {
      const r = await cli(...argv, '--json')
      assert.is(r.code, 2, argv.join(' '))
      const got = JSON.parse(r.out) as { error: { message: string } }
      assert.ok(r.err.includes(got.error.message), `${argv.join(' ')}: ${r.out}`)
    }
    const help = await cli('--help')
    assert.is(help.code, 0)
    assert.match(help.out, /usage:\n {2}gort mapreduce --job JOB/)
  } finally {
    t.remove()
  }
}, 60_000))

test('a job that fails is exit 1, names the task and its attempts, and leaves no output', deadline('fails', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    writeFileSync(path.join(t.dir, 'data/x.txt'), 'ok\nTHROW\n')
    const out = path.join(t.dir, 'out')
    const { code, err } = await cli('--job', path.join(FIXTURES, 'faulty.ts'), '--input', path.join(t.dir, 'data'), '--output', out, '--procs', '1', '--max-attempts', '2')
    assert.is(code, 1)
    assert.match(err, /m-00000 attempt 1 failed: Error: bad record at offset 3/)
    assert.match(err, /gort mapreduce: task m-00000 failed 2 attempts: attempt 1: Error: bad record at offset 3 of .*x\.txt; attempt 2: /)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, 60_000))

test('a reducer that always throws: exit 1, the task and each attempt named, no output', deadline('reduce throws', async () => {
  const t = tempDir()
  try {
    const { glob } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const { code, err } = await cli('--job', path.join(FIXTURES, 'reduce-throws.ts'), '--input', glob, '--output', out, '--procs', '2', '--reducers', '1', '--max-attempts', '2')
    assert.is(code, 1)
    assert.match(err, /gort mapreduce: task r-00000 failed 2 attempts: attempt 1: Error: reduce refuses ".*"; attempt 2: Error: reduce refuses/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, 60_000))

test('the progress line: its text, drawn with \\r and erase-line, erased before a message and at the end', () => {
  const s = newProgressState()
  applyEvent(s, { type: 'start', maps: 10, reduces: 4, procs: 2, inputBytes: 5e6 }, 0)
  applyEvent(s, { type: 'attempt', phase: 'map', task: 'm-00000', attempt: 1, state: 'succeeded', backup: false, bytes: 3e6, done: 3, total: 10 }, 1000)
  applyEvent(s, { type: 'attempt', phase: 'map', task: 'm-00001', attempt: 1, state: 'failed', backup: false, error: 'x', done: 3, total: 10 }, 1500)
  applyEvent(s, { type: 'attempt', phase: 'map', task: 'm-00002', attempt: 2, state: 'started', backup: true, done: 3, total: 10 }, 1500)
  assert.is(formatProgress(s, 2000), 'maps 3/10  reduces 0/4  1.5 MB/s  0:02  1 failed  1 backup')
  assert.is(formatProgress(newProgressState(), 3_725_000), 'starting  1:02:05', 'no totals before the start event')
  const d = newProgressState()
  applyEvent(d, { type: 'decompress', files: 2, bytes: 310_512_345 }, 0)
  assert.is(formatProgress(d, 4000), 'decompressing 2 files (310.5 MB)  0:04', 'large compressed inputs decompressed before the maps')
  applyEvent(d, { type: 'start', maps: 10, reduces: 4, procs: 2, inputBytes: 310_512_345 }, 5000)
  assert.is(formatProgress(d, 5000), 'maps 0/10  reduces 0/4  0.0 MB/s  0:05')
  // Once the map phase is over, the rate is its own: it does not fall while the reduces run.
  applyEvent(s, { type: 'attempt', phase: 'map', task: 'm-00009', attempt: 1, state: 'succeeded', backup: false, bytes: 2e6, done: 10, total: 10 }, 2500)
  applyEvent(s, { type: 'phase', phase: 'map', tasks: 10 }, 2500)
  assert.is(formatProgress(s, 2500), 'maps 10/10  reduces 0/4  2.0 MB/s  0:02  1 failed  1 backup')
  assert.is(formatProgress(s, 10_000), 'maps 10/10  reduces 0/4  2.0 MB/s  0:10  1 failed  1 backup')
  let screen = ''
  let now = 0
  const line = new ProgressLine({ write: (text: string) => void (screen += text) }, () => now)
  line.event({ type: 'start', maps: 2, reduces: 1, procs: 1, inputBytes: 0 })
  now = 1000
  line.draw()
  line.draw() // unchanged: not drawn again
  line.log('gort mapreduce: m-00000 attempt 1 failed: boom')
  line.stop()
  line.draw() // stopped: nothing
  const E = '\r\x1b[2K'
  const L0 = 'maps 0/2  reduces 0/1  0.0 MB/s  0:00' // drawn at the start event
  const L = 'maps 0/2  reduces 0/1  0.0 MB/s  0:01'
  assert.is(screen, `${E}${L0}${E}${L}${E}gort mapreduce: m-00000 attempt 1 failed: boom\n${E}${L}${E}`)
})

test('flagOf: the flag of each runJob option the CLI sets', () => {
  assert.is(flagOf('splitSize'), '--split-size')
  assert.is(flagOf('maxAttempts'), '--max-attempts')
  assert.is(flagOf('packFiles'), '--pack-files')
  assert.is(flagOf('partition'), '--partitioner')
  assert.is(flagOf('backupTasks'), '--no-backup')
  assert.is(flagOf('params'), '--param')
  assert.is(flagOf('mapper'), '--mapper')
  assert.is(flagOf('--memory'), '--memory', 'a name that is a flag already')
})

test('an input file it may not read is a usage error (exit 2) before anything is created', deadline('unreadable', async () => {
  const t = tempDir()
  try {
    chmodSync(t.dir, 0o755) // for the unprivileged user below
    writeFileSync(path.join(t.dir, 'ok.txt'), 'a b\n')
    writeFileSync(path.join(t.dir, 'secret.txt'), 'c d\n')
    chmodSync(path.join(t.dir, 'secret.txt'), 0o000)
    const out = path.join(t.dir, 'out')
    const gort = [process.execPath, path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', path.join(REPO, 'examples/mapreduce/wc.ts'), '--input', path.join(t.dir, '*.txt'), '--output', out]
    // root reads any file: run gort as nobody (util-linux's setpriv, on Debian by default).
    const argv = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...gort] : gort
    const r = await promisify(execFile)(argv[0]!, argv.slice(1), { env: { ...process.env, NODE_OPTIONS: '' } }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e)
    assert.is(r.code, 2, r.stderr)
    assert.match(r.stderr, /^gort mapreduce: input file ".*secret\.txt" cannot be read \(EACCES\)\n$/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, 60_000))

test('summary: one of a thing is singular', () => {
  const counters = { mapInputRecords: 1, reduceOutputRecords: 1, mapOutputRecords: 1, spills: 1, failedAttempts: 1, timedOutAttempts: 0, inputBytes: 1, spilledRecords: 1, shuffleBytes: 1, outputBytes: 1, mapAttempts: 1, reduceAttempts: 1, backupTasks: 0, cancelledAttempts: 0 }
  const r = { output: '/o', files: ['/o/part-r-00000'], maps: 1, reduces: 1, threads: 1, counters, userCounters: new Map() } as unknown as Parameters<typeof summary>[0]
  const [first, second] = summary(r, 1000)
  assert.is(first, 'gort mapreduce: 1 map, 1 reduce on 1 thread; 1 records in, 1 out; 1 spill; 1 failed attempt')
  assert.is(second, 'output: /o (1 part file, _SUCCESS)')
})

test('packHint: a note for many small map tasks only', () => {
  const result = (maps: number, inputBytes: number): Parameters<typeof packHint>[0] => ({ maps, counters: { inputBytes } }) as unknown as Parameters<typeof packHint>[0]
  assert.is(packHint(result(63, 63 * 2048)), undefined, 'too few tasks to matter')
  assert.is(packHint(result(64, 64 * (1 << 20))), undefined, 'tasks of a MiB each')
  assert.is(packHint(result(2000, 2000 * 2080)), 'gort mapreduce: note: 2000 map tasks read 2.03 KiB each on average; --pack-files runs small files together (fewer tasks, fewer runs for each reduce to merge)')
})

/** gortChild's processes that have not exited: a test that fails (its deadline passed) leaves none running. */
const children = new Set<ReturnType<typeof spawn>>()
test.after.each(() => {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
})

/** Runs bin/gort.js mapreduce (from dist/) in a child process. */
function gortChild(args: string[], env: Record<string, string> = {}): { done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>; child: ReturnType<typeof spawn>; stderr: () => string } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/gort.js'), 'mapreduce', ...args], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()))
  child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()))
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { done, child, stderr: () => stderr }
}

/**
 * `run.done`, or a failure that says why not after `ms`: gort still running (a stop that hangs),
 * or exited with its pipes still open (something it started holds them), with its stderr so far.
 */
async function stopped(run: ReturnType<typeof gortChild>, ms = 30_000): Promise<Awaited<ReturnType<typeof gortChild>['done']>> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const how = run.child.exitCode === null && run.child.signalCode === null ? 'is still running' : `exited (${run.child.exitCode ?? run.child.signalCode}) but its pipes are open`
      reject(new Error(`gort ${how} ${ms} ms after it was stopped; stderr so far:\n${run.stderr()}`))
    }, ms)
  })
  try {
    return await Promise.race([run.done, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Resolves once `file` exists (polled: the child process gives no other sign); fails with the
 * child's exit and stderr if it ends first, rather than polling until the test's deadline.
 */
async function appears(file: string, run: ReturnType<typeof gortChild>): Promise<void> {
  let ended: { code: number | null; signal: string | null; stderr: string } | undefined
  void run.done.then((r) => (ended = r))
  while (!existsSync(file)) {
    if (ended !== undefined) throw new Error(`gort ended (code ${ended.code}, signal ${ended.signal}) before ${file} appeared; stderr:\n${ended.stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * A job under `dir` whose first map attempt (of a.txt) hangs (stall.ts's HANG), with its markers'
 * directory; `more`: b.txt too. Returns the CLI's arguments, the markers and the output directory.
 */
function hangingJob(dir: string, procs: number, more: boolean): { args: string[]; markers: string; out: string } {
  mkdirSync(path.join(dir, 'data'))
  writeFileSync(path.join(dir, 'data/a.txt'), 'a b\nHANG\nc\n')
  if (more) writeFileSync(path.join(dir, 'data/b.txt'), 'b c d\n')
  const markers = path.join(dir, 'markers')
  mkdirSync(markers)
  const out = path.join(dir, 'out')
  return { args: ['--job', path.join(FIXTURES, 'stall.ts'), '--input', path.join(dir, 'data'), '--output', out, '--procs', String(procs), '--no-backup'], markers, out }
}

/** A job stopped by `by` said so, and its output directory `out` is gone. */
function cleanStop(stderr: string, by: string, out: string): void {
  assert.match(stderr, new RegExp(`gort mapreduce: stopped by ${by}; .*out was removed`))
  assert.not.ok(existsSync(out), 'the output directory is removed')
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129], ['SIGQUIT', 131]] as const) {
  test(`${sig} stops a running job: exit ${code}, threads ended, no output directory, a rerun works`, deadline(sig, async () => {
    const t = tempDir()
    try {
      const { args, markers, out } = hangingJob(t.dir, 2, true)
      const run = gortChild(args, { GORT_MR_MARKERS: markers })
      await appears(path.join(markers, 'm-00000-1'), run)
      assert.ok(existsSync(path.join(out, '_temporary')), 'the job is under way')
      run.child.kill(sig)
      const r = await stopped(run)
      assert.is(r.code, code, r.stderr)
      cleanStop(r.stderr, sig, out)
      // The same command again (the hang is on attempt 1 only, and this run's attempts start at 1 too:
      // so stop it the same way, and check the rerun was accepted, not refused as "already exists").
      mkdirSync(path.join(t.dir, 'markers2'))
      const again = gortChild(args, { GORT_MR_MARKERS: path.join(t.dir, 'markers2') })
      await appears(path.join(t.dir, 'markers2', 'm-00000-1'), again)
      again.child.kill(sig)
      assert.is((await stopped(again)).code, code)
      assert.not.ok(existsSync(out))
    } finally {
      t.remove()
    }
  }, 60_000))
}

test('a second stop signal exits at once, and says the output directory is left behind', deadline('again', async () => {
  const t = tempDir()
  try {
    const { args, markers } = hangingJob(t.dir, 1, false)
    const run = gortChild(args, { GORT_MR_MARKERS: markers })
    await appears(path.join(markers, 'm-00000-1'), run)
    // The hung attempt keeps the first stop busy for the kill grace at least: the second comes meanwhile.
    const stopping = new Promise<void>((resolve) => run.child.stderr!.on('data', (b: Buffer) => void (b.toString().includes('stopping') && resolve())))
    run.child.kill('SIGINT')
    await stopping
    // Another signal: a second SIGINT this soon would be taken for the first delivered twice
    // (StopRequests, below), and the stop takes less than REPEAT_MS when nothing holds it up.
    run.child.kill('SIGTERM')
    const r = await stopped(run)
    assert.is(r.code, 143, r.stderr)
    assert.match(r.stderr, /gort mapreduce: SIGTERM while stopping: exiting now; .*out is left behind: remove it before running again/, r.stderr)
    assert.not.match(r.stderr, /stopped by/)
  } finally {
    t.remove()
  }
}, 60_000))

test('StopRequests: the first signal stops, the same one again within REPEAT_MS is a repeat, later or another one exits', () => {
  const r = new StopRequests()
  assert.is(r.on('SIGINT', 1000), 'stop')
  assert.is(r.on('SIGINT', 1000 + REPEAT_MS - 1), 'repeat')
  assert.is(r.on('SIGINT', 1000 + REPEAT_MS), 'exit')
  const other = new StopRequests()
  assert.is(other.on('SIGINT', 0), 'stop')
  assert.is(other.on('SIGTERM', 1), 'exit')
})

test('stdout closed by its reader mid-job (| head -1) stops the job as SIGPIPE would: exit 141, output removed', deadline('epipe', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    writeFileSync(path.join(t.dir, 'data/a.txt'), 'a\n')
    const out = path.join(t.dir, 'out')
    const run = gortChild(['--job', path.join(FIXTURES, 'ticks.ts'), '--input', path.join(t.dir, 'data'), '--output', out, '--procs', '1'])
    // The reader takes the first line and goes away, as head -1 does.
    await new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()))
    assert.ok(existsSync(path.join(out, '_temporary')), 'the job is under way')
    run.child.stdout!.destroy()
    const r = await stopped(run)
    assert.is(r.code, 141, r.stderr)
    cleanStop(r.stderr, 'SIGPIPE', out)
  } finally {
    t.remove()
  }
}, 60_000))

test('one stop request delivered twice at once (timeout -s INT signals the command and its group) still stops cleanly', deadline('twice', async () => {
  const t = tempDir()
  try {
    const { args, markers, out } = hangingJob(t.dir, 1, false)
    const run = gortChild(args, { GORT_MR_MARKERS: markers })
    await appears(path.join(markers, 'm-00000-1'), run)
    // Back to back, as timeout sends them (no sleep between: a stretched one could make the
    // second a person's second Ctrl-C; StopRequests' own test covers the time rule).
    run.child.kill('SIGINT')
    run.child.kill('SIGINT')
    const r = await stopped(run)
    // 130, or killed by the repeat itself when it lands while Node tears the process down after
    // a very fast stop (Node's signal handlers are gone by then): a shell says 130 both ways.
    assert.ok(r.code === 130 || (r.code === null && r.signal === 'SIGINT'), `${r.code} ${r.signal}: ${r.stderr}`)
    cleanStop(r.stderr, 'SIGINT', out)
    assert.not.match(r.stderr, /while stopping: exiting now/)
  } finally {
    t.remove()
  }
}, 60_000))

test('--progress draws the line on a non-terminal stderr; without it, stderr stays quiet', deadline('progress', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const shown = await gortChild(['--job', WC, '--input', glob, '--output', path.join(t.dir, 'out1'), '--procs', '2', '--progress']).done
    assert.is(shown.code, 0, shown.stderr)
    assert.match(shown.stderr, /\r\x1b\[2Kmaps \d+\/\d+ {2}reduces \d+\/2 {2}\d+\.\d MB\/s {2}\d+:\d\d/)
    assert.ok(shown.stderr.endsWith('\r\x1b[2K'), 'the line is erased at the end')
    const quiet = await gortChild(['--job', WC, '--input', glob, '--output', path.join(t.dir, 'out2'), '--procs', '2']).done
    assert.is(quiet.code, 0)
    assert.is(quiet.stderr, '')
    assert.match(quiet.stdout, /attempts: 2 map, 2 reduce; 0 failed \(0 timed out\), 0 backups, 0 cancelled/)
    assert.equal(sortedEntries(countsOf(readParts(path.join(t.dir, 'out2')))), sortedEntries(wordCount(texts)))
    assert.equal(readdirSync(path.join(t.dir, 'out2')).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001'])
  } finally {
    t.remove()
  }
}, 60_000))

test('prestartFromArgv starts the threads the arguments ask for; runJob\'s prestart takes them, adds what it lacks, or ends those of another kind', async () => {
  assert.is(waitingCount(), 0)
  const job = ['--job', WC, '--input', 'x', '--output', 'y']
  const cases: [string[], RunJobOptions, number, number][] = [
    // [arguments, the options runJob then gets, threads waiting after the scan, after runJob's prestart]
    [['mapreduce', ...job, '--procs', '2'], { job: WC, input: 'x', output: 'y', procs: 2 }, 2, 2],
    [['mapreduce', `--job=${WC}`, '--procs=3', '--json'], { job: WC, input: 'x', output: 'y', procs: 3, taskStdout: 'stderr' }, 3, 3],
    [['mapreduce', ...job], { job: WC, input: 'x', output: 'y', procs: 2 }, 1, 2],
    // The scan guessed wrong (no --json): its thread is ended, runJob's own start.
    [['mapreduce', ...job], { job: WC, input: 'x', output: 'y', taskStdout: 'stderr' }, 1, 1],
    [['mapreduce', '--mapper', 'cat', '--input', 'x'], { mapper: 'cat', input: 'x', output: 'y' }, 1, 1],
    [['mapreduce', ...job, '--help'], { job: WC, input: 'x', output: 'y' }, 0, 1],
    [['sched', '--procs', '2'], { job: WC, input: 'x', output: 'y' }, 0, 1],
  ]
  for (const [argv, options, scanned, then] of cases) {
    prestartFromArgv(argv)
    assert.is(waitingCount(), scanned, `${argv.join(' ')}: after the scan`)
    const handle = prestartMs(options)
    assert.is(waitingCount(), then, `${argv.join(' ')}: after runJob's prestart`)
    await handle.discard()
    assert.is(waitingCount(), 0)
  }
})

test('bin/gort.js mapreduce runs a TypeScript job from dist/ under plain node', deadline('bin', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const { stdout } = await execFileAsync(process.execPath, [path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', WC, '--input', glob, '--output', out, '--procs', '2'], {
      cwd: t.dir, env: { ...process.env, NODE_OPTIONS: '' },
    })
    assert.match(stdout, /^gort mapreduce: 2 maps, 2 reduces on 2 threads; 4 records in, \d+ out; 0 spills; 0 failed attempts\n/)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.is(readFileSync(path.join(out, '_SUCCESS'), 'utf8'), '')
  } finally {
    t.remove()
  }
}, 60_000))

test('under a low open-file limit: --procs past it is refused before any thread starts (exit 1, nothing made); the default runs on fewer', deadline('ulimit', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    // 100 files: 2 threads fit (32 + 24 each), 12 do not. Before, 12 met EMFILE in a module
    // import (a "job module" error, or "Cannot find package"), or Node aborted.
    const run = (procs: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => new Promise((resolve) => {
      execFile('bash', ['-c', 'ulimit -n 100 && exec "$@"', 'bash', process.execPath, path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', WC, '--input', glob, '--output', out, ...procs], {
        cwd: t.dir, env: { ...process.env, NODE_OPTIONS: '' },
      }, (e, stdout, stderr) => resolve({ code: e === null ? 0 : (e as { code?: number }).code ?? null, stdout, stderr }))
    })
    const refused = await run(['--procs', '12'])
    assert.is(refused.code, 1)
    assert.is(refused.stderr, 'gort mapreduce: 12 threads need more open files than this process may have (ulimit -n is 100): raise it (ulimit -n 4096) or run at most 2 threads (procs)\n')
    assert.not.ok(existsSync(out))
    const ran = await run(['--procs', '2'])
    assert.is(ran.code, 0, ran.stderr)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, 60_000))

test('--json: stdout is the result alone; what the job prints goes to stderr (and to stdout without --json)', deadline('json stdout', async () => {
  const t = tempDir()
  try {
    const { glob } = inputs(t.dir)
    const run = (out: string, ...more: string[]): Promise<{ stdout: string; stderr: string }> =>
      execFileAsync(process.execPath, [path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', path.join(FIXTURES, 'noisy.ts'), '--input', glob, '--output', path.join(t.dir, out), '--procs', '2', ...more], {
        cwd: t.dir, env: { ...process.env, NODE_OPTIONS: '' },
      })
    const json = await run('out-json', '--json')
    const result = JSON.parse(json.stdout) as { counters: { mapInputRecords: number } }
    assert.is(result.counters.mapInputRecords, 4)
    assert.equal(json.stderr.split('\n').filter((l) => l.startsWith('map saw: ')).sort(), ['map saw: a cat', 'map saw: no hat', 'map saw: the cat', 'map saw: the hat'])
    const plain = await run('out-plain')
    assert.match(plain.stdout, /map saw: the hat\n/)
    assert.not.match(plain.stderr, /map saw/)
  } finally {
    t.remove()
  }
}, 60_000))

test.run()
