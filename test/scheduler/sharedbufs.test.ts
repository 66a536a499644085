// Shared buffers as task arguments through the registry (src/scheduler/sharedbufs.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { deadline } from '../_support/deadline.js'
import { MDiedError, Runtime, UncloneableArgError } from '../../src/scheduler/index.js'
import {
  addAt, addAtBox, addAtInside, block, childTouches, collectOnM, exitNow, makeShared, nestedShared, orphanSharedResult, setAndWakeBox, sharedInfo, sharedInfoIn, sumMixed,
  touchAndReturn, wakeViaChild, wakeViaChildBox,
} from './fixtures/tasks.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

test('a shared view reaches tasks shared, from main, goAll and inside tasks, through one registry slot', deadline('shared', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const view = new Int32Array(new SharedArrayBuffer(64))
    await Promise.all(Array.from({ length: 2000 }, (_, i) => rt.go(addAt, view, i % 16, 1)))
    await rt.goAll(addAt, Array.from({ length: 2000 }, (_, i): [Int32Array, number, number] => [view, i % 16, 1]))
    assert.is(await rt.go(addAtInside, view, 3200), 6400)
    // 2000 + 2000 + 6400 increments, spread evenly: every one landed in the same memory.
    assert.equal([...view], new Array(16).fill(10_400 / 16))
    // One slot for main's buffer object, one for each M that passed on its own (a task's view is
    // that M's object for the same memory) - never one per spawn.
    const slots = rt.stats().sharedBuffers
    assert.ok(slots >= 1 && slots <= 3, `slots in use: ${slots}`)
  } finally {
    await rt.close()
  }
}))

test('every view type, offsets and lengths arrive as they were sent', deadline('types', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const sab = new SharedArrayBuffer(64)
    const cases: [unknown, [string, number, number, number, boolean]][] = [
      [sab, ['SharedArrayBuffer', 0, 64, 64, true]],
      [new Int8Array(sab, 3, 5), ['Int8Array', 3, 5, 64, true]],
      [new Uint8Array(sab, 1), ['Uint8Array', 1, 63, 64, true]],
      [new Uint8ClampedArray(sab, 2, 2), ['Uint8ClampedArray', 2, 2, 64, true]],
      [new Int16Array(sab, 4, 3), ['Int16Array', 4, 3, 64, true]],
      [new Uint16Array(sab, 6, 1), ['Uint16Array', 6, 1, 64, true]],
      [new Int32Array(sab, 8, 4), ['Int32Array', 8, 4, 64, true]],
      [new Uint32Array(sab, 12, 2), ['Uint32Array', 12, 2, 64, true]],
      [new Float32Array(sab, 16, 3), ['Float32Array', 16, 3, 64, true]],
      [new Float64Array(sab, 24, 2), ['Float64Array', 24, 2, 64, true]],
      [new BigInt64Array(sab, 32, 2), ['BigInt64Array', 32, 2, 64, true]],
      [new BigUint64Array(sab, 40, 3), ['BigUint64Array', 40, 3, 64, true]],
      [new DataView(sab, 5, 7), ['DataView', 5, 7, 64, true]],
    ]
    // Inside an object, every view type but the raw buffer goes by id too (K_ARENA_SHARED; a raw
    // buffer inside a value goes by message): the same views, written through.
    const views = cases.slice(1).map(([arg]) => arg)
    assert.equal(await rt.go(sharedInfoIn, { list: views }), cases.slice(1).map(([, want]) => want))
    assert.is(new Uint8Array(sab)[40], 42, 'the last view (DataView at 5, BigUint64Array at 40...) wrote into our memory')
    for (const [arg, want] of cases) {
      new Uint8Array(sab).fill(0)
      assert.equal(await rt.go(sharedInfo, arg), want, want[0])
      // The task's write is visible here: the memory is shared, not copied.
      const first = arg instanceof SharedArrayBuffer ? new Uint8Array(arg)[0]
        : arg instanceof DataView ? arg.getUint8(0)
        : (arg as unknown as ArrayLike<number | bigint>)[0]
      assert.is(Number(first), 42, `${want[0]} write`)
    }
  } finally {
    await rt.close()
  }
}))

test('mixes the registry does not take still arrive, by message', deadline('fallback', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const v = new Int32Array(new SharedArrayBuffer(8))
    v[0] = 5
    class MyInts extends Int32Array {}
    // (TypeScript types a subclass's constructor for ArrayBuffer only; at run time it takes a shared one.)
    const mine = new MyInts(new SharedArrayBuffer(8) as unknown as ArrayBuffer)
    mine[0] = 7
    assert.is(await rt.go(sumMixed, v, 1, 2, 3), 11, 'four arguments: over the record')
    assert.is(await rt.go(sumMixed, v, 'abc'), 8, 'a string')
    assert.is(await rt.go(sumMixed, mine), 7, 'a subclass')
    assert.is(await rt.go(sumMixed, v, v, v), 15, 'three views: over the record')
    assert.is(await rt.go(sumMixed, v, v), 10, 'two views fit')
    assert.is(await rt.go(sumMixed, v, 1.5, -2), 4.5, 'a view and two numbers fit')
  } finally {
    await rt.close()
  }
}))

test('a task passes a shared buffer on to its own child while the main thread is blocked', deadline('main-blocked', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const flag = new Int32Array(new SharedArrayBuffer(8))
    // Settled either way, so a failure below cannot leave it to reject unhandled at close().
    const parent = rt.go(wakeViaChild, flag).then((v) => v, (e: unknown) => e)
    await turn() // let the spawn reach the global queue
    // Blocked: no message to or from this thread can be handled until the child has run. The
    // registry needs none (the message path needed the main thread for every such spawn). The
    // wait's limit only keeps a failure from hanging the suite.
    const woke = Atomics.wait(flag, 0, 0, 20_000)
    assert.ok(woke === 'ok' || Atomics.load(flag, 0) === 1, `the child ran while main was blocked (${woke})`)
    assert.is(Atomics.load(flag, 0), 1)
    assert.is(await parent, 0)
  } finally {
    await rt.close()
  }
}))

test('an M started after a buffer was announced gets it from the main thread', deadline('late-m', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 0 })
  try {
    const view = new Int32Array(new SharedArrayBuffer(16))
    const other = new Int32Array(new SharedArrayBuffer(16))
    await rt.go(addAt, view, 0, 1)
    await rt.go(addAtBox, { view: other, i: 1, by: 1, note: 'first' })
    // The only M dies; its replacement starts after the announcements and never heard them.
    await rt.go(exitNow, 3).catch(() => undefined)
    await rt.go(addAt, view, 0, 1)
    // Inside an object (K_ARENA_SHARED), from its bytes' ids.
    assert.is(await rt.go(addAtBox, { view: other, i: 1, by: 1, note: 'again' }), 5)
    assert.is(rt.stats().mDeaths, 1)
    assert.is(view[0], 2)
    assert.is(other[1], 2)
  } finally {
    await rt.close()
  }
}))

test('views inside argument objects go by id: a task runs while the main thread, its spawner or not, is blocked', deadline('nested-blocked', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    // From the main thread: by message, the M would wait for this thread to answer its fetch.
    const flag = new Int32Array(new SharedArrayBuffer(8))
    const direct = rt.go(setAndWakeBox, { flag, label: 'from main' }).then((v) => v, (e: unknown) => e)
    await turn() // let the spawn reach the global queue
    const woke = Atomics.wait(flag, 0, 0, 20_000)
    assert.ok(woke === 'ok' || Atomics.load(flag, 0) === 1, `the G ran while main was blocked (${woke})`)
    assert.is(await direct, 'from main')
    // From a task: the same, for M -> M.
    const flag2 = new Int32Array(new SharedArrayBuffer(8))
    const parent = rt.go(wakeViaChildBox, flag2).then((v) => v, (e: unknown) => e)
    await turn()
    const woke2 = Atomics.wait(flag2, 0, 0, 20_000)
    assert.ok(woke2 === 'ok' || Atomics.load(flag2, 0) === 1, `the child ran while main was blocked (${woke2})`)
    assert.is(await parent, 0)
    // Arguments whose bytes outgrow an arena slot still arrive shared, by message.
    const big = new Int32Array(new SharedArrayBuffer(16))
    assert.is(await rt.go(addAtBox, { view: big, i: 2, by: 7, note: 'x'.repeat(2000) }), 2000)
    assert.is(big[2], 7)
  } finally {
    await rt.close()
  }
}))

test('more buffers than slots: the rest go by message; slots free once their buffers are collected', deadline('slots', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const rt = await Runtime.start({ procs: 2 })
  try {
    let views: Int32Array[] | undefined = Array.from({ length: 300 }, () => new Int32Array(new SharedArrayBuffer(4)))
    await Promise.all(views.map((v) => rt.go(addAt, v, 0, 1)))
    assert.ok(views.every((v) => v[0] === 1), 'every task ran on its own buffer')
    assert.is(rt.stats().sharedBuffers, 256, 'the registry is full')
    views = undefined
    // Dropped here, so each slot frees when the collector finds its buffer object gone (a
    // FinalizationRegistry) and no G needs it.
    for (let i = 0; i < 200 && rt.stats().sharedBuffers > 0; i++) {
      await turn()
      gc()
    }
    assert.is(rt.stats().sharedBuffers, 0)
    const again = new Int32Array(new SharedArrayBuffer(4))
    await rt.go(addAt, again, 0, 5)
    assert.is(again[0], 5)
    assert.is(rt.stats().sharedBuffers, 1)
  } finally {
    await rt.close()
  }
}))

for (const [late, when] of [[0, 'before'], [1, 'after']] as const) {
  test(`a shared result published ${when} its owner M died gives its slot back`, deadline(`dead-owner-${when}`, async () => {
    // Before the runtime starts, so its Ms get gc() too: the result's slot was taken by the M that
    // ran the child, and frees only once that M has collected its buffer object.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const rt = await Runtime.start({ procs: 2 })
    try {
      const flag = new Int32Array(new SharedArrayBuffer(16))
      const parent = rt.go(orphanSharedResult, flag, late).then(() => 'returned', (e: unknown) => e)
      // before: flag's slot (main's), then the child's result's, taken when the child's M
      // published it; after: the child has started, and returns once the parent's M is gone.
      if (late === 0) while (rt.stats().sharedBuffers < 2) await turn()
      else while (Atomics.load(flag, 3) === 0) await turn()
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      assert.instance(await parent, MDiedError)
      Atomics.store(flag, 2, 1)
      Atomics.notify(flag, 2)
      if (late === 1) {
        // The child publishes now, taking a slot. Nothing signals after its return, so wait for
        // that slot (up to 5 s; were it freed before we look, the end state is what counts).
        const until = performance.now() + 5000
        while (rt.stats().sharedBuffers < 2 && performance.now() < until) await turn()
      }
      // Its reference must go back: then the slot frees once the M that registered it has
      // collected the buffer (and the dead M's own slot for flag, in `after`, at once).
      for (let round = 1; round <= 100 && rt.stats().sharedBuffers > 1; round++) {
        await rt.goAll(collectOnM, [[flag, 2 * round], [flag, 2 * round]])
        gc()
        await turn()
      }
      assert.is(rt.stats().sharedBuffers, 1, "only flag's slot is left")
      assert.is(rt.stats().mDeaths, 1)
    } finally {
      await rt.close()
    }
  }))
}

test('a result that is a shared buffer or view stays shared', deadline('results', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const made = (await rt.go(makeShared, 0)) as Int32Array
    assert.instance(made, Int32Array)
    assert.ok(made.buffer instanceof SharedArrayBuffer, 'a shared view, not a copy')
    assert.is(made[0], 7)
    const raw = (await rt.go(makeShared, 1)) as SharedArrayBuffer
    assert.instance(raw, SharedArrayBuffer, 'a raw shared buffer (it could not be cloned before)')
    assert.is(new Int32Array(raw)[0], 7)
    // Sent and returned: the caller writes through the result and sees it in its own view.
    const mine = new Int32Array(new SharedArrayBuffer(16))
    const back = await rt.go(touchAndReturn, mine)
    assert.is(mine[1], 9)
    back[3] = 5
    assert.is(mine[3], 5, 'the result is the same memory')
    // And inside a task: a child's result to its parent (from whichever M ran the child).
    assert.is(await rt.go(childTouches, mine), 20)
  } finally {
    await rt.close()
  }
}))

test('shared memory nested inside an argument or a result stays shared', deadline('nested', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const view = new Int32Array(new SharedArrayBuffer(16))
    const out = await rt.go(nestedShared, { view, label: 'box' })
    assert.is(view[0], 3, 'the task wrote into our memory: the nested view was not copied')
    assert.is(out.label, 'box!')
    assert.ok(out.view.buffer instanceof SharedArrayBuffer && out.raw instanceof SharedArrayBuffer)
    out.view[1] = 4
    new Int32Array(out.raw)[2] = 5
    assert.equal([view[1], view[2]], [4, 5], 'the nested results are the same memory')
  } finally {
    await rt.close()
  }
}))

test('a G cancelled before it starts, and a goAll that fails on a later tuple, release their buffers', deadline('release', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // One M, no spare, no hand-offs: while `block` holds the M, everything else stays queued.
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  try {
    const flag = new Int32Array(new SharedArrayBuffer(8))
    const blocked = rt.go(block, flag)
    while (Atomics.load(flag, 1) !== 1) await turn()
    let views: Int32Array[] | undefined = [new Int32Array(new SharedArrayBuffer(4)), new Int32Array(new SharedArrayBuffer(4)), new Int32Array(new SharedArrayBuffer(4))]
    const ac = new AbortController()
    const cancelled = rt.goWith({ signal: ac.signal }, addAt, views[0]!, 0, 1).then(() => 'ran', (e: unknown) => e)
    // The same view twice inside one object: two references, both given back when it is skipped.
    const cancelledBox = rt.goWith({ signal: ac.signal }, sumMixed, { a: views[2]!, b: [views[2]!] }).then(() => 'ran', (e: unknown) => e)
    ac.abort(new Error('not needed'))
    assert.is(((await cancelled) as Error).message, 'not needed')
    assert.is(((await cancelledBox) as Error).message, 'not needed')
    assert.throws(() => rt.goAll(addAt, [[views![1]!, 0, 1], [views![1]!, (() => 0) as unknown as number, 1]]), (e: unknown) => e instanceof UncloneableArgError)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    assert.is(await blocked, 'released')
    assert.is(await rt.go(addAt, new Int32Array(new SharedArrayBuffer(4)), 0, 1) >= 0, true) // the M met (and skipped) the cancelled G first
    assert.equal([views[0]![0], views[1]![0], views[2]![0]], [0, 0, 0], 'none ran')
    views = undefined
    // Each slot frees once its buffer is collected and no G needs it: the cancelled G and the
    // failed batch must have given their references back.
    // One slot stays: `flag`'s, which this test still holds (it is read below, so the collector
    // cannot take it earlier: a local no longer used may be collected across an await).
    for (let i = 0; i < 200 && rt.stats().sharedBuffers > 1; i++) {
      await turn()
      gc()
    }
    assert.is(rt.stats().sharedBuffers, 1)
    assert.is(Atomics.load(flag, 0), 1)
  } finally {
    await rt.close()
  }
}))

test.run()
