import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime } from '../../src/scheduler/index.js'
import { MainSpin } from '../../src/scheduler/main/mainspin.js'
import { add } from './fixtures/tasks.js'
import { startWithoutRescue } from './_wait.js'

/** A completion ring stand-in: ready() answers from a script and counts the calls. */
function source(answers: () => boolean): { ready(): boolean; calls: number } {
  const s = { calls: 0, ready: () => (s.calls++, answers()) }
  return s
}

test('a budget of 0 never polls', () => {
  const spin = new MainSpin(0)
  const src = source(() => true)
  for (let i = 0; i < 10; i++) assert.is(spin.poll(src), false)
  assert.is(src.calls, 0)
  assert.equal([spin.hits, spin.misses], [0, 0])
})

test('a poll that finds a result returns at once and counts a hit', () => {
  const spin = new MainSpin(1000)
  const src = source(() => true)
  assert.is(spin.poll(src), true)
  assert.is(src.calls, 1)
  assert.equal([spin.hits, spin.misses], [1, 0])
})

/** A clock that moves 1 µs per reading, plus what the test adds: no real time passes. */
function clock(): { now: () => number; wait(ms: number): void } {
  let t = 0
  return { now: () => (t += 0.001), wait: (ms) => void (t += ms) }
}

test('misses whose result came much later back off: after 4, only every 16th wait polls', () => {
  const c = clock()
  const spin = new MainSpin(10, c.now)
  const src = source(() => false)
  for (let i = 0; i < 4; i++) {
    assert.is(spin.poll(src), false)
    c.wait(1) // the result came 1 ms later: the G was long
    spin.woke()
  }
  const before = src.calls
  for (let i = 0; i < 15; i++) assert.is(spin.poll(src), false)
  assert.is(src.calls, before, 'the 15 waits after the streak do not poll')
  assert.is(spin.poll(src), false) // the 16th probes
  assert.ok(src.calls > before)
  assert.equal([spin.hits, spin.misses], [0, 5])
})

test('a miss whose result came soon (the M was waking) keeps the poll on', () => {
  const c = clock()
  const spin = new MainSpin(10, c.now)
  const src = source(() => false)
  for (let i = 0; i < 20; i++) {
    const before = src.calls
    assert.is(spin.poll(src), false)
    assert.ok(src.calls > before, `wait ${i} polled`)
    c.wait(0.05)
    spin.woke()
  }
  assert.is(spin.misses, 20)
})

test('after backing off, a probe that hits or misses narrowly turns the poll back on', () => {
  for (const narrow of [false, true]) {
    const c = clock()
    const spin = new MainSpin(10, c.now)
    let ready = false
    const src = source(() => ready)
    for (let i = 0; i < 4; i++) {
      spin.poll(src)
      c.wait(1)
      spin.woke()
    }
    for (let i = 0; i < 15; i++) spin.poll(src)
    if (narrow) {
      assert.is(spin.poll(src), false) // the probe misses...
      c.wait(0.02) // ...by little
      spin.woke()
    } else {
      ready = true
      assert.is(spin.poll(src), true) // the probe hits
    }
    ready = false
    const before = src.calls
    spin.poll(src)
    assert.ok(src.calls > before, `the next wait polls again (${narrow ? 'narrow miss' : 'hit'})`)
  }
})

test('woke() without a missed poll before it changes nothing', () => {
  const c = clock()
  const spin = new MainSpin(10, c.now)
  const src = source(() => false)
  for (let i = 0; i < 4; i++) {
    spin.poll(src)
    c.wait(1)
    spin.woke()
    spin.woke() // a second wake-up for the same wait: not another far miss, and not a narrow one
  }
  const before = src.calls
  spin.poll(src)
  assert.is(src.calls, before, 'backed off after exactly 4 far misses')
})

test('after 1 ms of hits in a row, one wait skips the poll (the event loop gets a turn), then polling goes on', () => {
  const c = clock()
  const spin = new MainSpin(10, c.now)
  const src = source(() => true)
  assert.is(spin.poll(src), true)
  for (let i = 0; i < 9; i++) {
    c.wait(0.1)
    assert.is(spin.poll(src), true, `hit ${i + 2}, within the first ms`)
  }
  c.wait(0.1)
  const before = src.calls
  assert.is(spin.poll(src), false, 'the chain is over 1 ms old: wait through the event loop')
  assert.is(src.calls, before)
  assert.is(spin.poll(src), true, 'and poll again after it')
  assert.equal([spin.hits, spin.misses], [11, 0])
})

test('a caller awaiting result after result still lets timers run', deadline('main-spin-turns', async () => {
  const rt = await Runtime.start({ procs: 2, spares: 0 })
  try {
    let turns = 0
    let on = true
    const tick = (): void => {
      turns++
      if (on) setImmediate(tick)
    }
    setImmediate(tick)
    const before = turns
    // 2000 round trips take well over 1 ms, so the event loop must have had turns meanwhile,
    // whether the polls hit (a turn at least every 1 ms of hits) or missed (waitAsync is a task).
    for (let i = 0; i < 2000; i++) assert.is(await rt.go(add, i, 1), i + 1)
    on = false
    assert.ok(turns > before, `no event-loop turn in 2000 round trips (polls ${JSON.stringify(rt.stats().mainPolls)})`)
  } finally {
    await rt.close()
  }
}))

test('mainSpinUs: 0 turns the poll off; the default polls', deadline('main-spin-option', async () => {
  const off = await Runtime.start({ procs: 1, spares: 0, mainSpinUs: 0 })
  try {
    for (let i = 0; i < 50; i++) assert.is(await off.go(add, i, 1), i + 1)
    assert.equal(off.stats().mainPolls, { hits: 0, misses: 0 })
  } finally {
    await off.close()
  }
  // The rescue is off, so a wake-up lost between the poll and the wait hangs the test (its
  // deadline names it) instead of depending on how fast the OS wakes a thread.
  const on = await startWithoutRescue(() => Runtime.start({ procs: 1, spares: 0 }))
  try {
    for (let i = 0; i < 50; i++) assert.is(await on.go(add, i, 1), i + 1)
    const { hits, misses } = on.stats().mainPolls
    assert.ok(hits + misses > 0, 'the default polls before waiting')
  } finally {
    await on.close()
  }
}))

test.run()
