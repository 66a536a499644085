/**
 * Randomised stress: many goroutines mixing every kind of operation on a few
 * channels of different capacities, with cancellations. Checks what users rely
 * on: every value whose send succeeded is received exactly once, no value whose
 * send was cancelled is ever received, the hchan invariants hold at every step,
 * and nothing is left parked at the end. Choices come from a seeded PRNG, so a
 * failure names a seed that reproduces it.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Chan, ChanClosedError, WaitGroup, go, inspectChan, parkedCount, recv, select, send, trySelect } from '../../src/index.js'

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

function checkInvariants(chans: Chan<number>[], seed: number): void {
  for (const c of chans) {
    const s = inspectChan(c)
    const where = `seed ${seed}, ${String(c)} ${JSON.stringify(s)}`
    // Go's hchan invariants (no select here mixes send and receive on one channel).
    assert.ok(s.recvWaiters === 0 || s.sendWaiters === 0, `both queues non-empty: ${where}`)
    if (s.recvWaiters > 0) assert.is(s.len, 0, `receiver parked on a non-empty buffer: ${where}`)
    if (s.sendWaiters > 0) assert.is(s.len, s.cap, `sender parked with buffer room: ${where}`)
    assert.ok(s.len >= 0 && s.len <= s.cap, where)
  }
}

async function run(seed: number): Promise<void> {
  const rand = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const chans = [0, 0, 1, 3, 8].map((cap) => new Chan<number>(cap))
  const delivered = new Set<number>()
  const cancelled = new Set<number>()
  const received: number[] = []
  const producers = new WaitGroup()
  const consumers = new WaitGroup()
  const aborters: AbortController[] = []

  const nProducers = 6
  const perProducer = 300
  for (let p = 0; p < nProducers; p++) {
    producers.add(1)
    go(async () => {
      for (let i = 0; i < perProducer; i++) {
        const v = p * perProducer + i
        const ch = pick(chans)
        const kind = rand()
        try {
          if (kind < 0.3) {
            await ch.send(v)
          } else if (kind < 0.5) {
            if (!ch.trySend(v)) await ch.send(v)
          } else if (kind < 0.8) {
            const a = pick(chans)
            const b = pick(chans)
            await select([send(a, v), send(null, -1), send(b, v)])
          } else {
            const ac = new AbortController()
            aborters.push(ac)
            await ch.send(v, { signal: ac.signal })
          }
          delivered.add(v)
        } catch (error) {
          if (error instanceof ChanClosedError) throw error
          cancelled.add(v)
        }
        // Some steps abort a pending send of another producer, at a random moment.
        if (rand() < 0.3 && aborters.length > 0) aborters.splice(Math.floor(rand() * aborters.length), 1)[0]!.abort()
        checkInvariants(chans, seed)
      }
      producers.done()
    })
  }

  // One dedicated consumer per channel (plain recv / tryRecv on that channel
  // only) guarantees every parked sender is eventually served; extra consumers
  // race it with selects and trySelect over all open channels.
  const consume = (own: Chan<number> | null): void => {
    consumers.add(1)
    go(async () => {
      const open = new Set(own === null ? chans : [own])
      while (open.size > 0) {
        const list = [...open]
        let value: number | undefined
        let ok: boolean
        let from: Chan<number>
        if (own !== null) {
          const r = rand() < 0.5 ? await own.recv() : (own.tryRecv() ?? (await own.recv()))
          ;({ value, ok } = r)
          from = own
        } else if (rand() < 0.2) {
          const r = trySelect(list.map((c) => recv(c)))
          if (r === undefined) {
            await list[0]!.recv().then((x) => {
              if (x.ok) received.push(x.value)
              else open.delete(list[0]!)
            })
            continue
          }
          value = r.value as number | undefined
          ok = r.ok
          from = list[r.index]!
        } else {
          const r = await select([...list.map((c) => recv(c)), recv(null)])
          value = r.value as number | undefined
          ok = r.ok
          from = list[r.index]!
        }
        if (ok) received.push(value!)
        else open.delete(from)
        checkInvariants(chans, seed)
      }
      consumers.done()
    })
  }
  for (const c of chans) consume(c)
  for (let k = 0; k < 3; k++) consume(null)

  await producers.wait()
  for (const ac of aborters) ac.abort() // none can be pending any more: all producers returned
  for (const c of chans) c.close()
  await consumers.wait()

  assert.is(delivered.size + cancelled.size, nProducers * perProducer, `seed ${seed}: every send settled once`)
  const seen = new Set<number>()
  for (const v of received) {
    assert.not.ok(seen.has(v), `seed ${seed}: value ${v} received twice`)
    seen.add(v)
    assert.not.ok(cancelled.has(v), `seed ${seed}: cancelled value ${v} was delivered`)
  }
  assert.is(seen.size, delivered.size, `seed ${seed}: a delivered value was lost`)
  assert.ok(cancelled.size > 0, `seed ${seed}: the run exercised cancellation`)
  assert.is(parkedCount(), 0, `seed ${seed}: ops left parked`)
}

test(
  'randomised mix of send/recv/select/try/abort/close keeps every value exactly once',
  deadline('stress', async () => {
    for (const seed of [1, 2, 3, 42, 2026]) await run(seed)
  }, 60_000),
)

test.run()
