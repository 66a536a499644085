import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { flush, parkedOps, rejection, thrown, woken } from './_support.js'
import { Chan, ChanClosedError, inspectChan, parkedCount, recv, select, send, trySelect } from '../../src/index.js'

function assertQuiet(chans: Chan<unknown>[]): void {
  for (const c of chans) {
    const s = inspectChan(c)
    assert.is(s.recvWaiters + s.sendWaiters, 0, `waiters left on ${String(c)}`)
  }
  assert.is(parkedCount(), 0)
}

test(
  'select picks uniformly among ready cases',
  deadline('fairness', async () => {
    // Go's TestSelectFairness: every case always ready; count who wins.
    // n = 40000 over 4 cases: expected 10000 each, sigma ~ 87. A bound of
    // +-1000 is more than 11 sigma, so this never flakes but catches a bias
    // such as "first ready case wins" (40000/0/0/0). With every case ready a
    // random start is uniform too, hence the second half.
    const cs = [new Chan<number>(1), new Chan<number>(1), new Chan<number>(1), new Chan<number>(1)]
    const counts = [0, 0, 0, 0]
    const n = 40_000
    for (let i = 0; i < n; i++) {
      for (const c of cs) if (c.len === 0) c.trySend(i)
      const r = i % 2 === 0 ? await select(cs.map((c) => recv(c))) : trySelect(cs.map((c) => recv(c)))
      counts[r!.index]!++
    }
    for (const k of counts) assert.ok(Math.abs(k - n / 4) < 1000, `counts ${counts.join(',')}`)
    // Three ready among eight, with gaps: ready at 0, 1 and 4, the others
    // never ready (a null case, an empty channel, a full unbuffered send).
    // A scan from a random start takes the first ready case after its start,
    // so it picks 0 from starts 5,6,7,0 (4/8), 1 only from start 1 (1/8) and
    // 4 from starts 2,3,4 (3/8). Uniform is 1/3 each: n = 30000 gives 10000
    // each with sigma ~ 82, and the scan misses by 2500 to 6250 (30 to 76
    // sigma). A bound of +-1000 (12 sigma) never flakes and catches it.
    const ready = [new Chan<number>(1), new Chan<number>(1), new Chan<number>(1)]
    const never = new Chan<number>()
    const cases = [recv(ready[0]!), recv(ready[1]!), recv(null), send(never, 0), recv(ready[2]!), recv(never), recv(null), send(never, 1)]
    const wins = new Array<number>(cases.length).fill(0)
    const m = 30_000
    for (let i = 0; i < m; i++) {
      for (const c of ready) if (c.len === 0) c.trySend(i)
      const r = i % 2 === 0 ? await select(cases) : trySelect(cases)!
      wins[r.index]!++
    }
    assert.equal([wins[2], wins[3], wins[5], wins[6], wins[7]], [0, 0, 0, 0, 0], `wins ${wins.join(',')}`)
    for (const k of [0, 1, 4]) assert.ok(Math.abs(wins[k]! - m / 3) < 1000, `wins ${wins.join(',')}`)
    for (const c of [...cs, ...ready]) c.tryRecv()
    assertQuiet([...cs, ...ready, never] as Chan<unknown>[])
  }),
)

test(
  'a value is taken by exactly one case and losing cases leave no waiter (100k selects)',
  deadline('no leftovers', async () => {
    // Every select here parks (nothing is ready when it starts), so each one
    // is completed by a partner and must withdraw its three losing waiters at
    // that instant: checked right after the partner's op, before any await.
    const cs = [new Chan<number>(), new Chan<number>(), new Chan<number>(), new Chan<number>()]
    const waiting = (): number[] => cs.map((c) => inspectChan(c).recvWaiters + inspectChan(c).sendWaiters)
    const n = 100_000
    let sum = 0
    for (let i = 0; i < n; i++) {
      const k = (i * 7) % 4
      const sends = i % 2 === 1
      const p = sends ? select(cs.map((c) => send(c, i))) : select(cs.map((c) => recv(c)))
      if (i % 997 === 0) {
        assert.equal(waiting(), [1, 1, 1, 1], `select ${i} parked one waiter per case`)
        assert.is(parkedCount(), 1)
      }
      if (sends) {
        const got = cs[k]!.tryRecv()
        assert.equal(got, { value: i, ok: true }, `select ${i}: the receiver got the parked send case's value`)
      } else {
        assert.ok(cs[k]!.trySend(i), `select ${i}: the parked receive case took the value`)
      }
      const left = waiting()
      if (left.some((w) => w !== 0)) assert.unreachable(`select ${i} left waiters behind after case ${k} fired: ${left.join(',')}`)
      const r = await p
      if (r.index !== k || (!sends && r.value !== i)) assert.unreachable(`select ${i}: case ${r.index} fired, not ${k}`)
      sum += i
    }
    assert.is(sum, (n * (n - 1)) / 2, 'every value exactly once')
    for (const c of cs) assert.is(c.trySend(0), false, 'no stale waiter takes a value')
    assertQuiet(cs as Chan<unknown>[])
  }),
)

test(
  'a null channel case never fires',
  deadline('null case', async () => {
    const a = new Chan<number>(1)
    a.trySend(1)
    for (let i = 0; i < 50; i++) {
      const r = trySelect([recv<number>(null), send<number>(null, 5), recv(a)])
      assert.is(r?.index, 2)
      a.trySend(1)
    }
    assert.is(trySelect([recv(null), send(null, 1)]), undefined)
    const ac = new AbortController()
    const p = select([recv(null)], { signal: ac.signal })
    assert.is(parkedCount(), 1, 'select with only null cases blocks')
    ac.abort('bye')
    assert.is(await rejection(p), 'bye')
    assert.is(parkedCount(), 0)
    a.tryRecv()
  }),
)

test(
  'the same channel may appear in several cases; one value fires one case',
  deadline('duplicate channels', async () => {
    const a = new Chan<number>()
    const p = select([recv(a), recv(a), recv(a)])
    assert.is(inspectChan(a).recvWaiters, 3)
    await a.send(9)
    const r = await p
    assert.is(r.value, 9)
    assert.ok(r.index >= 0 && r.index <= 2)
    assert.is(inspectChan(a).recvWaiters, 0)
    assert.is(a.trySend(1), false, 'no second case still waiting')
    // a select never rendezvous with itself
    const q = select([send(a, 1), recv(a)])
    await flush()
    assert.equal(inspectChan(a), { len: 0, cap: 0, closed: false, recvWaiters: 1, sendWaiters: 1 })
    assert.equal(await a.recv(), { value: 1, ok: true })
    assert.is((await q).index, 0)
    assertQuiet([a as Chan<unknown>])
  }),
)

test(
  'a parked select is woken by close (recv case gets ok=false) or rejects (send case)',
  deadline('select and close', async () => {
    const { signal, track, release } = parkedOps()
    try {
      const a = new Chan<number>()
      const b = new Chan<number>()
      const p = track(select([recv(a), recv(b)], { signal }))
      a.close()
      assert.equal(await woken(p, 'a select parked on a receive before close'), { index: 0, value: undefined, ok: false })
      assert.is(inspectChan(b).recvWaiters, 0)
      const c = new Chan<number>()
      const q = track(select([send(c, 1), recv(b)], { signal }))
      c.close()
      assert.instance(await woken(rejection(q), 'a select parked on a send before close'), ChanClosedError)
      assertQuiet([b, c] as Chan<unknown>[])
      // a send case on a closed channel is a panic when chosen
      assert.instance(await rejection(select([send(c, 1)])), ChanClosedError)
      assert.instance(thrown(() => trySelect([send(c, 1)])), ChanClosedError)
    } finally {
      release()
    }
  }),
)

test(
  'a send case completes by hand-off and by buffering; result has ok=true',
  deadline('send case', async () => {
    const u = new Chan<string>()
    const r = u.recv()
    assert.equal(await select([send(u, 'hi')]), { index: 0, value: undefined, ok: true })
    assert.equal(await r, { value: 'hi', ok: true })
    const b = new Chan<string>(1)
    assert.equal(trySelect([send(b, 'x')]), { index: 0, value: undefined, ok: true })
    assert.is(trySelect([send(b, 'y')]), undefined, 'full')
    // a parked send case is taken by a receiver refilling a full buffer
    const p = select([send(b, 'z')])
    assert.equal(await b.recv(), { value: 'x', ok: true })
    assert.is((await p).index, 0)
    assert.equal(b.tryRecv(), { value: 'z', ok: true })
  }),
)

test(
  'an aborted select leaves no trace: its send case never delivers',
  deadline('abort select', async () => {
    const a = new Chan<number>()
    const b = new Chan<number>()
    const ac = new AbortController()
    const p = select([send(a, 1), recv(b)], { signal: ac.signal })
    assert.is(parkedCount(), 1)
    ac.abort(new Error('cancel'))
    assert.is((await rejection(p) as Error).message, 'cancel')
    assertQuiet([a, b] as Chan<unknown>[])
    assert.is(a.tryRecv(), undefined)
    assert.is(b.trySend(2), false)
  }),
)

test(
  'select result types narrow on the index',
  deadline('types', async () => {
    const n = new Chan<number>(1)
    const s = new Chan<string>(1)
    n.trySend(1)
    const r = await select([recv(n), recv(s), send(s, 'x')])
    if (r.index === 0) {
      if (r.ok) {
        const v: number = r.value
        assert.is(v, 1)
      }
      // @ts-expect-error index 0 carries a number, not a string
      const bad: string = r.value
      void bad
    } else if (r.index === 1) {
      const v: string | undefined = r.value
      void v
    } else {
      const u: undefined = r.value
      void u
    }
    // @ts-expect-error a Chan<number> does not accept a string
    void send(n, 'nope')
    s.tryRecv()
    n.tryRecv()
  }),
)

test(
  'malformed cases are TypeErrors that name the case, and commit nothing',
  deadline('malformed cases', async () => {
    const a = new Chan<number>(1)
    a.trySend(7)
    assert.instance(thrown(() => recv(42 as unknown as Chan<number>)), TypeError)
    assert.match((thrown(() => send({} as unknown as Chan<number>, 1)) as Error).message, 'send: expected a channel (a Chan or another Sendable) or null')
    assert.instance(await rejection(select(42 as never)), TypeError)
    const bad = await rejection(select([recv(a), 42 as never]))
    assert.instance(bad, TypeError)
    assert.match((bad as Error).message, 'select: case 1 is not a recv() or send() case, got 42')
    assert.instance(thrown(() => trySelect([{} as never])), TypeError)
    // The ready case was not taken by the select that failed.
    assert.is(a.len, 1)
    const e = await rejection(select([recv(a)], { signal: {} as AbortSignal }))
    assert.match((e as Error).message, 'select: options.signal must be an AbortSignal')
    assert.is(a.len, 1)
    assertQuiet([a])
  }),
)

test.run()
