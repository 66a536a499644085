// `gort sched` (src/cli/sched.ts): in-process from the sources, and once through bin/gort.js from
// dist/ as users run it (its Ms then load plain JavaScript task modules).
import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { command } from '../../src/cli/sched.js'
import { runCaptured } from '../_support/cli.js'
import { deadline } from '../_support/deadline.js'

const execFileAsync = promisify(execFile)

const cli = (...argv: string[]): ReturnType<typeof runCaptured> => runCaptured(command, argv)

interface Report {
  procs: number
  tasks: number
  rounds: number
  goFromMain: { perSec: number; cpuUsPerTask: number }
  goAllFromMain: { perSec: number }
  insideTasks: { parents: number; wave: number; goPerSec: number; goAllPerSec: number }
  fib: { n: number; cutoff: number; gs: number; ms: number; singleMs: number; speedup: number }
  stats: { runs: number; spawns: number; inlined: number; mDeaths: number; threads: number }
}

test('--json reports every shape with its counters; each shape checked its own results', deadline('json', async () => {
  const { code, out, err } = await cli('--procs', '2', '--tasks', '3000', '--rounds', '2', '--fib', '18', '--cutoff', '12', '--json')
  assert.is(err, '')
  assert.is(code, 0)
  const r = JSON.parse(out) as Report
  assert.equal([r.procs, r.tasks, r.rounds], [2, 3000, 2])
  for (const rate of [r.goFromMain.perSec, r.goAllFromMain.perSec, r.insideTasks.goPerSec, r.insideTasks.goAllPerSec, r.fib.speedup]) {
    assert.ok(Number.isFinite(rate) && rate > 0, `a positive rate, got ${rate}`)
  }
  assert.equal([r.insideTasks.parents, r.insideTasks.wave], [4, 128])
  // fib(18) with a cut-off of 12: the root, plus two children for every call from 12 up.
  const gs = (k: number): number => (k < 12 ? 1 : 1 + gs(k - 1) + gs(k - 2))
  assert.is(r.fib.gs, gs(18))
  assert.is(r.fib.gs, 67)
  // Each timed shape runs once untimed, then its rounds: at least this many Gs ran.
  const fromMain = 2 * (2 + 1) * 3000
  const inside = 2 * (2 + 1) * 4 * (1 + Math.floor(3000 / 4))
  assert.ok(r.stats.runs >= fromMain + inside, `runs ${r.stats.runs} < ${fromMain + inside}`)
  assert.equal([r.stats.inlined, r.stats.mDeaths], [0, 0])
}, 30_000))

test('lines mode prints one line per shape', deadline('lines', async () => {
  const { code, out } = await cli('--procs', '1', '--tasks', '500', '--rounds', '1', '--fib', '16', '--cutoff', '10')
  assert.is(code, 0)
  for (const what of ['gort sched: 1 procs', 'go from main', 'goAll from main', 'go inside tasks', 'goAll inside tasks', 'fib(16), cut-off 10', 'scheduler: runs']) {
    assert.ok(out.includes(what), `missing ${JSON.stringify(what)} in:\n${out}`)
  }
}, 30_000))

test('bad options are usage errors naming the option, exit 2, and start no runtime', deadline('usage', async () => {
  const cases: [string[], RegExp][] = [
    [['--tasks', '0'], /--tasks must be an integer from 1/],
    [['--procs', 'two'], /--procs must be an integer/],
    [['--procs', '1000'], /--procs must be an integer from 1 to 256, got "1000"/],
    [['--fib', '41'], /--fib must be an integer from 2 to 40/],
    [['--fib', '30', '--cutoff', '31'], /--cutoff must be an integer from 2 to 30/],
    [['--fib', '40', '--cutoff', '2'], /makes \d+ Gs a call .*raise --cutoff/],
    [['--bogus'], /Unknown option '--bogus'/],
  ]
  for (const [argv, message] of cases) {
    const { code, out, err } = await cli(...argv)
    assert.is(code, 2, argv.join(' '))
    assert.is(out, '')
    assert.match(err, message)
  }
  const help = await cli('--help')
  assert.is(help.code, 0)
  assert.match(help.out, /usage:\n {2}gort sched/)
  assert.match(help.out, /--procs N +Ps, as GOMAXPROCS, 1 to 256 /)
}))

test('bin/gort.js sched runs from dist/ and the process exits by itself', deadline('bin', async () => {
  const bin = fileURLToPath(new URL('../../bin/gort.js', import.meta.url))
  const { stdout } = await execFileAsync(process.execPath, [bin, 'sched', '--tasks', '2000', '--rounds', '1', '--fib', '18', '--cutoff', '12', '--json'], {
    env: { ...process.env, GOMAXPROCS: '2', NODE_OPTIONS: '' },
    timeout: 60_000,
  })
  const r = JSON.parse(stdout) as Report
  assert.is(r.procs, 2, 'GOMAXPROCS sets procs')
  assert.ok(r.goFromMain.perSec > 0 && r.fib.gs === 67)
}, 90_000))

test('a reader that closes the pipe early (gort sched | head -1) ends the command quietly, exit 0', deadline('epipe', async () => {
  const bin = fileURLToPath(new URL('../../bin/gort.js', import.meta.url))
  const child = spawn(process.execPath, [bin, 'sched', '--tasks', '2000', '--rounds', '1', '--fib', '18', '--cutoff', '12'], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => void (err += d.toString()))
  // The first line is printed before any shape runs; later lines then meet a closed pipe.
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.is(err, '')
  assert.is(code, 0)
}, 60_000))

test.run()
