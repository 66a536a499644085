// The monitor's test for "the stuck M is computing, not blocked" (src/scheduler/monitor.ts):
// with a core to spare it decides whether a hand-off would only run beyond `procs`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { looksComputing } from '../../src/scheduler/monitor.js'

test('CPU covering every running M means none is blocked', () => {
  assert.ok(looksComputing(1.05, 1), 'procs=1, its M computing (plus a little main-thread time)')
  assert.ok(looksComputing(1.6, 2), 'two Ms computing on a loaded machine that gave them 80%')
  assert.ok(looksComputing(2.1, 2))
})

test('CPU short of the running Ms means one is blocked: hand off as before', () => {
  assert.not.ok(looksComputing(0.05, 1), 'the only M blocked in Atomics.wait')
  assert.not.ok(looksComputing(1.1, 2), 'one M computing, one blocked')
  assert.not.ok(looksComputing(Number.NaN, 1), 'too few samples yet: no claim either way')
})

test.run()
