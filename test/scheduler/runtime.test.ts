import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import {
  Runtime, go, MDiedError, MExhaustedError, RuntimeClosedError, SchedulerArgError, TaskNotFoundError, UncloneableArgError,
  UncloneableResultError,
} from '../../src/scheduler/index.js'
import type { RuntimeOptions } from '../../src/scheduler/index.js'
import { add, argv, big, churn, echo, exitNow, fail, fib, ghostTask, returnsFn, sumBytes, youngMb } from './fixtures/tasks.js'
import { refuses } from './fixtures/refuses.js'
import { startWithoutRescue } from './_wait.js'

let rt: Runtime

test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})

test.after(async () => {
  await rt.close()
})

test('results of every shape come back: inline numbers, small and large values, bytes', deadline('shapes', async () => {
  assert.is(await rt.go(add, 2, 3), 5)
  assert.equal(await rt.go(echo, { a: [1, 'two'] }), { a: [1, 'two'] })
  assert.is(await rt.go(echo, undefined), undefined)
  assert.is((await rt.go(big, 10_000)).length, 10_000)
  const bytes = new Uint8Array(5000).fill(2)
  assert.is(await rt.go(sumBytes, bytes), 10_000)
}))

test('inline numeric arguments arrive exactly, 0 to 4 of them (the count too)', deadline('argv', async () => {
  const cases: number[][] = [[], [7], [1.5, -0], [NaN, 2 ** 31, -3], [0, 1, 2, 3]]
  for (const xs of cases) {
    const want = JSON.stringify({ n: xs.length, xs: xs.map((x) => (Object.is(x, -0) ? '-0' : x)) })
    // Twice: the first call may take the slow path (the M imports the module), the second the hot one.
    assert.is(await rt.go(argv, ...xs), want)
    assert.is(await rt.go(argv, ...xs), want)
  }
}))

test('1e5 tasks: every result arrives once and is right (none lost, none run twice)', deadline('1e5', async () => {
  const fresh = await Runtime.start({ procs: 2 })
  try {
    const n = 100_000
    const ps: Promise<number>[] = []
    for (let i = 0; i < n; i++) ps.push(fresh.go(add, i, 1))
    const r = await Promise.all(ps)
    for (let i = 0; i < n; i++) if (r[i] !== i + 1) assert.unreachable(`result ${i} is ${r[i]}`)
    // Every G ran exactly once: the runs counter equals the number submitted.
    assert.is(fresh.stats().total.runs, n)
  } finally {
    await fresh.close()
  }
}, 30_000))

test('one-at-a-time round trips: every wake-up arrives, with the monitor\'s rescue off', deadline('round-trips', async () => {
  // Each round trip wakes a parked M (or finds it spinning) and then main. Without the safety net
  // a lost wake-up cannot be papered over: it hangs this test until the deadline names it.
  const fresh = await startWithoutRescue(() => Runtime.start({ procs: 2 }))
  try {
    for (let i = 0; i < 3000; i++) {
      if ((await fresh.go(add, i, 1)) !== i + 1) assert.unreachable(`round trip ${i}`)
    }
    assert.is(fresh.stats().rescues, 0)
  } finally {
    await fresh.close()
  }
}, 30_000))

test('nested fork-join fib is correct and spawns from inside tasks', deadline('fib', async () => {
  const before = rt.stats().total.spawns
  assert.is(await rt.go(fib, 23, 12), 28657)
  assert.ok(rt.stats().total.spawns - before > 100)
}))

test('an M out of G records runs further children inline, and stats count them', deadline('inlined', async () => {
  const small = await Runtime.start({ procs: 1, mSlots: 16 })
  try {
    assert.is(await small.go(churn, 10, 10), 10)
    assert.is(small.stats().total.inlined, 0, 'ten children fit in sixteen records')
    assert.is(await small.go(churn, 100, 10), 100)
    const inlined = small.stats().total.inlined
    // The root's own record is the main thread's; the M's 16 hold the first 16 children.
    assert.is(inlined, 100 - 16, `inlined ${inlined}`)
  } finally {
    await small.close()
  }
}))

test('a throwing task rejects with the original error rebuilt on this thread', deadline('throw', async () => {
  try {
    await rt.go(fail, 'out of range')
    assert.unreachable('should reject')
  } catch (e) {
    const err = e as RangeError & { code: string; detail: number }
    assert.instance(err, RangeError)
    assert.is(err.message, 'out of range')
    assert.is(err.code, 'E_FIXTURE')
    assert.is(err.detail, 42)
    assert.match(err.stack ?? '', /fail/)
  }
}))

test('bad input fails at the call: not a task, uncloneable args', () => {
  assert.throws(() => rt.go((() => 1) as never), (e: unknown) => e instanceof SchedulerArgError && /\(anonymous\)|function/.test(String(e)))
  assert.throws(() => rt.go(echo, (() => 1) as never), (e: unknown) => e instanceof UncloneableArgError && /echo/.test((e as Error).message))
  assert.throws(() => rt.go(echo, (() => 1) as never), (e: unknown) => e instanceof UncloneableArgError && e.task === echo.key)
})

test('a result that cannot be cloned rejects with UncloneableResultError naming the task, the DataCloneError as its cause', deadline('uncloneable-result', async () => {
  const e = await rt.go(returnsFn).then(() => undefined, (x: unknown) => x)
  assert.instance(e, UncloneableResultError)
  const err = e as UncloneableResultError
  assert.is(err.code, 'ERR_UNCLONEABLE_RESULT')
  assert.is(err.task, returnsFn.key)
  assert.match(err.message, /result of task .*#returnsFn cannot be cloned/)
  assert.match(String((err.cause as Error | undefined)?.message), /could not be cloned/)
  assert.is(await rt.go(add, 1, 2), 3, 'the M keeps serving')
}))

test('mYoungMb sets the young-generation cap of every M', deadline('young-mb', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, mYoungMb: 16 })
  try {
    assert.is(await rt.go(youngMb), 16)
  } finally {
    await rt.close()
  }
  const dflt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    assert.is(await dflt.go(youngMb), 64)
  } finally {
    await dflt.close()
  }
}))

test('once its replacements are used up and no M is left, tasks reject with MExhaustedError, and so does every later go', deadline('exhausted', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1, replacements: 2 })
  try {
    // M1 dies, M2 replaces it and dies, M3 replaces that and dies: no index is left for an M4.
    for (let i = 0; i < 3; i++) assert.instance(await rt.go(exitNow, 3).then(() => undefined, (e: unknown) => e), MDiedError)
    const late = await rt.go(add, 1, 2).then(() => undefined, (e: unknown) => e)
    assert.instance(late, MExhaustedError, 'rejected at once, not left to hang')
    assert.is((late as MExhaustedError).deaths, 3)
    assert.is((late as MExhaustedError).code, 'ERR_M_EXHAUSTED')
    assert.instance(await rt.goAll(add, [[1, 2]]).then(() => undefined, (e: unknown) => e), MExhaustedError)
  } finally {
    await rt.close()
  }
}))

test('bad options fail at start with a SchedulerArgError naming the option, and start no thread', deadline('options', async () => {
  const bad: [string, RuntimeOptions][] = [
    ['procs', { procs: 0 }], ['procs', { procs: 1.5 }], ['spares', { spares: -1 }], ['maxThreads', { maxThreads: 0 }],
    ['handoffMs', { handoffMs: -1 }], ['mainSlots', { mainSlots: 0 }], ['mSlots', { mSlots: 2 ** 30 }],
    ['mHeapMb', { mHeapMb: 8 }], ['mHeapMb', { mHeapMb: 64.5 }],
    ['mainSpinUs', { mainSpinUs: -1 }], ['mainSpinUs', { mainSpinUs: 1001 }], ['mainSpinUs', { mainSpinUs: '10' as unknown as number }],
    ['resultBatchUs', { resultBatchUs: -1 }], ['resultBatchUs', { resultBatchUs: 100_001 }], ['resultBatchUs', { resultBatchUs: 2.5 }],
    ['mYoungMb', { mYoungMb: 0 }], ['mYoungMb', { mYoungMb: 1025 }], ['mYoungMb', { mYoungMb: 2.5 }],
    ['mTasks must be an integer from 1 to 1024, got 0', { mTasks: 0 }], ['mTasks', { mTasks: 1025 }], ['mTasks', { mTasks: 1.5 }],
    ['replacements must be an integer from 0 to 4096, got -1', { replacements: -1 }], ['replacements', { replacements: 4097 }], ['replacements', { replacements: 0.5 }],
    ['loader', { loader: 'esbuild' as never }], ["mStdout must be 'stdout' or 'stderr'", { mStdout: 'null' as never }],
    ['procs must be an integer from 1 to 256, got 1000', { procs: 1000 }], ['maxThreads', { maxThreads: 5000 }],
    ['spares', { procs: 4, spares: 1021 }], ['mainSlots', { mainSlots: 2 ** 23 }], ['mSlots', { mSlots: 2 ** 21 }],
    // Each in range, together past the layout's bound: the error says what they would need.
    ['procs 256, maxThreads 1024, mainSlots 262144 and mSlots 32768 need 2.5 GiB of shared memory, more than the 2 GiB', { procs: 256, maxThreads: 1024 }],
  ]
  for (const [name, options] of bad) {
    const r = await Runtime.start(options).then((started) => started, (e: unknown) => e)
    if (r instanceof Runtime) {
      await r.close()
      assert.unreachable(`${JSON.stringify(options)} started`)
    }
    assert.ok(r instanceof SchedulerArgError && String(r).includes(name), `${JSON.stringify(options)}: ${String(r)}`)
  }
}))

test('option messages show NaN, Infinity and -0 as written, not as JSON\'s null', deadline('options-nan', async () => {
  const cases: [RuntimeOptions, string][] = [
    [{ procs: NaN }, 'got NaN'],
    [{ procs: Infinity }, 'got Infinity'],
    [{ handoffMs: -Infinity }, 'got -Infinity'],
    [{ mainSpinUs: NaN }, 'got NaN'],
    [{ procs: -0.5 }, 'got -0.5'],
  ]
  for (const [options, text] of cases) {
    const e = await Runtime.start(options).then(async (started) => {
      await started.close()
      return undefined
    }, (x: unknown) => x)
    assert.instance(e, SchedulerArgError)
    assert.ok((e as Error).message.includes(text), (e as Error).message)
    assert.not.match((e as Error).message, /got null/)
  }
}))

test('a task no M can resolve rejects with TaskNotFoundError naming it', deadline('ghost', async () => {
  try {
    await rt.go(ghostTask())
    assert.unreachable('should reject')
  } catch (e) {
    assert.instance(e, TaskNotFoundError)
    assert.match((e as Error).message, /ghostOnlyOnMain/)
  }
}))

test('a task module that throws when an M imports it: TaskNotFoundError with its error as the cause, every time; the runtime keeps serving', deadline('refuses', async () => {
  const deaths = rt.stats().mDeaths
  for (let i = 0; i < 2; i++) {
    const e = await rt.go(refuses).then(() => undefined, (x: unknown) => x)
    assert.instance(e, TaskNotFoundError)
    assert.match((e as Error).message, /refuses.*importing its module failed: refuses\.ts will not load in a worker/)
    assert.instance((e as Error).cause, RangeError)
  }
  const all = await Promise.allSettled(Array.from({ length: 8 }, () => rt.go(refuses)))
  assert.ok(all.every((r) => r.status === 'rejected' && r.reason instanceof TaskNotFoundError), 'a burst fails the same way, none hangs')
  assert.is(await rt.go(add, 1, 2), 3)
  assert.is(rt.stats().mDeaths, deaths, 'a failed import does not end the M')
}))

test('stats and the schedtrace line have Go\'s shape', () => {
  const s = rt.stats()
  assert.is(s.procs, 2)
  assert.is(s.perP.length, 2)
  assert.ok(s.threads >= 3)
  assert.match(rt.schedtrace(), /^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ runqueue=\d+ \[\d+ \d+\]$/)
})

test('top-level go uses the newest runtime; after close, rt.go fails clearly and go falls back to the one before', deadline('closed', async () => {
  const r2 = await Runtime.start({ procs: 1, spares: 0 })
  assert.is(await go(add, 1, 1), 2)
  // Pending or finished at close: either it has its result or it rejects with RuntimeClosedError.
  const pending = r2.go(fib, 30, 29).then(
    (v) => assert.is(v, 832040),
    (e: unknown) => assert.instance(e, RuntimeClosedError),
  )
  await r2.close()
  await pending
  assert.throws(() => r2.go(add, 1, 2), (e: unknown) => e instanceof RuntimeClosedError)
  assert.is(await go(add, 1, 2), 3, 'rt, started before r2, is still open')
}))

test('MDiedError carries the M, the reason and the task as fields, not only in its message', deadline('mdied-fields', async () => {
  assert.is(new MDiedError(1, 'exit code 1', 'x#y').code, 'ERR_M_DIED')
  const r = await Runtime.start({ procs: 1, spares: 1 })
  try {
    const e = await r.go(exitNow, 3).then(() => undefined, (x: unknown) => x)
    assert.instance(e, MDiedError)
    const err = e as MDiedError
    assert.is(err.task, exitNow.key)
    assert.ok(Number.isInteger(err.m) && err.m >= 1, `m ${err.m}`)
    assert.is(err.reason, 'exit code 3')
    assert.ok(err.message.includes(`M${err.m} died`), err.message)
  } finally {
    await r.close()
  }
}))

test.run()
