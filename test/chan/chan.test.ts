import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { getEventListeners } from 'node:events'
import { flush, parkedOps, rejection, thrown, woken } from './_support.js'
import { Chan, ChanClosedError, GortError, MAX_CHAN_CAP, inspectChan, parkedCount, recv, select } from '../../src/index.js'

test('capacity must be a non-negative integer; the error echoes it', () => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
    const e = thrown(() => new Chan(bad))
    assert.instance(e, RangeError)
    assert.ok((e as Error).message.includes(String(bad)), (e as Error).message)
  }
  assert.is(new Chan().cap, 0)
  assert.is(new Chan(5).cap, 5)
})

test('a capacity no array can hold is refused with the makechan RangeError', () => {
  // Before: 2 ** 32 threw V8's "Invalid array length", and 1e9 aborted the process.
  for (const bad of [MAX_CHAN_CAP + 1, 1e9, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const e = thrown(() => new Chan(bad))
    assert.instance(e, RangeError)
    assert.is((e as Error).message, `makechan: size out of range: ${bad} (at most ${MAX_CHAN_CAP})`)
  }
})

test('a huge capacity costs nothing until the buffer fills', () => {
  // Before, the buffer was allocated and filled up front: cap 4e7 took minutes
  // and gigabytes. Fifty channels of cap 1e6 (400 MB up front before) now hold
  // no more than their first few slots each.
  const before = process.memoryUsage().heapUsed
  const chans = Array.from({ length: 50 }, () => new Chan<number>(1e6))
  const grew = process.memoryUsage().heapUsed - before
  assert.ok(grew < 16 * 1024 * 1024, `50 channels of cap 1e6 took ${grew} bytes`)
  chans.push(new Chan<number>(MAX_CHAN_CAP))
  const ch = chans[50]!
  for (let i = 0; i < 1000; i++) assert.ok(ch.trySend(i))
  assert.is(ch.len, 1000)
  assert.is(ch.cap, MAX_CHAN_CAP)
  for (let i = 0; i < 1000; i++) assert.equal(ch.tryRecv(), { value: i, ok: true })
})

test('a growing buffer keeps FIFO order when it grows while wrapped around', () => {
  // Grow at every fill level with the head at every offset, against a plain queue.
  for (const cap of [1, 2, 3, 65, 130, 300]) {
    for (let offset = 0; offset < 70; offset += 7) {
      const ch = new Chan<number>(cap)
      const model: number[] = []
      let next = 0
      const put = (): void => {
        assert.ok(ch.trySend(next), `cap ${cap}: send ${next} with len ${ch.len}`)
        model.push(next++)
      }
      const take = (): void => assert.equal(ch.tryRecv(), { value: model.shift(), ok: true })
      // Move the head off index 0, then fill to the brim, drain half, refill.
      for (let i = 0; i < offset; i++) {
        put()
        take()
      }
      while (ch.len < cap) put()
      assert.is(ch.trySend(-1), false, 'full at cap')
      while (ch.len > cap >> 1) take()
      while (ch.len < cap) put()
      while (ch.len > 0) take()
      assert.is(model.length, 0)
      assert.is(ch.tryRecv(), undefined)
    }
  }
})

test(
  'a parked sender refills a grown buffer in order',
  deadline('grown buffer and parked senders', async () => {
    const ch = new Chan<number>(100)
    for (let i = 0; i < 100; i++) assert.ok(ch.trySend(i))
    const sends = [ch.send(100), ch.send(101)]
    assert.equal(inspectChan(ch), { len: 100, cap: 100, closed: false, recvWaiters: 0, sendWaiters: 2 })
    for (let i = 0; i < 102; i++) assert.equal(await ch.recv(), { value: i, ok: true })
    await Promise.all(sends)
    assert.is(parkedCount(), 0)
  }),
)

test(
  'unbuffered send completes only when a receiver has taken the value',
  deadline('unbuffered rendezvous', async () => {
    const ch = new Chan<string>()
    let sent = false
    const p = ch.send('x').then(() => (sent = true))
    await flush()
    assert.is(sent, false)
    assert.equal(inspectChan(ch), { len: 0, cap: 0, closed: false, recvWaiters: 0, sendWaiters: 1 })
    assert.equal(await ch.recv(), { value: 'x', ok: true })
    await p
    assert.is(sent, true)
    assert.is(parkedCount(), 0)
  }),
)

test('buffered channel is FIFO and len/cap are right in every state', () => {
  const ch = new Chan<number>(3)
  assert.is(ch.len, 0)
  assert.ok(ch.trySend(1))
  assert.is(ch.len, 1)
  assert.ok(ch.trySend(2))
  assert.ok(ch.trySend(3))
  assert.is(ch.len, 3)
  assert.is(ch.trySend(4), false, 'full')
  assert.equal(ch.tryRecv(), { value: 1, ok: true })
  assert.is(ch.len, 2)
  assert.ok(ch.trySend(4), 'wraps around the ring')
  assert.equal([ch.tryRecv()?.value, ch.tryRecv()?.value, ch.tryRecv()?.value], [2, 3, 4])
  assert.is(ch.len, 0)
  assert.is(ch.tryRecv(), undefined)
  ch.trySend(5)
  ch.close()
  assert.is(ch.len, 1, 'close keeps buffered values')
  assert.is(ch.cap, 3)
  assert.equal(ch.tryRecv(), { value: 5, ok: true })
  assert.equal(ch.tryRecv(), { value: undefined, ok: false })
  assert.is(ch.len, 0)
})

test(
  'a send hands the value straight to a waiting receiver, bypassing the buffer',
  deadline('hand-off', async () => {
    const ch = new Chan<number>(2)
    const r = ch.recv()
    assert.is(inspectChan(ch).recvWaiters, 1)
    assert.ok(ch.trySend(7))
    assert.is(ch.len, 0, 'buffer untouched')
    assert.equal(await r, { value: 7, ok: true })
  }),
)

test(
  'a receive from a full buffer refills it from the first parked sender',
  deadline('refill', async () => {
    const ch = new Chan<number>(1)
    ch.trySend(1)
    const done: number[] = []
    const s2 = ch.send(2).then(() => done.push(2))
    const s3 = ch.send(3).then(() => done.push(3))
    assert.is(inspectChan(ch).sendWaiters, 2)
    assert.equal(await ch.recv(), { value: 1, ok: true })
    assert.is(ch.len, 1, 'refilled')
    assert.is(inspectChan(ch).sendWaiters, 1)
    await s2
    await flush()
    assert.equal(done, [2], 'only the first sender completed')
    assert.equal(await ch.recv(), { value: 2, ok: true })
    await s3
    assert.equal(await ch.recv(), { value: 3, ok: true })
    assert.is(parkedCount(), 0)
  }),
)

test(
  'close wakes every receiver with ok=false after the buffer drains',
  deadline('close wakes receivers', async () => {
    // A receiver that close forgets would park forever: woken() fails here by
    // name, and release() withdraws it so later tests start clean.
    const { signal, track, release } = parkedOps()
    try {
      const ch = new Chan<number>()
      const rs = [1, 2, 3].map(() => track(ch.recv({ signal })))
      ch.close()
      assert.equal(await woken(Promise.all(rs), 'a receiver parked before close'), [
        { value: undefined, ok: false },
        { value: undefined, ok: false },
        { value: undefined, ok: false },
      ])
      const b = new Chan<number>(2)
      b.trySend(1)
      b.trySend(2)
      b.close()
      assert.equal([await b.recv(), await b.recv(), await b.recv()], [
        { value: 1, ok: true },
        { value: 2, ok: true },
        { value: undefined, ok: false },
      ])
    } finally {
      release()
    }
  }),
)

test(
  'close rejects every parked sender with ChanClosedError',
  deadline('close rejects senders', async () => {
    const { signal, track, release } = parkedOps()
    try {
      const ch = new Chan<number>(1)
      ch.trySend(0)
      const ss = [track(ch.send(1, { signal })), track(ch.send(2, { signal }))]
      ch.close()
      for (const s of ss) {
        const e = await woken(rejection(s), 'a sender parked before close')
        assert.instance(e, ChanClosedError)
        assert.instance(e, GortError)
        assert.is((e as ChanClosedError).code, 'ERR_SEND_ON_CLOSED')
        assert.is((e as Error).message, 'send on closed channel')
      }
      assert.equal(inspectChan(ch), { len: 1, cap: 1, closed: true, recvWaiters: 0, sendWaiters: 0 })
      assert.is(parkedCount(), 0)
    } finally {
      release()
    }
  }),
)

test(
  'send on a closed channel rejects, trySend throws, second close throws',
  deadline('closed misuse', async () => {
    const ch = new Chan<number>(1)
    ch.close()
    assert.is((await rejection(ch.send(1)) as ChanClosedError).code, 'ERR_SEND_ON_CLOSED')
    assert.is((thrown(() => ch.trySend(1)) as ChanClosedError).code, 'ERR_SEND_ON_CLOSED')
    const e = thrown(() => ch.close()) as ChanClosedError
    assert.instance(e, ChanClosedError)
    assert.is(e.code, 'ERR_CLOSE_OF_CLOSED')
    assert.is(e.message, 'close of closed channel')
  }),
)

test(
  'a sent undefined arrives with ok === true',
  deadline('undefined value', async () => {
    const ch = new Chan<undefined>(1)
    await ch.send(undefined)
    assert.equal(await ch.recv(), { value: undefined, ok: true })
    const u = new Chan<void>()
    const r = u.recv()
    await u.send()
    assert.equal(await r, { value: undefined, ok: true })
  }),
)

test(
  'for await ranges over values until close',
  deadline('range', async () => {
    const ch = new Chan<number>(4)
    const seen: number[] = []
    const consumer = (async () => {
      for await (const v of ch) seen.push(v)
    })()
    for (let i = 0; i < 10; i++) await ch.send(i)
    ch.close()
    await consumer
    assert.equal(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  }),
)

test(
  'abort rejects a parked recv with signal.reason and leaves no waiter',
  deadline('abort recv', async () => {
    const ch = new Chan<number>()
    const ac = new AbortController()
    const p = ch.recv({ signal: ac.signal })
    assert.is(inspectChan(ch).recvWaiters, 1)
    const reason = new Error('stop')
    ac.abort(reason)
    assert.is(await rejection(p), reason)
    assert.is(inspectChan(ch).recvWaiters, 0)
    assert.is(parkedCount(), 0)
    assert.is(ch.trySend(1), false, 'nobody is waiting any more')
  }),
)

test(
  'a cancelled send never delivers later',
  deadline('abort send', async () => {
    const ch = new Chan<string>()
    const ac = new AbortController()
    const p = ch.send('ghost', { signal: ac.signal })
    ac.abort()
    assert.instance(await rejection(p), DOMException)
    assert.is(ch.tryRecv(), undefined)
    const r = ch.recv()
    await ch.send('real')
    assert.equal(await r, { value: 'real', ok: true })
    // an already-aborted signal does not send even to a waiting receiver
    const r2 = ch.recv()
    const pre = AbortSignal.abort('why')
    assert.is(await rejection(ch.send('never', { signal: pre })), 'why')
    assert.is(inspectChan(ch).recvWaiters, 1)
    await ch.send('after')
    assert.equal(await r2, { value: 'after', ok: true })
    assert.is(parkedCount(), 0)
  }),
)

test(
  'a completed op ignores a later abort',
  deadline('abort after completion', async () => {
    const ch = new Chan<number>()
    const ac = new AbortController()
    const r = ch.recv({ signal: ac.signal })
    await ch.send(3)
    ac.abort()
    assert.equal(await r, { value: 3, ok: true })
  }),
)

test(
  'ops that complete remove their abort listener (one signal reused for many ops)',
  deadline('listener cleanup', async () => {
    const ch = new Chan<number>()
    const ac = new AbortController()
    for (let i = 0; i < 100; i++) {
      const r = ch.recv({ signal: ac.signal })
      const s = select([recv(ch), recv(null)], { signal: ac.signal })
      await ch.send(i)
      await ch.send(i)
      await Promise.all([r, s])
    }
    assert.is(getEventListeners(ac.signal, 'abort').length, 0)
    assert.is(parkedCount(), 0)
  }),
)

test(
  'a signal that is not an AbortSignal rejects with a TypeError and leaves no waiter',
  deadline('bad signal', async () => {
    const c = new Chan<number>()
    for (const op of [() => c.send(1, { signal: 5 as never }), () => c.recv({ signal: {} as never })]) {
      const e = await rejection(op())
      assert.instance(e, TypeError)
      assert.match((e as Error).message, 'options.signal must be an AbortSignal')
    }
    const s = inspectChan(c)
    assert.is(s.recvWaiters + s.sendWaiters, 0)
    assert.is(parkedCount(), 0)
    assert.match((thrown(() => new Chan('3' as never)) as Error).message, 'makechan: size out of range: "3"')
  }),
)

test.run()
