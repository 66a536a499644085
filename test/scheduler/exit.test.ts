import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runProgram, type ChildResult } from './_child.js'
import { fileURLToPath } from 'node:url'
import { deadline } from '../_support/deadline.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const program = fixture('program.ts')

/** Runs a fixture as a whole program (see _child.ts); 15 s before a hang counts as one. */
const run = (mode: string, env: Record<string, string> = {}, file = program, killMs = 15_000): Promise<ChildResult> => runProgram(file, [mode], env, killMs)

test('a program that closes the runtime exits by itself, with no live handles left', deadline('exit-close', async () => {
  const r = await run('close')
  assert.is(r.code, 0, r.err)
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.is(lines[0]!['sum'], 499500)
  assert.is(lines[0]!['f'], 6765)
  const after = lines[1]!['after'] as string[]
  assert.not.ok(after.includes('Timeout'), `left: ${after.join(',')}`)
  assert.not.ok(after.some((r) => /Worker|MessagePort/.test(r)), `left: ${after.join(',')}`)
}, 20_000))

test('what tasks print just before their results is not lost when the runtime closes right after', deadline('exit-print', async () => {
  for (let round = 0; round < 3; round++) {
    const r = await run('print')
    assert.is(r.code, 0, r.err)
    for (const [stream, text] of [['out', r.out], ['err', r.err]] as const) {
      for (const tag of ['a', 'b']) {
        const got = text.split('\n').filter((l) => l.startsWith(`${tag} ${stream} `)).length
        assert.is(got, 50, `${tag}'s lines on std${stream}, round ${round}`)
      }
    }
    assert.ok(r.out.trim().endsWith('closed after 100'))
  }
}, 60_000))

test('what a task printed is not lost when the runtime closes while it still runs, for a moment', deadline('exit-print-busy', async () => {
  // close() used to skip an M in user code; it now asks it too, and waits BUSY_FLUSH_MS for it.
  // The task ends as soon as close() has asked.
  for (let round = 0; round < 3; round++) {
    const r = await run('print-busy')
    assert.is(r.code, 0, r.err)
    assert.is(r.out.split('\n').filter((l) => l.startsWith('a out ')).length, 50, `stdout, round ${round}`)
    assert.is(r.err.split('\n').filter((l) => l.startsWith('a err ')).length, 50, `stderr, round ${round}`)
    assert.match(r.out, /closed: (50|RuntimeClosedError)\n/)
  }
}, 60_000))

/**
 * Runs program.ts in `mode` with nobody reading its stdout until its stderr has matched `until`
 * and then `pauseMs` more, as a pager that has not started yet; resolves with what it wrote.
 */
async function slowReader(mode: string, until: RegExp, pauseMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', program, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  child.stdout.pause()
  let err = ''
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
    if (until.test(err)) resolve()
  }))
  await new Promise((r) => setTimeout(r, pauseMs))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stdout.resume()
  return { code: await closed, out, err }
}

const linesOf = (out: string, tag: string): number => out.split('\n').filter((l) => l.startsWith(`${tag} out `)).length

test('what tasks printed reaches a reader that reads slowly (a pager): close() waits while stdout holds back', deadline('exit-print-slow', async () => {
  // The reader takes nothing until close() has waited longer than its 1 s for a flush that does
  // not move: all of it stayed behind a full pipe and main's full stdout buffer, and close()
  // ended the Ms with it (only 'a' and part of 'b' came out).
  const r = await slowReader('print-many', /^closing$/m, 2500)
  assert.is(r.code, 0, r.err.slice(-2000))
  for (const tag of ['a', 'b', 'c', 'd']) assert.is(linesOf(r.out, tag), 20_000, `${tag}'s lines`)
  assert.ok(r.out.endsWith('closed after 80000\n'))
}, 60_000))

test('a retired M gives up its P at once, and its output still reaches a reader that reads slowly', deadline('exit-retire-print', async () => {
  // The M held its P until its thread had ended, and waited at most 1 s for output that did not
  // move: the next task waited that long, and the lines were lost. 'b ran' comes while the
  // retired M's output still waits behind the paused reader.
  const r = await slowReader('retire-print', /^b ran on /m, 1500)
  assert.is(r.code, 0, r.err.slice(-2000))
  assert.match(r.err, /b ran on another thread/)
  assert.is(linesOf(r.out, 'a'), 20_000)
  assert.ok(r.out.endsWith('closed\n'))
}, 60_000))

test('a program that forgets close() still exits by itself once its work is done', deadline('exit-forget', async () => {
  const r = await run('forget')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /"sum":499500/)
}, 20_000))

for (const mode of ['await', 'block']) {
  test(`no close(), a running task given up on through goWith (it ${mode === 'await' ? 'awaits' : 'blocks its M'} forever): the program ends with its own exit code`, deadline(`exit-abandon-${mode}`, async () => {
    const r = await run(mode, {}, fixture('abandon.ts'))
    assert.is(r.code, 7, `killed or failed: ${r.err}`)
    assert.match(r.out, /"rejected":"gave up"/)
  }, 20_000))
}

test('no close(), a task given up on, then main parked on a channel nothing can wake: Go\'s deadlock, exit 2', deadline('exit-abandon-deadlock', async () => {
  const r = await run('deadlock', {}, fixture('abandon.ts'))
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  assert.match(r.err, /all goroutines are asleep - deadlock!/)
}, 20_000))

test('GODEBUG=schedtrace=N prints Go-style SCHED lines', deadline('schedtrace', async () => {
  // The program works until it has seen a SCHED line go out, however long the timer takes.
  const r = await run('close', { GODEBUG: 'schedtrace=100' })
  assert.is(r.code, 0, `killed (no SCHED line within 15 s) or failed: ${r.err}`)
  assert.match(r.err, /SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ runqueue=\d+ \[\d+ \d+\]/)
}, 20_000))

test('an entry script that declares a task and starts the runtime: the go fails at once with RuntimeOnMError naming the fix, and no M starts a runtime', deadline('entry-declares', async () => {
  const r = await run('', {}, fixture('entry-declares.ts'))
  assert.is(r.code, 0, `killed or failed: ${r.err}`)
  const got = JSON.parse(r.out.trim()) as { name: string; code: string; task: string; message: string; threads: number }
  assert.is(got.name, 'RuntimeOnMError')
  assert.is(got.code, 'ERR_RUNTIME_ON_M')
  assert.match(got.task, /entry-declares\.ts#square$/)
  assert.match(got.message, /declare them in a module of their own/)
}, 20_000))

test.run()
