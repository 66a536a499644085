// runJob end to end: real Runtimes, real files. Outputs are compared with sequential references
// computed here on the same generated input.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  InputNotFoundError, JobModuleError, MapReduceArgError, OutputExistsError, RecordTooLongError, runJob, TaskFailedError, type ProgressEvent, type RunJobOptions,
} from '../../src/mapreduce/index.js'
import { deadline } from '../_support/deadline.js'
import { rejection } from '../_support/rejection.js'
import { takenCount, waitingCount } from '../../src/scheduler/main/prestart.js'
import { DEFAULT_MEMORY } from '../../src/mapreduce/options.js'
import { byteOrder, countsOf, FIXTURES, readParts, sortedEntries, tempDir, text, WORDS, wordCount } from './_helpers.js'

const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '../../examples/mapreduce')
const WC = path.join(EXAMPLES, 'wc.ts')
const MS = 90_000

/** Writes `texts` as data/f<i>.txt under dir; returns the glob. */
function writeInputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), t))
  return path.join(dir, 'data/*.txt')
}

const test = suite('runJob')

test('wc: the part files equal a sequential word count, each sorted by key bytes; _SUCCESS, no _temporary', deadline('wc', async () => {
  const t = tempDir()
  try {
    const texts = [text(1, 3000), text(2, 2000, true), '', text(3, 1)]
    const input = writeInputs(t.dir, texts)
    const events: ProgressEvent[] = []
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: WC, input, output: out, procs: 2, reducers: 3, splitSize: '8KiB', onProgress: (e) => events.push(e) })
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001', 'part-r-00002'])
    assert.equal(r.files, ['part-r-00000', 'part-r-00001', 'part-r-00002'].map((f) => path.join(out, f)))
    const want = wordCount(texts)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(want))
    const size = texts.reduce((n, s) => n + Buffer.byteLength(s), 0)
    const lines = texts.reduce((n, s) => n + (s === '' ? 0 : s.replace(/\n$/, '').split('\n').length), 0)
    // The empty file (texts[2]) is a map of its own, as in Hadoop.
    assert.is(r.maps, Math.ceil(Buffer.byteLength(texts[0]!) / 8192) + Math.ceil(Buffer.byteLength(texts[1]!) / 8192) + 1 + 1)
    assert.equal(
      [r.counters.inputBytes, r.counters.mapInputRecords, r.counters.mapOutputRecords, r.counters.reduceOutputRecords, r.counters.failedAttempts],
      [size, lines, [...want.values()].reduce((a, b) => a + b, 0), want.size, 0],
    )
    assert.equal([r.counters.mapAttempts, r.counters.reduceAttempts], [r.maps, 3])
    assert.ok(r.counters.combineOutputRecords < r.counters.combineInputRecords, 'the combiner combined')
    assert.is(events[0]?.type, 'start')
    assert.is(events.at(-1)?.type, 'committed')
    assert.is(events.filter((e) => e.type === 'attempt' && e.state === 'succeeded').length, r.maps + 3)
  } finally {
    t.remove()
  }
}, MS))

test('procs not given: a small input runs on one thread, with one reducer unless reducers is given', deadline('auto procs', async () => {
  const t = tempDir()
  const saved = process.env['GOMAXPROCS']
  process.env['GOMAXPROCS'] = '3'
  try {
    const texts = [text(5, 800), text(6, 600)]
    const input = writeInputs(t.dir, texts)
    const starts: ProgressEvent[] = []
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: WC, input, output: out, splitSize: '4KiB', onProgress: (e) => void (e.type === 'start' && starts.push(e)) })
    assert.equal(starts.map((e) => e.type === 'start' && [e.procs, e.reduces]), [[1, 1]], 'one thread, one reducer')
    assert.is(r.threads, 1)
    assert.is(r.memory, DEFAULT_MEMORY, 'the default budget, one thread')
    assert.ok(r.maps > 2)
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000'])
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    const given: ProgressEvent[] = []
    const r2 = await runJob({ job: WC, input, output: path.join(t.dir, 'out2'), procs: 2, onProgress: (e) => void (e.type === 'start' && given.push(e)) })
    const r3 = await runJob({ job: WC, input, output: path.join(t.dir, 'out3'), reducers: 3, memory: '3MiB', onProgress: (e) => void (e.type === 'start' && given.push(e)) })
    assert.equal(given.map((e) => e.type === 'start' && [e.procs, e.reduces]), [[2, 2], [1, 3]], 'as given')
    assert.equal([r2.memory, r3.memory], [DEFAULT_MEMORY, 3 * 2 ** 20], 'the default for two threads; as given')
  } finally {
    if (saved === undefined) delete process.env['GOMAXPROCS']
    else process.env['GOMAXPROCS'] = saved
    t.remove()
  }
}, MS))

test('the job\'s Ms are the threads runJob prestarted (mapreduce/prestart.ts): procs of them, or one when not given', deadline('first M', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, [text(7, 200)])
    let before = takenCount()
    await runJob({ job: WC, input, output: path.join(t.dir, 'out'), procs: 1 })
    assert.is(takenCount() - before, 1, 'a job module\'s Runtime took it: the worker options match')
    before = takenCount()
    await runJob({ job: WC, input, output: path.join(t.dir, 'out2'), procs: 2, taskStdout: 'stderr' })
    assert.is(takenCount() - before, 2, 'both, with taskStdout: stderr too')
    before = takenCount()
    await runJob({ job: WC, input, output: path.join(t.dir, 'out3') })
    assert.is(takenCount() - before, 1, 'procs not given: one')
    before = takenCount()
    await runJob({ mapper: 'cat', input, output: path.join(t.dir, 'out4'), procs: 1 })
    assert.is(takenCount() - before, 1, 'and in streaming mode')
    assert.is(waitingCount(), 0)
  } finally {
    t.remove()
  }
}, MS))

test('packFiles: small files share map tasks, about a split each: every line once, under its own file name', deadline('packed', async () => {
  const t = tempDir()
  try {
    // Twelve files of 0.1-1.5 KiB (each ending in \n), and one of ten splits or so.
    const texts = Array.from({ length: 12 }, (_, i) => text(20 + i, 3 + 3 * i) + '\n').concat([text(40, 2500) + '\n'])
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: path.join(FIXTURES, 'per-file.ts'), input, output: out, procs: 2, reducers: 2, splitSize: '8KiB', packFiles: true })
    const got = countsOf(readParts(out))
    const want = new Map<string, number>()
    texts.forEach((s, i) => {
      const name = path.join(t.dir, 'data', `f${i}.txt`)
      want.set(`${name}#lines`, s.split('\n').length - 1)
      want.set(`${name}#bytes`, Buffer.byteLength(s))
    })
    assert.equal(sortedEntries(got), sortedEntries(want))
    const small = texts.slice(0, 12).reduce((n, s) => n + Buffer.byteLength(s), 0)
    const big = Buffer.byteLength(texts[12]!)
    // Unpacked there would be a task per small file and per split of the big one; packed, about
    // one per 8 KiB of input.
    assert.ok(small < 8192 * 2, `${small} bytes of small files`)
    assert.ok(r.maps <= Math.ceil((small + big) / 8192) && r.maps < 12 + Math.floor(big / 8192), `${r.maps} map tasks`)
    assert.is(r.counters.inputBytes, small + big)
  } finally {
    t.remove()
  }
}, MS))

test('inverted index (records: files): equals a sequential index, with files packed into tasks too', deadline('inverted index', async () => {
  const t = tempDir()
  try {
    const texts = [text(4, 200), text(5, 50), 'Only Once here', '', text(6, 10, true), text(9, 300), text(10, 120)]
    const input = writeInputs(t.dir, texts)
    const want = new Map<string, Set<string>>()
    texts.forEach((s, i) => {
      for (const w of s.split(/[^\p{L}\p{N}]+/u)) if (w) (want.get(w.toLowerCase()) ?? want.set(w.toLowerCase(), new Set()).get(w.toLowerCase())!).add(path.join(t.dir, `data/f${i}.txt`))
    })
    const size = texts.reduce((n, s) => n + Buffer.byteLength(s), 0)
    for (const packFiles of [false, true]) {
      const out = path.join(t.dir, `idx-${packFiles}`)
      // Packed: about two tasks' worth of bytes, each task mapping several whole files in turn.
      const r = await runJob({ job: path.join(EXAMPLES, 'inverted-index.ts'), input, output: out, procs: 2, reducers: 2, packFiles, splitSize: Math.ceil(size / 2) })
      if (packFiles) assert.ok(r.maps >= 2 && r.maps <= 3, `${r.maps} map tasks for ${texts.length} files`)
      else assert.is(r.maps, texts.length, 'one map per file, the empty one too')
      assert.is(r.counters.mapInputRecords, texts.length, 'a record per file')
      assert.is(r.counters.inputBytes, size)
      const got = readParts(out)
      assert.equal([...got.keys()].sort(byteOrder), [...want.keys()].sort(byteOrder))
      for (const [w, files] of want) {
        const list = [...files].sort()
        assert.equal(got.get(w), [`${list.length} ${list.join(',')}`], w)
      }
    }
  } finally {
    t.remove()
  }
}, MS))

test('input larger than memory spills (counter > 0) and still matches', deadline('spill', async () => {
  const t = tempDir()
  try {
    // WORDS' 80 keys alone fit in 64 KiB (a key's repeated values take no more room), so a third
    // file brings 12,000 distinct keys.
    const wide = Array.from({ length: 4000 }, (_, i) => `u${i} v${i % 997} x${i * 7} y${i}`).join('\n')
    const texts = [text(7, 12_000), text(8, 8_000), wide]
    const input = writeInputs(t.dir, texts)
    const size = texts.reduce((n, s) => n + Buffer.byteLength(s), 0)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: WC, input, output: out, procs: 2, reducers: 2, memory: '64KiB', splitSize: '256KiB' })
    assert.ok(size > 4 * 65536, `input ${size} bytes, memory 64 KiB`)
    assert.ok(r.counters.spills > 0, `spills ${r.counters.spills}`)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, MS))

test('keys and values keep their types through spills; __proto__ is an ordinary key and counter name', deadline('types', async () => {
  const t = tempDir()
  try {
    const texts = [text(9, 4000), `__proto__ constructor __proto__\n9 9 9`]
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: path.join(FIXTURES, 'typed.ts'), input, output: out, procs: 2, reducers: 2, memory: '64KiB' })
    assert.ok(r.counters.spills > 0)
    const words = wordCount(texts)
    const byLength = new Map<number, number>()
    for (const [w, n] of words) byLength.set(w.length, (byLength.get(w.length) ?? 0) + n)
    // Reduce got each key with its own values: string keys counted, number keys their words.
    const lines = readdirSync(out).filter((f) => f.startsWith('part-')).flatMap((f) => readFileSync(path.join(out, f), 'utf8').split('\n').filter(Boolean))
    const want = [...[...words].map(([w, n]) => `${w}\t${n}`), ...[...byLength].map(([l, n]) => `${l}\t${n}`)]
    assert.equal(lines.sort(), want.sort())
    assert.is(readParts(out).get('9')?.length, 2, 'the number 9 and the word "9" are two keys')
    assert.is(r.userCounters.get('__proto__'), words.get('__proto__'))
    assert.is(Object.getPrototypeOf(r.userCounters), Map.prototype)
  } finally {
    t.remove()
  }
}, MS))

test('maps and reduces ran on more than one thread (threadId recorded inside the job)', deadline('threads', async () => {
  const t = tempDir()
  try {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n')
    const input = writeInputs(t.dir, [lines])
    const r = await runJob({ job: path.join(FIXTURES, 'threads.ts'), input, output: path.join(t.dir, 'out'), procs: 2, reducers: 8, splitSize: 256 })
    const threads = (phase: string): number[] => [...r.userCounters.keys()].filter((k) => k.startsWith(`${phase} thread `)).map((k) => Number(k.split(' ')[2]))
    assert.ok(r.maps >= 8, `${r.maps} maps`)
    assert.ok(new Set(threads('map')).size > 1, `maps ran on threads ${threads('map').join(', ')}`)
    assert.ok(new Set(threads('reduce')).size > 1, `reduces ran on threads ${threads('reduce').join(', ')}`)
    assert.ok(!threads('map').includes(0) && !threads('reduce').includes(0), 'nothing ran on the main thread')
  } finally {
    t.remove()
  }
}, MS))

test('each attempt has its thread to itself, also while it awaits (no second attempt starts there)', deadline('alone', async () => {
  // Before the job's Runtime fixed its Ms' admission window at one task (mTasks), every run of
  // this put two attempts on one thread: the M started the next while the first awaited a timer.
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, Array.from({ length: 16 }, (_, i) => `file ${i}\n`))
    const r = await runJob({ job: path.join(FIXTURES, 'alone.ts'), input, output: path.join(t.dir, 'out'), procs: 2, reducers: 6, backupTasks: false })
    assert.equal([...r.userCounters.keys()].filter((k) => k.startsWith('live at once')), ['live at once 1'])
    assert.is(r.userCounters.get('live at once 1'), 16 + 6)
  } finally {
    t.remove()
  }
}, MS))

test("each succeeded attempt's ms counts from its body's start: on one thread they add up to no more than their phase", deadline('attempt-ms', async () => {
  // One thread runs the attempts one after another, so their durations cannot sum past the phase.
  // They once counted from the phase's start once an attempt's clock word said ENDED: the k-th
  // map's duration included the k-1 before it, and the median that times backup copies grew with
  // the phase (a stalled map's backup started seconds late).
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, Array.from({ length: 8 }, (_, i) => text(300 + i, 4000)))
    const ms = { map: [] as number[], reduce: [] as number[] }
    const first = { map: 0, reduce: 0 }
    const span = { map: 0, reduce: 0 }
    await runJob({
      job: WC, input, output: path.join(t.dir, 'out'), procs: 1, reducers: 4,
      onProgress: (e) => {
        if (e.type === 'attempt' && e.state === 'started' && first[e.phase] === 0) first[e.phase] = Date.now()
        if (e.type === 'attempt' && e.state === 'succeeded') ms[e.phase].push(e.ms!)
        if (e.type === 'phase') span[e.phase] = Date.now() - first[e.phase]
      },
    })
    for (const phase of ['map', 'reduce'] as const) {
      const sum = ms[phase].reduce((a, b) => a + b, 0)
      assert.is(ms[phase].length, phase === 'map' ? 8 : 4)
      assert.ok(ms[phase].every((x) => Number.isInteger(x) && x >= 0), ms[phase].join(' '))
      assert.ok(sum <= span[phase] + ms[phase].length, `${phase}: attempts ${ms[phase].join(' ')} ms sum to ${sum}, the phase took ${span[phase]}`)
    }
  } finally {
    t.remove()
  }
}, MS))

test('reducers: 0 writes part-m files, one per map, the pairs in emit order', deadline('map-only', async () => {
  const t = tempDir()
  try {
    const texts = ['b a\nc', 'z y x']
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: WC, input, output: out, procs: 2, reducers: 0 })
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-m-00000', 'part-m-00001'])
    assert.is(r.reduces, 0)
    assert.is(readFileSync(path.join(out, 'part-m-00000'), 'utf8'), 'b\t1\na\t1\nc\t1\n')
    assert.is(readFileSync(path.join(out, 'part-m-00001'), 'utf8'), 'z\t1\ny\t1\nx\t1\n')
  } finally {
    t.remove()
  }
}, MS))

test('only empty input files: a map each (as Hadoop), empty part files, _SUCCESS', deadline('empty', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['', ''])
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: WC, input, output: out, procs: 1, reducers: 2 })
    assert.is(r.maps, 2)
    assert.is(r.counters.mapInputRecords, 0)
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001'])
    assert.is(readFileSync(path.join(out, 'part-r-00001'), 'utf8'), '')
  } finally {
    t.remove()
  }
}, MS))

const faults = suite('runJob faults')

faults('a dead M (process.exit in map) and a throwing reduce are retried; counters count successful attempts only', deadline('retry', async () => {
  const t = tempDir()
  try {
    const texts = ['a b\nEXIT-ONCE\nc', 'REDUCE-THROW-ONCE a', 'b c d']
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const failed: ProgressEvent[] = []
    const r = await runJob({
      job: path.join(FIXTURES, 'faulty.ts'), input, output: out, procs: 2, reducers: 2,
      onProgress: (e) => void (e.type === 'attempt' && e.state === 'failed' && failed.push(e)),
    })
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    // The dead M takes with it every attempt it was running: m-00000's, and any other map that
    // its M had started while m-00000 awaited. Each is retried.
    const got = failed.flatMap((e) => (e.type === 'attempt' ? [{ phase: e.phase, task: e.task, attempt: e.attempt, error: e.error ?? '' }] : []))
    const mapFails = got.filter((f) => f.phase === 'map')
    const reduceFails = got.filter((f) => f.phase === 'reduce')
    assert.ok(mapFails.some((f) => f.task === 'm-00000' && f.attempt === 1), JSON.stringify(got))
    // The attempt's clock says its thread exits (ThreadExitError) before the Worker's 'exit' event
    // brings the scheduler's MDiedError, as a rule; either names the exit code.
    for (const f of mapFails) assert.match(f.error, /^(MDiedError|ThreadExitError): .*exit code 7/)
    assert.is(reduceFails.length, 1, JSON.stringify(got))
    assert.match(reduceFails[0]!.error, /reduce fails once/)
    assert.is(reduceFails[0]!.attempt, 1)
    assert.is(r.counters.failedAttempts, got.length)
    // 'map calls' counts the lines mapped by successful attempts only: 3 + 1 + 1.
    assert.is(r.userCounters.get('map calls'), 5)
    assert.equal([r.counters.mapAttempts, r.counters.reduceAttempts], [3 + mapFails.length, 3])
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001'])
  } finally {
    t.remove()
  }
}, MS))

faults('a task that fails every attempt fails the job: TaskFailedError names it and each cause; no output is left', deadline('fail', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['fine\nwords', 'a\nTHROW\nb', 'more words'])
    // Parents gort makes for the output go with it.
    const out = path.join(t.dir, 'made', 'by-gort', 'out')
    const err = await rejection(runJob({ job: path.join(FIXTURES, 'faulty.ts'), input, output: out, procs: 2, maxAttempts: 3 }))
    assert.instance(err, TaskFailedError)
    const e = err as TaskFailedError
    assert.is(e.code, 'ERR_MR_TASK_FAILED')
    assert.is(e.task, 'm-00001')
    assert.equal(e.attempts.map((a) => a.attempt), [1, 2, 3])
    for (const a of e.attempts) {
      assert.match(a.error, /^Error: bad record at offset 2 of .*f1\.txt$/)
      // The error itself, as it came back from the job's thread.
      assert.instance(a.cause, Error)
      assert.match((a.cause as Error).message, /^bad record at offset 2 of .*f1\.txt$/)
    }
    assert.is(e.cause, e.attempts[2]!.cause)
    assert.match(e.message, /task m-00001 failed 3 attempts: attempt 1: Error: bad record/)
    assert.not.ok(existsSync(out), 'the output directory is removed')
    assert.not.ok(existsSync(path.join(t.dir, 'made')), 'and the parents gort made for it')
  } finally {
    t.remove()
  }
}, MS))

faults('reduce or combine work left unawaited, or values read twice, fails the attempt with a clear error, not lost pairs', deadline('late', async () => {
  const t = tempDir()
  try {
    // Many copies of each word: combine runs on each (a repeated value is folded, not combined).
    const input = writeInputs(t.dir, [Array.from({ length: 40 }, (_, i) => `a b c d ${'x'.repeat(i % 3)}`).join('\n')])
    const cases: [string, RegExp][] = [
      ['reduce-values', /the values were read after reduce\("\w+"\) returned: await \(or return\) the work that reads them/],
      ['reduce-twice', /ValuesOnceError: reduce\("\w+"\) iterated its values a second time/],
      ['combine-emit', /emit was called after combine\("\w+"\) returned: await \(or return\) the work that emits/],
      ['map-emit', /emit was called after map\(".*f0\.txt"\) returned: await \(or return\) the work that emits/],
      ['combine-timer', /AfterReturnError: emit was called after combine\("\w+"\) returned/],
    ]
    for (const [bug, want] of cases) {
      const out = path.join(t.dir, `out-${bug}`)
      const err = await rejection(runJob({ job: path.join(FIXTURES, 'late-work.ts'), input, output: out, procs: 1, reducers: 1, maxAttempts: 1, params: { bug } }))
      assert.instance(err, TaskFailedError, bug)
      assert.match((err as Error).message, want, bug)
      assert.not.ok(existsSync(out))
    }
    // Too late to fail the attempt (it committed): a warning on the thread, the pair not written.
    const out = path.join(t.dir, 'out-after-commit')
    await runJob({ job: path.join(FIXTURES, 'late-work.ts'), input, output: out, procs: 1, reducers: 1, maxAttempts: 1, params: { bug: 'map-after-commit' } })
    const lines = readFileSync(path.join(out, 'part-r-00000'), 'utf8').split('\n')
    assert.ok(lines.includes('warning:GORT_LATE_EMIT\t1'), lines.join('|'))
    assert.not.ok(lines.some((l) => l.startsWith('lost')))
    // emitBytes through a ctx kept from an earlier task: dropped, not written into the next task's table.
    mkdirSync(path.join(t.dir, 'fruit'))
    for (const f of ['apple', 'berry', 'cherry']) writeFileSync(path.join(t.dir, 'fruit', `${f}.txt`), `${f}\n`)
    const bytesOut = path.join(t.dir, 'out-bytes')
    await runJob({ job: path.join(FIXTURES, 'late-bytes.ts'), input: path.join(t.dir, 'fruit'), output: bytesOut, procs: 1, reducers: 1, maxAttempts: 1 })
    assert.is(readFileSync(path.join(bytesOut, 'part-r-00000'), 'utf8'), 'apple\t1\nberry\t1\ncherry\t1\n')
  } finally {
    t.remove()
  }
}, MS))

faults('a line no string holds fails its task at the first attempt, not after maxAttempts', deadline('too long', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['fine\nwords', 'a\nTOO-LONG\nb'])
    const out = path.join(t.dir, 'out')
    const err = await rejection(runJob({ job: path.join(FIXTURES, 'faulty.ts'), input, output: out, procs: 2, maxAttempts: 4 }))
    assert.instance(err, TaskFailedError)
    const e = err as TaskFailedError
    assert.is(e.task, 'm-00001')
    assert.equal(e.attempts.map((a) => [a.attempt, a.code]), [[1, 'ERR_MR_RECORD_TOO_LONG']])
    // Thrown on the M, it comes back as itself: its class, and its fields.
    assert.instance(e.attempts[0]!.cause, RecordTooLongError)
    assert.is((e.attempts[0]!.cause as RecordTooLongError).limit, 8)
    assert.match(e.message, /task m-00001 failed 1 attempt: attempt 1: RecordTooLongError: input ".*f1\.txt": the line at byte 2 is longer than 8 bytes/)
    assert.not.ok(existsSync(out), 'the output directory is removed')
  } finally {
    t.remove()
  }
}, MS))

faults('an aborted signal stops the job: rejects with its reason, no output is left', deadline('abort', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, [text(10, 3000)])
    const out = path.join(t.dir, 'out')
    const ac = new AbortController()
    const reason = new Error('stop')
    const err = await runJob({
      job: WC, input, output: out, procs: 2, splitSize: '4KiB', signal: ac.signal,
      onProgress: (e) => { if (e.type === 'attempt' && e.state === 'succeeded') ac.abort(reason) },
    }).then(() => undefined, (e: unknown) => e)
    assert.is(err, reason)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

faults('refused before anything runs: existing output, no input, bad options, bad job modules', deadline('refused', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b'])
    const out = path.join(t.dir, 'out')
    mkdirSync(path.join(t.dir, 'exists'))
    // Any mix of options, bad ones too, as a JavaScript caller may pass them.
    const fail = (o: Record<string, unknown>): Promise<unknown> =>
      runJob({ job: WC, input, output: out, procs: 1, ...o } as RunJobOptions).then(() => assert.unreachable('ran'), (e: unknown) => e)
    const exists = await fail({ output: path.join(t.dir, 'exists') })
    // The job's M was prestarted (mapreduce/prestart.ts) before the refusal, and is ended with it.
    assert.is(waitingCount(), 0, 'no prestarted thread left waiting')
    assert.ok(exists instanceof OutputExistsError && exists.path === path.join(t.dir, 'exists') && exists.code === 'ERR_MR_OUTPUT_EXISTS')
    assert.match((exists as Error).message, /output directory .*exists already exists/)
    const none = await fail({ input: path.join(t.dir, 'data/*.csv') })
    assert.ok(none instanceof InputNotFoundError && none.code === 'ERR_MR_NO_INPUT')
    const size = await fail({ splitSize: '12parsecs' })
    assert.ok(size instanceof MapReduceArgError && size.option === 'splitSize' && size.value === '12parsecs')
    const stdout = await fail({ taskStdout: 'log' as never })
    assert.ok(stdout instanceof MapReduceArgError && stdout.option === 'taskStdout')
    assert.match((stdout as Error).message, /taskStdout must be 'stdout' or 'stderr', got "log"/)
    const noMap = await fail({ job: path.join(FIXTURES, 'no-map.ts') })
    assert.ok(noMap instanceof JobModuleError && noMap.code === 'ERR_MR_JOB_MODULE')
    assert.match((noMap as Error).message, /no-map\.ts: its default export is not a job: the job has no map function/)
    const throws = await fail({ job: path.join(FIXTURES, 'throws-on-import.ts') })
    assert.ok(throws instanceof JobModuleError)
    assert.match((throws as Error).message, /this module fails on purpose/)
    const missing = await fail({ job: path.join(FIXTURES, 'missing.ts') })
    assert.ok(missing instanceof JobModuleError)
    assert.match((missing as Error).message, /job module .*missing\.ts: no such file$/)
    // Outside any "type": "module" package too, a missing job is said to be missing, not CommonJS.
    const elsewhere = await fail({ job: path.join(t.dir, 'missing.ts') })
    assert.ok(elsewhere instanceof JobModuleError)
    assert.not.match((elsewhere as Error).message, /CommonJS/)
    assert.not.ok(existsSync(out), 'nothing was created')
    assert.ok(WORDS.length > 0)
    // A mistyped option (no type error in JavaScript), an empty pattern, commands that would not run.
    const typo = await fail({ reducerz: 3 } as never)
    assert.ok(typo instanceof MapReduceArgError && typo.option === 'reducerz')
    assert.match((typo as Error).message, /reducerz must be left out: it is not an option of runJob \(job, mapper, /)
    const empty = await fail({ input: [input, ''] })
    assert.ok(empty instanceof MapReduceArgError && empty.option === 'input')
    assert.match((empty as Error).message, /input must be a path, directory or glob, not empty, got ""$/)
    const noReduce = await fail({ job: undefined, mapper: 'cat', reducer: 'cat', reducers: 0 } as never)
    assert.ok(noReduce instanceof MapReduceArgError && noReduce.option === 'reducer')
    // An output below a file: said so, not Node's ENOTDIR.
    const underFile = await fail({ output: path.join(t.dir, 'data', 'f0.txt', 'sub', 'out') })
    assert.ok(underFile instanceof MapReduceArgError && underFile.option === 'output')
    assert.match((underFile as Error).message, /output must be a directory path, but .* is a file/)
  } finally {
    t.remove()
  }
}, MS))

test('an onProgress that throws, or rejects, is warned about and changes nothing in the job', deadline('observer', async () => {
  const t = tempDir()
  const warnings: string[] = []
  const onWarning = (w: Error): void => void (w.name === 'GortProgressWarning' && warnings.push(w.message))
  process.on('warning', onWarning)
  try {
    const texts = ['a b', 'b c']
    const input = writeInputs(t.dir, texts)
    const thrower = await runJob({ job: WC, input, output: path.join(t.dir, 'out1'), procs: 1, onProgress: (e) => { if (e.type === 'committed' || e.type === 'start') throw new Error(`UI bug at ${e.type}`) } })
    assert.equal(sortedEntries(countsOf(readParts(path.join(t.dir, 'out1')))), sortedEntries(wordCount(texts)))
    assert.ok(existsSync(path.join(t.dir, 'out1', '_SUCCESS')) && thrower.files.length === 1)
    const rejecter = await runJob({ job: WC, input, output: path.join(t.dir, 'out2'), procs: 1, onProgress: async () => Promise.reject(new Error('async UI bug')) })
    assert.ok(rejecter.files.length === 1)
    await new Promise(setImmediate)
    assert.ok(warnings.includes("onProgress threw at a 'start' event: UI bug at start (the job goes on)"), warnings.join('\n'))
    assert.ok(warnings.includes("onProgress threw at a 'committed' event: UI bug at committed (the job goes on)"))
    assert.ok(warnings.some((w) => w.includes('async UI bug')))
  } finally {
    process.off('warning', onWarning)
    t.remove()
  }
}, MS))

test('many threads: no listener-leak warning from the probes that import the job', deadline('warn', async () => {
  const t = tempDir()
  const warnings: string[] = []
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`)
  process.on('warning', onWarning)
  try {
    const input = writeInputs(t.dir, ['a b'])
    await runJob({ job: WC, input, output: path.join(t.dir, 'out'), procs: 12, reducers: 1 })
    await new Promise(setImmediate) // warnings are emitted on the next tick
    assert.equal(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [])
  } finally {
    process.off('warning', onWarning)
    t.remove()
  }
}, MS))

test('a job module that throws a non-Error, fails defineJob, or never finishes importing: a clear JobModuleError', deadline('import', async () => {
  const t = tempDir()
  try {
    const input = path.join(t.dir, 'in.txt')
    writeFileSync(input, 'a b\n')
    const out = path.join(t.dir, 'out')
    const job = (name: string, source: string): string => {
      writeFileSync(path.join(t.dir, name), source)
      return path.join(t.dir, name)
    }
    // Any mix of options, bad ones too, as a JavaScript caller may pass them.
    const fail = (o: Record<string, unknown>): Promise<unknown> =>
      runJob({ job: WC, input, output: out, procs: 1, ...o } as RunJobOptions).then(() => assert.unreachable('ran'), (e: unknown) => e)
    const syntax = await fail({ job: job('syntax.mjs', 'export default {\n  map(f, l, emit) { emit(l, 1) )}\n}\n') })
    assert.instance(syntax, JobModuleError)
    assert.match((syntax as Error).message, /syntax\.mjs: Unexpected token '\)' \(at .*syntax\.mjs:2:32\)$/, 'where: Node does not say')
    // TypeScript that does not compile: esbuild's words and place, in the file named. tsx's were
    // a require cycle (a .ts in no "type": "module" package, as this temp directory is) or named
    // a .ts file for a .mts one.
    for (const name of ['broken.ts', 'broken.mts']) {
      const broken = await fail({ job: job(name, "import { defineJob } from 'gort/mapreduce'\nexport default defineJob({ map(_f, l, e) { e(l, 1 }) })\n") })
      assert.instance(broken, JobModuleError)
      assert.match((broken as Error).message, new RegExp(`job module .*${name.replace('.', '\\.')}: .*${name.replace('.', '\\.')}:2:51: Expected "\\)" but found "}"$`), (broken as Error).message)
    }
    const thrown = await fail({ job: job('null.mjs', 'throw null\n') })
    assert.instance(thrown, JobModuleError)
    assert.match((thrown as Error).message, /job module .*null\.mjs: it threw null$/)
    const index = JSON.stringify(path.resolve('src/mapreduce/index.ts'))
    const bad = await fail({ job: job('nomap.ts', `import { defineJob } from ${index}\nexport default defineJob({ reduce() {} } as never)\n`) })
    assert.instance(bad, JobModuleError)
    assert.match((bad as Error).message, /^gort mapreduce: job module .*nomap\.ts: defineJob: the job has no map function/, 'one prefix')
    // A top-level await that never settles: the import gets the task timeout (10 s at least: gort's
    // own modules load in it too, and a short task timeout failed loaded machines' jobs), and the
    // job's signal.
    const never = job('never.mjs', 'await new Promise(() => {})\nexport default { map() {} }\n')
    const late = await fail({ job: never, taskTimeout: '500ms' })
    assert.instance(late, JobModuleError)
    assert.match((late as Error).message, /never\.mjs: its import did not finish within 10s: a top-level await that never settles\?$/)
    const stop = new AbortController()
    setTimeout(() => stop.abort(new Error('stop now')), 300)
    const stopped = await fail({ job: never, signal: stop.signal })
    assert.is((stopped as Error).message, 'stop now')
    assert.not.ok(existsSync(out), 'nothing was created')
    // A file URL with a host (file://jobs/x.js, where a path was meant).
    const host = await fail({ job: 'file://jobs/x.mjs' })
    assert.instance(host, JobModuleError)
    assert.match((host as Error).message, /job module file:\/\/jobs\/x\.mjs: not a file URL this system can open/)
  } finally {
    t.remove()
  }
}, MS))

test.run()
faults.run()
