// The parked-op registry (src/chan/park.ts): plain ops are found through the
// wait queues they sit in, selects through their own list. These tests pin what
// the deadlock report and the leak checks rely on: every blocked op is counted
// and listed exactly once, oldest first, and a queue is listed only while it
// holds a waiter, so the registry never keeps an idle channel alive.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Chan, Mutex, deadlockReport, parkedCount, recv, select, send } from '../../src/index.js'
import { listedQueueCount, parkedList } from '../../src/chan/park.js'

test(
  'every blocked op is counted once: plain ops, several in one queue, selects, a select with no cases',
  deadline('count', async () => {
    const a = new Chan<number>()
    const b = new Chan<number>()
    const c = new Chan<number>(1)
    c.trySend(0)
    const ac = new AbortController()
    const signal = ac.signal
    const settled: Promise<unknown>[] = []
    const keep = (p: Promise<unknown>): void => void settled.push(p.catch(() => undefined))

    keep(a.recv({ signal }))
    keep(a.recv({ signal }))
    keep(c.send(1, { signal }))
    assert.is(parkedCount(), 3)
    assert.is(listedQueueCount(), 2, 'a.recvq and c.sendq')
    keep(select([recv(a), recv(b), send(b, 7)], { signal }))
    assert.is(parkedCount(), 4, 'a select with three waiters is one op')
    assert.is(listedQueueCount(), 4, 'b.recvq and b.sendq joined; a.recvq was listed already')
    keep(select([], { signal }))
    assert.is(parkedCount(), 5, 'a select with no cases waits in no queue but is still parked')
    assert.is(listedQueueCount(), 4)

    ac.abort()
    await Promise.all(settled)
    assert.is(parkedCount(), 0)
    assert.is(listedQueueCount(), 0)
  }),
)

test(
  'the report lists parked ops oldest first, across channels, queues and selects',
  deadline('order', async () => {
    const x = new Chan<number>()
    const y = new Chan<number>()
    const z = new Chan<number>()
    const w = new Chan<number>()
    const ac = new AbortController()
    const signal = ac.signal
    const settled: Promise<unknown>[] = []
    const keep = (p: Promise<unknown>): void => void settled.push(p.catch(() => undefined))

    keep(x.recv({ signal })) // 1: x.recvq
    keep(select([recv(y), recv(z)], { signal })) // 2: a select, queued in y.recvq and z.recvq
    keep(y.recv({ signal })) // 3: y.recvq, behind the select's waiter
    keep(x.recv({ signal })) // 4: x.recvq, behind 1
    keep(select([], { signal })) // 5: a select in no queue
    keep(w.send(1, { signal })) // 6: w.sendq

    const sel = `case 0: receive from ${String(y)}; case 1: receive from ${String(z)}`
    const expected = [
      ['chan receive', String(x)],
      ['select', sel],
      ['chan receive', String(y)],
      ['chan receive', String(x)],
      ['select (no cases)', ''],
      ['chan send', String(w)],
    ]
    assert.equal(parkedList().map((p) => [p.waitReason(), p.detail()]), expected)
    const report = deadlockReport()
    const listed = report.split('\n').filter((l) => l.startsWith('\t')).map((l) => l.slice(1))
    assert.equal(listed.slice(0, expected.length), expected.map((e) => e[1]), report)

    ac.abort()
    await Promise.all(settled)
    assert.is(parkedCount(), 0)
    assert.is(listedQueueCount(), 0)
  }),
)

test(
  'a queue is unlisted as soon as it drains: hand-off, buffer refill, close, abort, select withdrawal',
  deadline('unlist', async () => {
    const a = new Chan<number>()
    const r = a.recv()
    assert.is(listedQueueCount(), 1)
    await a.send(1)
    assert.equal(await r, { value: 1, ok: true })
    assert.is(listedQueueCount(), 0, 'hand-off to a parked receiver')

    const c = new Chan<number>(1)
    await c.send(1)
    const s = c.send(2)
    assert.is(listedQueueCount(), 1)
    assert.equal(await c.recv(), { value: 1, ok: true })
    await s
    assert.is(listedQueueCount(), 0, 'a receive refilled the buffer from the parked sender')
    assert.equal(c.tryRecv(), { value: 2, ok: true })

    const d = new Chan<number>()
    const ds = d.send(1).catch((e: unknown) => e)
    const dr = new Chan<number>()
    const drr = dr.recv()
    d.close()
    dr.close()
    assert.instance(await ds, Error)
    assert.equal(await drr, { value: undefined, ok: false })
    assert.is(listedQueueCount(), 0, 'close woke everyone')

    const ac = new AbortController()
    const e = new Chan<number>()
    const er = e.recv({ signal: ac.signal }).catch((err: unknown) => err)
    ac.abort(new Error('stop'))
    assert.is(((await er) as Error).message, 'stop')
    assert.is(listedQueueCount(), 0, 'abort removed the waiter')

    const f = new Chan<number>()
    const g = new Chan<number>()
    const sel = select([recv(f), recv(g), send(g, 1)])
    assert.is(listedQueueCount(), 3)
    await f.send(4)
    assert.equal(await sel, { index: 0, value: 4, ok: true })
    assert.is(listedQueueCount(), 0, 'the select withdrew its losing cases')
    assert.is(parkedCount(), 0)
  }),
)

test(
  'a long-lived busy pair of channels and many short-lived ones leave nothing listed',
  deadline('churn', async () => {
    const mu = new Mutex()
    for (let i = 0; i < 2000; i++) {
      const ch = new Chan<number>()
      const p = ch.recv()
      await mu.lock()
      const q = mu.lock()
      mu.unlock()
      await q
      mu.unlock()
      ch.trySend(i)
      assert.equal(await p, { value: i, ok: true })
    }
    assert.is(listedQueueCount(), 0)
    assert.is(parkedCount(), 0)
  }),
)

test.run()
