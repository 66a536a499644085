import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { waitUntil } from './_wait.js'
import { RunQueues, Stealer, type LocalQueue } from '../../src/scheduler/shared/runq.js'
import {
  computeLayout, writeHeader, BACKLOG, BACKLOG_MASK, P_BACKLOG, P_BL_HEAD, P_GLOBAL_PULLS, P_HEAD, P_RING, P_STEAL_TASKS, RING, RING_MASK, pOff,
} from '../../src/scheduler/shared/layout.js'

function shared(procs = 2): { I: Int32Array; sab: SharedArrayBuffer; l: ReturnType<typeof computeLayout> } {
  const l = computeLayout(procs, 4, 1024, 64)
  const sab = new SharedArrayBuffer(l.words * 4)
  const I = new Int32Array(sab)
  writeHeader(I, l)
  return { I, sab, l }
}

/**
 * The queues of a fresh layout: `a` holds P0 and `b` P1 (each thread's LocalQueue, here both on
 * this one), and `thief` steals into `b`. `stolen()` and `pulls()` read P1's steal count and
 * P0's global pulls, as the operations count them.
 */
function queues(procs = 2): {
  I: Int32Array; l: ReturnType<typeof computeLayout>; q: RunQueues; a: LocalQueue; b: LocalQueue; thief: Stealer; stolen: () => number; pulls: () => number
} {
  const { I, l } = shared(procs)
  const q = new RunQueues(I, l)
  const a = q.local()
  const b = q.local()
  return {
    I, l, q, a, b, thief: new Stealer(I, l, b),
    stolen: () => I[pOff(l, 1) + P_STEAL_TASKS]!, pulls: () => I[pOff(l, 0) + P_GLOBAL_PULLS]!,
  }
}

/** The loop's take without a streak bound: runnext, then the ring (`ringFirst`: the other way round). */
function get(local: LocalQueue, p: number, ringFirst = false): number {
  if (ringFirst) {
    const g = local.takeRing(p)
    return g >= 0 ? g : local.takeNext(p)
  }
  const g = local.takeNext(p)
  return g >= 0 ? g : local.takeRing(p)
}

test('local ring is FIFO; runnext is taken first', () => {
  const { q, a } = queues()
  a.put(0, 1, false)
  a.put(0, 2, false)
  a.put(0, 3, true)
  assert.is(q.localSize(0), 3)
  assert.equal([get(a, 0), get(a, 0), get(a, 0), get(a, 0)], [3, 1, 2, -1])
})

test('a second runnext put kicks the previous one to the tail', () => {
  const { a } = queues()
  a.put(0, 10, true)
  a.put(0, 11, true)
  assert.equal([get(a, 0), get(a, 0)], [11, 10])
})

test('the ring first (after a runnext streak) gives the ring a turn, and runnext is still there when the ring is empty', () => {
  const { a } = queues()
  a.put(0, 1, false)
  a.put(0, 2, true)
  assert.is(get(a, 0, true), 1)
  assert.is(get(a, 0, true), 2)
  assert.is(get(a, 0, true), -1)
})

test('a full ring moves half of itself plus the new G to the global queue, losing none', () => {
  const { q, a } = queues()
  for (let g = 0; g < RING + 1; g++) a.put(0, g, false)
  assert.is(q.globalSize(), RING / 2 + 1)
  assert.is(q.localSize(0), RING / 2)
  const seen: number[] = []
  for (let g = get(a, 0); g >= 0; g = get(a, 0)) seen.push(g)
  for (let g = a.pullGlobal(0, 1000); g >= 0; g = a.pullGlobal(0, 1000)) {
    seen.push(g)
    for (let g = get(a, 0); g >= 0; g = get(a, 0)) seen.push(g)
  }
  assert.equal(seen.sort((a, b) => a - b), Array.from({ length: RING + 1 }, (_, i) => i))
})

test('putMany fills the ring in order, then the P\'s backlog, then the global queue, losing none', () => {
  const { q, a, stolen } = queues()
  a.put(0, 9999, false)
  const n = RING + BACKLOG + 100
  a.putMany(0, Int32Array.from({ length: n }, (_, i) => i), n)
  assert.is(q.backlogSize(0), BACKLOG)
  assert.is(q.localSize(0), RING + BACKLOG)
  assert.is(q.globalSize(), n - (RING - 1) - BACKLOG)
  const seen: number[] = []
  for (let g = get(a, 0); g >= 0; g = get(a, 0)) seen.push(g)
  assert.equal(seen, [9999, ...Array.from({ length: RING - 1 }, (_, i) => i)])
  // The holder refills its empty ring from its backlog, half a ring at a time, in order.
  for (let left = q.backlogSize(0), g = a.refillFromBacklog(0); g >= 0; left = q.backlogSize(0), g = a.refillFromBacklog(0)) {
    assert.is(left - q.backlogSize(0), Math.min(RING / 2, left), 'half a ring at a time')
    assert.is(stolen(), 0, 'a refill from its own backlog is no steal')
    const batch = [g]
    for (let x = get(a, 0); x >= 0; x = get(a, 0)) batch.push(x)
    seen.push(...batch.slice(1), batch[0]!) // the last one moved is returned first
  }
  for (let g = a.pullGlobal(0, RING); g >= 0; g = a.pullGlobal(0, RING)) {
    seen.push(g)
    for (let g = get(a, 0); g >= 0; g = get(a, 0)) seen.push(g)
  }
  assert.equal(seen.slice(1), Array.from({ length: n }, (_, i) => i)) // FIFO across ring, backlog and global queue
})

test('a thief whose victim\'s ring is empty takes half its backlog, at most half a ring and what its own ring holds', () => {
  const { q, a, b, thief, stolen } = queues()
  const n = RING + 100
  a.putMany(0, Int32Array.from({ length: n }, (_, i) => i), n)
  for (let g = get(a, 0); g >= 0; g = get(a, 0));
  assert.is(thief.steal(1, 0, true), -1, 'the ring is empty')
  let g = thief.stealBacklog(1, 0)
  assert.is(stolen(), 50)
  assert.is(g, RING + 49, 'the last one moved')
  assert.is(q.localSize(1), 49)
  assert.is(q.backlogSize(0), 50)
  // Half of a large backlog is capped at half a ring.
  const m = 1000
  a.putMany(0, Int32Array.from({ length: m }, (_, i) => 5000 + i), m)
  for (let x = get(a, 0); x >= 0; x = get(a, 0));
  const before = q.backlogSize(0)
  for (let x = get(b, 1); x >= 0; x = get(b, 1));
  g = thief.stealBacklog(1, 0)
  assert.is(stolen(), 50 + RING / 2)
  assert.is(q.backlogSize(0), before - RING / 2)
  // A full ring takes nothing more.
  for (let x = get(b, 1); x >= 0; x = get(b, 1));
  for (let i = 0; i < RING; i++) b.put(1, 10_000 + i, false)
  assert.is(thief.stealBacklog(1, 0), -1)
  assert.is(q.backlogSize(0), before - RING / 2)
})

test('steal takes half of the victim ring (rounded up) and returns one of them', () => {
  const { q, a, thief, stolen } = queues()
  for (let g = 0; g < 9; g++) a.put(0, g, false)
  const g = thief.steal(1, 0, false)
  assert.is(stolen(), 5)
  assert.ok(g >= 0 && g < 5)
  assert.is(q.localSize(1), 4)
  assert.is(q.localSize(0), 4)
})

test('steal takes runnext only when asked and the ring is empty', () => {
  const { q, a, thief } = queues()
  a.put(0, 7, true)
  assert.is(thief.steal(1, 0, false), -1)
  assert.is(thief.steal(1, 0, true), 7)
  assert.is(q.localSize(0), 0)
})

test('pullGlobal moves a batch into the local ring, returns the first and counts them all', () => {
  const { q, a, pulls } = queues()
  q.globalPush([1, 2, 3, 4, 5], 5)
  assert.is(a.pullGlobal(0, 3), 1)
  assert.is(pulls(), 3)
  assert.equal([get(a, 0), get(a, 0), get(a, 0)], [2, 3, -1])
  assert.is(q.globalSize(), 2)
})

test('globalShare: Go\'s size/procs + 1, but no more than an even share of every unstarted G', () => {
  const { q, a, pulls } = queues(2)
  q.globalPush([1, 2, 3, 4], 4)
  assert.is(q.globalShare(0), 2) // Go would take 3 of 4, and a started G cannot move
  a.pullGlobal(0, 2)
  assert.is(pulls(), 2) // P0 runs one and queues the other
  assert.is(q.globalShare(1), 2) // so P1 takes both that are left
  assert.is(q.globalShare(0), 1) // P0's own ring does not count: its share is at least one
  for (let g = 10; g < 16; g++) a.put(0, g, false)
  assert.is(q.globalShare(1), 2) // Go's 2 / 2 + 1, under the even share (2 + 7) / 2
  q.globalPush(new Array<number>(98).fill(9), 98)
  assert.is(q.globalShare(1), 51) // 100 / 2 + 1: Go's, under the even share (100 + 7) / 2
  q.globalPush(new Array<number>(1000).fill(9), 1000)
  assert.is(q.globalShare(1), RING / 2)
})

/**
 * Runs `thief` with `between` slipped in right after it loads ring word `word` with Atomics.load:
 * the last slot of its copy, so after the copy and before the claim. Single-threaded, so the
 * interleaving is certain, not a matter of how the OS schedules two threads. Returns whether
 * the load happened (if the copy stops reading slots with Atomics.load, the test must say so
 * rather than pass without the interleaving).
 */
function interleaved<T>(I: Int32Array, word: number, between: () => void, thief: () => T): { got: T; fired: boolean } {
  const load = Atomics.load
  let armed = true
  const hooked = (a: Int32Array, i: number): number => {
    const v = load(a, i)
    if (armed && a === I && i === word) {
      armed = false
      between()
    }
    return v
  }
  ;(Atomics as { load: unknown }).load = hooked
  try {
    return { got: thief(), fired: !armed }
  } finally {
    ;(Atomics as { load: unknown }).load = load
  }
}

/** Every G left in Ps 0 and 1, held by `a` and `b` (ring and runnext, then backlog refills). */
function drain(a: LocalQueue, b: LocalQueue): number[] {
  const out: number[] = []
  for (const [p, local] of [[0, a], [1, b]] as const) {
    for (;;) {
      let g = get(local, p)
      if (g < 0) g = local.refillFromBacklog(p)
      if (g < 0) break
      out.push(g)
    }
  }
  return out
}

const counts = (gids: number[]): Map<number, number> => {
  const m = new Map<number, number>()
  for (const g of gids) m.set(g, (m.get(g) ?? 0) + 1)
  return m
}

test('steal: the owner takes a G between the thief\'s copy and its claim; the claim fails and no G is consumed twice', () => {
  const { I, l, a, b, thief } = queues()
  for (const g of [100, 101, 102, 103]) a.put(0, g, false)
  const h = Atomics.load(I, pOff(l, 0) + P_HEAD)
  // The thief takes half of 4: it copies slots h and h+1, then CASes head from h to h+2.
  const last = pOff(l, 0) + P_RING + ((h + 1) & RING_MASK)
  const consumed: number[] = []
  const { got, fired } = interleaved(I, last, () => consumed.push(get(a, 0)), () => thief.steal(1, 0, false))
  assert.ok(fired, 'the thief copied the victim\'s slots with Atomics.load: the interleaving happened')
  assert.equal(consumed, [100], 'the owner took the head G while the thief held its copy')
  assert.ok(got >= 0, 'the thief retried and stole')
  consumed.push(got, ...drain(a, b))
  const twice = [...counts(consumed)].filter(([, n]) => n > 1).map(([g]) => g)
  assert.equal(twice, [], `consumed twice: ${twice.join(', ')}`)
  assert.equal([...consumed].sort((a, b) => a - b), [100, 101, 102, 103])
})

test('backlog steal: the holder refills from its backlog between the thief\'s copy and its claim; no G is consumed twice', () => {
  const { I, l, q, a, b, thief } = queues()
  const n = RING + 4
  a.putMany(0, Int32Array.from({ length: n }, (_, i) => i), n) // a full ring, 4 in the backlog
  const consumed: number[] = []
  for (let g = get(a, 0); g >= 0; g = get(a, 0)) consumed.push(g)
  assert.is(q.backlogSize(0), 4)
  const h = Atomics.load(I, pOff(l, 0) + P_BL_HEAD)
  // The thief takes half of 4 from the backlog: it copies slots h and h+1, then CASes its head.
  const last = pOff(l, 0) + P_BACKLOG + ((h + 1) & BACKLOG_MASK)
  const { got, fired } = interleaved(I, last, () => consumed.push(a.refillFromBacklog(0)), () => thief.stealBacklog(1, 0))
  assert.ok(fired, 'the thief copied the backlog\'s slots with Atomics.load: the interleaving happened')
  assert.is(got, -1, 'the holder moved the whole backlog meanwhile: nothing is left to steal')
  consumed.push(...drain(a, b))
  const twice = [...counts(consumed)].filter(([, k]) => k > 1).map(([g]) => g)
  assert.equal(twice, [], `consumed twice: ${twice.join(', ')}`)
  assert.equal([...consumed].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i))
})

test('owner and a thief on another thread: every G is consumed exactly once', deadline('runq-stress', async () => {
  const n = 200_000
  const l = computeLayout(2, 4, n, 64)
  const sab = new SharedArrayBuffer(l.words * 4)
  const I = new Int32Array(sab)
  writeHeader(I, l)
  const a = new RunQueues(I, l).local()
  const seen = new Int32Array(new SharedArrayBuffer(4 * n))
  const ctl = new Int32Array(new SharedArrayBuffer(12)) // [done, thief running, steals]
  const thief = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { sab, seen, ctl, entry: new URL('./fixtures/thief.ts', import.meta.url).href },
  })
  const stolen = new Promise<number>((resolve, reject) => {
    thief.once('message', resolve)
    thief.once('error', reject)
  })
  try {
    await waitUntil(ctl, 1, (v) => v === 1)
    // The owner mixes runnext puts, ring puts (overflowing to the global queue), batches (goAll:
    // ring, then backlog), its own gets and refills from its backlog, while the thief steals
    // from the ring and the backlog, drains its own ring and the global queue on the other thread.
    const take = (ringFirst: boolean): number => {
      const got = get(a, 0, ringFirst)
      return got >= 0 ? got : a.refillFromBacklog(0)
    }
    for (let g = 0; g < n; g++) {
      if (g % 5000 === 0 && g + 700 < n) {
        a.putMany(0, Int32Array.from({ length: 700 }, (_, i) => g + i), 700)
        g += 699
        continue
      }
      a.put(0, g, g % 3 === 0)
      if (g % 4 === 0 && g < n - 1000) {
        const got = take(g % 8 === 0)
        if (got >= 0) Atomics.add(seen, got, 1)
      }
      if (g % 20_000 === 0) await new Promise((r) => setImmediate(r))
    }
    // The owner stopped taking from its ring 1000 puts ago, so the ring is not empty unless the
    // thief stole from it: wait for a steal (so the test does not depend on how the OS schedules
    // the two threads), then drain.
    await waitUntil(ctl, 2, (v) => v > 0)
    for (let got = take(false); got >= 0; got = take(false)) Atomics.add(seen, got, 1)
    Atomics.store(ctl, 0, 1)
    const s = await stolen
    let bad = -1
    for (let g = 0; g < n; g++) if (seen[g] !== 1) bad = g
    assert.is(bad, -1, bad >= 0 ? `gid ${bad} consumed ${seen[bad]} times` : '')
    assert.ok(s > 0, 'the thief stole something')
  } finally {
    await thief.terminate()
  }
}, 30_000))

test.run()
