// The examples in examples/mapreduce/, each run end to end by runJob and compared with a
// sequential reference computed here on the same generated input: grep, sort (a range
// partitioner from sampled keys), and for word count and the inverted index the properties the
// paper and the 6.5840 lab check beyond equality: no re-execution when nothing fails, tasks of a
// phase running at once on different threads, and byte-identical output from two runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runJob, TaskFailedError } from '../../src/mapreduce/index.js'
import { KEY_BYTES, RECORD_BYTES, records } from '../../examples/mapreduce/records.js'
import { command } from '../../src/cli/mapreduce.js'
import { runCaptured } from '../_support/cli.js'
import { deadline } from '../_support/deadline.js'
import { rejection } from '../_support/rejection.js'
import { byteOrder, FIXTURES, tempDir, text } from './_helpers.js'

const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '../../examples/mapreduce')
const MS = 90_000

function writeInputs(dir: string, texts: readonly (string | Buffer)[], ext = 'txt'): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.${ext}`), t))
  return path.join(dir, `data/*.${ext}`)
}

/** The part files of `kind` in name order, concatenated. */
function concatParts(dir: string, kind: 'r' | 'm'): string {
  return readdirSync(dir).filter((f) => f.startsWith(`part-${kind}-`)).sort().map((f) => readFileSync(path.join(dir, f), 'utf8')).join('')
}

/** Records of a text as the line reader gives them: split at \n, a final \r dropped, no record after a final \n. */
function linesOf(t: string): string[] {
  if (t === '') return []
  return t.replace(/\n$/, '').split('\n').map((l) => l.replace(/\r$/, ''))
}

const grep = suite('examples: grep')

grep('map-only: the part-m files in order equal a sequential filter, file by file', deadline('grep map-only', async () => {
  const t = tempDir()
  try {
    const texts = [text(21, 3000), text(22, 1500, true), '', text(23, 10)]
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    const pattern = 'w1[0-3]( |$)|café|^a '
    const re = new RegExp(pattern)
    const r = await runJob({ job: path.join(EXAMPLES, 'grep.ts'), input, output: out, procs: 2, reducers: 0, splitSize: '16KiB', params: { pattern } })
    const want = texts.flatMap((s, i) => linesOf(s).filter((l) => re.test(l)).map((l) => `${path.join(t.dir, `data/f${i}.txt`)}\t${l}\n`))
    assert.ok(want.length > 100 && want.length < r.counters.mapInputRecords * 0.6, `${want.length} matches: the pattern selects`)
    assert.is(concatParts(out, 'm'), want.join(''))
    assert.is(r.userCounters.get('matched lines'), want.length)
  } finally {
    t.remove()
  }
}, MS))

grep('with reducers, ignoring case: each file\'s matching lines, grouped by file', deadline('grep reduce', async () => {
  const t = tempDir()
  try {
    const texts = [text(24, 2000), text(25, 2000)]
    const input = writeInputs(t.dir, texts)
    const out = path.join(t.dir, 'out')
    await runJob({ job: path.join(EXAMPLES, 'grep.ts'), input, output: out, procs: 2, reducers: 2, splitSize: '8KiB', params: new Map([['pattern', 'APPLE'], ['flags', 'i']]) })
    const lines = concatParts(out, 'r').split('\n').filter(Boolean)
    texts.forEach((s, i) => {
      const file = path.join(t.dir, `data/f${i}.txt`)
      const want = linesOf(s).filter((l) => /apple/i.test(l)).sort()
      assert.ok(want.length > 10)
      assert.equal(lines.filter((l) => l.startsWith(`${file}\t`)).map((l) => l.slice(file.length + 1)).sort(), want)
    })
  } finally {
    t.remove()
  }
}, MS))

grep('without a pattern every attempt fails, and the job says why', deadline('grep no pattern', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b'])
    const err = await rejection(runJob({ job: path.join(EXAMPLES, 'grep.ts'), input, output: path.join(t.dir, 'out'), procs: 1, maxAttempts: 2 }))
    assert.instance(err, TaskFailedError)
    assert.match((err as Error).message, /grep: no pattern/)
  } finally {
    t.remove()
  }
}, MS))

grep('gort mapreduce --param: the CLI passes parameters; one without = is a usage error (exit 2)', deadline('grep cli', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['Error one\nfine\nerror two\n'])
    const out = path.join(t.dir, 'out')
    const ok = await runCaptured(command, ['--job', path.join(EXAMPLES, 'grep.ts'), '--input', input, '--output', out, '--reducers', '0', '--procs', '1', '--param', 'pattern=^error', '--param', 'flags=i', '--json'])
    assert.is(ok.code, 0, ok.err)
    assert.is(concatParts(out, 'm'), `${path.join(t.dir, 'data/f0.txt')}\tError one\n${path.join(t.dir, 'data/f0.txt')}\terror two\n`)
    const bad = await runCaptured(command, ['--job', path.join(EXAMPLES, 'grep.ts'), '--input', input, '--output', path.join(t.dir, 'out2'), '--param', 'pattern'])
    assert.is(bad.code, 2)
    assert.match(bad.err, /--param must be NAME=VALUE, got "pattern"/)
    assert.not.ok(existsSync(path.join(t.dir, 'out2')))
  } finally {
    t.remove()
  }
}, MS))

const sort = suite('examples: sort')

sort('100-byte records, R = 3: the part files concatenated are the records sorted by key; every part holds a fair share', deadline('sort', async () => {
  const t = tempDir()
  try {
    const n = [6000, 4000, 5000]
    let start = 0
    const bufs = n.map((c) => {
      const b = records(7, start, c)
      start += c
      return b
    })
    for (const b of bufs) assert.is(b.length, RECORD_BYTES * (b.length / RECORD_BYTES))
    const input = writeInputs(t.dir, bufs, 'dat')
    const out = path.join(t.dir, 'out')
    const r = await runJob({ job: path.join(EXAMPLES, 'sort.ts'), input, output: out, procs: 2, reducers: 3, splitSize: '128KiB' })
    const recs = bufs.flatMap((b) => linesOf(b.toString('latin1')))
    assert.is(recs.length, 15_000)
    assert.is(new Set(recs.map((l) => l.slice(0, KEY_BYTES))).size, recs.length, 'keys are distinct, so the order is total')
    const want = recs.map((l) => `${l.slice(0, KEY_BYTES)}\t${l.slice(KEY_BYTES)}\n`).sort(byteOrder).join('')
    assert.is(concatParts(out, 'r'), want)
    assert.is(r.reduces, 3)
    for (const f of r.files) {
      const lines = readFileSync(f, 'utf8').split('\n').length - 1
      // Uniform keys and 10000 sampled: each third is within a few percent of 5000.
      assert.ok(lines > 3000, `${path.basename(f)} holds ${lines} of 15000 records`)
    }
  } finally {
    t.remove()
  }
}, MS))

sort('a map that throws on the sample fails the job as task "sample", before any map task; no output is left', deadline('sample throws', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['BAD\nok\n', 'fine\n'])
    const out = path.join(t.dir, 'out')
    const err = await rejection(runJob({ job: path.join(FIXTURES, 'sample-throws.ts'), input, output: out, procs: 1, reducers: 2 }))
    assert.instance(err, TaskFailedError)
    assert.is((err as TaskFailedError).task, 'sample')
    assert.match((err as Error).message, /bad record in the sample/)
    assert.not.ok(existsSync(out))
    // With one reducer there is nothing to cut: no sample, and the bad record fails a map task instead.
    const one = await rejection(runJob({ job: path.join(FIXTURES, 'sample-throws.ts'), input, output: out, procs: 1, reducers: 1, maxAttempts: 1 }))
    assert.is((one as TaskFailedError).task, 'm-00000')
  } finally {
    t.remove()
  }
}, MS))

const props = suite('examples: wc and inverted index')

const WC = path.join(EXAMPLES, 'wc.ts')
const INDEX = path.join(EXAMPLES, 'inverted-index.ts')

props('two runs of wc and of the inverted index give byte-identical part files; nothing runs twice', deadline('identical', async () => {
  const t = tempDir()
  try {
    const texts = [text(31, 4000), text(32, 2500, true), text(33, 300), '']
    const input = writeInputs(t.dir, texts)
    for (const [job, splitSize] of [[WC, '8KiB'], [INDEX, '64MiB']] as const) {
      const outs: string[] = []
      for (const run of [1, 2]) {
        const out = path.join(t.dir, `${path.basename(job)}-${run}`)
        // A small memory budget makes map tasks spill and merge, the paths most likely to reorder.
        const r = await runJob({ job, input, output: out, procs: 2, reducers: 3, splitSize, memory: '64KiB' })
        assert.equal([r.counters.mapAttempts, r.counters.reduceAttempts, r.counters.failedAttempts], [r.maps, 3, 0], `${job} run ${run}: one attempt per task`)
        outs.push(out)
      }
      const [a, b] = outs as [string, string]
      assert.equal(readdirSync(a).sort(), readdirSync(b).sort())
      for (const f of readdirSync(a)) assert.ok(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), `${path.basename(job)}: ${f} differs`)
      assert.ok(readFileSync(path.join(a, 'part-r-00000')).length > 0)
    }
  } finally {
    t.remove()
  }
}, MS))

/** Per phase: whether two attempts on different threads were running at once, by the order of their log lines. */
function overlaps(lines: readonly string[]): Map<string, boolean> {
  const live = new Map<string, Map<string, string>>() // phase -> attemptId -> threadId
  const seen = new Map<string, boolean>()
  for (const l of lines) {
    const [what, phase, thread, attempt] = l.split(' ') as [string, string, string, string]
    const running = live.get(phase) ?? live.set(phase, new Map()).get(phase)!
    if (what === 'start') {
      if ([...running.values()].some((t) => t !== thread)) seen.set(phase, true)
      else if (!seen.has(phase)) seen.set(phase, false)
      running.set(attempt, thread)
    } else {
      running.delete(attempt)
    }
  }
  return seen
}

props('maps overlap, and reduces overlap, on different threads (an ordered log by threadId, no timing)', deadline('overlap', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, Array.from({ length: 8 }, (_, i) => `file ${i}`))
    const log = path.join(t.dir, 'log')
    writeFileSync(log, '')
    const r = await runJob({ job: path.join(FIXTURES, 'overlap.ts'), input, output: path.join(t.dir, 'out'), procs: 2, reducers: 6, params: { log }, backupTasks: false }) // setup may hold a thread for seconds: no backup copies
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean)
    assert.is(lines.length, 2 * (8 + 6), 'a start and an end per attempt')
    assert.equal([...overlaps(lines)], [['map', true], ['reduce', true]], lines.join('\n'))
    assert.is(r.counters.failedAttempts, 0)
  } finally {
    t.remove()
  }
}, MS))

grep.run()
sort.run()
props.run()
