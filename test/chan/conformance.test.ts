/**
 * Conformance: behaviours Go's own channel tests check (runtime/chan_test.go,
 * test/chan/*.go), restated for gort.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { flush, parkedOps, rejection, thrown, woken } from './_support.js'
import {
  Chan,
  ChanClosedError,
  WaitGroup,
  go,
  inspectChan,
  parkedCount,
  recv,
  select,
  send,
  trySelect,
  type SelectCase,
} from '../../src/index.js'

test(
  'prime sieve: a chain of goroutines yields the first 100 primes',
  deadline('sieve', async () => {
    // Go's idiom for tearing down a pipeline: every stage also selects on `quit`.
    const quit = new Chan<void>()
    const generate = async (ch: Chan<number>): Promise<void> => {
      for (let i = 2; ; i++) if ((await select([send(ch, i), recv(quit)])).index === 1) return
    }
    const filter = async (inp: Chan<number>, out: Chan<number>, prime: number): Promise<void> => {
      for (;;) {
        const r = await select([recv(inp), recv(quit)])
        if (r.index === 1) return
        if (r.value! % prime !== 0 && (await select([send(out, r.value!), recv(quit)])).index === 1) return
      }
    }
    const first = new Chan<number>()
    go(generate, first)
    let ch = first
    const primes: number[] = []
    for (let i = 0; i < 100; i++) {
      const r = await ch.recv()
      primes.push(r.value!)
      const next = new Chan<number>()
      go(filter, ch, next, r.value!)
      ch = next
    }
    assert.is(primes.length, 100)
    assert.equal(primes.slice(0, 10), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29])
    assert.is(primes[99], 541)
    const live = parkedCount()
    assert.ok(live > 0, 'stages are parked before teardown')
    quit.close()
    await flush()
    assert.is(parkedCount(), 0)
  }),
)

test(
  'multi-stage pipeline with fan-out and fan-in delivers every value once',
  deadline('pipeline', async () => {
    const src = new Chan<number>(8)
    const squares = new Chan<number>(8)
    const n = 2000
    go(async () => {
      for (let i = 1; i <= n; i++) await src.send(i)
      src.close()
    })
    const workers = new WaitGroup()
    for (let w = 0; w < 4; w++) {
      workers.add(1)
      go(async () => {
        for await (const v of src) await squares.send(v * v)
        workers.done()
      })
    }
    go(async () => {
      await workers.wait()
      squares.close()
    })
    let sum = 0
    let count = 0
    for await (const v of squares) {
      sum += v
      count++
    }
    assert.is(count, n)
    assert.is(sum, (n * (n + 1) * (2 * n + 1)) / 6)
  }),
)

test(
  'non-blocking operations on every channel state',
  deadline('non-blocking', async () => {
    // unbuffered, idle
    const u = new Chan<number>()
    assert.is(u.trySend(1), false)
    assert.is(u.tryRecv(), undefined)
    assert.is(trySelect([send(u, 1), recv(u)]), undefined)
    // unbuffered with a parked receiver: trySend hands off
    const r = u.recv()
    assert.is(u.tryRecv(), undefined)
    assert.ok(u.trySend(1))
    assert.equal(await r, { value: 1, ok: true })
    // unbuffered with a parked sender: tryRecv takes it
    const s = u.send(2)
    assert.is(u.trySend(3), false)
    assert.equal(u.tryRecv(), { value: 2, ok: true })
    await s
    // buffered: empty, partial, full
    const b = new Chan<number>(2)
    assert.is(b.tryRecv(), undefined)
    assert.ok(b.trySend(1))
    assert.equal(trySelect([recv(b)]), { index: 0, value: 1, ok: true })
    assert.ok(b.trySend(1) && b.trySend(2))
    assert.is(b.trySend(3), false)
    assert.is(trySelect([send(b, 3)]), undefined)
    // full with a parked sender: tryRecv refills from it
    const s2 = b.send(3)
    assert.equal(b.tryRecv(), { value: 1, ok: true })
    await s2
    assert.equal([b.tryRecv()?.value, b.tryRecv()?.value], [2, 3])
    // closed with values, then drained
    b.trySend(9)
    b.close()
    assert.equal(b.tryRecv(), { value: 9, ok: true })
    assert.equal(b.tryRecv(), { value: undefined, ok: false })
    assert.equal(trySelect([recv(b)]), { index: 0, value: undefined, ok: false })
    assert.instance(thrown(() => b.trySend(1)), ChanClosedError)
    assert.is(parkedCount(), 0)
  }),
)

test(
  'FIFO per sender with many concurrent senders',
  deadline('fifo many senders', async () => {
    for (const cap of [0, 1, 16]) {
      const ch = new Chan<[number, number]>(cap)
      const senders = 20
      const per = 200
      for (let s = 0; s < senders; s++) {
        go(async () => {
          for (let i = 0; i < per; i++) await ch.send([s, i])
        })
      }
      const last = new Array<number>(senders).fill(-1)
      for (let k = 0; k < senders * per; k++) {
        const [s, i] = (await ch.recv()).value!
        assert.is(i, last[s]! + 1, `sender ${s} out of order (cap ${cap})`)
        last[s] = i
      }
      assert.ok(last.every((v) => v === per - 1))
    }
  }),
)

test(
  'buffered FIFO holds across parked senders when the buffer is full',
  deadline('fifo buffered', async () => {
    const ch = new Chan<number>(4)
    const sends: Promise<void>[] = []
    for (let i = 0; i < 50; i++) sends.push(ch.send(i))
    const got: number[] = []
    for (let i = 0; i < 50; i++) got.push((await ch.recv()).value!)
    await Promise.all(sends)
    assert.equal(got, Array.from({ length: 50 }, (_, i) => i))
  }),
)

test(
  'racing selects on the same channels neither duplicate nor lose values',
  deadline('racing selects', async () => {
    const chans = [new Chan<number>(), new Chan<number>(3), new Chan<number>()]
    const n = 30_000
    const seen = new Uint8Array(n)
    const done = new WaitGroup()
    for (let w = 0; w < 8; w++) {
      done.add(1)
      go(async () => {
        for (;;) {
          const r = await select([recv(chans[0]!), recv(chans[1]!), recv(chans[2]!)])
          if (!r.ok) break
          seen[r.value]!++
        }
        done.done()
      })
    }
    // Producers also select, over send cases, so both sides race.
    const producers = new WaitGroup()
    for (let p = 0; p < 3; p++) {
      producers.add(1)
      go(async () => {
        for (let i = p; i < n; i += 3) await select(chans.map((c) => send(c, i)))
        producers.done()
      })
    }
    await producers.wait()
    chans[0]!.close() // consumers stop once any channel reports closed
    await done.wait()
    // Values left in the buffered channel were not lost: drain them.
    for (let r = chans[1]!.tryRecv(); r?.ok; r = chans[1]!.tryRecv()) seen[r.value]!++
    for (let i = 0; i < n; i++) assert.is(seen[i], 1, `value ${i} seen ${seen[i]} times`)
    for (const c of chans) assert.equal(inspectChan(c).recvWaiters + inspectChan(c).sendWaiters, 0)
  }),
)

test(
  'select with many cases (64) receives from whichever is sent to',
  deadline('many cases', async () => {
    const chans = Array.from({ length: 64 }, () => new Chan<number>())
    const cases: SelectCase[] = chans.map((c) => recv(c))
    for (let k = 0; k < 640; k++) {
      const target = (k * 37) % 64
      const p = select(cases)
      await chans[target]!.send(k)
      const r = await p
      assert.is(r.index, target)
      assert.is(r.value, k)
    }
    for (const c of chans) assert.is(inspectChan(c).recvWaiters, 0)
    // and with a mix of ready sends and receives, exactly one fires
    const b = Array.from({ length: 64 }, () => new Chan<number>(1))
    const mixed = b.map((c, i) => (i % 2 === 0 ? send(c, i) : recv(c)))
    const r = trySelect(mixed)!
    assert.is(r.index % 2, 0)
    assert.is(b.reduce((n, c) => n + c.len, 0), 1)
  }),
)

test(
  'close in every state',
  deadline('close states', async () => {
    // Every op parked here is given `signal` and checked with woken(): one
    // that close forgets fails this test by name, and is withdrawn in `finally`.
    const { signal, track, release } = parkedOps()
    try {
      // idle unbuffered
      const a = new Chan<number>()
      a.close()
      assert.equal(await a.recv(), { value: undefined, ok: false })
      // with parked receivers, parked senders, and a parked select on both sides
      const b = new Chan<number>()
      const rs = [track(b.recv({ signal })), track(b.recv({ signal }))]
      const sel = track(select([recv(b), recv(new Chan<number>())], { signal }))
      b.close()
      assert.ok((await woken(Promise.all(rs), 'a receiver parked before close')).every((r) => !r.ok))
      assert.equal(await woken(sel, 'a select parked on a receive before close'), { index: 0, value: undefined, ok: false })
      const c = new Chan<number>()
      const ss = [track(c.send(1, { signal })), track(select([send(c, 2)], { signal }))]
      c.close()
      for (const s of ss) assert.instance(await woken(rejection(s), 'a sender parked before close'), ChanClosedError)
      // buffered partial and full (with a parked sender)
      const d = new Chan<number>(2)
      d.trySend(1)
      d.trySend(2)
      const blocked = track(d.send(3, { signal }))
      d.close()
      assert.instance(await woken(rejection(blocked), 'a sender parked on a full buffer before close'), ChanClosedError)
      assert.equal([(await d.recv()).value, (await d.recv()).value, (await d.recv()).ok], [1, 2, false])
      // closing twice
      assert.is((thrown(() => d.close()) as ChanClosedError).code, 'ERR_CLOSE_OF_CLOSED')
      // receiving from a closed channel never blocks, repeatedly
      for (let i = 0; i < 3; i++) assert.equal(await d.recv(), { value: undefined, ok: false })
      assert.is(parkedCount(), 0)
    } finally {
      release()
    }
  }),
)

test(
  'zero-size values: a Chan<void> synchronises without data',
  deadline('zero-size', async () => {
    const done = new Chan<void>()
    const n = 1000
    let hits = 0
    for (let i = 0; i < n; i++) {
      go(async () => {
        hits++
        await done.send()
      })
    }
    for (let i = 0; i < n; i++) assert.equal(await done.recv(), { value: undefined, ok: true })
    assert.is(hits, n)
    const sem = new Chan<void>(3)
    assert.ok(sem.trySend() && sem.trySend() && sem.trySend())
    assert.is(sem.trySend(), false)
    assert.is(sem.len, 3)
  }),
)

test.run()
