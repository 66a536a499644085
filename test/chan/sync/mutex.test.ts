import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../../_support/deadline.js'
import { flush, rejection, thrown } from '../_support.js'
import { Mutex, SyncError, go, parkedCount, WaitGroup } from '../../../src/index.js'

test(
  'lock, unlock, tryLock',
  deadline('mutex basics', async () => {
    const m = new Mutex()
    assert.is(m.locked, false)
    await m.lock()
    assert.is(m.locked, true)
    assert.is(m.tryLock(), false)
    m.unlock()
    assert.is(m.tryLock(), true)
    m.unlock()
  }),
)

test('unlock of an unlocked mutex throws Go\'s error', () => {
  const e = thrown(() => new Mutex().unlock()) as SyncError
  assert.instance(e, SyncError)
  assert.is(e.code, 'ERR_UNLOCK_OF_UNLOCKED')
  assert.is(e.message, 'sync: unlock of unlocked mutex')
})

test(
  'waiters get the lock in FIFO order, handed over by unlock',
  deadline('mutex fifo', async () => {
    const m = new Mutex()
    await m.lock()
    const order: number[] = []
    const wg = new WaitGroup()
    for (let i = 0; i < 5; i++) {
      wg.add(1)
      go(async () => {
        await m.lock()
        order.push(i)
        m.unlock()
        wg.done()
      })
    }
    await flush()
    assert.is(order.length, 0)
    m.unlock()
    await wg.wait()
    assert.equal(order, [0, 1, 2, 3, 4])
    assert.is(m.locked, false)
  }),
)

test(
  'mutual exclusion across awaits inside the critical section',
  deadline('mutex exclusion', async () => {
    const m = new Mutex()
    let inside = 0
    let maxInside = 0
    const wg = new WaitGroup()
    for (let i = 0; i < 20; i++) {
      wg.add(1)
      go(async () => {
        for (let k = 0; k < 10; k++) {
          await m.lock()
          inside++
          maxInside = Math.max(maxInside, inside)
          await flush()
          inside--
          m.unlock()
        }
        wg.done()
      })
    }
    await wg.wait()
    assert.is(maxInside, 1)
  }),
)

test(
  'an aborted lock leaves the queue as it was',
  deadline('mutex abort', async () => {
    const m = new Mutex()
    await m.lock()
    const ac = new AbortController()
    const p = m.lock({ signal: ac.signal })
    ac.abort('no')
    assert.is(await rejection(p), 'no')
    assert.is(parkedCount(), 0)
    m.unlock()
    assert.is(m.locked, false, 'the cancelled waiter did not take the lock')
  }),
)

test.run()
