// SharedChan across threads: many producers and consumers on every M and the main thread, close
// while waiters on other threads sleep, cancellation racing delivery, and the lock under
// contention. Each of these fails when one of the protocol's atomics is weakened (see
// docs/design/sharedchan.md, "Checked by weakening"). No timing assertions.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { Runtime, SharedChan } from '../../src/scheduler/index.js'
import { lock, unlock } from '../../src/scheduler/shared/sharedchan-wait.js'
import {
  consume, consumeAborting, echo, mix, produce, produceAborting, recvOne, replyServer, sendOne, type Tally,
} from './fixtures/schan-tasks.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const PROCS = 4

function total(ts: Tally[]): { count: number; sum: number; xor: number } {
  return ts.reduce((a, t) => ({ count: a.count + t.count, sum: a.sum + t.sum, xor: (a.xor ^ t.xor) >>> 0 }), { count: 0, sum: 0, xor: 0 })
}

function expected(n: number): { count: number; sum: number; xor: number } {
  let xor = 0
  for (let v = 0; v < n; v++) xor ^= mix(v)
  return { count: n, sum: (n * (n - 1)) / 2, xor: xor >>> 0 }
}

/** Polls (one event-loop turn at a time) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await turn()
}

test('1e6 values, producers and consumers on every M and main: none lost or duplicated', deadline('million', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const N = 1_000_000
    const P = 6
    const ch = new SharedChan<number>(1024)
    const per = N / (P + 1) | 0
    const consumers = Array.from({ length: PROCS + 1 }, () => rt.go(consume, ch.buffer))
    const producers = Array.from({ length: P }, (_, i) => rt.go(produce, ch.buffer, i * per, per))
    // Main produces the rest, and consumes alongside.
    const mine: Tally = { count: 0, sum: 0, xor: 0, thread: 0 }
    const mainProduce = (async () => {
      for (let v = P * per; v < N; v++) await ch.send(v)
    })()
    const mainConsume = (async () => {
      for await (const v of ch) {
        mine.count++
        mine.sum += v
        mine.xor ^= mix(v)
      }
    })()
    await Promise.all([...producers, mainProduce])
    ch.close()
    const got = total([...(await Promise.all(consumers)), (await mainConsume, mine)])
    assert.equal(got, expected(N))
    const threads = new Set((await Promise.all(consumers)).filter((t) => t.count > 0).map((t) => t.thread))
    assert.ok(threads.size >= 2, `consumers ran on ${threads.size} threads`)
    assert.equal(ch.inspect().freeWaiters, 256)
  } finally {
    await rt.close()
  }
}, 180_000))

test('buffered fast path: 8 producers and 8 consumers on 4 Ms contend on both side locks', deadline('fastpath', async () => {
  // Many ops on each side at once, on Ms that the kernel preempts at any point: two senders
  // (or receivers) that both got into the fast path would claim the same slot, and a fast op that
  // ran beside a slow one would leave a value behind a parked receiver (the gate). Capacity 64
  // makes the ring run full and empty often, so ops cross between the fast and the slow path.
  const rt = await Runtime.start({ procs: PROCS })
  try {
    for (const cap of [64, 1024]) {
      const N = 400_000
      const ch = new SharedChan<number>(cap)
      const consumers = Array.from({ length: 8 }, () => rt.go(consume, ch.buffer))
      const producers = Array.from({ length: 8 }, (_, i) => rt.go(produce, ch.buffer, i * (N / 8), N / 8))
      await Promise.all(producers)
      ch.close()
      assert.equal(total(await Promise.all(consumers)), expected(N), `cap ${cap}`)
      assert.equal(ch.inspect().freeWaiters, 256)
      assert.is(ch.len, 0)
    }
  } finally {
    await rt.close()
  }
}, 180_000))

test('unbuffered: 1e5 hand-offs between Ms, none lost or duplicated', deadline('unbuffered', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const N = 100_000
    const ch = new SharedChan<number>()
    const consumers = Array.from({ length: 3 }, () => rt.go(consume, ch.buffer))
    const producers = Array.from({ length: 4 }, (_, i) => rt.go(produce, ch.buffer, i * (N / 4), N / 4))
    await Promise.all(producers)
    ch.close()
    assert.equal(total(await Promise.all(consumers)), expected(N))
  } finally {
    await rt.close()
  }
}, 120_000))

test('close while waiters on other threads sleep: receivers ok=false, senders panic', deadline('close', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    const r = new SharedChan<number>()
    const s = new SharedChan<number>()
    const recvs = Array.from({ length: 8 }, () => rt.go(recvOne, r.buffer))
    const sends = Array.from({ length: 8 }, (_, i) => rt.go(sendOne, s.buffer, i))
    await until(() => r.inspect().sleeping === 8 && s.inspect().sleeping === 8)
    r.close()
    s.close()
    assert.equal(await Promise.all(recvs), new Array(8).fill('closed'))
    assert.equal(await Promise.all(sends), new Array(8).fill('ERR_SEND_ON_CLOSED'))
    assert.equal(r.inspect().freeWaiters, 256)
    assert.equal(s.inspect().freeWaiters, 256)
  } finally {
    await rt.close()
  }
}, 60_000))

test('cancellation racing delivery: every value sent is received exactly once', deadline('cancel', async () => {
  const rt = await Runtime.start({ procs: PROCS })
  try {
    for (const cap of [0, 4]) {
      const N = 40_000
      const ch = new SharedChan<number>(cap)
      const consumers = Array.from({ length: 4 }, () => rt.go(consumeAborting, ch.buffer, 2))
      const producers = Array.from({ length: 4 }, (_, i) => rt.go(produceAborting, ch.buffer, i * (N / 4), N / 4, 3))
      const sent = total(await Promise.all(producers))
      ch.close()
      const got = total(await Promise.all(consumers))
      assert.equal(got, sent, `cap ${cap}`)
      assert.ok(sent.count > 0 && sent.count < N, `some sends were cancelled (cap ${cap}): ${sent.count}`)
      await until(() => ch.inspect().freeWaiters === 256)
    }
  } finally {
    await rt.close()
  }
}, 180_000))

test('ping-pong between main and an M, and chan chan across Ms', deadline('pingpong', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const ping = new SharedChan<unknown>()
    const pong = new SharedChan<unknown>()
    const n = rt.go(echo, ping.buffer, pong.buffer)
    for (let i = 0; i < 2000; i++) {
      await ping.send(i)
      assert.is((await pong.recv()).value, i)
    }
    ping.close()
    assert.is(await n, 2000)

    const reqs = new SharedChan<SharedChan<number>>()
    const back = new SharedChan<SharedChan<number>>()
    const server = rt.go(replyServer, reqs.buffer, back.buffer)
    for (let i = 0; i < 20; i++) {
      const reply = new SharedChan<number>(1)
      await reqs.send(reply)
      assert.equal(await reply.recv(), { value: 42, ok: true })
      assert.is(reply.inspect().inFlight, 0)
    }
    reqs.close()
    const theirs = (await back.recv()).value!
    assert.equal(await theirs.recv(), { value: 7, ok: true })
    assert.is(await server, 20)
  } finally {
    await rt.close()
  }
}, 60_000))

test('the lock excludes: plain increments under it from 3 Workers and main lose nothing', deadline('lock', async () => {
  const sab = new SharedArrayBuffer(64)
  const I = new Int32Array(sab)
  const N = 300_000
  const ws = Array.from({ length: 3 }, () => new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/schan-worker.ts', import.meta.url).href, mode: 'lock', sab, n: N, word: 8 },
  }))
  try {
    const msg = (w: Worker): Promise<unknown> => new Promise((r) => w.once('message', r))
    await Promise.all(ws.map(msg)) // all booted
    const done = ws.map(msg)
    Atomics.store(I, 0, 1)
    Atomics.notify(I, 0)
    // Main takes part too (its lock only spins), in slices so the workers' messages get through.
    for (let k = 0; k < 30; k++) {
      for (let i = 0; i < N / 30; i++) {
        lock(I)
        I[8] = I[8]! + 1
        unlock(I)
      }
      await turn()
    }
    await Promise.all(done)
    assert.is(I[8], 4 * N)
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}, 120_000))

test.run()
