// Shared sync primitives (src/scheduler/shared/sharedsync*.ts): semantics on one thread, misuse,
// aborts that leave no trace, then the seed's programs across every M and a plain Worker.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { Runtime, SharedMutex, SharedRWMutex, SharedSemaphore, SharedWaitGroup } from '../../src/scheduler/index.js'
import { SyncError } from '../../src/index.js'
import { S_COUNTER, S_DONE, S_MAX, S_VIOLATIONS, S_WINNERS, S_WORDS, incUnder, rwRounds, semRounds, tryOnce, waitThenRead, workThenDone } from './fixtures/sharedsync-tasks.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const board = (): { sab: SharedArrayBuffer; S: Int32Array } => {
  const sab = new SharedArrayBuffer(S_WORDS * 4)
  return { sab, S: new Int32Array(sab) }
}
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await turn()
}
async function rejectsWith(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<void> {
  try {
    await p
  } catch (e) {
    assert.ok(check(e), `${what}: rejected with ${String(e)}`)
    return
  }
  assert.unreachable(`${what}: resolved`)
}
const syncCode = (code: string) => (e: unknown): boolean => e instanceof SyncError && e.code === code

test('SharedMutex: lock, tryLock, FIFO hand-off to queued waiters', deadline('mutex-fifo', async () => {
  const mu = new SharedMutex()
  assert.ok(mu.tryLock())
  assert.not.ok(mu.tryLock())
  const order: number[] = []
  const ws = [1, 2, 3].map((i) => mu.lock().then(() => order.push(i)))
  assert.is(mu.waiting, 3)
  mu.unlock() // hand-off: still locked, by the first waiter
  assert.ok(mu.locked)
  assert.not.ok(mu.tryLock(), 'a queued waiter is not overtaken by tryLock')
  await ws[0]
  mu.unlock()
  await ws[1]
  mu.unlock()
  await ws[2]
  assert.equal(order, [1, 2, 3])
  mu.unlock()
  assert.not.ok(mu.locked)
  assert.is(mu.freeWaiters(), 256)
  // Another handle on the same memory is the same mutex.
  const again = SharedMutex.from(mu.buffer)
  assert.ok(again.tryLock())
  assert.ok(mu.locked)
  mu.unlock()
}))

test('misuse throws Go\'s text, typed, and changes nothing', deadline('misuse', async () => {
  const mu = new SharedMutex()
  assert.throws(() => mu.unlock(), syncCode('ERR_UNLOCK_OF_UNLOCKED'))
  assert.throws(() => mu.unlock(), /sync: unlock of unlocked mutex/)
  const rw = new SharedRWMutex()
  assert.throws(() => rw.rUnlock(), syncCode('ERR_RUNLOCK_OF_UNLOCKED'))
  assert.throws(() => rw.unlock(), syncCode('ERR_RWUNLOCK_OF_UNLOCKED'))
  assert.ok(rw.tryLock())
  assert.throws(() => rw.rUnlock(), /sync: RUnlock of unlocked RWMutex/)
  rw.unlock()
  assert.equal(rw.state, { readers: 0, writer: false })
  assert.ok(rw.tryLock())
  rw.unlock()
  const wg = new SharedWaitGroup()
  wg.add(1)
  assert.throws(() => wg.add(-2), /sync: negative WaitGroup counter/)
  assert.is(wg.count, 1)
  wg.done()
  assert.throws(() => wg.done(), syncCode('ERR_NEGATIVE_WAITGROUP'))
  assert.throws(() => wg.add(1.5), (e: unknown) => e instanceof RangeError)
  const sem = new SharedSemaphore(2)
  assert.throws(() => sem.release(), /semaphore: released more than held/)
  assert.is(sem.available, 2)
  assert.throws(() => sem.tryAcquire(-1), (e: unknown) => e instanceof RangeError && /-1/.test(e.message))
  await rejectsWith(sem.acquire(3), (e) => e instanceof RangeError, 'acquire beyond size')
  assert.not.ok(sem.tryAcquire(3))
  assert.throws(() => new SharedSemaphore(-1), /SharedSemaphore: size must be an integer in 0\.\.2147483647, got -1/)
  assert.throws(() => new SharedMutex({ waiters: 0 }), RangeError)
  assert.throws(() => SharedMutex.from(new SharedArrayBuffer(64)), TypeError)
  assert.throws(() => SharedMutex.from(sem.buffer), /not a SharedMutex's buffer/)
  await rejectsWith(mu.lock({ signal: 'x' as never }), (e) => e instanceof TypeError, 'bad signal')
  await rejectsWith(mu.lock({ signal: AbortSignal.abort('gone') }), (e) => e === 'gone', 'aborted signal')
  assert.not.ok(mu.locked)
}))

test('an aborted mutex waiter leaves no trace, wherever it was in the queue', deadline('mutex-abort', async () => {
  const mu = new SharedMutex()
  await mu.lock()
  const ac = new AbortController()
  const a = mu.lock()
  const b = mu.lock({ signal: ac.signal })
  const c = mu.lock()
  await turn() // let them go to sleep
  ac.abort('stop')
  await rejectsWith(b, (e) => e === 'stop', 'aborted lock')
  assert.is(mu.waiting, 2)
  mu.unlock()
  await a
  mu.unlock()
  await c
  mu.unlock()
  assert.not.ok(mu.locked)
  assert.is(mu.freeWaiters(), 256)
  // The last waiter withdrawn: the state goes back to plain locked, and unlock frees it.
  await mu.lock()
  const ac2 = new AbortController()
  const d = mu.lock({ signal: ac2.signal })
  ac2.abort()
  await rejectsWith(d, (e) => (e as Error).name === 'AbortError', 'abort')
  mu.unlock()
  assert.not.ok(mu.locked)
  assert.ok(mu.tryLock())
  mu.unlock()
}))

test('an abort that loses the race to an unlocker that popped its record leaves the mutex free', deadline('mutex-abort-race', async () => {
  const mu = new SharedMutex({ waiters: 4 })
  await mu.lock()
  const ac = new AbortController()
  const waiter = mu.lock({ signal: ac.signal })
  await turn() // asleep on its record
  const w = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/sharedsync-tasks.ts', import.meta.url).href, mode: 'sync-granter', mu: mu.buffer, nwait: 4 },
  })
  try {
    const msgs: unknown[] = []
    const next = (): Promise<unknown> => new Promise((r) => w.once('message', r))
    msgs.push(await next()) // the worker holds the queue's lock
    const last = next()
    ac.abort('late') // our CAS wins; we then wait for the queue's lock while the worker unlocks
    await rejectsWith(waiter, (e) => e === 'late', 'aborted lock')
    msgs.push(await last)
    assert.equal(msgs, ['held', 'missed'])
    assert.not.ok(mu.locked, 'the unlocker freed it; the withdrawn waiter must not lock it again')
    assert.ok(mu.tryLock())
    mu.unlock()
    assert.is(mu.freeWaiters(), 4)
  } finally {
    await w.terminate()
  }
}))

test('more waiters than records: the overflow waits for a free one, order kept per record', deadline('mutex-overflow', async () => {
  const mu = new SharedMutex({ waiters: 2 })
  await mu.lock()
  let n = 0
  const ws = Array.from({ length: 6 }, () => mu.lock().then(() => { n++; mu.unlock() }))
  await turn()
  mu.unlock()
  await Promise.all(ws)
  assert.is(n, 6)
  assert.not.ok(mu.locked)
  assert.is(mu.freeWaiters(), 2)
}))

test('SharedRWMutex: readers share, a writer excludes, a waiting writer holds back new readers', deadline('rw', async () => {
  const rw = new SharedRWMutex()
  await rw.rLock()
  assert.ok(rw.tryRLock())
  assert.equal(rw.state, { readers: 2, writer: false })
  assert.not.ok(rw.tryLock())
  let wrote = false
  const w = rw.lock().then(() => { wrote = true })
  await turn()
  assert.not.ok(wrote)
  assert.not.ok(rw.tryRLock(), 'writer preference: no new reader while a writer waits')
  let read = false
  const r = rw.rLock().then(() => { read = true })
  rw.rUnlock()
  await turn()
  assert.not.ok(wrote)
  rw.rUnlock()
  await w
  assert.ok(wrote)
  assert.not.ok(read)
  rw.unlock()
  await r
  assert.ok(read)
  rw.rUnlock()
  assert.equal(rw.state, { readers: 0, writer: false })
  assert.ok(rw.tryLock())
  rw.unlock()
}))

test('SharedRWMutex aborts: a writer waiting for readers, a reader waiting for a writer', deadline('rw-abort', async () => {
  const rw = new SharedRWMutex()
  await rw.rLock()
  const ac = new AbortController()
  const w = rw.lock({ signal: ac.signal })
  await turn()
  ac.abort('no')
  await rejectsWith(w, (e) => e === 'no', 'writer abort')
  rw.rUnlock() // lets the withdrawn writer in, which leaves at once
  await until(() => rw.state.writer === false && rw.state.readers === 0)
  assert.ok(rw.tryLock())
  const ac2 = new AbortController()
  const r = rw.rLock({ signal: ac2.signal })
  ac2.abort('no2')
  await rejectsWith(r, (e) => e === 'no2', 'reader abort')
  rw.unlock()
  await until(() => rw.state.readers === 0)
  assert.ok(rw.tryLock())
  rw.unlock()
}))

test('SharedSemaphore: weighted, FIFO: a big request holds back small ones; abort lets them by', deadline('sem', async () => {
  const sem = new SharedSemaphore(3)
  await sem.acquire(2)
  assert.ok(sem.tryAcquire())
  assert.not.ok(sem.tryAcquire())
  const ac = new AbortController()
  const order: string[] = []
  const big = sem.acquire(3, { signal: ac.signal }).then(() => order.push('big'))
  const small = sem.acquire(1).then(() => order.push('small'))
  sem.release(1)
  await turn()
  assert.equal(order, [], 'the small one waits behind the big one')
  assert.not.ok(sem.tryAcquire(), 'tryAcquire does not overtake waiters')
  ac.abort('x')
  await rejectsWith(big, (e) => e === 'x', 'big abort')
  await small
  assert.equal(order, ['small'])
  assert.is(sem.available, 0)
  sem.release(2)
  sem.release(1)
  assert.is(sem.available, 3)
  assert.is(sem.waiting, 0)
  assert.is(sem.freeWaiters(), 256)
}))

test('SharedWaitGroup on one thread: wait resolves at zero; reuse; abort', deadline('wg', async () => {
  const wg = new SharedWaitGroup()
  await wg.wait()
  wg.add(2)
  let done = false
  const w = wg.wait().then(() => { done = true })
  wg.done()
  await turn()
  assert.not.ok(done)
  wg.done()
  await w
  wg.add(1)
  const ac = new AbortController()
  const w2 = wg.wait({ signal: ac.signal })
  const w3 = wg.wait()
  ac.abort('bye')
  await rejectsWith(w2, (e) => e === 'bye', 'wait abort')
  wg.done()
  await w3
}))

test('the seed\'s program: 1000 goroutines over every P increment under one SharedMutex', deadline('seed-1000', async () => {
  const procs = 4
  const rt = await Runtime.start({ procs })
  try {
    const mu = new SharedMutex()
    const { sab, S } = board()
    const threads = await Promise.all(Array.from({ length: 1000 }, () => rt.go(incUnder, mu, sab, 1, 500, 0)))
    assert.is(S[S_COUNTER], 1000)
    assert.is(S[S_MAX], 1, 'never two holders at once')
    assert.ok(new Set(threads).size >= 2, `ran on ${new Set(threads).size} threads`)
    assert.not.ok(mu.locked)
    assert.is(mu.freeWaiters(), 256)
  } finally {
    await rt.close()
  }
}, 60_000))

test('the seed\'s program: 10 goroutines on 10 Ms, only tryLock winners increment', deadline('seed-try', async () => {
  const rt = await Runtime.start({ procs: 10 })
  try {
    const mu = new SharedMutex()
    const { sab, S } = board()
    const res = await Promise.all(Array.from({ length: 10 }, () => rt.go(tryOnce, mu, sab, 10)))
    assert.is(new Set(res.map(([t]) => t)).size, 10, 'each on its own M')
    const winners = res.filter(([, won]) => won).length
    assert.is(winners, 1, 'the winner holds the lock until every party has tried')
    assert.is(S[S_WINNERS], winners)
    assert.is(S[S_COUNTER], winners)
    assert.not.ok(mu.locked)
  } finally {
    await rt.close()
  }
}, 60_000))

test('across Ms: RWMutex exclusion, semaphore bound, WaitGroup', deadline('across', async () => {
  const rt = await Runtime.start({ procs: 4 })
  try {
    const rw = new SharedRWMutex()
    const b = board()
    await Promise.all(Array.from({ length: 8 }, () => rt.go(rwRounds, rw, b.sab, 300, 5, 100, 0)))
    assert.is(b.S[S_VIOLATIONS], 0)
    assert.is(b.S[S_COUNTER], 8 * 60)
    assert.equal(rw.state, { readers: 0, writer: false })

    const sem = new SharedSemaphore(3)
    const s = board()
    await Promise.all(Array.from({ length: 8 }, () => rt.go(semRounds, sem, s.sab, 200, 3, 0, 0)))
    assert.ok(s.S[S_MAX]! <= 3, `at most 3 permits held, saw ${s.S[S_MAX]}`)
    assert.is(sem.available, 3)

    const wg = new SharedWaitGroup()
    const w = board()
    wg.add(20)
    const waiters = Array.from({ length: 3 }, () => rt.go(waitThenRead, wg, w.sab))
    const workers = Array.from({ length: 20 }, () => rt.go(workThenDone, wg, w.sab, 20_000))
    await wg.wait()
    assert.is(w.S[S_DONE], 20, 'main: all work done when wait returns')
    assert.equal(await Promise.all(waiters), [20, 20, 20])
    await Promise.all(workers)
  } finally {
    await rt.close()
  }
}, 60_000))

test('a plain Worker (no Runtime) shares a SharedMutex and a SharedWaitGroup with main', deadline('worker', async () => {
  const mu = new SharedMutex()
  const wg = new SharedWaitGroup()
  const { sab, S } = board()
  const N = 2000
  wg.add(2)
  const ws = [0, 1].map(() => new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/sharedsync-tasks.ts', import.meta.url).href, mode: 'sync-worker', mu: mu.buffer, wg: wg.buffer, sab, n: N },
  }))
  const exited = ws.map((w) => new Promise((r) => w.once('exit', r)))
  try {
    for (let i = 0; i < N; i++) {
      await mu.lock()
      const v = S[S_COUNTER]!
      S[S_COUNTER] = v + 1
      mu.unlock()
    }
    await wg.wait()
    assert.is(S[S_COUNTER], 3 * N)
    assert.equal(await Promise.all(exited), [0, 0])
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}, 30_000))

test('a tight lock/unlock loop does not starve a timer', deadline('starve', async () => {
  const mu = new SharedMutex()
  let fired = false
  setTimeout(() => { fired = true }, 1)
  while (!fired) {
    await mu.lock()
    mu.unlock()
  }
  assert.ok(fired)
}))

test.run()
