// The monitor's test for "the stuck M is computing, not blocked" (src/scheduler/threadstate.ts):
// it decides whether a hand-off would free a queue from a blocked M or only add a thread.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { ProcStateReader, ThreadStates, looksComputing, mComputing, ownTid } from '../../src/scheduler/main/threadstate.js'
import { flagArray, waitUntil } from './_wait.js'

test('CPU covering every running M means none is blocked', () => {
  assert.ok(looksComputing(1.05, 1), 'procs=1, its M computing (plus a little main-thread time)')
  assert.ok(looksComputing(1.6, 2), 'two Ms computing on a loaded machine that gave them 80%')
  assert.ok(looksComputing(2.1, 2))
})

test('CPU short of the running Ms means one is blocked: hand off as before', () => {
  assert.not.ok(looksComputing(0.05, 1), 'the only M blocked in Atomics.wait')
  assert.not.ok(looksComputing(1.1, 2), 'one M computing, one blocked')
  assert.not.ok(looksComputing(Number.NaN, 1), 'too few samples yet: no claim either way')
})

test("the kernel's word outranks the CPU-time guess; without it the guess decides", () => {
  assert.ok(mComputing(1, 0.1, 2), 'runnable, though the process CPU looks short (main thread waiting for a core)')
  assert.not.ok(mComputing(0, 2.0, 2), 'asleep in the kernel, though the process CPU looks full')
  assert.ok(mComputing(Number.NaN, 2.0, 2), 'no kernel reading: CPU covers the running Ms')
  assert.not.ok(mComputing(Number.NaN, 1.0, 2), 'no kernel reading: CPU short of the running Ms')
})

test('ThreadStates: a verdict needs two readings of one stall; blocked is asleep 3 readings in a row over 4 ms', () => {
  let next = 1
  const st = new ThreadStates(4, { read: () => next, close: () => {} })
  assert.ok(Number.isNaN(st.runnable(1, 100, 1, 0)), 'one reading is no verdict')
  assert.is(st.runnable(1, 100, 2, 0), 1)
  next = 0
  assert.is(st.runnable(1, 100, 4, 0), 1, 'one sleeping reading after running ones: still computing')
  assert.is(st.runnable(1, 100, 4.1, 0), 1, 'two in a row, a burst of samples (a GC pause): still computing')
  assert.is(st.runnable(1, 100, 5, 0), 1, 'three in a row within 4 ms: still computing')
  assert.is(st.runnable(1, 100, 8, 0), 0, 'asleep in every reading for 4 ms: blocked')
  next = 1
  assert.is(st.runnable(1, 100, 9, 0), 1, 'running again: computing')
  next = 0
  assert.ok(Number.isNaN(st.runnable(1, 100, 12, 10)), 'a stall that began after the last reading starts afresh')
  assert.is(st.runnable(1, 100, 14, 10), 1, 'and its own readings count: asleep twice, too briefly')
  assert.is(st.runnable(1, 100, 16, 10), 0, 'asleep three times over 4 ms')
  assert.ok(Number.isNaN(st.runnable(2, 0, 100, 0)), 'tid 0 (unknown) gives no verdict')
  assert.ok(Number.isNaN(new ThreadStates(1, { read: () => Number.NaN, close: () => {} }).runnable(1, 7, 0, 0)), 'an unreadable thread gives no verdict')
})

// Linux only: elsewhere the monitor falls back on the CPU-time guess, covered above.
const linux = existsSync('/proc/thread-self')

test('a real thread reads runnable while it computes and asleep while blocked in Atomics.wait', deadline('thread-state', async () => {
  if (!linux) return
  assert.ok(ownTid() > 0)
  const reader = new ProcStateReader()
  const threadRunnable = (tid: number): number => reader.read(tid)
  assert.ok(Number.isNaN(threadRunnable(0x7fffffff)), 'no such thread')
  // flag[0]: the worker's tid; flag[1]: 1 = stop computing and block, 2 = released, 3 = blocking
  const flag = flagArray(4)
  const w = new Worker(
    `const { workerData: f } = require('node:worker_threads')
     Atomics.store(f, 0, Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()))
     Atomics.notify(f, 0)
     while (Atomics.load(f, 1) === 0) {}
     Atomics.store(f, 3, 1)
     Atomics.notify(f, 3)
     Atomics.wait(f, 1, 1)`,
    { eval: true, workerData: flag },
  )
  const exited = new Promise((r) => w.once('exit', r))
  try {
    await waitUntil(flag, 0, (v) => v !== 0)
    const tid = Atomics.load(flag, 0)
    // A spinning thread is running or waiting for a core: 'R' either way.
    while (threadRunnable(tid) !== 1) await new Promise((r) => setImmediate(r))
    Atomics.store(flag, 1, 1)
    await waitUntil(flag, 3, (v) => v === 1)
    // It reaches the futex a moment after announcing it.
    while (threadRunnable(tid) !== 0) await new Promise((r) => setImmediate(r))
  } finally {
    Atomics.store(flag, 1, 2)
    Atomics.notify(flag, 1)
    await exited
  }
  // Its /proc entry goes once the kernel has reaped the thread, which may come a moment after
  // 'exit' (CI saw it still readable once): wait for that, up to 5 s, rather than race it.
  const tid = Atomics.load(flag, 0)
  for (const until = Date.now() + 5000; !Number.isNaN(reader.read(tid)) && Date.now() < until;) await new Promise((r) => setTimeout(r, 1))
  assert.ok(Number.isNaN(reader.read(tid)), 'a thread that exited gives no verdict')
  reader.close()
}))

test('ThreadStates: after 4 runnable readings in one stall it reads every 8 ms only; an asleep reading restores every sample', () => {
  let next = 1
  let reads = 0
  const st = new ThreadStates(4, { read: () => (reads++, next), close: () => {} })
  for (let t = 0; t < 8; t += 2) st.runnable(1, 100, t, 0) // 4 readings at 0, 2, 4, 6 ms: computing
  assert.is(reads, 4)
  assert.is(st.runnable(1, 100, 8, 0), 1, 'skipped: the last reading (6 ms) is under 8 ms old')
  assert.is(st.runnable(1, 100, 12, 0), 1)
  assert.is(reads, 4, 'no /proc read while a long computation goes on')
  next = 0
  assert.is(st.runnable(1, 100, 14, 0), 1, 'read again 8 ms after the last one: asleep once, not yet blocked')
  assert.is(reads, 5)
  st.runnable(1, 100, 16, 0)
  assert.is(st.runnable(1, 100, 19, 0), 0, 'asleep in every reading, one per sample, over 4 ms: blocked')
  assert.is(reads, 7)
  // A new stall starts over: every sample reads until 4 runnable readings again.
  next = 1
  st.runnable(1, 100, 30, 25)
  st.runnable(1, 100, 32, 25)
  assert.is(reads, 9)
})

test.run()
