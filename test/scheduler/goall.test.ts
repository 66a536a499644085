// goAll: one G per argument tuple, one promise for the batch (src/scheduler/batch.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime, RuntimeClosedError, SchedulerArgError, UncloneableArgError, goAll, goAllSettled } from '../../src/scheduler/index.js'
import { add, addAllInside, block, echoAllInside, failIf, settleAllInside } from './fixtures/tasks.js'
import { flagArray, waitUntil } from './_wait.js'

const tuples = (n: number): [number, number][] => Array.from({ length: n }, (_, i) => [i, 1])
const expected = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

test('from the main thread: every result, in order, each G run once', deadline('main', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const runs0 = rt.stats().total.runs
    assert.equal(await rt.goAll(add, tuples(20_000)), expected(20_000))
    assert.is(rt.stats().total.runs - runs0, 20_000)
    assert.equal(await goAll(add, []), [], 'an empty batch resolves at once')
  } finally {
    await rt.close()
  }
}))

test('inside a task: children are real Gs, results in order; any payload shape', deadline('inside', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const spawns0 = rt.stats().total.spawns
    assert.equal(await rt.go(addAllInside, 5000), expected(5000))
    assert.is(rt.stats().total.spawns - spawns0, 5000)
    assert.is(rt.stats().total.inlined, 0)
    const vs = [1, 'two', { three: [3] }, null, 2 ** 40, 'x'.repeat(100)]
    assert.equal(await rt.go(echoAllInside, vs), vs)
  } finally {
    await rt.close()
  }
}))

test('a child that throws rejects the batch with its error, as Promise.all does', deadline('throw', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const err = await rt.goAll(failIf, Array.from({ length: 100 }, (_, i): [number, number] => [i, 37])).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.instance(err, RangeError)
    assert.is((err as Error).message, 'child 37 failed')
    // The runtime keeps serving, and nothing of the failed batch is left pending.
    assert.equal(await rt.goAll(add, tuples(10)), expected(10))
  } finally {
    await rt.close()
  }
}))

test('bad input fails at the call and queues nothing', deadline('bad', async () => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    assert.throws(() => rt.goAll(add, 'nope' as never), (e: unknown) => e instanceof SchedulerArgError)
    const runs0 = rt.stats().total.runs
    const bad = [[1, 2], [() => 0, 1]] as unknown as [number, number][]
    assert.throws(() => rt.goAll(add, bad), (e: unknown) => e instanceof UncloneableArgError)
    const notATuple = [[1, 2], 3] as unknown as [number, number][]
    assert.throws(() => rt.goAll(add, notATuple), (e: unknown) => e instanceof SchedulerArgError && /argument list 1 is not an array/.test((e as Error).message))
    assert.equal(await rt.goAll(add, tuples(3)), expected(3))
    assert.is(rt.stats().total.runs - runs0, 3, 'the batches with a bad tuple ran nothing')
  } finally {
    await rt.close()
  }
}))

test('more children than G records: the rest wait (main) or run inline (in a task), none lost', deadline('records', async () => {
  const rt = await Runtime.start({ procs: 2, mainSlots: 16, mSlots: 16 })
  try {
    assert.equal(await rt.goAll(add, tuples(500)), expected(500))
    // One go() each: all but 16 wait in the overflow FIFO and are published as records free up.
    assert.equal(await Promise.all(tuples(500).map(([a, b]) => rt.go(add, a, b))), expected(500))
    assert.equal(await rt.go(addAllInside, 200), expected(200))
    assert.ok(rt.stats().total.inlined > 0, 'the M ran what did not fit inline')
  } finally {
    await rt.close()
  }
}))

test('close() rejects a pending batch with RuntimeClosedError', deadline('close', async () => {
  // The only M is blocked and no spare may start, so the batch is still queued when close() runs.
  const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1 })
  const flag = flagArray()
  const blocked = rt.go(block, flag).catch((e: unknown) => e)
  await waitUntil(flag, 1, (v) => v === 1)
  const batch = rt.goAll(add, tuples(10)).catch((e: unknown) => e)
  await rt.close()
  assert.instance(await batch, RuntimeClosedError)
  assert.instance(await blocked, RuntimeClosedError)
}))

/** failIf tuples where every i % 3 === 1 fails, and what goAllSettled should give for them. */
const mixed = (n: number): [number, number][] => Array.from({ length: n }, (_, i): [number, number] => [i, i % 3 === 1 ? i : -1])
function checkOutcomes(got: PromiseSettledResult<number>[], n: number): void {
  assert.is(got.length, n)
  for (let i = 0; i < n; i++) {
    const o = got[i]!
    if (i % 3 === 1) {
      if (o.status !== 'rejected' || !(o.reason instanceof RangeError) || o.reason.message !== `child ${i} failed`) assert.unreachable(`outcome ${i}: ${JSON.stringify(o)}`)
    } else if (o.status !== 'fulfilled' || o.value !== i) assert.unreachable(`outcome ${i}: ${JSON.stringify(o)}`)
  }
}

test('goAllSettled: every outcome in order, as Promise.allSettled gives them; failures drop no result', deadline('settled', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    checkOutcomes(await rt.goAllSettled(failIf, mixed(3000)), 3000)
    checkOutcomes(await goAllSettled(failIf, mixed(10)), 10) // the free call, on the current runtime
    assert.equal(await rt.goAllSettled(add, []), [])
    // Inside a task: the children are the M's Gs, the outcomes come back in order.
    const inside = await rt.go(settleAllInside, 600)
    assert.is(inside.length, 600)
    for (let i = 0; i < 600; i++) assert.is(inside[i], i % 3 === 1 ? `RangeError child ${i} failed` : `ok ${i}`)
    // Bad input still throws at the call, as goAll's does.
    assert.throws(() => rt.goAllSettled(add, [[1, 2], [() => 0, 1]] as unknown as [number, number][]), (e: unknown) => e instanceof UncloneableArgError)
  } finally {
    await rt.close()
  }
}))

test('goAllSettled past the G records (some children wait in the FIFO) and at close(): still every outcome', deadline('settled-records', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1, mainSlots: 16 })
  checkOutcomes(await rt.goAllSettled(failIf, mixed(500)), 500)
  // The only M is blocked, so the batch is still queued when close() runs: each outcome is RuntimeClosedError.
  const flag = flagArray()
  const blocked = rt.go(block, flag).catch((e: unknown) => e)
  await waitUntil(flag, 1, (v) => v === 1)
  const batch = rt.goAllSettled(add, tuples(40))
  await rt.close()
  const got = await batch
  assert.is(got.length, 40)
  assert.ok(got.every((o) => o.status === 'rejected' && o.reason instanceof RuntimeClosedError), JSON.stringify(got.slice(0, 2)))
  assert.instance(await blocked, RuntimeClosedError)
}))

test.run()
