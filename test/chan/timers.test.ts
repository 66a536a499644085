import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { rejection, thrown } from './_support.js'
import { Chan, after, inspectChan, recv, select, sleep, tick, parkedCount } from '../../src/index.js'

test('durations are validated and the error echoes the value', () => {
  for (const bad of [Number.NaN, Infinity, '5' as unknown as number]) {
    for (const make of [after, sleep]) {
      const e = thrown(() => make(bad))
      assert.instance(e, RangeError)
      assert.ok((e as Error).message.includes(String(bad)), (e as Error).message)
    }
  }
  // Go's NewTicker panics on a non-positive interval.
  assert.instance(thrown(() => tick(0)), RangeError)
  assert.instance(thrown(() => tick(-1)), RangeError)
})

test(
  'a negative duration means now, as in Go: sleep returns, after fires',
  deadline('negative durations', async () => {
    await sleep(-5)
    const { value, ok } = await after(-1).recv()
    assert.ok(ok)
    assert.instance(value, Date)
  }),
)

test(
  'a signal that is not an AbortSignal is a TypeError naming the op',
  deadline('bad signal on sleep', async () => {
    const e = await rejection(sleep(1, { signal: 'nope' as unknown as AbortSignal }))
    assert.instance(e, TypeError)
    assert.match((e as Error).message, 'sleep: options.signal must be an AbortSignal, got "nope"')
  }),
)

test(
  'sleep resolves; an aborted sleep rejects with the reason',
  deadline('sleep', async () => {
    await sleep(1)
    const ac = new AbortController()
    const p = sleep(60_000, { signal: ac.signal })
    ac.abort('enough')
    assert.is(await rejection(p), 'enough')
    assert.is(await rejection(sleep(1, { signal: AbortSignal.abort('pre') })), 'pre')
  }),
)

test(
  'after delivers one Date on a cap-1 channel and works as a select timeout',
  deadline('after', async () => {
    const t = after(1)
    assert.is(t.cap, 1)
    const r = await t.recv()
    assert.ok(r.ok && r.value instanceof Date)
    const never = new Chan<number>()
    const s = await select([recv(never), recv(after(1))])
    assert.is(s.index, 1)
    assert.is(parkedCount(), 0, 'the losing case was withdrawn')
  }),
)

test(
  'tick delivers repeatedly until stop, dropping ticks for a slow reader',
  deadline('tick', async () => {
    const t = tick(1)
    // A witness ticker with the same interval, made second: Node keeps timers
    // of one duration in one list, in order, so each of its ticks comes after
    // one of t's. Five witness ticks mean t ticked at least five times unread.
    const witness = tick(1)
    try {
      for (let i = 0; i < 3; i++) assert.ok((await t.c.recv()).value instanceof Date)
      for (let i = 0; i < 5; i++) await witness.c.recv()
      // Go's ticker has a 1-slot channel and drops a tick it cannot deliver:
      // one value waits, no send is parked, nothing queues up.
      assert.equal(inspectChan(t.c), { len: 1, cap: 1, closed: false, recvWaiters: 0, sendWaiters: 0 })
      t.stop()
      t.stop()
      assert.ok(t.c.tryRecv()?.value instanceof Date, 'the one kept tick')
      assert.is(t.c.tryRecv(), undefined, 'the other ticks were dropped, not queued')
    } finally {
      t.stop()
      witness.stop()
    }
  }),
)

test.run()
