import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { threadId } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { MDiedError, Runtime, type ProcStats, type SchedStats } from '../../src/scheduler/index.js'
import { add, awaitThenCompute, block, waitThenCompute, blockOnStashed, bump, churn, churnMs, exitNow, exitWhileImporting, gateSlowLoad, hog, spawnAndWait, spawnBumpsThenBlock, spawnThenExit, stashFlag, throwLater, where } from './fixtures/tasks.js'
import { gatedAdd } from './fixtures/gated.js'
import { slowLoadAdd } from './fixtures/slowload.js'
import { releaseWith, waitFor } from './fixtures/claimed.js'
import { barrier, timerThenCompute } from './fixtures/window.js'
import { flagArray, until, waitUntil } from './_wait.js'

test('steals: work that starts on one P is taken by the other M', deadline('steal', async () => {
  // No spares and no hand-offs: while the root task blocks its M, the only way a child can run is
  // for the other M to steal it from the root's P.
  const rt = await Runtime.start({ procs: 2, spares: 0, handoffMs: 0 })
  try {
    const flag = flagArray()
    const ids = await rt.go(spawnAndWait, 64, flag)
    assert.is(Atomics.load(flag, 0), 1, 'a child released the root, so it ran while the root blocked its M')
    assert.is(ids.length, 64)
    const s = rt.stats()
    assert.ok(s.total.steals > 0, `steals observed: ${JSON.stringify(s.total)}`)
    assert.ok(s.total.stealAttempts >= 1)
    assert.ok(!ids.includes(threadId))
  } finally {
    await rt.close()
  }
}))

for (const how of ['timer', 'file'] as const) {
  test(`an M that computes after an await (${how}) is busy, not parked: its P is not idle and new work runs on the other M`, deadline(`resumed-${how}`, async () => {
    // procs 2, no spares, no hand-offs: the only way a tiny G runs while the task computes is on
    // the other M, and stats must show the computing M's P as busy once the monitor has read its
    // thread's state (before the park module, an M that resumed a task from Atomics.waitAsync
    // stayed marked parked and counted idle, whatever it did). Linux: elsewhere the monitor cannot
    // read thread states, and only wakep's preference for Ms with no live task remains.
    if (process.platform !== 'linux') return
    const rt = await Runtime.start({ procs: 2, spares: 0, handoffMs: 0 })
    const flag = flagArray()
    try {
      await Promise.all([rt.go(where), rt.go(where)]) // both Ms have imported the fixtures
      for (let trial = 0; trial < 4; trial++) {
        flag.fill(0)
        const computing = rt.go(awaitThenCompute, flag, how)
        computing.catch(() => {}) // a failed assertion below closes the runtime under it
        await waitUntil(flag, 1, (v) => v !== 0)
        const tid = Atomics.load(flag, 1)
        const ofTid = (): ProcStats | undefined => rt.stats().perP.find((x) => x.thread === tid)
        assert.ok(ofTid() !== undefined, `the computing thread ${tid} holds a P: ${JSON.stringify(rt.stats().perP)}`)
        await until(() => ofTid()!.idle === false) // fails by the deadline if it is never marked
        assert.ok(rt.stats().idleProcs <= 1, `trial ${trial}: idleProcs ${rt.stats().idleProcs}`)
        const ran = await rt.go(where)
        assert.is.not(ran, tid, 'the tiny G ran on the other M')
        Atomics.store(flag, 0, 1)
        assert.is(await computing, tid)
      }
    } finally {
      Atomics.store(flag, 0, 1)
      await rt.close()
    }
  }))
}

test('an M that computes after its task\'s own Atomics.waitAsync is counted busy, and a G woken for it waits for it alone', deadline('resumed-waitasync', async () => {
  // One M: the tiny G can only wait for it, and wakep can only choose it. The monitor reads the
  // thread's kernel state and marks the M busy (Linux only: elsewhere the state is unknown).
  if (process.platform !== 'linux') return
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  const flag = flagArray(4)
  try {
    await rt.go(where)
    const computing = rt.go(waitThenCompute, flag)
    computing.catch(() => {})
    await waitUntil(flag, 3, (v) => v === 1)
    await until(() => rt.stats().perP[0]!.idle) // the M parked with the task waiting on it
    Atomics.store(flag, 2, 1)
    Atomics.notify(flag, 2)
    await waitUntil(flag, 1, (v) => v !== 0)
    const tiny = rt.go(where)
    await until(() => !rt.stats().perP[0]!.idle)
    assert.is(rt.stats().idleProcs, 0)
    Atomics.store(flag, 0, 1)
    assert.is(await tiny, await computing)
  } finally {
    Atomics.store(flag, 0, 1)
    await rt.close()
  }
}))

test('a G whose arguments are on their way (by message) runs before the M takes the G behind it', deadline('claimed-fetch', async () => {
  // One M, nothing else can run anything. G1's argument is over an arena slot, so it travels by
  // message and the M must fetch it; G2, queued right behind, blocks the M until G1 has run. An M
  // that took G2 while G1's payload was on its way would block with G1 claimed in its private
  // list, where no other M can reach it: both would hang.
  const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1, handoffMs: 0 })
  try {
    const flag = flagArray()
    await rt.go(releaseWith, flagArray(), '') // the module is imported: no import guard below
    const big = 'x'.repeat(4096)
    const first = rt.go(releaseWith, flag, big)
    const second = rt.go(waitFor, flag)
    assert.equal(await Promise.all([first, second]), [4096, 'released'])
  } finally {
    await rt.close()
  }
}))

test('a task blocking its M does not stop the tasks queued behind it (global queue)', deadline('handoff-global', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 1 })
  try {
    const flag = flagArray()
    const blocked = rt.go(block, flag)
    await waitUntil(flag, 1, (v) => v === 1) // the task is now inside Atomics.wait on its M
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.go(add, i, i)))
    // Still blocked: nobody released the flag, yet all 20 ran (on the M the P was handed to).
    assert.is(Atomics.load(flag, 0), 0)
    assert.equal(results, Array.from({ length: 20 }, (_, i) => 2 * i))
    assert.ok(rt.stats().total.handoffs >= 1)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    assert.is(await blocked, 'released')
  } finally {
    await rt.close()
  }
}))

for (const handoffMs of [10, 0]) {
  test(`results of tasks that finished before a blocking task on the same M still arrive (handoffMs ${handoffMs})`, deadline('outbox-flush', async () => {
    // One M and no spare: nothing can run elsewhere. The M runs the 20 adds (holding their
    // completions to announce in one batch), then blocks in `blockOnStashed`; the monitor must
    // announce the held results for it, hand-offs on or off, or awaiting them would hang until the
    // flag is released. (maxThreads: 1, so that no spare can be started to take the P either.)
    const rt = await Runtime.start({ procs: 1, spares: 0, maxThreads: 1, handoffMs })
    try {
      const flag = flagArray()
      await rt.go(stashFlag, flag)
      const adds = Array.from({ length: 20 }, (_, i) => rt.go(add, i, 1))
      const blocked = rt.go(blockOnStashed)
      await waitUntil(flag, 1, (v) => v === 1)
      assert.equal(await Promise.all(adds), Array.from({ length: 20 }, (_, i) => i + 1))
      assert.is(Atomics.load(flag, 0), 0, 'still blocked while the results arrived')
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      assert.is(await blocked, 'released')
    } finally {
      await rt.close()
    }
  }))
}

test('a task blocking its M does not stop the children queued behind it on its own P', deadline('handoff-local', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 1 })
  try {
    const flag = flagArray()
    const counter = flagArray(1)
    const root = rt.go(spawnBumpsThenBlock, 50, flag, counter)
    // All 50 children were queued on the root's P before it blocked; they all run while it blocks.
    await waitUntil(counter, 0, (v) => v === 50)
    assert.is(Atomics.load(flag, 0), 0)
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    const ids = await root
    assert.is(ids.length, 50)
    assert.ok(rt.stats().total.handoffs >= 1)
  } finally {
    await rt.close()
  }
}))

for (const [procs, handoffMs, how] of [[1, 10, 'a spare takes the P, backlog and all'], [2, 0, 'the other M steals from the backlog']] as const) {
  test(`a task blocking its M after a goAll of 1000 does not stop them: ${how}`, deadline(`backlog-${procs}`, async () => {
    const rt = await Runtime.start({ procs, spares: 1, handoffMs })
    try {
      const flag = flagArray()
      const counter = flagArray(1)
      const root = rt.go(spawnBumpsThenBlock, 1000, flag, counter, 1)
      // 256 children fit the root's ring, the rest its P's backlog; all run while it blocks.
      await waitUntil(counter, 0, (v) => v === 1000)
      assert.is(Atomics.load(flag, 0), 0)
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      assert.is((await root).length, 1000)
      const st = rt.stats().total
      if (handoffMs === 0) assert.ok(st.steals >= 1000 - 256, `steals ${st.steals}`)
      else assert.ok(st.handoffs >= 1)
    } finally {
      await rt.close()
    }
  }))
}

test('an M that exits mid-task is replaced: its task rejects naming it, queued work still runs', deadline('crash-exit', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 1 })
  try {
    // Submitted in one burst: the single P pulls them together, so the adds sit behind exitNow.
    const dying = rt.go(exitNow, 3)
    const rest = [rt.go(add, 1, 1), rt.go(add, 2, 2), rt.go(add, 3, 3)]
    try {
      await dying
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, MDiedError)
      assert.match((e as Error).message, /exit code 3/)
      assert.match((e as Error).message, /exitNow/)
    }
    assert.equal(await Promise.all(rest), [2, 4, 6])
    assert.is(await rt.go(add, 5, 5), 10)
    assert.is(rt.stats().mDeaths, 1)
  } finally {
    await rt.close()
  }
}))

test('an uncaught error in a task kills its M: reported with the error, runtime keeps serving', deadline('crash-uncaught', async () => {
  const rt = await Runtime.start({ procs: 2, spares: 1 })
  try {
    try {
      await rt.go(throwLater)
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, MDiedError)
      assert.match((e as Error).message, /uncaught Error: uncaught in a task timer/)
      assert.match((e as Error).message, /throwLater/)
    }
    const ids = await Promise.all(Array.from({ length: 50 }, () => rt.go(where)))
    assert.is(ids.length, 50)
    const counter = flagArray(1)
    await Promise.all(Array.from({ length: 10 }, () => rt.go(bump, counter)))
    assert.is(Atomics.load(counter, 0), 10)
  } finally {
    await rt.close()
  }
}))

test('an M that runs out of memory (mHeapMb) is replaced: its task rejects saying so, queued work still runs', deadline('crash-oom', async () => {
  const rt = await Runtime.start({ procs: 1, spares: 1, mHeapMb: 32 })
  try {
    const dying = rt.go(hog)
    const rest = [rt.go(add, 1, 1), rt.go(add, 2, 2)]
    try {
      await dying
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, MDiedError)
      assert.match((e as Error).message, /out of memory/)
      assert.match((e as Error).message, /hog/)
    }
    assert.equal(await Promise.all(rest), [2, 4])
    assert.is(await rt.go(add, 5, 5), 10)
    assert.is(rt.stats().mDeaths, 1)
  } finally {
    await rt.close()
  }
}))

test('an M that exits with Gs queued on its P (runnext, ring and backlog) is replaced, and every one of them still runs', deadline('crash-queued', async () => {
  // One P, so nothing but the dead M could have run the children before it died: they wait in
  // its P's runnext (1), ring (256) and backlog (44). Recovery hands the P, queues and all, to a
  // spare; if it dropped any of them, the counter would stop short and the deadline fire.
  // Hand-offs off: a dying worker takes a while to exit, and the monitor would otherwise hand
  // the P of its stuck M to the spare first, and recovery would find no P to give away.
  const rt = await Runtime.start({ procs: 1, spares: 1, handoffMs: 0 })
  try {
    const counter = flagArray(1)
    const n = 300
    try {
      await rt.go(spawnThenExit, n, counter)
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, MDiedError)
      assert.match((e as Error).message, /exit code 6/)
      assert.match((e as Error).message, /spawnThenExit/)
    }
    await waitUntil(counter, 0, (v) => v >= n + 1)
    assert.is(await rt.go(add, 5, 5), 10)
    assert.is(Atomics.load(counter, 0), n + 1, 'none ran twice')
    const s = rt.stats()
    assert.is(s.mDeaths, 1)
    assert.ok(s.total.handoffs >= 1, 'the dead M\'s P went to another M')
  } finally {
    await rt.close()
  }
}))

test('an M that dies while importing the module of a G it claimed is replaced, and that G runs elsewhere', deadline('crash-claimed', async () => {
  // exitWhileImporting waits on the only M until that M claims the gatedAdd G and starts
  // importing gated.ts (whose evaluation waits there for a gate that never opens), then ends the
  // M. The claimed G was never called: recovery must queue it again, not fail it.
  const rt = await Runtime.start({ procs: 1, spares: 1 })
  const flag = flagArray(4)
  try {
    const dying = rt.go(exitWhileImporting, flag)
    dying.catch(() => {})
    await waitUntil(flag, 2, (v) => v === 1) // the gate is set on the only M
    const sum = rt.go(gatedAdd, 2, 3)
    try {
      await dying
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, MDiedError)
      assert.match((e as Error).message, /exit code 5/)
      assert.match((e as Error).message, /exitWhileImporting/)
    }
    assert.is(Atomics.load(flag, 1), 1, 'the M died while it imported gated.ts for the claimed G')
    assert.is(await sum, 5)
    assert.is(rt.stats().mDeaths, 1)
  } finally {
    await rt.close()
  }
}))

test('an M importing a task module takes no more Gs meanwhile (they stay stealable)', deadline('cold-m', async () => {
  // A fresh M has not imported fixtures/tasks.ts. It used to claim every queued G into a
  // private list while the import ran, so a cold spare swallowed the whole queue and ran it
  // alone. Now it claims the first G only: when that G (block) runs, the adds are still queued.
  const rt = await Runtime.start({ procs: 1, spares: 0, handoffMs: 0 })
  const flag = flagArray()
  const blocked = rt.go(block, flag)
  const adds = Array.from({ length: 20 }, (_, i) => rt.go(add, i, 1))
  try {
    await waitUntil(flag, 1, (v) => v === 1)
    const s = rt.stats()
    assert.is(s.total.runs, 1, JSON.stringify(s.total))
    assert.is(s.globalQueue + s.total.runqueue, 20, JSON.stringify(s))
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    assert.is(await blocked, 'released')
    assert.equal(await Promise.all(adds), Array.from({ length: 20 }, (_, i) => i + 1))
  } finally {
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await Promise.allSettled([blocked, ...adds])
    await rt.close()
  }
}))

test('an M importing a slow task module keeps its P: a spare would have to import it too', deadline('slow-import', async () => {
  // The module's evaluation blocks the only M until the test opens its gate, with 19 Gs queued
  // behind the first. Judged as blocked, the M would lose its P after handoffMs; while it
  // imports, the monitor gives it the computing allowance (100 x handoffMs, 20 s: past this
  // test's deadline, so however slow the machine, no hand-off is due). The gate stays shut until
  // a hand-off is seen or 3 x handoffMs have passed by this thread's clock, which a loaded
  // machine only lengthens.
  const handoffMs = 200
  const rt = await Runtime.start({ procs: 1, spares: 1, handoffMs })
  const flag = flagArray()
  try {
    await rt.go(gateSlowLoad, flag)
    const sums = Promise.all(Array.from({ length: 20 }, (_, i) => rt.go(slowLoadAdd, i, 1)))
    sums.catch(() => {})
    await waitUntil(flag, 1, (v) => v === 1) // the M is inside the import, the rest queued
    const t0 = performance.now()
    await until(() => rt.stats().total.handoffs > 0 || performance.now() - t0 >= 3 * handoffMs)
    assert.is(rt.stats().total.handoffs, 0, 'the importing M lost its P')
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    assert.equal(await sums, Array.from({ length: 20 }, (_, i) => i + 1))
    assert.is(rt.stats().total.handoffs, 0)
  } finally {
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await rt.close()
  }
}))

/**
 * Runs `roots` parents, each of `width` children, on 2 Ps whose monitor takes a P after 1 ms;
 * checks every parent's result and that every G ran exactly once; returns the stats.
 */
async function underHandoffChurn(roots: number, width: number, parent: (rt: Runtime) => Promise<number>, want: number): Promise<SchedStats> {
  const rt = await Runtime.start({ procs: 2, spares: 2, handoffMs: 1 })
  try {
    const got = await Promise.all(Array.from({ length: roots }, () => parent(rt)))
    assert.equal(got, Array.from({ length: roots }, () => want))
    const s = rt.stats()
    assert.is(s.total.runs, roots * (width + 1), JSON.stringify(s.total))
    return s
  } finally {
    await rt.close()
  }
}

test('Ps taken from Ms in the middle of a run of hot Gs: none lost or run twice, every run counted once', deadline('span-handoff', async () => {
  // Children with numeric arguments run back to back in one INTASK span (machine.ts). Each
  // blocks its M for 15 ms against a 1 ms threshold, so the monitor takes Ps from Ms inside
  // their spans, and those Ms go on taking Gs from the lost P's ring (by CAS) until the span ends.
  const width = 16
  const s = await underHandoffChurn(4, width, (rt) => rt.go(churnMs, width, 15), (width * (width - 1)) / 2)
  assert.ok(s.total.handoffs > 0, `the monitor took no P: ${JSON.stringify(s.total)}`)
  for (const p of s.perP) assert.ok(p.runqueue === 0 && p.steals >= 0, JSON.stringify(p))
}, 20_000))

test('hand-off churn (threshold 1 ms): the P changes hands in every round, no G is lost or run twice, every queue ends empty', deadline('churn', async () => {
  // Each round, a root queues `width` children on its P and then blocks its M in the kernel until
  // released, while `churn` parents (numeric arguments) keep adding spinning children. One P: once
  // the root blocks, its M holds the only P, so the children can run only after the monitor hands
  // that P to a spare. The counter reaching `width` proves a hand-off without waiting on any
  // clock (with hand-offs off it never gets there). One root a round, with the same flag and
  // counter objects throughout: a G whose shared buffer an M must still fetch waits claimed on
  // that M, and two roots claimed so by one M would leave the second behind the first's block.
  const rounds = 5
  const width = 100
  const busy = 8
  const flag = flagArray()
  const counter = flagArray(1)
  const rt = await Runtime.start({ procs: 1, spares: 2, handoffMs: 1 })
  try {
    let handoffs = 0
    for (let r = 0; r < rounds; r++) {
      const root = rt.go(spawnBumpsThenBlock, width, flag, counter)
      const parents = Array.from({ length: busy }, () => rt.go(churn, 50, 20_000))
      await waitUntil(counter, 0, (v) => v >= width)
      const now = rt.stats().total.handoffs
      assert.ok(now > handoffs, `round ${r}: every child ran while the root blocked the P's M, yet the P never changed hands (${now})`)
      handoffs = now
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      assert.is((await root).length, width)
      assert.equal(await Promise.all(parents), new Array<number>(busy).fill(50))
      assert.is(Atomics.load(counter, 0), width, `round ${r}: a child ran twice`)
      flag.fill(0)
      counter.fill(0)
    }
    const s = rt.stats()
    assert.is(s.total.runs, rounds * (width + 1 + busy * 51), JSON.stringify(s.total))
    assert.is(s.globalQueue, 0)
    for (const p of s.perP) assert.is(p.runqueue, 0, JSON.stringify(p))
  } finally {
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await rt.close()
  }
}, 20_000))

test('an M whose live tasks fill its admission window takes no more: the rest of the queue waits for the other M', deadline('window-bound', async () => {
  // 640 tasks that await a timer and then compute 2 ms each, all submitted at once. An M with no
  // live task pulls a share of the global queue (at most 128) and starts it; before the window,
  // it pulled and started another share each time its ring ran dry, while the timers of the first
  // had not fired yet, so each M started about half of all 640 at once, pinning their
  // continuations to it. With the window, an M that has live tasks pulls only as they settle.
  // Counted by the tasks themselves, not timed.
  const rt = await Runtime.start({ procs: 2, spares: 0, handoffMs: 0 })
  try {
    await Promise.all([rt.go(where), rt.go(where)]) // both Ms have imported the fixtures
    const out = await Promise.all(Array.from({ length: 640 }, () => rt.go(timerThenCompute, 2)))
    const peaks = new Map<number, number>()
    for (const [tid, peak] of out) peaks.set(tid, Math.max(peaks.get(tid) ?? 0, peak))
    assert.is(peaks.size, 2, `both Ms ran tasks: ${JSON.stringify([...peaks])}`)
    for (const [tid, peak] of peaks) assert.ok(peak <= 192, `thread ${tid} had ${peak} tasks live at once`)
  } finally {
    await rt.close()
  }
}))

for (const mTasks of [1, 2]) {
  test(`mTasks ${mTasks} fixes the window: no M ever has more than ${mTasks} tasks from the queues live, whatever they await`, deadline(`mtasks-${mTasks}`, async () => {
    // The same 640 timer-then-compute tasks as above, where the adaptive window let an M start up
    // to 192. With the window fixed, an M takes a G from the queues only while it has room, also
    // when it has no live task (a pull of a whole share would start them all here, one by one as
    // each awaited: how two MapReduce attempts once shared an M while the other sat idle).
    const rt = await Runtime.start({ procs: 2, spares: 0, handoffMs: 0, mTasks })
    try {
      const out = await Promise.all(Array.from({ length: 640 }, () => rt.go(timerThenCompute, 1)))
      const peaks = new Map<number, number>()
      for (const [tid, peak] of out) peaks.set(tid, Math.max(peaks.get(tid) ?? 0, peak))
      assert.is(peaks.size, 2, `both Ms ran tasks: ${JSON.stringify([...peaks])}`)
      for (const [tid, peak] of peaks) assert.ok(peak <= mTasks, `thread ${tid} had ${peak} tasks live at once`)
      // The bound is on Gs from the queues: a task's own children still run on its M.
      const flag = flagArray()
      const ids = await rt.go(spawnAndWait, 8, flag)
      assert.is(ids.length, 8)
    } finally {
      await rt.close()
    }
  }))
}

for (const procs of [1, 2]) {
  test(`the window grows while every live task waits: 300 tasks that each wait for all the others finish (procs ${procs})`, deadline(`window-grows-${procs}`, async () => {
    // Each task waits until all 300 have started: an M that never took more than its window
    // would hang here until the deadline.
    const rt = await Runtime.start({ procs, spares: 0, handoffMs: 0 })
    try {
      const count = flagArray(1)
      const tids = await Promise.all(Array.from({ length: 300 }, () => rt.go(barrier, count, 300)))
      assert.is(tids.length, 300)
      assert.is(Atomics.load(count, 0), 300)
    } finally {
      await rt.close()
    }
  }))
}

test.run()
