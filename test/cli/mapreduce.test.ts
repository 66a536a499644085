// `gort mapreduce` (src/cli/mapreduce.ts): in-process from the sources, and once through
// bin/gort.js from dist/ as an installed user runs it, with a TypeScript job module (its Ms load
// it through tsx, which is why tsx is a dependency, not a dev one).
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { command } from '../../src/cli/mapreduce.js'
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
    const r = JSON.parse(stdout) as { files: string[]; maps: number; reduces: number; counters: { mapInputRecords: number } }
    assert.equal(r.files, [path.join(out, 'part-r-00000'), path.join(out, 'part-r-00001')])
    assert.is(r.reduces, 2)
    assert.ok(r.maps >= 4, `${r.maps} maps of 8 bytes`)
    assert.is(r.counters.mapInputRecords, 4)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, 60_000))

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
      [['--input', glob, '--output', out], /--job is required/],
      [['--job', WC, '--output', out], /--input is required/],
      [[...base, '--reducers', 'many'], /--reducers must be an integer from 0/],
      [[...base, '--procs', '0'], /--procs must be an integer from 1 to 256, got "0"/],
      [[...base, '--bogus'], /Unknown option '--bogus'/],
    ]
    for (const [argv, message] of cases) {
      const { code, out: stdout, err } = await cli(...argv)
      assert.is(code, 2, `${argv.join(' ')}: ${err}`)
      assert.is(stdout, '')
      assert.match(err, message)
      assert.not.ok(existsSync(out), `${argv.join(' ')} created the output`)
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

test('bin/gort.js mapreduce runs a TypeScript job from dist/ under plain node', deadline('bin', async () => {
  const t = tempDir()
  try {
    const { glob, texts } = inputs(t.dir)
    const out = path.join(t.dir, 'out')
    const { stdout } = await execFileAsync(process.execPath, [path.join(REPO, 'bin/gort.js'), 'mapreduce', '--job', WC, '--input', glob, '--output', out, '--procs', '2'], {
      cwd: t.dir, env: { ...process.env, NODE_OPTIONS: '' },
    })
    assert.match(stdout, /^gort mapreduce: 2 maps, 2 reduces; 4 records in, \d+ out; 0 spills; 0 failed attempts\n/)
    assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
    assert.is(readFileSync(path.join(out, '_SUCCESS'), 'utf8'), '')
  } finally {
    t.remove()
  }
}, 60_000))

test.run()
