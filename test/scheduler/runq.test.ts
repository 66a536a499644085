import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RunQueues } from '../../src/scheduler/runq.js'
import { computeLayout, writeHeader, RING } from '../../src/scheduler/layout.js'

function queues(procs = 2): RunQueues {
  const l = computeLayout(procs, 4, 1024, 64)
  const I = new Int32Array(new SharedArrayBuffer(l.words * 4))
  writeHeader(I, l)
  return new RunQueues(I, l)
}

test('local ring is FIFO; runnext is taken first', () => {
  const q = queues()
  q.put(0, 1, false)
  q.put(0, 2, false)
  q.put(0, 3, true)
  assert.is(q.localSize(0), 3)
  assert.equal([q.get(0, false), q.get(0, false), q.get(0, false), q.get(0, false)], [3, 1, 2, -1])
})

test('a second runnext put kicks the previous one to the tail', () => {
  const q = queues()
  q.put(0, 10, true)
  q.put(0, 11, true)
  assert.equal([q.get(0, false), q.get(0, false)], [11, 10])
})

test('skipNext gives the ring a turn, but still takes runnext when the ring is empty', () => {
  const q = queues()
  q.put(0, 1, false)
  q.put(0, 2, true)
  assert.is(q.get(0, true), 1)
  assert.is(q.get(0, true), 2)
  assert.is(q.get(0, true), -1)
})

test('a full ring moves half of itself plus the new G to the global queue, losing none', () => {
  const q = queues()
  for (let g = 0; g < RING + 1; g++) q.put(0, g, false)
  assert.is(q.globalSize(), RING / 2 + 1)
  assert.is(q.localSize(0), RING / 2)
  const seen: number[] = []
  for (let g = q.get(0, false); g >= 0; g = q.get(0, false)) seen.push(g)
  for (let r = q.globalGet(0, 1000); r.g >= 0; r = q.globalGet(0, 1000)) {
    seen.push(r.g)
    for (let g = q.get(0, false); g >= 0; g = q.get(0, false)) seen.push(g)
  }
  assert.equal(seen.sort((a, b) => a - b), Array.from({ length: RING + 1 }, (_, i) => i))
})

test('steal takes half of the victim ring (rounded up) and returns one of them', () => {
  const q = queues()
  for (let g = 0; g < 9; g++) q.put(0, g, false)
  const g = q.steal(1, 0, false)
  assert.is(q.stolen, 5)
  assert.ok(g >= 0 && g < 5)
  assert.is(q.localSize(1), 4)
  assert.is(q.localSize(0), 4)
})

test('steal takes runnext only when asked and the ring is empty', () => {
  const q = queues()
  q.put(0, 7, true)
  assert.is(q.steal(1, 0, false), -1)
  assert.is(q.steal(1, 0, true), 7)
  assert.is(q.localSize(0), 0)
})

test('globalGet moves a batch into the local ring and returns the first', () => {
  const q = queues()
  q.globalPush([1, 2, 3, 4, 5], 5)
  const r = q.globalGet(0, 3)
  assert.equal([r.g, r.n], [1, 3])
  assert.equal([q.get(0, false), q.get(0, false), q.get(0, false)], [2, 3, -1])
  assert.is(q.globalSize(), 2)
})

test.run()
