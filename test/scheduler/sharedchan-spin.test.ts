// How long a blocked SharedChan op spins (src/scheduler/shared/sharedchan-spin.ts): the spin is
// for partners on other threads; one whose partner is on its own thread stops spinning.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { SharedChan } from '../../src/scheduler/index.js'
import { SHORT_US, spinStats } from '../../src/scheduler/shared/sharedchan-spin.js'

test('ops whose partners run on the same thread stop spinning and never probe with a long spin', deadline('spin-same-thread', async () => {
  assert.is(spinStats().budgetUs, SHORT_US)
  const ping = new SharedChan<number>()
  const pong = new SharedChan<number>()
  const echo = (async (): Promise<number> => {
    let n = 0
    for (;;) {
      const r = await ping.recv()
      if (!r.ok) return n
      await pong.send(r.value + 1)
      n++
    }
  })()
  for (let i = 0; i < 200; i++) {
    await ping.send(i)
    assert.equal(await pong.recv(), { value: i + 1, ok: true })
  }
  ping.close()
  assert.is(await echo, 200)
  const s = spinStats()
  assert.ok(s.misses > 0, 'some ops blocked')
  assert.is(s.budgetUs, 0, 'it stopped spinning')
  assert.is(s.probes, 0, 'no long spin was tried')
}))

test.run()
