// The M state machine and parking (src/scheduler/park.ts), on one thread over a fresh layout:
// which M wakep chooses, how an M leaves a park, and what a continuation that runs while its M
// is parked does to the state and the idle count.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Sched } from '../../src/scheduler/shared/sched.js'
import { computeLayout, writeHeader, H_NMSPINNING, H_NPIDLE, O_DOORBELL, O_MSTATE, O_P, P_IDLE, P_OWNER, oOff, pOff } from '../../src/scheduler/shared/layout.js'
import {
  MPark, MS_INTASK, MS_LOST, MS_PARKED, MS_PARKED_LIVE, MS_RUNNING, MS_SPINNING, MS_WAKING, UNPARK_LOST, UNPARK_RESUMED, UNPARK_RUNNING, UNPARK_SPINNING,
  markResumed, takeP, type ParkHooks,
} from '../../src/scheduler/shared/park.js'

/** A Sched whose Ms 1..k hold Ps 0..k-1 in the given states (parked ones counted idle). */
function ms(states: number[]): { s: Sched; I: Int32Array; states: () => number[]; bells: () => number[] } {
  const k = states.length
  const l = computeLayout(k, 4, 1024, 64)
  const sab = new SharedArrayBuffer(l.words * 4)
  const I = new Int32Array(sab)
  writeHeader(I, l)
  for (let m = 1; m <= k; m++) {
    I[oOff(l, m) + O_P] = m
    I[pOff(l, m - 1) + P_OWNER] = m
    I[oOff(l, m) + O_MSTATE] = states[m - 1]!
    if (states[m - 1] === MS_PARKED || states[m - 1] === MS_PARKED_LIVE) {
      I[pOff(l, m - 1) + P_IDLE] = 1
      I[H_NPIDLE] = I[H_NPIDLE]! + 1
    }
  }
  const os = Array.from({ length: k }, (_, i) => oOff(l, i + 1))
  return { s: new Sched(sab), I, states: () => os.map((o) => I[o + O_MSTATE]!), bells: () => os.map((o) => I[o + O_DOORBELL]!) }
}

test('wakeFor(n) wakes one parked M per G, up to the idle Ps (Go\'s injectglist); wakep wakes one', () => {
  const a = ms([MS_PARKED, MS_PARKED, MS_PARKED])
  a.s.wakeFor(2)
  assert.equal(a.states().filter((x) => x === MS_WAKING).length, 2)
  assert.is(a.I[H_NMSPINNING], 2) // each woken M starts out counted as spinning
  assert.equal(a.bells().filter((x) => x === 1).length, 2)

  const b = ms([MS_PARKED, MS_PARKED_LIVE, MS_PARKED])
  b.s.wakeFor(10)
  assert.equal(b.states(), [MS_WAKING, MS_WAKING, MS_WAKING])
  assert.is(b.I[H_NMSPINNING], 3)

  const c = ms([MS_PARKED, MS_PARKED, MS_PARKED])
  c.s.wakep()
  c.s.wakep() // someone spins already: no second M
  assert.equal(c.states().filter((x) => x === MS_WAKING).length, 1)
  assert.is(c.I[H_NMSPINNING], 1)
})

test('wakeFor leaves nmspinning as it found it when no parked M holds a P', () => {
  const a = ms([MS_RUNNING, MS_RUNNING])
  a.I[H_NPIDLE] = 2 // stale count: still nobody to wake
  a.s.wakeFor(5)
  assert.is(a.I[H_NMSPINNING], 0)
  assert.equal(a.bells(), [0, 0])
})

test('wakep takes a PARKED M before a PARKED_LIVE one, whatever its rotation', () => {
  for (let round = 0; round < 4; round++) {
    const a = ms([MS_PARKED_LIVE, MS_PARKED, MS_PARKED_LIVE])
    for (let r = 0; r < round; r++) {
      a.s.wakep() // turn the rotation, then undo
      a.I[oOff(a.s.l, 2) + O_MSTATE] = MS_PARKED
      a.I[H_NMSPINNING] = 0
    }
    a.s.wakep()
    assert.equal(a.states(), [MS_PARKED_LIVE, MS_WAKING, MS_PARKED_LIVE], `round ${round}`)
  }
  // With no PARKED M left, a PARKED_LIVE one is woken.
  const b = ms([MS_PARKED_LIVE, MS_INTASK])
  b.s.wakep()
  assert.equal(b.states(), [MS_WAKING, MS_INTASK])
})

test('wakep never wakes an M that runs user code, spins or is being woken', () => {
  const a = ms([MS_INTASK, MS_LOST, MS_SPINNING, MS_RUNNING])
  a.I[H_NPIDLE] = 1
  a.s.wakep()
  assert.equal(a.states(), [MS_INTASK, MS_LOST, MS_SPINNING, MS_RUNNING])
  assert.is(a.I[H_NMSPINNING], 0)
  assert.equal(a.bells(), [0, 0, 0, 0])
})

const noWork: ParkHooks = { otherWork: () => false, beforeSleep: () => {} }

test('a park with work already waiting comes straight back RUNNING and leaves the idle count as it was', deadline('park-otherwork', async () => {
  const a = ms([MS_RUNNING])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  let sawParked = -1
  const how = await mp.park(pOff(a.s.l, 0), true, false, {
    otherWork: () => {
      sawParked = a.I[H_NPIDLE]!
      return true
    },
    beforeSleep: () => assert.unreachable('it must not sleep'),
  })
  assert.is(sawParked, 1, 'counted idle while it re-checks for work')
  assert.is(how, UNPARK_RUNNING)
  assert.equal(a.states(), [MS_RUNNING])
  assert.is(a.I[H_NPIDLE], 0)
  assert.is(a.I[pOff(a.s.l, 0) + P_IDLE], 0)
}))

for (const by of ['the monitor', 'the M itself'] as const) {
  test(`a continuation marked by ${by} while its M is PARKED_LIVE runs with the M INTASK and not counted idle`, deadline(`park-resumed-${by}`, async () => {
    const a = ms([MS_RUNNING, MS_PARKED])
    const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
    const seen: { state: number; idle: number; pIdle: number }[] = []
    // A timer set before the park, as a task's `await sleep()` is: its callback is the continuation.
    setTimeout(() => {
      if (by === 'the monitor') markResumed(a.I, a.s.l, 1, a.s.waker)
      else mp.resumed()
      seen.push({ state: a.states()[0]!, idle: a.I[H_NPIDLE]!, pIdle: a.I[pOff(a.s.l, 0) + P_IDLE]! })
    }, 1)
    const parking = mp.park(pOff(a.s.l, 0), true, false, noWork)
    assert.is(a.states()[0], MS_PARKED_LIVE)
    assert.is(a.I[H_NPIDLE], 2)
    const how = await parking // the mark rang the M's doorbell: the park ends after the continuation
    assert.equal(seen, [{ state: MS_INTASK, idle: 1, pIdle: 0 }])
    assert.is(how, UNPARK_RESUMED, 'back RUNNING, and told that a continuation, not work, ended the park')
    assert.equal(a.states(), [MS_RUNNING, MS_PARKED])
    assert.is(a.I[H_NPIDLE], 1, 'the other M is still the one idle P')
  }))
}

test('MPark.resumed is a no-op on an M that is not parked', () => {
  const a = ms([MS_RUNNING])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  mp.resumed()
  assert.equal(a.states(), [MS_RUNNING])
  assert.equal(a.bells(), [0])
})

test('a PARKED M (no live task, waiting asynchronously) stays PARKED through callbacks: only a ring ends its park', deadline('park-plain', async () => {
  const a = ms([MS_RUNNING])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  const seen: number[] = []
  setTimeout(() => {
    seen.push(a.states()[0]!)
    a.s.ring(1)
  }, 1)
  // async without live: waitAsync (a module import on its way), and no hook.
  const how = await mp.park(pOff(a.s.l, 0), false, true, noWork)
  assert.equal(seen, [MS_PARKED])
  assert.is(how, UNPARK_RUNNING)
  assert.is(a.I[H_NPIDLE], 0)
}))

test('an M woken by wakep comes back SPINNING, counted in nmspinning once', deadline('park-woken', async () => {
  const a = ms([MS_RUNNING])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  const parking = mp.park(pOff(a.s.l, 0), true, false, noWork)
  a.s.wakep()
  assert.equal(a.states(), [MS_WAKING])
  assert.is(await parking, UNPARK_SPINNING)
  assert.equal(a.states(), [MS_SPINNING])
  assert.is(a.I[H_NMSPINNING], 1)
  assert.is(a.I[H_NPIDLE], 0)
  assert.is(mp.stopSpinning(), 0)
}))

test('a continuation that loses its P to the monitor while parked: the park reports LOST', deadline('park-lost', async () => {
  const a = ms([MS_RUNNING])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  let taken: boolean | undefined
  setTimeout(() => {
    markResumed(a.I, a.s.l, 1, a.s.waker)
    taken = takeP(a.I, a.s.l, 1)
  }, 1)
  const how = await mp.park(pOff(a.s.l, 0), true, false, noWork)
  assert.ok(taken, 'the monitor takes the P of an M in user code')
  assert.is(how, UNPARK_LOST)
  assert.equal(a.states(), [MS_LOST])
  assert.is(a.I[H_NPIDLE], 0)
}))

test('markResumed: a woken M found computing gives its wake to another parked M', () => {
  const a = ms([MS_WAKING, MS_PARKED])
  a.I[H_NMSPINNING] = 1
  a.I[pOff(a.s.l, 0) + P_IDLE] = 1
  a.I[H_NPIDLE] = 2
  assert.ok(markResumed(a.I, a.s.l, 1, a.s.waker))
  assert.equal(a.states(), [MS_INTASK, MS_WAKING])
  assert.is(a.I[H_NMSPINNING], 1, 'the slot passed on, not doubled')
  assert.is(a.I[H_NPIDLE], 1)
  assert.is(a.I[pOff(a.s.l, 0) + P_IDLE], 0)
  // Only asleep Ms are marked; and only once.
  assert.not.ok(markResumed(a.I, a.s.l, 1, a.s.waker))
  const b = ms([MS_RUNNING, MS_PARKED])
  assert.not.ok(markResumed(b.I, b.s.l, 1, b.s.waker))
  assert.not.ok(markResumed(b.I, b.s.l, 2, b.s.waker), 'a PARKED M has no continuation to run')
  assert.equal(b.states(), [MS_RUNNING, MS_PARKED])
})

test('waitGated: a gated M waits INTASK (its P not idle, wakep passes it over) until a ring or its timeout', deadline('park-gated', async () => {
  const a = ms([MS_RUNNING, MS_PARKED])
  const mp = new MPark(a.I, a.s.l, 1, a.s.waker)
  const hooks: ParkHooks = { otherWork: () => false, beforeSleep: () => assert.unreachable('a gated wait is not a park') }
  // Ended by a ring (a task of its own settled).
  const waiting = mp.waitGated(10_000, hooks)
  assert.equal(a.states(), [MS_INTASK, MS_PARKED])
  assert.is(a.I[H_NPIDLE], 1, 'only the parked M counts idle')
  a.s.wakep() // work arrived elsewhere: the parked M is woken, not the gated one
  assert.equal(a.states(), [MS_INTASK, MS_WAKING])
  a.s.ring(1)
  assert.is(await waiting, true)
  assert.equal(a.states()[0], MS_RUNNING)
  // Ended by its timeout.
  assert.is(await mp.waitGated(1, hooks), true)
  assert.equal(a.states()[0], MS_RUNNING)
  // The monitor took the P meanwhile: reported, for the M to drop it.
  const lost = mp.waitGated(10_000, hooks)
  assert.ok(takeP(a.I, a.s.l, 1))
  a.s.ring(1)
  assert.is(await lost, false)
  assert.equal(a.states()[0], MS_LOST)
}))

test.run()
