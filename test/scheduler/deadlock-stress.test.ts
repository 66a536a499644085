// The deadlock check must never fire while a value is in flight or a thread is about to wake:
// a ping-pong between main and an M and one between two Ms, with the check run every
// millisecond (GORT_CHECKDEAD_MS=1), in a child process (a false report would exit it with 2).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { runDeadlockProgram } from './_child.js'

const ROUNDS = 300

test('ping-pongs across threads with the check every millisecond: no false deadlock', deadline('pingpong', async () => {
  const r = await runDeadlockProgram(['pingpong', String(ROUNDS)], { GORT_CHECKDEAD_MS: '1' }, 110_000)
  assert.is(r.code, 0, `a false deadlock, or killed: ${r.err}`)
  const got = JSON.parse(r.out.trim()) as Record<string, unknown>
  const sum = (ROUNDS * (ROUNDS + 1)) / 2 // main gets back i + 1 for each i
  assert.is(got['sum'], sum)
  assert.is(got['farSum'], sum - ROUNDS)
  assert.is(got['mSum'], sum)
  assert.is(got['mFar'], sum - ROUNDS)
  assert.ok(got['checks'], 'the check ran')
}, 120_000))

test.run()
