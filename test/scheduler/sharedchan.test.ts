// SharedChan's semantics (src/scheduler/shared/sharedchan*.ts): the same as Chan's on one thread,
// then across a plain Worker with no Runtime.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { SharedChan, SharedChanValueError } from '../../src/scheduler/index.js'
import { ChanClosedError } from '../../src/index.js'
import { sleeping } from '../../src/scheduler/shared/sharedchan-wait.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

test('buffered FIFO, len/cap, trySend/tryRecv, comma-ok', deadline('fifo', async () => {
  const c = new SharedChan<number>(3)
  assert.is(c.cap, 3)
  await c.send(1)
  await c.send(2)
  assert.ok(c.trySend(3))
  assert.not.ok(c.trySend(4))
  assert.is(c.len, 3)
  assert.equal(await c.recv(), { value: 1, ok: true })
  assert.equal(c.tryRecv(), { value: 2, ok: true })
  assert.equal(c.tryRecv(), { value: 3, ok: true })
  assert.is(c.tryRecv(), undefined)
  assert.is(c.len, 0)
  c.close()
  assert.equal(await c.recv(), { value: undefined, ok: false })
}))

test('unbuffered rendezvous hands off directly; a sent undefined has ok true', deadline('rendezvous', async () => {
  const c = new SharedChan<unknown>()
  assert.not.ok(c.trySend(1)) // nobody receiving
  const r = c.recv()
  assert.ok(c.trySend(undefined))
  assert.equal(await r, { value: undefined, ok: true })
  const s = c.send('x')
  assert.equal(c.tryRecv(), { value: 'x', ok: true })
  await s
}))

test('a receive from a full buffer refills it from the first parked sender, in order', deadline('refill', async () => {
  const c = new SharedChan<number>(2)
  await c.send(1)
  await c.send(2)
  const s3 = c.send(3)
  const s4 = c.send(4)
  assert.equal(c.inspect().sendWaiters, 2)
  const got: number[] = []
  for (let i = 0; i < 4; i++) got.push((await c.recv()).value!)
  await Promise.all([s3, s4])
  assert.equal(got, [1, 2, 3, 4])
  assert.equal(c.inspect().freeWaiters, 256) // every record went back
}))

test('values cross by the codec: numbers, strings, bytes, clones, null/bools', deadline('codec', async () => {
  const c = new SharedChan<unknown>(16, { slotBytes: 256 })
  const vals: unknown[] = [0, -0.5, 2 ** 40, NaN, 'héllo ☃ 𝄞', '', new Uint8Array([1, 2, 255]), { a: [1, { b: 'c' }], d: new Map([[1, 2]]) }, null, true, false, undefined, 10n]
  for (const v of vals) assert.ok(c.trySend(v))
  for (const v of vals) assert.equal(c.tryRecv()!.value, v)
  const big = 'x'.repeat(128) // two bytes per UTF-16 unit: exactly one slot
  await c.send(big)
  assert.is((await c.recv()).value, big)
}))

test('a value too big for a slot is refused with a clear error, nothing queued', deadline('toobig', async () => {
  const c = new SharedChan<unknown>(1, { slotBytes: 16 })
  try {
    await c.send('seventeen chars!!')
    assert.unreachable()
  } catch (e) {
    assert.instance(e, SharedChanValueError)
    assert.is((e as SharedChanValueError).code, 'ERR_VALUE_TOO_BIG')
    assert.is((e as SharedChanValueError).size, 34)
    assert.match((e as Error).message, 'does not fit a slot of 16 bytes')
  }
  assert.throws(() => c.trySend(new Uint8Array(17)), (e: unknown) => e instanceof SharedChanValueError)
  assert.throws(() => c.trySend({ f: () => 1 } as unknown), (e: unknown) => (e as SharedChanValueError).code === 'ERR_VALUE_UNCLONEABLE')
  assert.equal(c.inspect().len, 0)
  assert.ok(c.trySend(new Uint8Array(16)))
}))

test('close wakes every waiter: receivers ok=false, senders ChanClosedError; Go\'s texts', deadline('close', async () => {
  const c = new SharedChan<number>()
  const rs = [c.recv(), c.recv()]
  const d = new SharedChan<number>()
  const ss = [d.send(1), d.send(2)]
  c.close()
  d.close()
  for (const r of rs) assert.equal(await r, { value: undefined, ok: false })
  for (const s of ss) {
    try {
      await s
      assert.unreachable()
    } catch (e) {
      assert.instance(e, ChanClosedError)
      assert.is((e as ChanClosedError).message, 'send on closed channel')
    }
  }
  assert.throws(() => c.close(), (e: unknown) => (e as ChanClosedError).code === 'ERR_CLOSE_OF_CLOSED' && (e as Error).message === 'close of closed channel')
  assert.throws(() => c.trySend(1), (e: unknown) => (e as ChanClosedError).code === 'ERR_SEND_ON_CLOSED')
  const b = new SharedChan<number>(2)
  b.trySend(5)
  b.close()
  assert.equal(b.tryRecv(), { value: 5, ok: true }) // buffered values stay receivable
  assert.equal(b.tryRecv(), { value: undefined, ok: false })
  assert.is(sleeping(), 0)
}))

test('AbortSignal: an aborted op rejects with the reason and leaves no trace', deadline('abort', async () => {
  const c = new SharedChan<number>()
  const pre = AbortSignal.abort(new Error('already'))
  try {
    await c.recv({ signal: pre })
    assert.unreachable()
  } catch (e) {
    assert.is((e as Error).message, 'already')
  }
  const ac = new AbortController()
  const r = c.recv({ signal: ac.signal })
  await turn() // past the spin: it sleeps
  ac.abort(new Error('stop'))
  try {
    await r
    assert.unreachable()
  } catch (e) {
    assert.is((e as Error).message, 'stop')
  }
  assert.equal(c.inspect().recvWaiters, 0)
  assert.not.ok(c.trySend(1)) // the cancelled receiver is gone
  const ac2 = new AbortController()
  const s = c.send(9, { signal: ac2.signal })
  await turn()
  ac2.abort()
  await s.then(() => assert.unreachable(), () => {})
  assert.is(c.tryRecv(), undefined) // a cancelled send never delivers later
  await turn() // the cancelled ops' own waits end in a task of their own
  assert.is(sleeping(), 0)
  await assert.not.throws(async () => {
    await c.recv({ signal: 'nope' as unknown as AbortSignal }).catch((e: unknown) => assert.instance(e, TypeError))
  })
}))

test('for await ends at close, after the buffer drains', deadline('range', async () => {
  const c = new SharedChan<number>(4)
  for (let i = 0; i < 4; i++) c.trySend(i)
  c.close()
  const got: number[] = []
  for await (const v of c) got.push(v)
  assert.equal(got, [0, 1, 2, 3])
}))

test('out of waiter records, ops wait for one and still complete in full', deadline('records', async () => {
  const c = new SharedChan<number>(0, { waiters: 2 })
  const rs = Array.from({ length: 10 }, () => c.recv())
  for (let i = 0; i < 10; i++) await c.send(i)
  const got = (await Promise.all(rs)).map((r) => r.value!).sort((a, b) => a - b)
  assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.equal(c.inspect().freeWaiters, 2)
}))

test('bad arguments: RangeError with Go\'s makechan text, TypeError for a foreign buffer', () => {
  assert.throws(() => new SharedChan(-1), /makechan: size out of range: -1/)
  assert.throws(() => new SharedChan(1.5), /makechan: size out of range/)
  assert.throws(() => new SharedChan(2 ** 30), /makechan: size out of range/)
  assert.throws(() => new SharedChan(0, { slotBytes: -8 }), RangeError)
  assert.throws(() => SharedChan.from(new SharedArrayBuffer(256)), TypeError)
  const c = new SharedChan(1)
  assert.is(SharedChan.from(c.buffer), c) // one handle per channel per thread
})

test('a SharedChan crosses a SharedChan (chan chan T); only as the whole value', deadline('chanchan', async () => {
  const outer = new SharedChan<SharedChan<number>>(1)
  const inner = new SharedChan<number>(1)
  await outer.send(inner)
  assert.is(inner.inspect().inFlight, 1)
  assert.is((await outer.recv()).value, inner)
  assert.is(inner.inspect().inFlight, 0)
  const any = new SharedChan<unknown>(1, { slotBytes: 1024 })
  assert.throws(() => any.trySend({ reply: inner }), (e: unknown) => (e as SharedChanValueError).code === 'ERR_VALUE_UNCLONEABLE')
}))

test('a tight ping-pong does not starve a setTimeout (the yield budget)', deadline('starve', async () => {
  const a = new SharedChan<number>(1)
  let fired = false
  setTimeout(() => { fired = true }, 1)
  for (let i = 0; !fired; i++) {
    await a.send(i)
    await a.recv()
  }
  assert.ok(fired)
}))

test('a plain Worker (no Runtime) echoes over SharedChans and sends back a channel it made', deadline('worker', async () => {
  const ping = new SharedChan<unknown>()
  const reply = new SharedChan<unknown>()
  const w = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/schan-worker.ts', import.meta.url).href, mode: 'echo', sab: ping.buffer },
  })
  const exited = new Promise((r) => w.once('exit', r))
  try {
    await ping.send(reply)
    for (let i = 0; i < 1000; i++) {
      await ping.send(i % 2 === 0 ? i : `s${i}`)
      assert.is((await reply.recv()).value, i % 2 === 0 ? i : `s${i}`)
    }
    ping.close()
    const theirs = (await reply.recv()).value as SharedChan<number>
    assert.instance(theirs, SharedChan)
    assert.equal(await theirs.recv(), { value: 1000, ok: true })
    assert.is(await exited, 0)
  } finally {
    await w.terminate()
  }
}, 30_000))

test.run()
