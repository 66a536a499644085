/**
 * select over a channel kind that is not a Chan (test/chan/_foreign.ts), through
 * the protocol only: the guarantees select gives Chan cases hold for any kind,
 * and for a "remote" kind whose claims go through the shared done word.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { rejection, thrown } from './_support.js'
import { SlotChan } from './_foreign.js'
import {
  Chan,
  ChanClosedError,
  DESCRIBE,
  ENQUEUE_RECV,
  POLL_RECV,
  RECV_READY,
  WITHDRAW,
  after,
  inspectChan,
  parkedCount,
  recv,
  select,
  send,
  tick,
  trySelect,
  type Receivable,
  type RecvSlot,
  type Selector,
  type Sendable,
} from '../../src/index.js'

function assertQuiet(chans: Chan<unknown>[], foreign: SlotChan<unknown>[]): void {
  for (const c of chans) {
    const s = inspectChan(c)
    assert.is(s.recvWaiters + s.sendWaiters, 0, `waiters left on ${String(c)}`)
  }
  for (const f of foreign) assert.is(f.waiters, 0, `waiters left on slotchan#${f.id}`)
  assert.is(parkedCount(), 0, 'nothing parked')
}

test(
  'select chooses uniformly among ready cases of mixed kinds',
  deadline('mixed fairness', async () => {
    // n = 40000 over 4 always-ready cases (2 foreign, 2 Chan): 10000 each,
    // sigma ~ 87; +-1000 is over 11 sigma (never flakes) and catches any bias
    // toward a kind or a position (a first-ready rule gives 40000/0/0/0).
    const f1 = new SlotChan<number>()
    const f2 = new SlotChan<number>()
    const c1 = new Chan<number>(1)
    const c2 = new Chan<number>(1)
    const cases = [recv(f1), recv(c1), recv(f2), recv(c2)]
    const counts = [0, 0, 0, 0]
    const n = 40_000
    for (let i = 0; i < n; i++) {
      if (!f1.full) f1.put(i)
      if (!f2.full) f2.put(i)
      if (c1.len === 0) c1.trySend(i)
      if (c2.len === 0) c2.trySend(i)
      const r = i % 2 === 0 ? await select(cases) : trySelect(cases)!
      counts[r.index]!++
    }
    for (const k of counts) assert.ok(Math.abs(k - n / 4) < 1000, `counts ${counts.join(',')}`)
    f1.take()
    f2.take()
    c1.tryRecv()
    c2.tryRecv()
    assertQuiet([c1, c2] as Chan<unknown>[], [f1, f2] as SlotChan<unknown>[])
  }),
)

/** A kind whose readiness hint always says yes, but whose poll succeeds only when `has` (another thread took it first). */
class Liar implements Receivable<number> {
  has = false;
  [RECV_READY](): boolean {
    return true
  }
  [POLL_RECV](slot: RecvSlot<number>): boolean {
    if (!this.has) return false
    this.has = false
    slot.value = 1
    slot.ok = true
    return true
  }
  [ENQUEUE_RECV](): object {
    return {}
  }
  [WITHDRAW](): void {}
  [DESCRIBE](): string {
    return 'liar'
  }
}

test(
  'a stale readiness hint falls back to a random permutation: still uniform, still one case',
  deadline('stale hint', async () => {
    // Four cases all claim to be ready; only 1 and 3 are. Whichever case the
    // hints pick, a failed poll sends select to the shuffled walk, so 1 and 3
    // must each win half the time: n = 20000, sigma ~ 71, bound 1000 (14 sigma).
    const ls = [new Liar(), new Liar(), new Liar(), new Liar()]
    const cases = ls.map((l) => recv(l))
    const wins = [0, 0, 0, 0]
    const n = 20_000
    for (let i = 0; i < n; i++) {
      ls[1]!.has = ls[3]!.has = true
      const r = trySelect(cases)!
      wins[r.index]!++
      assert.is(Number(ls[1]!.has) + Number(ls[3]!.has), 1, 'exactly one value taken')
    }
    assert.is(wins[0]! + wins[2]!, 0, `wins ${wins.join(',')}`)
    assert.ok(Math.abs(wins[1]! - n / 2) < 1000, `wins ${wins.join(',')}`)
  }),
)

test(
  'a value is taken by exactly one case, and a fired select leaves no waiter on any kind',
  deadline('exactly one, no leftovers', async () => {
    for (const remote of [false, true]) {
      const f = new SlotChan<number>(remote, 0)
      const g = new SlotChan<number>(remote, 0)
      const c = new Chan<number>()
      for (let i = 0; i < 2000; i++) {
        const sends = i % 2 === 1
        const p = sends ? select([send(f, i), send(g, i), send(c, i)]) : select([recv(f), recv(g), recv(c)])
        assert.is(f.waiters + g.waiters + inspectChan(c as Chan<unknown>).recvWaiters + inspectChan(c as Chan<unknown>).sendWaiters, 3)
        const k = i % 3
        if (sends) {
          const got = k === 0 ? f.take() : k === 1 ? g.take() : c.tryRecv()
          assert.equal(got, { value: i, ok: true }, `select ${i} (remote ${remote}): the partner got the send case's value`)
        } else {
          assert.ok(k === 0 ? f.put(i) : k === 1 ? g.put(i) : c.trySend(i), `select ${i}: the parked case took the value`)
        }
        const r = await p
        assert.is(r.index, k, `select ${i}: case ${r.index} fired, not ${k}`)
        if (!sends) assert.is(r.value, i)
        assertQuiet([c as Chan<unknown>], [f, g] as SlotChan<unknown>[])
        assert.is(f.full || g.full || c.len > 0, false, 'no other case took or left a value')
      }
    }
  }),
)

test(
  'claim race: a remote claim makes same-thread channels skip that select, and keep their value',
  deadline('claim race', async () => {
    const f = new SlotChan<number>(true)
    const c = new Chan<number>()
    // Two selects wait on the same pair; the remote side claims A (FIFO head)
    // but its fire arrives a macrotask later. The Chan send that comes in
    // between must skip A's stale waiter and go to B.
    const a = select([recv(f), recv(c)])
    const b = select([recv(f), recv(c)])
    assert.ok(f.put(1), 'remote send claims A')
    assert.is(f.inFlight, 1)
    assert.ok(c.trySend(2), 'the Chan send finds B behind A')
    assert.equal(await a, { index: 0, value: 1, ok: true })
    assert.equal(await b, { index: 1, value: 2, ok: true })
    assertQuiet([c as Chan<unknown>], [f as SlotChan<unknown>])
    // Only a claimed select waits: the Chan keeps its value (unbuffered: the
    // send fails), and the stale waiter is gone.
    const q = select([recv(f), recv(c)])
    assert.ok(f.put(3))
    assert.is(c.trySend(4), false, 'a lost claim takes nothing')
    assert.is(inspectChan(c as Chan<unknown>).recvWaiters, 0, 'the stale waiter was dropped')
    assert.equal(await q, { index: 0, value: 3, ok: true })
    // Same for a buffered Chan: the value lands in the buffer.
    const d = new Chan<number>(1)
    const s = select([recv(f), recv(d)])
    assert.ok(f.put(5))
    assert.ok(d.trySend(6))
    assert.equal(await s, { index: 0, value: 5, ok: true })
    assert.equal(d.tryRecv(), { value: 6, ok: true }, 'the value stayed in the channel')
    assertQuiet([c, d] as Chan<unknown>[], [f as SlotChan<unknown>])
  }),
)

test(
  'claim race, many selects: every value is taken once, every select fires once',
  deadline('claim race stress', async () => {
    // Selects over a remote kind and a Chan, fed by both in a seeded random
    // interleaving; values that were accepted must each arrive exactly once.
    let seed = 12345
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % k
    }
    const f = new SlotChan<number>(true)
    const c = new Chan<number>()
    const sent = new Set<number>()
    const got: number[] = []
    let next = 0
    for (let round = 0; round < 300; round++) {
      const k = 1 + rand(4)
      const sels = Array.from({ length: k }, () => select([recv(f), recv(c)]).then((r) => got.push(r.value!)))
      // Feed until every select is claimed; some sends find only stale waiters.
      let claimed = 0
      while (claimed < k) {
        const v = next++
        const ok = rand(2) === 0 ? f.put(v) : c.trySend(v)
        if (ok) {
          sent.add(v)
          claimed++
        }
      }
      await Promise.all(sels)
      // A value parked in f's slot (no select left) is drained and counted.
      const rest = f.take()
      if (rest !== undefined) got.push(rest.value!)
    }
    assert.is(got.length, sent.size, 'as many values received as accepted')
    assert.equal(new Set(got), sent, 'each accepted value received exactly once')
    assertQuiet([c as Chan<unknown>], [f as SlotChan<unknown>])
  }),
)

test(
  'cancellation leaves no trace on any kind; an abort after a remote claim is ignored',
  deadline('cancel', async () => {
    for (const remote of [false, true]) {
      const f = new SlotChan<number>(remote)
      const g = new SlotChan<number>(remote, 0)
      const c = new Chan<number>()
      const ac = new AbortController()
      const p = select([recv(f), send(g, 1), recv(c)], { signal: ac.signal })
      assert.is(parkedCount(), 1)
      ac.abort(new Error('cancel'))
      assert.is(((await rejection(p)) as Error).message, 'cancel')
      assertQuiet([c as Chan<unknown>], [f, g] as SlotChan<unknown>[])
      assert.is(g.take(), undefined, 'the cancelled send case never delivers')
      assert.ok(f.put(2), 'a later send is not taken by the cancelled select')
      assert.equal(f.take(), { value: 2, ok: true })
      assert.is(c.trySend(3), false)
    }
    // Claimed remotely first: the select has completed, the value is on its way.
    const f = new SlotChan<number>(true)
    const ac = new AbortController()
    const p = select([recv(f), recv(new Chan<number>())], { signal: ac.signal })
    assert.ok(f.put(7))
    ac.abort(new Error('too late'))
    assert.equal(await p, { index: 0, value: 7, ok: true })
    assertQuiet([], [f as SlotChan<unknown>])
  }),
)

test(
  'close of a foreign kind wakes a parked select: ok=false for receive, ChanClosedError for send',
  deadline('close', async () => {
    for (const remote of [false, true]) {
      const f = new SlotChan<number>(remote)
      const c = new Chan<number>()
      const p = select([recv(f), recv(c)])
      f.close()
      assert.equal(await p, { index: 0, value: undefined, ok: false })
      const g = new SlotChan<number>(remote, 0)
      const q = select([send(g, 1), recv(c)])
      g.close()
      assert.instance(await rejection(q), ChanClosedError)
      assert.instance(thrown(() => trySelect([send(g, 1)])), ChanClosedError)
      assertQuiet([c as Chan<unknown>], [f, g] as SlotChan<unknown>[])
    }
  }),
)

/** A kind that another thread makes ready between the poll and the enqueue: its enqueue completes the select. */
class Late implements Receivable<string> {
  enqueued = 0;
  [RECV_READY](): boolean {
    return false
  }
  [POLL_RECV](): boolean {
    return false
  }
  [ENQUEUE_RECV](sel: Selector, index: number): object {
    this.enqueued++
    if (sel.claim(index)) sel.fire(index, 'late', true)
    return {}
  }
  [WITHDRAW](): void {}
  [DESCRIBE](): string {
    return 'late'
  }
}

test(
  'an enqueue that completes the select stops enqueueing and withdraws the cases before it',
  deadline('enqueue completes', async () => {
    const a = new Chan<number>()
    const b = new Chan<number>()
    const late = new Late()
    const r = await select([recv(a), recv(late), recv(b)])
    assert.equal(r, { index: 1, value: 'late', ok: true })
    assert.is(late.enqueued, 1)
    assertQuiet([a, b] as Chan<unknown>[], [])
  }),
)

test(
  'a foreign channel with a timeout: select([recv(jobs), recv(after(ms))])',
  deadline('timeout', async () => {
    for (const remote of [false, true]) {
      const jobs = new SlotChan<number>(remote)
      const r = await select([recv(jobs), recv(after(1))])
      assert.is(r.index, 1, 'nothing was sent: the timer fires')
      assert.ok(r.ok && r.value instanceof Date)
      assertQuiet([], [jobs as SlotChan<unknown>])
      // A ticker stands in for a long timeout that must not fire (and can be stopped).
      const t = tick(10_000)
      jobs.put(5)
      assert.equal(await select([recv(jobs), recv(t.c)]), { index: 0, value: 5, ok: true })
      const p = select([recv(jobs), recv(t.c)])
      assert.ok(jobs.put(6))
      assert.equal(await p, { index: 0, value: 6, ok: true })
      t.stop()
      assertQuiet([t.c as Chan<unknown>], [jobs as SlotChan<unknown>])
    }
  }),
)

test('the protocol is enforced at run time for values the types cannot see', () => {
  const half = { [RECV_READY]: () => true } as unknown as Receivable<number>
  assert.match((thrown(() => recv(half)) as Error).message, 'recv: expected a channel')
  assert.match((thrown(() => send(new Liar() as unknown as Sendable<number>, 1)) as Error).message, 'send: expected a channel')
})

// Type-level checks: `npm run typecheck` compiles this file, so a regression
// in the protocol's types fails the build. Never called.
function typeChecks(f: SlotChan<number>, s: SlotChan<string>, recvOnly: Receivable<number>, sendOnly: Sendable<number>, c: Chan<number>): void {
  void recv(recvOnly)
  void send(sendOnly, 1)
  // @ts-expect-error a send-only kind has no receive side
  void recv(sendOnly)
  // @ts-expect-error a receive-only kind has no send side
  void send(recvOnly, 1)
  // @ts-expect-error a SlotChan<number> does not accept a string
  void send(f, 'x')
  // @ts-expect-error a number is not a channel
  void recv(42)
  // @ts-expect-error a plain object is not a channel
  void recv({})
  // @ts-expect-error a kind must implement every protocol method (WITHDRAW, DESCRIBE, ... missing)
  const partial: Receivable<number> = { [RECV_READY]: () => true, [POLL_RECV]: () => false }
  const asRecv: Receivable<number> = c
  const asSend: Sendable<number> = c
  void (async () => {
    const r = await select([recv(s), recv(c), send(f, 1)])
    if (r.index === 0 && r.ok) {
      const v: string = r.value
      // @ts-expect-error case 0 carries the foreign channel's string
      const bad: number = r.value
      void [v, bad]
    } else if (r.index === 2) {
      const u: undefined = r.value
      void u
    }
  })
  void [partial, asRecv, asSend]
}
void typeChecks

test.run()
