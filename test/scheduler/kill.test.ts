import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { MDiedError, Runtime } from '../../src/scheduler/index.js'
import { add } from './fixtures/tasks.js'
import { awaitAbort, awaitForever, blockForever, cancelChild, computeForever } from './fixtures/cancel.js'
import { flagArray, until, waitUntil } from './_wait.js'

for (const [name, t] of [['computes', computeForever], ['blocks in Atomics.wait', blockForever]] as const) {
  test(`killAfterMs ends the M of a task that ${name} and never polls: the task rejects with the reason, a task pinned there with MDiedError, queued work runs elsewhere`, deadline(`kill-${name}`, async () => {
    // One P, hand-offs off: the queued G can only run once the M is replaced.
    const rt = await Runtime.start({ procs: 1, spares: 1, handoffMs: 0 })
    try {
      const flag = flagArray(4)
      const pinned = rt.go(awaitForever, flag, 1) // started on the same M, awaiting: pinned there
      await waitUntil(flag, 1, (v) => v === 1)
      const ac = new AbortController()
      const victim = rt.goWith({ signal: ac.signal, killAfterMs: 0 }, t, flag)
      await waitUntil(flag, 0, (v) => v === 1)
      const queued = rt.go(add, 1, 2)
      ac.abort(new Error('too slow'))
      await victim.then(() => assert.unreachable('should reject'), (e: unknown) => assert.is((e as Error).message, 'too slow'))
      const err = await pinned.then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof MDiedError, String(err))
      assert.match(err.reason, /^killed to stop cancelled task .*#(computeForever|blockForever)$/)
      assert.match(err.task, /#awaitForever$/)
      assert.is(await queued, 3, 'the queued G ran on another M')
      assert.is(await rt.go(add, 2, 2), 4)
      assert.is(rt.stats().mDeaths, 1)
    } finally {
      await rt.close()
    }
  }, 20_000))
}

test('a kill asked for inside a task (its goWith) ends the child\'s M through the main thread', deadline('kill-from-m', async () => {
  const rt = await Runtime.start({ procs: 2, spares: 1, handoffMs: 0 })
  try {
    const flag = flagArray(4)
    assert.is(await rt.go(cancelChild, flag, 1), 'stop now')
    await until(() => rt.stats().mDeaths === 1)
    assert.equal(await rt.goAll(add, [[1, 1], [2, 2], [3, 3]]), [2, 4, 6])
  } finally {
    await rt.close()
  }
}, 20_000))

test('a cancelled task that ends on its own within killAfterMs keeps its M', deadline('kill-not-needed', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const flag = flagArray(4)
    const ac = new AbortController()
    // A grace the task can meet: with 0, a kill that reached the M while the thread was still in
    // the task's synchronous body (preempted between its flag and its await) ended the M, as
    // documented, and the test then hung on the flag the killed task never set (2 of 4 full runs
    // on this 2-core VM; every run with a 50 ms pause put in that body).
    const p = rt.goWith({ signal: ac.signal, killAfterMs: 5000 }, awaitAbort, flag)
    await waitUntil(flag, 0, (v) => v === 1)
    ac.abort(new Error('stop now'))
    await p.catch(() => {})
    await waitUntil(flag, 1, (v) => v !== 0) // it returned after the abort event
    assert.is(await rt.go(add, 1, 1), 2)
    assert.is(rt.stats().mDeaths, 0)
  } finally {
    await rt.close()
  }
}, 20_000))

test.run()
