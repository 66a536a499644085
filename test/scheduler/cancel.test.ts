import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime, SchedulerArgError, go, goWith } from '../../src/scheduler/index.js'
import { add, block, blockThenFail, bump } from './fixtures/tasks.js'
import { awaitAbort, cancelChild, pollUntilAborted, signalAfterAwait } from './fixtures/cancel.js'
import { flagArray, waitUntil } from './_wait.js'
import { NotInTaskError, RuntimeClosedError, taskSignal } from '../../src/scheduler/index.js'
import { H_CLOSED, computeLayout, writeHeader } from '../../src/scheduler/shared/layout.js'
import { Sched } from '../../src/scheduler/shared/sched.js'
import { TaskSignals } from '../../src/scheduler/m/signals.js'
import type { MHold } from '../../src/scheduler/m/runner.js'

test('aborting a G no M has taken rejects with the reason, and the G never runs', deadline('cancel-queued', async () => {
  // One M, no spare, no hand-offs: while `block` holds the M, everything else stays queued.
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  try {
    const flag = flagArray()
    const counter = flagArray(1)
    const blocked = rt.go(block, flag)
    await waitUntil(flag, 1, (v) => v === 1)
    const ac = new AbortController()
    const cancelled = rt.goWith({ signal: ac.signal }, bump, counter)
    const kept = rt.go(bump, counter)
    const reason = new Error('not needed any more')
    ac.abort(reason)
    try {
      await cancelled
      assert.unreachable('should reject')
    } catch (e) {
      assert.is(e, reason)
    }
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await blocked
    await kept
    assert.is(await rt.go(add, 1, 1), 2) // FIFO: the cancelled G was met (and skipped) before this
    assert.is(Atomics.load(counter, 0), 1, 'only the kept bump ran')
  } finally {
    await rt.close()
  }
}))

test('an already-aborted signal rejects at once; a late abort drops the result', deadline('cancel-edges', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const counter = flagArray(1)
    const ac = new AbortController()
    ac.abort(new Error('early'))
    await rt.goWith({ signal: ac.signal }, bump, counter).then(
      () => assert.unreachable('should reject'),
      (e: unknown) => assert.is((e as Error).message, 'early'),
    )
    const late = new AbortController()
    const done = await rt.goWith({ signal: late.signal }, add, 2, 3)
    late.abort() // after settling: no effect, no listener left behind
    assert.is(done, 5)
    assert.is(await go(add, 1, 2), 3)
    assert.is(await goWith({}, add, 2, 2), 4)
    assert.is(Atomics.load(counter, 0), 0)
  } finally {
    await rt.close()
  }
}))

test('a started G that fails after its caller aborted: the caller sees the reason, the failure is dropped (no unhandled rejection)', deadline('cancel-then-fail', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  const unhandled: unknown[] = []
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e)
  }
  process.on('unhandledRejection', onUnhandled)
  try {
    const flag = flagArray()
    const ac = new AbortController()
    const p = rt.goWith({ signal: ac.signal }, blockThenFail, flag)
    await waitUntil(flag, 1, (v) => v === 1) // started: it can no longer be skipped
    const reason = new Error('gave up')
    ac.abort(reason)
    await p.then(
      () => assert.unreachable('should reject'),
      (e: unknown) => assert.is(e, reason),
    )
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    // One M, FIFO: once this result is here, the failure above has been delivered (and dropped).
    assert.is(await rt.go(add, 1, 1), 2)
    await new Promise((r) => setImmediate(r))
    assert.equal(unhandled, [])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await rt.close()
  }
}))

test('aborting a go still waiting for a G record (main out of records): it rejects with the reason and never runs', deadline('cancel-overflow', async () => {
  // One main-thread record: while `block` holds it, further go() calls wait in the local FIFO.
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0, mainSlots: 1 })
  try {
    const flag = flagArray()
    const counter = flagArray(1)
    const blocked = rt.go(block, flag)
    await waitUntil(flag, 1, (v) => v === 1)
    const ac = new AbortController()
    const cancelled = rt.goWith({ signal: ac.signal }, bump, counter)
    const reason = new Error('not needed any more')
    ac.abort(reason)
    await cancelled.then(() => assert.unreachable('should reject'), (e: unknown) => assert.is(e, reason))
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await blocked
    assert.is(await rt.go(add, 1, 1), 2) // FIFO: the cancelled go was met (and dropped) before this
    assert.is(Atomics.load(counter, 0), 0, 'the cancelled bump never ran')
  } finally {
    await rt.close()
  }
}))

test('a bad signal or options object fails at the call with SchedulerArgError echoing it, and queues nothing', deadline('cancel-bad-signal', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const counter = flagArray(1)
    const bad: [unknown, RegExp][] = [
      [{ signal: 'x' }, /options\.signal must be an AbortSignal, got "x"/],
      [{ signal: NaN }, /options\.signal must be an AbortSignal, got NaN/],
      [{ signal: { aborted: false } }, /options\.signal must be an AbortSignal, got \{"aborted":false\}/],
      [null, /needs an options object \(\{ signal \}\), got null/],
      [undefined, /needs an options object \(\{ signal \}\), got undefined/],
    ]
    for (const [options, message] of bad) {
      for (const call of [() => rt.goWith(options as never, bump, counter), () => goWith(options as never, bump, counter)]) {
        assert.throws(call, (e: unknown) => e instanceof SchedulerArgError && e.code === 'ERR_INVALID_ARG' && message.test(e.message))
      }
    }
    assert.is(await rt.goWith({}, add, 1, 2), 3)
    assert.is(Atomics.load(counter, 0), 0, 'no bump ran')
  } finally {
    await rt.close()
  }
}))

test('a task computing without ever yielding sees its caller\'s abort by polling taskSignal().aborted, with the reason, and the abort event fires', deadline('signal-poll', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  try {
    const flag = flagArray(4)
    const ac = new AbortController()
    const p = rt.goWith({ signal: ac.signal }, pollUntilAborted, flag)
    await waitUntil(flag, 0, (v) => v === 1) // polling: its thread's event loop never runs from here on
    ac.abort(new Error('stop now'))
    await p.then(() => assert.unreachable('should reject'), (e: unknown) => assert.is((e as Error).message, 'stop now'))
    await waitUntil(flag, 1, (v) => v !== 0)
    assert.is(Atomics.load(flag, 1), 1, 'the reason is the caller\'s (cloned)')
    assert.is(Atomics.load(flag, 2), 1, 'the abort event fired at the poll')
    assert.is(await rt.go(add, 1, 1), 2, 'the M goes on')
  } finally {
    await rt.close()
  }
}))

test('a task awaiting its signal gets the abort event on its M\'s event loop, with the reason', deadline('signal-event', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const flag = flagArray(4)
    const ac = new AbortController()
    const p = rt.goWith({ signal: ac.signal }, awaitAbort, flag)
    await waitUntil(flag, 0, (v) => v === 1)
    ac.abort(new Error('stop now'))
    await p.catch(() => {})
    await waitUntil(flag, 1, (v) => v !== 0)
    assert.is(Atomics.load(flag, 1), 1)
  } finally {
    await rt.close()
  }
}))

test('a cancel from inside a task reaches its child running on another M', deadline('signal-from-m', async () => {
  const rt = await Runtime.start({ procs: 2, spares: 0, handoffMs: 0 })
  try {
    const flag = flagArray(4)
    assert.is(await rt.go(cancelChild, flag, 0), 'stop now')
    await waitUntil(flag, 1, (v) => v !== 0)
    assert.is(Atomics.load(flag, 1), 1, 'the child saw the parent\'s reason')
  } finally {
    await rt.close()
  }
}))

test('taskSignal() outside a task, or after its first await, throws NotInTaskError', deadline('signal-not-in-task', async () => {
  assert.throws(() => taskSignal(), (e: unknown) => e instanceof NotInTaskError && e.code === 'ERR_NOT_IN_TASK')
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const flag = flagArray(4)
    await rt.go(signalAfterAwait, flag)
    assert.is(Atomics.load(flag, 1), 1)
  } finally {
    await rt.close()
  }
}))

test('closing the runtime aborts a running task\'s signal with RuntimeClosedError, read from shared memory', () => {
  // The M side alone (a close terminates the Ms at once, so in a real runtime only a task that
  // polls in between would see it): the G's signal reads the closed flag.
  const l = computeLayout(1, 2, 4, 4)
  const sab = new SharedArrayBuffer(l.words * 4)
  writeHeader(new Int32Array(sab), l)
  const s = new Sched(sab)
  s.attachCancels(`gort-cancel-test-${process.pid}`, () => {})
  try {
    const hold = { p: -1, po: 0, inSpan: false, g: 3 } as unknown as MHold
    const signals = new TaskSignals(s.I, s.l, 1, hold, s.cancels, () => {})
    const signal = signals.get()
    assert.is(signals.get(), signal, 'one signal per run of a G')
    assert.is(signal.aborted, false)
    Atomics.store(s.I, H_CLOSED, 1)
    assert.is(signal.aborted, true)
    assert.ok(signal.reason instanceof RuntimeClosedError)
    assert.throws(() => signal.throwIfAborted(), (e: unknown) => e instanceof RuntimeClosedError)
  } finally {
    s.cancels.close()
  }
})

test('killAfterMs is checked at the call', deadline('kill-bad-option', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const ac = new AbortController()
    for (const [o, m] of [
      [{ signal: ac.signal, killAfterMs: -1 }, /killAfterMs must be a finite number >= 0, got -1/],
      [{ signal: ac.signal, killAfterMs: NaN }, /got NaN/],
      [{ signal: ac.signal, killAfterMs: '5' }, /got "5"/],
      [{ killAfterMs: 5 }, /needs options\.signal/],
    ] as const) {
      assert.throws(() => rt.goWith(o as never, add, 1, 2), (e: unknown) => e instanceof SchedulerArgError && m.test(e.message))
    }
  } finally {
    await rt.close()
  }
}))

test.run()
