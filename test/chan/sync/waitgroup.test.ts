import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../../_support/deadline.js'
import { flush, thrown } from '../_support.js'
import { WaitGroup, SyncError, go, parkedCount } from '../../../src/index.js'

test('a negative counter throws and leaves the counter unchanged', () => {
  const wg = new WaitGroup()
  wg.add(1)
  wg.done()
  const e = thrown(() => wg.done()) as SyncError
  assert.instance(e, SyncError)
  assert.is(e.code, 'ERR_NEGATIVE_WAITGROUP')
  assert.is(e.message, 'sync: negative WaitGroup counter')
  assert.is(wg.count, 0)
  assert.instance(thrown(() => wg.add(0.5)), RangeError)
})

test('a delta that is not an integer is echoed as the other errors echo values', () => {
  const wg = new WaitGroup()
  const cases: [unknown, string][] = [
    ['2', 'got "2"'],
    [0.5, 'got 0.5'],
    [2n, 'got 2n'],
    [{}, 'got an object (Object)'],
  ]
  for (const [delta, text] of cases) {
    const e = thrown(() => wg.add(delta as number)) as Error
    assert.instance(e, RangeError)
    assert.is(e.message, `sync: WaitGroup.add delta must be an integer, ${text}`)
  }
  assert.is(wg.count, 0)
})

test(
  'wait resolves when the counter reaches zero, for every waiter, and the group is reusable',
  deadline('waitgroup', async () => {
    const wg = new WaitGroup()
    await wg.wait()
    wg.add(3)
    let woke = 0
    const ws = [wg.wait().then(() => woke++), wg.wait().then(() => woke++)]
    for (let i = 0; i < 3; i++) go(async () => wg.done())
    await Promise.all(ws)
    assert.is(woke, 2)
    wg.add(1)
    let again = false
    const w = wg.wait().then(() => (again = true))
    await flush()
    assert.is(again, false)
    wg.done()
    await w
    assert.is(parkedCount(), 0)
  }),
)

test.run()
