// retireThisM: an M that a task retired starts no G after that point, ends its thread once its
// tasks have settled, and is replaced; nothing queued meanwhile is lost, and no death is counted.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { threadId } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { MExhaustedError, Runtime, retireThisM } from '../../src/scheduler/index.js'
import { add, retireAndLinger, retireHere, where } from './fixtures/tasks.js'
import { flagArray, waitUntil } from './_wait.js'

test('outside an M, retireThisM does nothing and says so', () => {
  assert.is(retireThisM(), false)
  assert.ok(threadId === 0)
})

test('a retired M is replaced: the next task runs on another thread, and its result and error arrive intact', deadline('retire-replaced', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const left = rt.threadsLeft
    const first = await rt.go(retireHere, false)
    const next = await rt.go(where)
    assert.is.not(next, first, 'the next task ran on the retired thread')
    // A task that throws after retiring: its own error, not MDiedError.
    const e = await rt.go(retireHere, true).then(() => undefined, (x: unknown) => x)
    assert.instance(e, RangeError)
    assert.is((e as Error).message, 'failed after retiring')
    const third = await rt.go(where)
    assert.not.ok(third === first || third === next, `ran on a retired thread: ${third}`)
    const st = rt.stats()
    assert.is(st.mRetired, 2)
    assert.is(st.mDeaths, 0)
    // Each retired M's P was handed once, to its replacement: never back to the retiring M itself
    // (findSpare skips RETIRING/RETIRED Ms), which would take it when it posts 'released', and
    // hold it until its exit's recovery hands it on again (4 hand-offs here without that check;
    // one more is allowed for the monitor, should an M stall in user code under load).
    assert.ok(st.total.handoffs <= st.mRetired + 1, `${st.total.handoffs} hand-offs for ${st.mRetired} retirements`)
    // Each replacement used an index, and nothing else did.
    assert.is(rt.threadsLeft, left - 2)
  } finally {
    await rt.close()
  }
}, 20_000))

test('each retirement starts one replacement, no more: a replacement that said ready is a spare at once', deadline('retire-one-each', async () => {
  // A fresh M posted 'ready' before it marked itself RUNNING, so in between findSpare took it for
  // dead, and the monitor, finding the retired M's P ownerless and no spare, started another M
  // (about one retirement in eight, each leaving an idle thread behind).
  const rounds = 32
  const rt = await Runtime.start({ procs: 1, spares: 0, replacements: 2 * rounds })
  try {
    const left = rt.threadsLeft
    for (let i = 0; i < rounds; i++) {
      await rt.go(retireHere, false)
      await rt.go(where)
    }
    assert.is(rt.stats().mRetired, rounds)
    assert.is(left - rt.threadsLeft, rounds, 'thread indices used')
    assert.is(rt.stats().threads, 2, 'main and one M')
  } finally {
    await rt.close()
  }
}, 30_000))

for (const procs of [1, 2]) {
  test(`procs ${procs}: no G queued after the retire starts on the retiring M while its task lingers, and none is lost`, deadline(`retire-linger-${procs}`, async () => {
    const rt = await Runtime.start({ procs, spares: 0 })
    try {
      for (let round = 0; round < 5; round++) {
        const flag = flagArray()
        const lingering = rt.go(retireAndLinger, flag)
        // Wait until the task retired its M (flag[0]: that thread's id).
        await waitUntil(flag, 0, (v) => v !== 0)
        const retired = Atomics.load(flag, 0)
        const queued = Array.from({ length: 40 }, () => rt.go(where))
        // Let them wait (or run elsewhere) a while before the lingering task ends.
        await new Promise((r) => setTimeout(r, 30))
        Atomics.store(flag, 1, 1)
        assert.is(await lingering, retired)
        const ran = await Promise.all(queued)
        assert.not.ok(ran.includes(retired), `round ${round}: a G queued after the retire ran on the retiring thread ${retired}`)
      }
      assert.equal(await rt.goAll(add, [[1, 2], [3, 4]]), [3, 7])
      assert.is(rt.stats().mRetired, 5)
      assert.is(rt.stats().mDeaths, 0)
    } finally {
      await rt.close()
    }
  }, 30_000))
}

test('retirements use up replacements as deaths do: then MExhaustedError says how many retired', deadline('retire-exhausted', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1, replacements: 1 })
  try {
    await rt.go(retireHere, false)
    await rt.go(retireHere, false)
    assert.is(rt.threadsLeft, 0)
    const e = await rt.go(add, 1, 2).then(() => undefined, (x: unknown) => x)
    assert.instance(e, MExhaustedError)
    assert.is((e as MExhaustedError).retired, 2)
    assert.is((e as MExhaustedError).deaths, 0)
  } finally {
    await rt.close()
  }
}, 20_000))

test.run()
