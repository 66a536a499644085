import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { flush, runChild } from './_support.js'
import { Chan, go, YIELD_BUDGET } from '../../src/index.js'
import { yieldCount } from '../../src/chan/yield.js'

// The starvation test itself runs in a child process (goroutine.test.ts,
// fixtures/starve.ts): in this process a regression would starve the deadline
// timer too and hang the run instead of failing it.

test(
  'the budget yields about once per YIELD_BUDGET ops, not once per op',
  deadline('budget', async () => {
    const ping = new Chan<number>()
    const pong = new Chan<number>()
    go(async () => {
      for (;;) {
        const r = await ping.recv()
        if (!r.ok) return
        await pong.send(r.value)
      }
    })
    await flush()
    const before = yieldCount()
    const trips = 50_000
    for (let i = 0; i < trips; i++) {
      await ping.send(i)
      await pong.recv()
    }
    ping.close()
    const yields = yieldCount() - before
    // 4 ops per round trip, at most all of them completing without parking.
    assert.ok(yields >= 1, 'the budget engaged')
    assert.ok(yields <= Math.ceil((4 * trips) / YIELD_BUDGET) + 2, `yielded ${yields} times`)
  }),
)

test(
  'without setImmediate the budget yields through a MessageChannel, and the program still exits',
  deadline('message channel fallback', async () => {
    const r = await runChild('test/chan/fixtures/no-immediate.ts')
    assert.is(r.code, 0, r.stderr)
    assert.is(r.stderr, '')
    assert.match(r.stdout, /round trips [1-9]\d*/)
  }, 30_000),
)

test.run()
