import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../../_support/deadline.js'
import { flush, rejection, thrown } from '../_support.js'
import { RWMutex, SyncError, parkedCount } from '../../../src/index.js'

test(
  'readers share; a writer excludes readers and writers',
  deadline('rw basics', async () => {
    const rw = new RWMutex()
    await rw.rLock()
    await rw.rLock()
    assert.is(rw.tryRLock(), true)
    assert.is(rw.tryLock(), false)
    let wrote = false
    const w = rw.lock().then(() => (wrote = true))
    await flush()
    assert.is(wrote, false)
    assert.is(rw.tryRLock(), false, 'a waiting writer blocks new readers')
    rw.rUnlock()
    rw.rUnlock()
    rw.rUnlock()
    await w
    assert.is(wrote, true)
    let read = false
    const r = rw.rLock().then(() => (read = true))
    await flush()
    assert.is(read, false)
    rw.unlock()
    await r
    rw.rUnlock()
    assert.is(rw.tryLock(), true)
    rw.unlock()
    assert.is(parkedCount(), 0)
  }),
)

test(
  'unlock releases all queued readers before the next writer',
  deadline('rw order', async () => {
    const rw = new RWMutex()
    await rw.lock()
    const log: string[] = []
    const r1 = rw.rLock().then(() => log.push('r1'))
    const r2 = rw.rLock().then(() => log.push('r2'))
    const w2 = rw.lock().then(() => log.push('w2'))
    await flush()
    rw.unlock()
    await Promise.all([r1, r2])
    await flush()
    assert.equal(log, ['r1', 'r2'])
    rw.rUnlock()
    rw.rUnlock()
    await w2
    assert.equal(log, ['r1', 'r2', 'w2'])
    rw.unlock()
  }),
)

test(
  'misuse throws Go\'s errors; an aborted writer lets readers in',
  deadline('rw misuse', async () => {
    const rw = new RWMutex()
    assert.is((thrown(() => rw.rUnlock()) as SyncError).code, 'ERR_RUNLOCK_OF_UNLOCKED')
    assert.is((thrown(() => rw.unlock()) as SyncError).message, 'sync: Unlock of unlocked RWMutex')
    await rw.rLock()
    const ac = new AbortController()
    const w = rw.lock({ signal: ac.signal })
    await flush()
    assert.is(rw.tryRLock(), false)
    ac.abort('x')
    assert.is(await rejection(w), 'x')
    assert.is(rw.tryRLock(), true)
    rw.rUnlock()
    rw.rUnlock()
    assert.is(rw.tryLock(), true)
    rw.unlock()
    assert.is(parkedCount(), 0)
  }),
)

test.run()
