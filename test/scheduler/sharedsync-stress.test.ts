// Shared sync primitives under contention on every M and the main thread, with aborts racing
// grants. Each test fails when the key atomic of its primitive is weakened to a plain load and
// store (docs/design/sharedsync.md, "Checked by weakening"). No timing assertions.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime, SharedMutex, SharedRWMutex, SharedSemaphore, SharedWaitGroup } from '../../src/scheduler/index.js'
import {
  S_COUNTER, S_MAX, S_VIOLATIONS, S_WORDS, incUnder, incUnderAborting, spinInc, rwAborting, rwRounds, semRounds, wgChurn,
} from './fixtures/sharedsync-tasks.js'

const PROCS = 4
const board = (): { sab: SharedArrayBuffer; S: Int32Array } => {
  const sab = new SharedArrayBuffer(S_WORDS * 4)
  return { sab, S: new Int32Array(sab) }
}
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

test('SharedMutex: a goroutine on every M and main, 2.5e4 critical sections, no overlap', deadline('mutex', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const mu = new SharedMutex()
    const { sab, S } = board()
    const N = 5000
    const gs = Array.from({ length: PROCS }, () => rt.go(incUnder, mu, sab, N, 20, PROCS))
    for (let i = 0; i < N; i++) {
      await mu.lock()
      const v = S[S_COUNTER]!
      S[S_COUNTER] = v + 1
      mu.unlock()
    }
    await Promise.all(gs)
    assert.is(S[S_COUNTER], (PROCS + 1) * N)
    assert.is(S[S_MAX], 1)
    assert.not.ok(mu.locked)
    assert.is(mu.freeWaiters(), 256)
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedMutex: tryLock spinners on every M race for the free word; one wins each time', deadline('mutex-spin', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const mu = new SharedMutex()
    const { sab, S } = board()
    const N = 300_000
    const threads = await Promise.all(Array.from({ length: PROCS }, () => rt.go(spinInc, mu, sab, N)))
    assert.is(S[S_COUNTER], PROCS * N)
    assert.ok(new Set(threads).size >= 2, `ran on ${new Set(threads).size} threads`)
    assert.not.ok(mu.locked)
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedMutex: aborts racing hand-offs lose no lock and grant no withdrawn waiter', deadline('mutex-abort', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const mu = new SharedMutex()
    const { sab, S } = board()
    const got = await Promise.all(Array.from({ length: PROCS }, () => rt.go(incUnderAborting, mu, sab, 5000, 2, PROCS)))
    const total = got.reduce((a, b) => a + b, 0)
    assert.is(S[S_COUNTER], total)
    assert.ok(total > 0 && total < PROCS * 5000, `some locks were aborted: ${total}`)
    assert.not.ok(mu.locked)
    assert.is(mu.waiting, 0)
    assert.is(mu.freeWaiters(), 256)
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedRWMutex: readers and writers on every M never overlap', deadline('rw', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const rw = new SharedRWMutex()
    const { sab, S } = board()
    await Promise.all(Array.from({ length: PROCS }, () => rt.go(rwRounds, rw, sab, 4000, 4, 100, PROCS)))
    assert.is(S[S_VIOLATIONS], 0)
    assert.is(S[S_COUNTER], PROCS * 1000)
    assert.equal(rw.state, { readers: 0, writer: false })
    assert.ok(rw.tryLock())
    rw.unlock()
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedRWMutex: tight read locks on every M keep the reader count exact', deadline('rw-tight', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const rw = new SharedRWMutex()
    const { sab, S } = board()
    const threads = await Promise.all(Array.from({ length: PROCS }, () => rt.go(rwRounds, rw, sab, 100_000, 500, 0, PROCS)))
    assert.is(new Set(threads).size, PROCS, 'one task per M')
    assert.is(S[S_VIOLATIONS], 0)
    assert.is(S[S_COUNTER], PROCS * 200)
    assert.equal(rw.state, { readers: 0, writer: false })
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedRWMutex: aborted readers and writers on every M leave the lock as they found it', deadline('rw-abort', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const rw = new SharedRWMutex()
    const { sab, S } = board()
    const got = await Promise.all(Array.from({ length: PROCS }, () => rt.go(rwAborting, rw, sab, 4000, 3, 2, PROCS)))
    const total = got.reduce((a, b) => a + b, 0)
    assert.ok(total > 0 && total < PROCS * 4000, `some were aborted: ${total}`)
    assert.is(S[S_VIOLATIONS], 0)
    // An aborted one that was counted in leaves once its turn came: wait for the last of them.
    while (!rw.tryLock()) await turn()
    assert.equal(rw.state, { readers: 0, writer: true })
    rw.unlock()
    assert.equal(rw.state, { readers: 0, writer: false })
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedSemaphore: weighted acquires with aborts never exceed the size; all permits come back', deadline('sem', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const sem = new SharedSemaphore(4)
    const { sab, S } = board()
    const got = await Promise.all(Array.from({ length: PROCS }, () => rt.go(semRounds, sem, sab, 5000, 3, 3, PROCS)))
    const total = got.reduce((a, b) => a + b, 0)
    assert.ok(total > 0 && total < PROCS * 5000, `some acquires were aborted: ${total}`)
    assert.ok(S[S_MAX]! <= 4, `at most 4 permits held, saw ${S[S_MAX]}`)
    assert.is(sem.available, 4)
    assert.is(sem.waiting, 0)
    while (sem.freeWaiters() !== 256) await turn()
  } finally {
    await rt.close()
  }
}, 120_000))

test('SharedWaitGroup: add/done churn from every M comes back to exactly 0', deadline('wg', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const wg = new SharedWaitGroup()
    wg.add(1)
    const waiting = wg.wait()
    const { sab } = board()
    await Promise.all(Array.from({ length: PROCS }, () => rt.go(wgChurn, wg, sab, 100_000, PROCS)))
    assert.is(wg.count, 1)
    wg.done()
    await waiting
    assert.is(wg.count, 0)
  } finally {
    await rt.close()
  }
}, 120_000))

test.run()
