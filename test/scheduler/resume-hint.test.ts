import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ResumeHint } from '../../src/scheduler/shared/resume-hint.js'

/** A clock that only moves when the test says so (ms). */
function clock(): { now: () => number; pass(ms: number): void } {
  let t = 0
  return { now: () => t, pass: (ms) => void (t += ms) }
}

test('the first wake-up marks the M; after a continuation that blocked again at once, the next does not', () => {
  const c = clock()
  const h = new ResumeHint(c.now)
  assert.is(h.begin(), true)
  c.pass(0.01)
  h.end()
  assert.is(h.begin(), false)
  c.pass(0.01)
  h.end()
  assert.is(h.begin(), false)
})

test('a continuation that ran long makes the next wake-up mark the M again', () => {
  const c = clock()
  const h = new ResumeHint(c.now)
  h.begin()
  h.end()
  assert.is(h.begin(), false) // unmarked, and it computes for 5 ms
  c.pass(5)
  h.end()
  assert.is(h.begin(), true)
  h.end()
  assert.is(h.begin(), false)
})

test('an end with no continuation being timed changes nothing', () => {
  const c = clock()
  const h = new ResumeHint(c.now)
  h.end()
  assert.is(h.begin(), true)
  c.pass(5)
  h.end()
  h.end()
  assert.is(h.begin(), true)
})

test.run()
