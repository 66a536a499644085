// The cross-thread deadlock check (main/checkdead.ts): each case is a whole program in a child
// process (fixtures/deadlock.ts), since a deadlock ends its process with exit 2.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { runDeadlockProgram } from './_child.js'

const run = (mode: string): ReturnType<typeof runDeadlockProgram> => runDeadlockProgram([mode])

const HEADER = /^fatal error: all goroutines are asleep - deadlock!\n\n/
const CHAN = /SharedChan [0-9a-f]+ \(unbuffered\)/

/** The report's goroutine entries: header line, then its detail lines. */
function entries(err: string): string[][] {
  return err.replace(HEADER, '').trim().split('\n\n').map((e) => e.split('\n').map((l) => l.trim()))
}

test('main parked on a SharedChan nothing sends on, every M idle: Go\'s report naming main and the channel, exit 2', deadline('main-recv', async () => {
  const r = await run('main-recv')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  assert.match(r.err, HEADER)
  const es = entries(r.err)
  assert.is(es.length, 1, r.err)
  assert.is(es[0]![0], 'goroutine 1 [chan receive]:')
  assert.match(es[0]![1]!, /^main thread \(threadId 0\)$/)
  assert.match(es[0]![2]!, CHAN)
}, 70_000))

test('main in a select over shared channels nothing sends on: the report says select, exit 2', deadline('main-select', async () => {
  const r = await run('main-select')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  assert.match(r.err, HEADER)
  const es = entries(r.err)
  assert.is(es.length, 1, r.err)
  assert.match(es[0]![0]!, /^goroutine \S+ \[select\]:$/)
  assert.match(es[0]![1]!, /^main thread \(threadId 0\)$/)
  assert.match(es[0]![2]!, /case 0: receive from SharedChan.*; case 1: receive from SharedChan/)
}, 70_000))

test('no runtime at all, main alone parked on a SharedChan: exit 2 with the report', deadline('alone', async () => {
  const r = await run('alone')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  assert.match(r.err, HEADER)
  assert.match(r.err, /goroutine 1 \[chan receive\]:\n\tmain thread/)
}, 70_000))

test('local goroutines on main: one asleep on a SharedChan, one parked on a Chan, both named in the report', deadline('local', async () => {
  const r = await run('local')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  const es = entries(r.err)
  assert.is(es.length, 2, r.err)
  assert.equal(es[0]!.slice(0, 2), ['goroutine 2 (waiter) [chan receive]:', 'main thread (threadId 0)'])
  assert.match(es[0]![2]!, CHAN)
  assert.equal(es[1]!.slice(0, 2), ['goroutine 3 (sender) [chan send]:', 'main thread (threadId 0)'])
}, 70_000))

test('main awaits a task parked forever on a SharedChan: the report names main, the task\'s goroutine, its M and the channel', deadline('task-recv', async () => {
  const r = await run('task-recv')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  const es = entries(r.err)
  assert.is(es.length, 2, r.err)
  assert.equal(es[0], ['goroutine 1 [waiting]:', 'main thread (threadId 0)', 'awaiting 1 task(s) started with go()'])
  assert.match(es[1]![0]!, /^goroutine G\d+ \(task deadlock-tasks\.ts#recvOne\) \[chan receive\]:$/)
  assert.match(es[1]![1]!, /^M [12] \(threadId [1-9]\d*\)$/)
  assert.match(es[1]![2]!, CHAN)
}, 70_000))

test('two tasks on two Ms, each waiting for the other: a cross-thread deadlock, exit 2 naming both Ms and both channels', deadline('crossed', async () => {
  const r = await run('crossed')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  const es = entries(r.err)
  assert.is(es.length, 3, r.err)
  const tasks = es.slice(1)
  for (const e of tasks) {
    assert.match(e[0]!, /^goroutine G\d+ \(task deadlock-tasks\.ts#crossed\) \[chan receive\]:$/)
    assert.match(e[2]!, CHAN)
  }
  assert.is.not(tasks[0]![1], tasks[1]![1], 'the two tasks run on two Ms')
  assert.is.not(tasks[0]![2], tasks[1]![2], 'each waits on its own channel')
}, 70_000))

test('not a deadlock: a task parked on a SharedChan while a timer on main will send', deadline('main-timer', async () => {
  const r = await run('main-timer')
  assert.is(r.code, 0, r.err)
  assert.is(r.out.trim(), '{"got":7}')
}, 70_000))

test('not a deadlock: a task parked on a SharedChan while another awaits a timer on its M, then sends', deadline('task-timer', async () => {
  const r = await run('task-timer')
  assert.is(r.code, 0, r.err)
  assert.is(r.out.trim(), '{"got":9}')
}, 70_000))

test('a prestarted M\'s thread that no Runtime took does not hide a deadlock: exit 2 with the report', deadline('prestarted', async () => {
  const r = await run('prestarted')
  assert.is(r.code, 2, `killed or failed: ${r.err}`)
  assert.match(r.err, HEADER)
  assert.match(r.err, /goroutine 1 \[chan receive\]:\n\tmain thread/)
}, 70_000))

test('not a deadlock: main parked on a SharedChan that a plain Worker (no runtime) will send on', deadline('plain-worker', async () => {
  const r = await run('plain-worker')
  assert.is(r.code, 0, r.err)
  assert.is(r.out.trim(), '{"got":5}')
}, 70_000))

test('not a deadlock: a recv and a go() each given AbortSignal.timeout (an unref\'d timer) end by it', deadline('timeout-signal', async () => {
  const r = await run('timeout-signal')
  assert.is(r.code, 0, r.err)
  assert.is(r.out.trim(), '{"op":"TimeoutError","g":"TimeoutError","sel":"TimeoutError","lock":"TimeoutError"}')
}, 70_000))

test('not a deadlock, no runtime: a select over shared channels and a SharedMutex lock given AbortSignal.timeout end by it', deadline('alone-timeout', async () => {
  const r = await run('alone-timeout')
  assert.is(r.code, 0, r.err)
  assert.is(r.out.trim(), '{"sel":"TimeoutError","lock":"TimeoutError"}')
}, 70_000))

test('main with nothing pending ends with its own exit code while a task stays parked on a SharedChan', deadline('abandon', async () => {
  const r = await run('abandon')
  assert.is(r.code, 7, `killed or failed: ${r.err}`)
  assert.is(r.out.trim(), '{"rejected":"gave up"}')
}, 70_000))

test.run()
