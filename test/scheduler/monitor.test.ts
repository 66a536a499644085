import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime } from '../../src/scheduler/index.js'
import { blockUntil, computeMs, computeUntil } from './fixtures/cancel.js'
import { flagArray, waitUntil } from './_wait.js'

const release = (flag: Int32Array): void => {
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
}

test('tasks computing for 3 s while others queue: never more than procs threads computing user code (no hand-off of a computing M\'s P)', deadline('procs-cap', async () => {
  // Both Ms compute for 3 s, 300 x handoffMs, with work queued behind them and spares ready.
  const rt = await Runtime.start({ procs: 2, spares: 2, handoffMs: 10 })
  try {
    // Each M that holds a P imports the task module first. An import that outlasts 100 x
    // handoffMs (tsx transforming the file cold, on a loaded machine) loses its P by rule, and
    // the importing M then computes its task without one, beside the spare that took it: a third
    // computing thread that the rule allows. So warm up until every P has run a G (each holder
    // has the module), and count from there.
    const warm = flagArray(3)
    while (!rt.stats().perP.every((p) => p.runs > 0)) await rt.goAll(computeMs, [[warm, 0], [warm, 0], [warm, 0], [warm, 0]])
    const active = flagArray(3) // [computing now, most at once, started]
    const long1 = rt.go(computeMs, active, 3000)
    await waitUntil(active, 2, (v) => v >= 1)
    const long2 = rt.go(computeMs, active, 3000)
    await waitUntil(active, 2, (v) => v >= 2)
    const handoffs = rt.stats().total.handoffs // from here both Ms compute
    const shorts = rt.goAll(computeMs, [[active, 20], [active, 20], [active, 20], [active, 20]])
    assert.equal(await shorts, [20, 20, 20, 20])
    assert.equal([await long1, await long2], [3000, 3000])
    assert.is(Atomics.load(active, 1), 2, 'at most procs tasks computed at once')
    assert.is(rt.stats().total.handoffs, handoffs, 'no hand-off while both Ms computed')
  } finally {
    await rt.close()
  }
}, 30_000))

test('an M blocked in Atomics.wait is blocked, not computing: its queue moves to a spare while the other M computes, and computing threads stay within procs', deadline('procs-blocked', async () => {
  const rt = await Runtime.start({ procs: 2, spares: 1, handoffMs: 10 })
  const stop = flagArray(1)
  const blocked = flagArray(2)
  try {
    const active = flagArray(3)
    const computing = rt.go(computeUntil, active, stop)
    await waitUntil(active, 2, (v) => v >= 1)
    const blocker = rt.go(blockUntil, blocked)
    await waitUntil(blocked, 1, (v) => v === 1)
    // Both Ms are stuck: the computing one until `stop`, the blocked one until `blocked`. The
    // queued tasks can finish only on a spare handed the blocked M's P.
    assert.equal(await rt.goAll(computeMs, [[active, 5], [active, 5], [active, 5]]), [5, 5, 5])
    release(stop)
    release(blocked)
    assert.is(await computing, 1)
    assert.is(await blocker, 1)
    assert.is(Atomics.load(active, 1), 2, 'at most procs tasks computed at once')
    assert.ok(rt.stats().total.handoffs >= 1)
  } finally {
    release(stop)
    release(blocked)
    await rt.close()
  }
}, 20_000))

test.run()
