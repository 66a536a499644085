import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime, SchedulerArgError, go, goWith } from '../../src/scheduler/index.js'
import { add, block, blockThenFail, bump } from './fixtures/tasks.js'
import { flagArray, waitUntil } from './_wait.js'

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

test.run()
