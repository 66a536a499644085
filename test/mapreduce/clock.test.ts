// Attempt clocks (clock.ts): the word's states and the start/close race between an attempt's
// thread and the coordinator, which exactly one of them must win.
import { Worker } from 'node:worker_threads'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CLOSED, ENDED, NOT_STARTED, clockStarted, clockWords, closeClock, drainClocks, progressCount, readClock, startedAt } from '../../src/mapreduce/clock.js'
import { deadline } from '../_support/deadline.js'

const words = (n: number): Int32Array => clockWords(n)

test('progress counts per attempt, in a word of its own: the state and start words are untouched', () => {
  const w = words(3)
  const c = clockStarted({ words: w, slot: 1, epoch: Date.now() })!
  const state = Atomics.load(w, 1)
  const start = startedAt(w, 1, 0)
  for (let i = 0; i < 5; i++) c.progress()
  assert.is(progressCount(w, 1), 5)
  assert.equal([progressCount(w, 0), progressCount(w, 2)], [0, 0])
  assert.equal([Atomics.load(w, 1), startedAt(w, 1, 0)], [state, start])
  c.done()
  assert.is(readClock(w, 1, 0).state, 'ended')
})

test('states: not started -> started -> ended; not started -> closed, and a closed attempt never starts', () => {
  const w = words(2)
  const epoch = Date.now() - 1000
  assert.equal(readClock(w, 0, epoch), { state: 'not started' })
  assert.is(startedAt(w, 0, epoch), undefined)
  const c = clockStarted({ words: w, slot: 0, epoch })!
  assert.ok(c !== undefined)
  const r = readClock(w, 0, epoch)
  assert.is(r.state, 'started')
  const at = (r as { at: number }).at
  assert.ok(Math.abs(at - Date.now()) < 1000, `started at ${at}`)
  assert.is(startedAt(w, 0, epoch), at)
  assert.is(closeClock(w, 0, epoch).state, 'started', 'a started attempt is not closed')
  c.done()
  assert.is(Atomics.load(w, 0), ENDED)
  assert.equal(readClock(w, 0, epoch), { state: 'ended' })
  // A finished attempt's duration counts from its body's start: the start word outlives the state.
  assert.is(startedAt(w, 0, epoch), at, 'the start is kept once the attempt ended')
  assert.equal(closeClock(w, 1, epoch), { state: 'closed' })
  assert.is(startedAt(w, 1, epoch), undefined, 'closed before it began: no start')
  assert.is(Atomics.load(w, 1), CLOSED)
  assert.is(clockStarted({ words: w, slot: 1, epoch }), undefined, 'closed first: the body must not run')
  assert.is(Atomics.load(w, 1), CLOSED)
  assert.ok(ENDED < -256 && CLOSED < -256 && ENDED !== CLOSED && NOT_STARTED === 0, 'apart from every exit-code word')
})

test('drainClocks closes what has not started and waits for what runs, up to its bound', deadline('drain', async () => {
  const w = words(3)
  const epoch = Date.now()
  const running = clockStarted({ words: w, slot: 1, epoch })!
  const ended = clockStarted({ words: w, slot: 2, epoch })!
  ended.done()
  let drained = false
  const d = drainClocks(w, [0, 1, 2], epoch, 10_000).then(() => (drained = true))
  assert.is(Atomics.load(w, 0), CLOSED, 'closed at once')
  await new Promise((r) => setTimeout(r, 30))
  assert.not.ok(drained, 'slot 1 still runs')
  running.done()
  await d
  const t = Date.now()
  const other = words(1)
  const stuck = clockStarted({ words: other, slot: 0, epoch })!
  await drainClocks(other, [0], epoch, 50) // not ended: the bound ends the wait
  assert.ok(Date.now() - t >= 45)
  stuck.done()
}, 20_000))

test('start against close, from two threads at once: exactly one wins each attempt', deadline('race', async () => {
  // Fails when either side's compareExchange is weakened to a load and a store (tried): both
  // then win some slots, and a body runs for an attempt the coordinator counted as closed.
  const n = 20_000
  const w = words(n)
  const shared = (): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n))
  const won = shared()
  const gate = shared()
  const epoch = Date.now()
  const worker = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/clock-racer.ts', import.meta.url).href, words: w, won, gate, epoch, n },
  })
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
  const closed = new Uint8Array(n)
  for (let slot = 0; slot < n; slot++) {
    Atomics.add(gate, slot, 1)
    while (Atomics.load(gate, slot) < 2);
    if (closeClock(w, slot, epoch).state === 'closed') closed[slot] = 1
  }
  assert.is(await exited, 0)
  let both = 0
  let neither = 0
  let started = 0
  for (let slot = 0; slot < n; slot++) {
    if (won[slot] === 1 && closed[slot] === 1) both++
    if (won[slot] === 0 && closed[slot] === 0) neither++
    started += won[slot]!
  }
  assert.is(both, 0, 'a slot both started and closed')
  assert.is(neither, 0, 'a slot neither started nor closed')
  assert.ok(started > 0 && started < n, `both sides won some slots (${started} of ${n} started): the race was run`)
}, 60_000))

test.run()
