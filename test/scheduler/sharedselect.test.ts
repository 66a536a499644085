// select over SharedChan (src/scheduler/shared/sharedchan.ts, select protocol: src/chan/protocol.ts):
// the same guarantees as over Chan, across threads and mixed with local channels and timers.
// Each cross-thread test counts values with an order-free checksum, so a value lost or taken
// twice fails it. No timing assertions.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { Runtime, SharedChan } from '../../src/scheduler/index.js'
import { Chan, ChanClosedError, after, recv, select, send, trySelect } from '../../src/index.js'
import { mix, type Tally } from './fixtures/schan-tasks.js'
import { jobsOrTimeout, roundTrip, selectAborting, selectConsume, selectCount, selectOnce, selectProduce } from './fixtures/sselect-tasks.js'
import { sleeping } from '../../src/scheduler/shared/sharedchan-wait.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

function total(ts: Tally[]): { count: number; sum: number; xor: number } {
  return ts.reduce((a, t) => ({ count: a.count + t.count, sum: a.sum + t.sum, xor: (a.xor ^ t.xor) >>> 0 }), { count: 0, sum: 0, xor: 0 })
}

function expected(from: number, n: number): { count: number; sum: number; xor: number } {
  let xor = 0
  let sum = 0
  for (let v = from; v < from + n; v++) {
    xor ^= mix(v)
    sum += v
  }
  return { count: n, sum, xor: xor >>> 0 }
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await turn()
}

test('one thread: shared, local and timer cases in one select', deadline('mixed', async () => {
  const s = new SharedChan<number>(1)
  const l = new Chan<number>()
  // Nothing ready: trySelect says so and changes nothing.
  assert.is(trySelect([recv(s), recv(l)]), undefined)
  // Ready shared case.
  s.trySend(7)
  assert.equal(await select([recv(s), recv(l), recv(after(10_000))].slice(0, 2)), { index: 0, value: 7, ok: true })
  // Blocked on both; a send on the shared channel (same thread) wakes it, the local waiter goes.
  const p = select([recv(l), recv(s)])
  await turn()
  assert.is(s.inspect().recvWaiters, 1)
  assert.ok(s.trySend(8))
  assert.equal(await p, { index: 1, value: 8, ok: true })
  assert.is(s.inspect().recvWaiters, 0)
  // Blocked; the local channel wins; the shared waiter is withdrawn.
  const q = select([recv(s), recv(l)])
  await turn()
  await l.send(9)
  assert.equal(await q, { index: 1, value: 9, ok: true })
  assert.equal(s.inspect().recvWaiters, 0)
  assert.equal(s.inspect().freeWaiters, 256)
  // A send case: into the buffer, then blocked until a receive makes room.
  assert.equal(await select([send(s, 1)]), { index: 0, value: undefined, ok: true })
  const r = select([send(s, 2), recv(l)])
  await turn()
  assert.equal(s.tryRecv(), { value: 1, ok: true }) // refills the slot from the select's waiter
  assert.equal(await r, { index: 0, value: undefined, ok: true })
  assert.equal(s.tryRecv(), { value: 2, ok: true })
  // The timer case wins when nothing else comes.
  assert.is((await select([recv(s), recv(after(1))])).index, 1)
  // Closed: a receive case reports ok=false, a send case rejects with ChanClosedError.
  const t = select([recv(s), recv(l)])
  await turn()
  s.close()
  assert.equal(await t, { index: 0, value: undefined, ok: false })
  await select([send(s, 3)]).then(() => assert.unreachable(), (e: unknown) => assert.instance(e, ChanClosedError))
  assert.equal(s.inspect().freeWaiters, 256)
  await turn()
  assert.is(sleeping(), 0)
}))

test('a select never pairs with itself: send and receive on one shared channel', deadline('self', async () => {
  const s = new SharedChan<number>()
  const p = select([send(s, 1), recv(s)])
  await turn()
  assert.equal(s.inspect().recvWaiters, 1)
  assert.equal(s.inspect().sendWaiters, 1)
  assert.equal(s.tryRecv(), { value: 1, ok: true })
  assert.equal(await p, { index: 0, value: undefined, ok: true })
  assert.equal(s.inspect().recvWaiters + s.inspect().sendWaiters, 0)
  // Two blocked selects on opposite sides of one channel meet.
  const a = select([recv(s)])
  const b = select([send(s, 5), recv(new SharedChan<number>())])
  assert.equal(await a, { index: 0, value: 5, ok: true })
  assert.equal(await b, { index: 0, value: undefined, ok: true })
}))

test('a SharedChan as the value of a select case (chan chan T): in flight exactly while queued', deadline('chanchan', async () => {
  const outer = new SharedChan<SharedChan<number>>()
  const inner = new SharedChan<number>(1)
  const l = new Chan<number>()
  // A send case offering a channel that loses to a local case: the offer is taken back.
  const p = select([send(outer, inner), recv(l)])
  await turn()
  assert.is(inner.inspect().inFlight, 1)
  await l.send(1)
  assert.is((await p).index, 1)
  assert.is(inner.inspect().inFlight, 0)
  // A send case that wins: the receiver gets this thread's handle on the same channel.
  const q = select([send(outer, inner), recv(l)])
  await turn()
  const got = await outer.recv()
  assert.is(got.value, inner)
  assert.equal(await q, { index: 0, value: undefined, ok: true })
  assert.is(inner.inspect().inFlight, 0)
  // A receive case that gets a channel.
  const r = select([recv(outer), recv(l)])
  await turn()
  await outer.send(inner)
  assert.equal(await r, { index: 0, value: inner, ok: true })
  assert.is(inner.inspect().inFlight, 0)
  assert.equal(outer.inspect().freeWaiters, 256)
}))

test('racing selects across Ms over shared and local channels: each value once', deadline('racing', async () => {
  const rt = await Runtime.start({ procs: 4 })
  try {
    const a = new SharedChan<number>()
    const b = new SharedChan<number>()
    const N = 8000
    const L = 2000
    const producers = [0, 1, 2].map((i) => rt.go(selectProduce, a, b, i * N, N))
    const consumers = [0, 1, 2].map((i) => rt.go(selectConsume, a, b, 1e6 + i * L, L))
    // Main receives too, by select over both shared channels and a local timer-free Chan.
    const mine: Tally = { count: 0, sum: 0, xor: 0, thread: 0 }
    const mainConsume = (async () => {
      let sa: SharedChan<number> | null = a
      let sb: SharedChan<number> | null = b
      while (sa !== null || sb !== null) {
        const r = await select([recv(sa), recv(sb)])
        if (!r.ok) {
          if (r.index === 0) sa = null
          else sb = null
          continue
        }
        mine.count++
        mine.sum += r.value
        mine.xor ^= mix(r.value)
      }
    })()
    await Promise.all(producers)
    a.close()
    b.close()
    const got = total([...(await Promise.all(consumers)), (await mainConsume, mine)])
    const sent = expected(0, 3 * N)
    const local = [0, 1, 2].map((i) => expected(1e6 + i * L, L))
    const want = total([sent, ...local].map((e) => ({ ...e, thread: 0 })))
    assert.equal(got, want)
    assert.equal(a.inspect().freeWaiters, 256)
    assert.equal(b.inspect().freeWaiters, 256)
  } finally {
    await rt.close()
  }
}, 120_000))

test('uniform choice among ready shared cases, from two Ms at once', deadline('fair', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const n = 4000
    const chans = Array.from({ length: 4 }, () => new SharedChan<number>(2 * n, { slotBytes: 8 }))
    for (const c of chans) for (let i = 0; i < 2 * n; i++) c.trySend(i)
    const [a, b, c, d] = chans as [SharedChan<number>, SharedChan<number>, SharedChan<number>, SharedChan<number>]
    const runs = await Promise.all([rt.go(selectCount, a, b, c, d, n), rt.go(selectCount, a, b, c, d, n)])
    for (const counts of runs) {
      assert.is(counts.reduce((x, y) => x + y, 0), n)
      // Each case expects 25%; 15% is beyond 10 sigma (sigma ~0.7% at n = 4000).
      for (const k of counts) assert.ok(k >= 0.15 * n, `counts ${counts.join(', ')}`)
    }
  } finally {
    await rt.close()
  }
}, 60_000))

test('close wakes selects parked on other threads: ok=false, or ChanClosedError for a send', deadline('close', async () => {
  const rt = await Runtime.start({ procs: 3 })
  try {
    const K = 6
    const a = new SharedChan<number>()
    const b = new SharedChan<number>()
    const first = Array.from({ length: K }, () => rt.go(selectOnce, a, b))
    await until(() => a.inspect().recvWaiters === K && b.inspect().sendWaiters === K)
    a.close()
    assert.equal(await Promise.all(first), Array(K).fill('0:false'))
    assert.equal(b.inspect().sendWaiters, 0) // each select withdrew its other case
    const c = new SharedChan<number>()
    const second = Array.from({ length: K }, () => rt.go(selectOnce, c, b))
    await until(() => c.inspect().recvWaiters === K && b.inspect().sendWaiters === K)
    b.close()
    assert.equal(await Promise.all(second), Array(K).fill('ERR_SEND_ON_CLOSED'))
    for (const ch of [a, b, c]) assert.equal(ch.inspect().freeWaiters, 256)
  } finally {
    await rt.close()
  }
}, 30_000))

test('an abort racing a delivery: the value goes to the select or stays with its sender', deadline('abort', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    for (const cap of [0, 4]) {
      const a = new SharedChan<number>(cap)
      const N = 10_000
      const takers = [rt.go(selectAborting, a, 3), rt.go(selectAborting, a, 2)]
      for (let v = 0; v < N; v++) await a.send(v)
      a.close()
      assert.equal(total(await Promise.all(takers)), expected(0, N))
      assert.equal(a.inspect().freeWaiters, 256)
    }
  } finally {
    await rt.close()
  }
}, 60_000))

test('select([recv(jobs), recv(after(ms))]) in a task', deadline('timeout', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const jobs = new SharedChan<number>()
    const r = rt.go(jobsOrTimeout, jobs, 50)
    for (let v = 1; v <= 10; v++) await jobs.send(v)
    assert.is(await r, '55 timeout')
    const r2 = rt.go(jobsOrTimeout, jobs, 60_000)
    await jobs.send(5)
    jobs.close()
    assert.is(await r2, '5 closed')
  } finally {
    await rt.close()
  }
}, 30_000))

test('a SharedChan crosses as a task argument and result: the same memory, not a copy', deadline('handle', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const ch = new SharedChan<number>(1)
    const back = await rt.go(roundTrip, ch, 5)
    assert.equal(await ch.recv(), { value: 5, ok: true })
    assert.instance(back, SharedChan)
    assert.equal(back.tryRecv(), { value: 6, ok: true })
  } finally {
    await rt.close()
  }
}, 30_000))

test('a plain Worker sends to a select whose done word is in a channel it never saw', deadline('worker', async () => {
  const a = new SharedChan<number>() // the select's first case: its done word lives here
  const b = new SharedChan<number>()
  const n = 200
  const w = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/sselect-worker.ts', import.meta.url).href, sab: b.buffer, n },
  })
  const exited = new Promise((r) => w.once('exit', r))
  try {
    let sum = 0
    for (;;) {
      const r = await select([recv(a), recv(b)])
      if (!r.ok) break
      assert.is(r.index, 1)
      sum += r.value
    }
    assert.is(sum, (n * (n - 1)) / 2)
    assert.is(await exited, 0)
  } finally {
    await w.terminate()
  }
}, 30_000))

test.run()
