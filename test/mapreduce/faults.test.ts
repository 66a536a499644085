// Faults end to end (attempts.ts): timeouts that end a hung M, backup copies of stragglers, no
// task run twice when nothing fails, and the 6.5840 crash test. Attempts are counted by marker
// files the fixtures write per attempt (winners or not), not only by the result's counters.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { MapReduceArgError, parseDuration, formatDuration, runJob, TaskFailedError, TaskTimeoutError, ThreadExitError, type ProgressEvent } from '../../src/mapreduce/index.js'
import { describeError } from '../../src/mapreduce/attempts.js'
import { MDiedError } from '../../src/scheduler/errors.js'
import { deadline } from '../_support/deadline.js'
import { countsOf, FIXTURES, readParts, sortedEntries, tempDir, text, wordCount } from './_helpers.js'

const STALL = path.join(FIXTURES, 'stall.ts')
const CHAOS = path.join(FIXTURES, 'chaos.ts')
const MS = 90_000

function writeInputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), t))
  return path.join(dir, 'data/*.txt')
}

/** Runs `body` with $name set to `value` (the Ms copy the environment when they start). */
async function withEnv<T>(name: string, value: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[name]
  process.env[name] = value
  try {
    return await body()
  } finally {
    if (before === undefined) delete process.env[name]
    else process.env[name] = before
  }
}

function markerDir(dir: string): string {
  const m = path.join(dir, 'markers')
  mkdirSync(m)
  return m
}

const test = suite('faults')

test('durations: 10m, 90s, 1h30m, 250ms, a number; bad ones are MapReduceArgError', () => {
  assert.is(parseDuration('t', '10m'), 600_000)
  assert.is(parseDuration('t', '90s'), 90_000)
  assert.is(parseDuration('t', '1h30m'), 5_400_000)
  assert.is(parseDuration('t', '1.5s'), 1500)
  assert.is(parseDuration('t', '250ms'), 250)
  assert.is(parseDuration('t', '4000'), 4000)
  assert.is(parseDuration('t', 42), 42)
  for (const bad of ['soon', '-1s', '10 parsecs', '', '1e3', 's', '5m3']) {
    assert.throws(() => parseDuration('taskTimeout', bad), (e: unknown) => e instanceof MapReduceArgError && e.option === 'taskTimeout' && e.value === bad, bad)
  }
  assert.throws(() => parseDuration('t', '50ms', 100), /at least 100ms, got "50ms"/)
  // Past a timer's limit Node fires at once: a 600h timeout was a timeout after 1 ms.
  assert.is(parseDuration('t', '596h'), 596 * 3600e3)
  for (const long of ['600h', 2 ** 31]) assert.throws(() => parseDuration('taskTimeout', long), /at most 596h \(a timer's limit\)/)
  assert.equal([formatDuration(600_000), formatDuration(5_400_000), formatDuration(1500), formatDuration(250), formatDuration(90_000)], ['10m', '1h30m', '1.5s', '250ms', '1m30s'])
})

test('bad taskTimeout and backupTasks are refused before anything is created', deadline('refused', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a'])
    const out = path.join(t.dir, 'out')
    for (const o of [{ taskTimeout: '12parsecs' }, { taskTimeout: 5 }, { backupTasks: 'yes' as unknown as boolean }]) {
      const e = await runJob({ job: STALL, input, output: out, procs: 1, ...o }).then(() => undefined, (err: unknown) => err)
      assert.instance(e, MapReduceArgError)
      assert.not.ok(existsSync(out))
    }
  } finally {
    t.remove()
  }
}))

test('when nothing fails, no task runs twice: one marker per task, attempt 1 only, no backups', deadline('no re-execution', async () => {
  const t = tempDir()
  try {
    const texts = Array.from({ length: 6 }, (_, i) => text(100 + i, 400))
    const input = writeInputs(t.dir, texts)
    const markers = markerDir(t.dir)
    const out = path.join(t.dir, 'out')
    const r = await withEnv('GORT_MR_MARKERS', markers, () => runJob({ job: STALL, input, output: out, procs: 2, reducers: 3, splitSize: '4KiB' }))
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.ok(r.maps > 6, `${r.maps} maps`)
    const want = [
      ...Array.from({ length: r.maps }, (_, i) => `m-${String(i).padStart(5, '0')}-1`),
      ...Array.from({ length: 3 }, (_, i) => `r-${String(i).padStart(5, '0')}-1`),
    ]
    assert.equal(readdirSync(markers).sort(), want.sort())
    const c = r.counters
    assert.equal([c.mapAttempts, c.reduceAttempts, c.failedAttempts, c.backupTasks, c.cancelledAttempts, c.timedOutAttempts], [r.maps, 3, 0, 0, 0, 0])
  } finally {
    t.remove()
  }
}, MS))

test('a straggler gets a backup copy: the copy wins, the original is cancelled, no duplicate, no debris', deadline('backup', async () => {
  const t = tempDir()
  try {
    const texts = Array.from({ length: 6 }, (_, i) => text(200 + i, 50) + (i === 2 ? '\nSTALL\n' : ''))
    const input = writeInputs(t.dir, texts)
    const markers = markerDir(t.dir)
    const out = path.join(t.dir, 'out')
    const events: ProgressEvent[] = []
    const r = await withEnv('GORT_MR_MARKERS', markers, () =>
      runJob({ job: STALL, input, output: out, procs: 2, reducers: 2, onProgress: (e) => void events.push(e) }))
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001'])
    const ran = readdirSync(markers).sort()
    assert.ok(ran.includes('m-00002-1') && ran.includes('m-00002-2'), ran.join(' '))
    assert.is(ran.filter((m) => m.startsWith('m-') && !m.startsWith('m-00002')).length, 5, 'the other maps ran once')
    const won = events.find((e) => e.type === 'attempt' && e.task === 'm-00002' && e.state === 'succeeded')
    assert.ok(won !== undefined && won.type === 'attempt' && won.backup && won.attempt === 2, JSON.stringify(won))
    assert.ok(events.some((e) => e.type === 'attempt' && e.task === 'm-00002' && e.attempt === 1 && e.state === 'cancelled'))
    const c = r.counters
    assert.equal([c.mapAttempts, c.backupTasks, c.cancelledAttempts, c.failedAttempts], [7, 1, 1, 0])
  } finally {
    t.remove()
  }
}, MS))

test('the task timeout counts from the last progress: slow attempts that work are not ended', deadline('slow', async () => {
  const t = tempDir()
  try {
    // 8 records of 200 ms in one task: 1.6 s, past a 1 s timeout, with 0.8 s to spare between two
    // records on a loaded machine. Progress in process: each record read; under streaming, each
    // line the mapper or combiner writes, and each line on its stderr.
    const texts = [Array.from({ length: 8 }, (_, i) => `w${i % 3} x`).join('\n')]
    const input = writeInputs(t.dir, texts)
    const script = path.join(t.dir, 'slow.sh')
    writeFileSync(script, '#!/bin/sh\nwhile read -r l; do sleep 0.2; for w in $l; do printf \'%s\\t1\\n\' "$w"; done; done\n', { mode: 0o755 })
    const quiet = path.join(t.dir, 'quiet.sh') // writes its lines at the end, says it is working meanwhile
    writeFileSync(quiet, '#!/bin/sh\nn=0; while read -r l; do sleep 0.2; echo "reporter:status:at $n" >&2; n=$((n+1)); done; printf \'w0\\t3\\nw1\\t3\\nw2\\t2\\nx\\t8\\n\'\n', { mode: 0o755 })
    const chatty = path.join(t.dir, 'chatty.sh') // as quiet.sh, but plain lines on stderr (Hadoop counts any)
    writeFileSync(chatty, '#!/bin/sh\nwhile read -r l; do sleep 0.2; echo "working" >&2; done; printf \'w0\\t3\\nw1\\t3\\nw2\\t2\\nx\\t8\\n\'\n', { mode: 0o755 })
    const comb = path.join(t.dir, 'comb.sh') // a combiner that takes 0.2 s a line
    writeFileSync(comb, '#!/bin/sh\nwhile read -r l; do sleep 0.2; printf \'%s\\n\' "$l"; done\n', { mode: 0o755 })
    const runs: [string, Partial<Parameters<typeof runJob>[0]>][] = [
      ['in process', { job: path.join(FIXTURES, 'slow.ts') }],
      ['streaming, lines out', { mapper: script, reducer: 'cat' }],
      ['streaming, reporter lines', { mapper: quiet, reducer: 'cat' }],
      ['streaming, stderr lines', { mapper: chatty, reducer: 'cat' }],
      ['streaming, a slow combiner', { mapper: 'cat', combiner: comb, reducer: 'cat' }],
    ]
    for (const [i, [what, o]] of runs.entries()) {
      const out = path.join(t.dir, `out-${i}`)
      const r = await runJob({ ...o, input, output: out, procs: 1, reducers: 1, taskTimeout: '1s', backupTasks: false, maxAttempts: 1 } as Parameters<typeof runJob>[0])
      assert.is(r.counters.timedOutAttempts, 0, what)
      if (what === 'in process') assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)), what)
      else assert.is([...readParts(out).values()].reduce((n, vs) => n + vs.length, 0), what.endsWith('out') ? 16 : what.endsWith('combiner') ? 8 : 4, what)
    }
  } finally {
    t.remove()
  }
}, MS))

test('an attempt that hangs is ended after taskTimeout and re-run (one thread: only a new M can run it)', deadline('hang', async () => {
  const t = tempDir()
  try {
    const texts = ['a b\nHANG\nc', 'b c d']
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const failed: string[] = []
    const r = await runJob({
      job: STALL, input, output: out, procs: 1, reducers: 1, taskTimeout: '1s', backupTasks: false,
      onProgress: (e) => void (e.type === 'attempt' && e.state === 'failed' && failed.push(`${e.task}-${e.attempt}: ${e.error}`)),
    })
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.equal(failed, ['m-00000-1: TaskTimeoutError: task m-00000 attempt 1 timed out after 1s without progress'])
    assert.equal([r.counters.failedAttempts, r.counters.timedOutAttempts, r.counters.mapAttempts], [1, 1, 3])
  } finally {
    t.remove()
  }
}, MS))

test('an attempt whose code throws is retried on another thread, also on one: a state it broke does not fail the retry', deadline('retry elsewhere', async () => {
  // taints.ts: a failing attempt sets a module-level flag that fails every later attempt on its
  // thread. With the retry on the same M (before retirement), maxAttempts 2 failed the job.
  const t = tempDir()
  try {
    const texts = ['a b\nTHROW-ONCE\nc', 'b c d\nREDUCE-THROW-ONCE']
    const input = writeInputs(t.dir, texts)
    const markers = markerDir(t.dir)
    for (const procs of [1, 2]) {
      const out = path.join(t.dir, `out${procs}`)
      const r = await withEnv('GORT_MR_MARKERS', markers, () => runJob({ job: path.join(FIXTURES, 'taints.ts'), input, output: out, procs, reducers: 1, maxAttempts: 2, backupTasks: false }))
      assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
      assert.equal([r.counters.failedAttempts, r.counters.mapAttempts, r.counters.reduceAttempts], [2, 3, 2])
      const at = new Map(readdirSync(markers).map((f) => f.split('@') as [string, string]))
      assert.is.not(at.get('m-00000-2'), at.get('m-00000-1'), `procs ${procs}: the map's retry ran on the thread its first attempt failed on`)
      assert.is.not(at.get('r-00000-2'), at.get('r-00000-1'), `procs ${procs}: the reduce's retry ran on the thread its first attempt failed on`)
      for (const f of readdirSync(markers)) rmSync(path.join(markers, f))
    }
  } finally {
    t.remove()
  }
}, MS))

test('on one thread, attempts stuck at an await or looping after one time out and are retried', deadline('stuck await', async () => {
  // Main ends a thread only inside a task's body (main/kill.ts). An attempt stuck elsewhere is
  // left behind: with one attempt per M (mTasks: 1), it held the only thread's room and its retry
  // never ran (Runner.held); one looping after an await kept the thread, and its P, for good
  // (the monitor now hands such a P to a spare). Both hung a one-thread job.
  const t = tempDir()
  try {
    const texts = ['a b\nAWAIT-FOREVER\nc', 'b c\nLOOP-AFTER-AWAIT', 'REDUCE-AWAITS d']
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: path.join(FIXTURES, 'stuck-await.ts'), input, output: out, procs: 1, reducers: 1, taskTimeout: '1s', maxAttempts: 2, backupTasks: false })
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.equal([r.counters.timedOutAttempts, r.counters.failedAttempts], [3, 3])
  } finally {
    t.remove()
  }
}, MS))

test('a job whose every first map attempt ends its thread still completes (more deaths than the scheduler replaces by default)', deadline('many deaths', async () => {
  const t = tempDir()
  try {
    const texts = Array.from({ length: 20 }, (_, i) => `w${i} common\nmore w${i}`)
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: path.join(FIXTURES, 'exits-first.ts'), input, output: out, procs: 2, reducers: 2, backupTasks: false })
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.is(r.counters.failedAttempts, 20, 'each of 20 threads died once and was replaced')
  } finally {
    t.remove()
  }
}, MS))

test('an attempt that always hangs fails the job with "timed out after", and leaves no output', deadline('hang always', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['x\nHANG-ALWAYS\ny', 'fine'])
    const out = path.join(t.dir, 'out')
    const e = await runJob({ job: STALL, input, output: out, procs: 2, maxAttempts: 2, taskTimeout: '300ms' }).then(() => undefined, (err: unknown) => err)
    assert.instance(e, TaskFailedError)
    const f = e as TaskFailedError
    assert.is(f.task, 'm-00000')
    assert.equal(f.attempts.map((a) => [a.attempt, a.code]), [[1, 'ERR_MR_TASK_TIMEOUT'], [2, 'ERR_MR_TASK_TIMEOUT']])
    // Each attempt's cause is the typed error, with the fields docs/mapreduce.md lists.
    for (const a of f.attempts) {
      assert.instance(a.cause, TaskTimeoutError)
      const c = a.cause as TaskTimeoutError
      assert.equal([c.task, c.attempt, c.timeout], ['m-00000', a.attempt, 300])
    }
    assert.match(f.message, /task m-00000 failed 2 attempts: attempt 1: TaskTimeoutError: .*timed out after 300ms without progress; attempt 2: /)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

test('a sample that hangs is ended after taskTimeout and fails the job, leaving no output', deadline('sample hangs', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b\nHANG\nc', 'b c d'])
    const out = path.join(t.dir, 'out')
    const e = await runJob({ job: path.join(FIXTURES, 'sample-hang.ts'), input, output: out, procs: 1, reducers: 2, taskTimeout: '1s' }).then(() => undefined, (err: unknown) => err)
    assert.instance(e, TaskFailedError)
    const f = e as TaskFailedError
    assert.is(f.task, 'sample')
    assert.equal(f.attempts.map((a) => a.code), ['ERR_MR_TASK_TIMEOUT'])
    assert.match(f.message, /task sample failed 1 attempt: attempt 1: TaskTimeoutError: .*timed out after 1s/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

test('a thread that exits is known dead from its clock word, before the Worker is torn down', deadline('exit seen', async () => {
  const t = tempDir()
  try {
    const texts = ['a b\nEXIT-SLOWLY\nc', 'b c d']
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const failed: string[] = []
    const causes: unknown[] = []
    const r = await runJob({
      job: STALL, input, output: out, procs: 2, reducers: 1,
      onProgress: (e) => void (e.type === 'attempt' && e.state === 'failed' && failed.push(`${e.task}-${e.attempt}: ${e.error}`) && causes.push(e.cause)),
    })
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    // The thread's exit listener holds it 3 s, so MDiedError could only come after that; the
    // clock's exit state (clock.ts) reports the death first.
    assert.equal(failed, ['m-00000-1: ThreadExitError: task m-00000 attempt 1: its thread exited (exit code 9)'])
    assert.instance(causes[0], ThreadExitError)
    assert.is((causes[0] as ThreadExitError).exitCode, 9)
    assert.is(r.counters.failedAttempts, 1)
  } finally {
    t.remove()
  }
}, MS))

/** The chaos job's output, computed sequentially. */
function chaosReference(names: readonly string[], texts: readonly string[]): Map<string, string> {
  const vals = new Map<string, string[]>()
  const add = (k: string, v: string): void => void vals.set(k, [...(vals.get(k) ?? []), v])
  texts.forEach((c, i) => {
    const name = names[i]!
    add('a', name)
    add('b', String(name.length))
    add('c', String(c.length))
    add('d', 'xyzzy')
    for (const w of c.split(/\s+/)) if (w) add(`w:${w}`, name)
  })
  return new Map([...vals].map(([k, vs]) => [k, vs.sort().join(' ')]))
}

test('crash test: maps and reduces that exit their thread a third of the time, or stall, give the reference output', deadline('chaos', async () => {
  const t = tempDir()
  try {
    const texts = Array.from({ length: 8 }, (_, i) => text(300 + i, 30))
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await withEnv('GORT_CHAOS_SEED', '7', () =>
      runJob({ job: CHAOS, input, output: out, procs: 3, reducers: 4, maxAttempts: 10, taskTimeout: '1500ms' }))
    const got = new Map([...readParts(out)].map(([k, vs]) => [k, vs.join('\n')]))
    assert.equal(sortedEntries(got), sortedEntries(chaosReference(texts.map((_, i) => `f${i}.txt`), texts)))
    assert.ok(r.counters.failedAttempts >= 3, `${r.counters.failedAttempts} failed attempts`)
    assert.ok(r.counters.timedOutAttempts >= 1, `${r.counters.timedOutAttempts} timed out`)
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001', 'part-r-00002', 'part-r-00003'])
    assert.is(readFileSync(path.join(out, '_SUCCESS'), 'utf8'), '')
  } finally {
    t.remove()
  }
}, MS))

test('a dead thread is described by its M and why, not by the internal module that ran the attempt', () => {
  const died = new MDiedError(3, 'out of memory: Worker terminated due to reaching memory limit: JS heap out of memory', 'file:///x/dist/mapreduce/jobtasks.js?job=file%3A%2F%2F%2Fj.mjs#mapTask')
  assert.is(describeError(died), 'MDiedError: its thread (M3) died: out of memory: Worker terminated due to reaching memory limit: JS heap out of memory')
  assert.is(describeError(new TaskTimeoutError('m-00001', 2, 1000, '1s')), 'TaskTimeoutError: task m-00001 attempt 2 timed out after 1s')
})

test.run()
