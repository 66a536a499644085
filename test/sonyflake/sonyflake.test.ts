import { setMaxListeners } from 'node:events'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock, OverTimeLimitError, Sonyflake } from '../../src/sonyflake/index.js'
import { deadline } from '../_support/deadline.js'

const START = Date.UTC(2025, 0, 1)
const UNIT = 10

/** Did `p` settle within one turn of the event loop? */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

test(
  'the layout is 39/8/16 by default and the parts are where Sonyflake puts them',
  deadline('layout', async () => {
    const clock = new ManualClock(START + 1234 * UNIT + 7)
    const sf = new Sonyflake({ clock, machineId: 0xbeef })
    assert.equal([sf.bitsTime, sf.bitsSequence, sf.bitsMachineId, sf.timeUnit], [39, 8, 16, 10])
    const id = await sf.nextId()
    assert.is(id, (1234n << 24n) | 0xbeefn)
    assert.equal(sf.decompose(id), { id, time: 1234n, sequence: 0, machine: 0xbeef })
    const id2 = await sf.nextId()
    assert.equal(sf.decompose(id2), { id: id2, time: 1234n, sequence: 1, machine: 0xbeef })
    assert.is(sf.toTime(id).getTime(), START + 1234 * UNIT)
  }),
)

test(
  'one generator on the real clock: no duplicates and strictly increasing',
  deadline('real clock', async () => {
    const sf = new Sonyflake({ machineId: 42 })
    let last = -1n
    const seen = new Set<bigint>()
    for (let i = 0; i < 3000; i++) {
      const id = await sf.nextId()
      assert.ok(id > last, `id ${i} (${id}) not above ${last}`)
      assert.ok(id < 1n << 63n)
      last = id
      seen.add(id)
    }
    assert.is(seen.size, 3000)
  }),
)

test(
  'two generators with different machine ids driven by several async loops: no duplicates',
  deadline('async loops', async () => {
    const gens = [new Sonyflake({ machineId: 1 }), new Sonyflake({ machineId: 2 })]
    const loop = async (sf: Sonyflake): Promise<bigint[]> => {
      const out: bigint[] = []
      for (let i = 0; i < 700; i++) out.push(await sf.nextId())
      return out
    }
    const runs = await Promise.all([0, 1, 2, 3].flatMap(() => gens.map(loop)))
    const all = new Set(runs.flat())
    assert.is(all.size, 8 * 700)
    for (const run of runs) for (let i = 1; i < run.length; i++) assert.ok((run[i] as bigint) > (run[i - 1] as bigint))
  }),
)

test(
  'on sequence overflow nextId waits for the next tick, then starts it at sequence 0',
  deadline('overflow', async () => {
    const clock = new ManualClock(START + 5 * UNIT)
    const sf = new Sonyflake({ clock, machineId: 3 })
    for (let s = 0; s < 256; s++) assert.equal(sf.decompose(await sf.nextId()).sequence, s)
    const next = sf.nextId()
    assert.is(clock.sleepers, 1)
    assert.not.ok(await settled(next), 'resolved before the clock reached the next tick')
    clock.advance(UNIT - 1)
    assert.not.ok(await settled(next), 'resolved one ms early')
    clock.advance(1)
    const parts = sf.decompose(await next)
    assert.is(parts.time, 6n)
    assert.is(parts.sequence, 0)
  }),
)

/** Starts `n` nextId() calls at once; `out` fills with [call index, id] in resolution order. */
function startCalls(sf: Sonyflake, n: number, signal?: AbortSignal): { out: [number, bigint][]; all: Promise<unknown> } {
  const out: [number, bigint][] = []
  const calls = Array.from({ length: n }, (_, i) =>
    sf.nextId(signal === undefined ? {} : { signal }).then(
      (id) => void out.push([i, id]),
      (err: unknown) => err,
    ),
  )
  return { out, all: Promise.all(calls) }
}

test(
  'a frozen clock: of 1000 calls made at once only the tick\'s 256 IDs resolve, in call order; each new tick releases the next 256',
  deadline('frozen clock', async () => {
    const clock = new ManualClock(START + 5 * UNIT)
    const sf = new Sonyflake({ clock, machineId: 3 })
    const { out, all } = startCalls(sf, 1000)
    for (let tick = 5; out.length < 1000; tick++) {
      await settled(Promise.resolve())
      const expected = Math.min(1000, (tick - 4) * 256)
      assert.is(out.length, expected, `resolved by tick ${tick}`)
      for (let k = (tick - 5) * 256; k < expected; k++) {
        const [index, id] = out[k] as [number, bigint]
        assert.is(index, k, 'resolved out of call order')
        assert.equal([sf.decompose(id).time, sf.decompose(id).sequence], [BigInt(tick), k % 256])
      }
      if (out.length < 1000) assert.is(clock.sleepers, 1, 'one sleep per generator, not one per waiting call')
      clock.advance(UNIT)
    }
    await all
    assert.is(clock.sleepers, 0)
  }),
)

test(
  'a generator restarted with the same machine id 5 ticks later repeats no ID the first one handed out',
  deadline('restart', async () => {
    // 2000 calls at once fill 8 ticks. The first generator crashes while its
    // calls wait for the clock: those never resolve, and the IDs they would have
    // had were never handed out.
    const first = new Sonyflake({ clock: new ManualClock(START + 100 * UNIT), machineId: 8 })
    const crash = new AbortController()
    setMaxListeners(2000, crash.signal) // one signal for 2000 calls is the point here
    const a = startCalls(first, 2000, crash.signal)
    await settled(Promise.resolve())
    const handedOut = new Set(a.out.map(([, id]) => id))
    crash.abort(new Error('crashed'))
    await a.all

    const clock = new ManualClock(START + 105 * UNIT)
    const restarted = new Sonyflake({ clock, machineId: 8 })
    const b = startCalls(restarted, 2000)
    await settled(Promise.resolve())
    while (b.out.length < 2000) {
      clock.advance(UNIT)
      await settled(Promise.resolve())
    }
    await b.all
    const repeated = b.out.filter(([, id]) => handedOut.has(id))
    assert.is(repeated.length, 0, `${repeated.length} IDs handed out twice`)
    for (const id of handedOut) assert.is(first.decompose(id).time, 100n, 'handed out an ID of a tick that had not begun')
    assert.is(handedOut.size, 256)
  }),
)

test(
  'two generators sharing one state word: neither takes the next tick before the clock reaches it',
  deadline('shared word', async () => {
    const clock = new ManualClock(START + 7 * UNIT)
    const state = Sonyflake.sharedState()
    const a = new Sonyflake({ clock, machineId: 4, sharedState: state })
    const b = new Sonyflake({ clock, machineId: 4, sharedState: state })
    for (let i = 0; i < 256; i++) await (i % 2 === 0 ? a : b).nextId()
    const fromA = a.nextId()
    const fromB = b.nextId()
    assert.not.ok(await settled(fromB), 'b took tick 8 while the clock was in tick 7')
    assert.not.ok(await settled(fromA))
    clock.advance(UNIT)
    const parts = [a.decompose(await fromA), b.decompose(await fromB)]
    assert.equal(parts.map((p) => p.time), [8n, 8n])
    assert.equal(parts.map((p) => p.sequence).sort(), [0, 1])
  }),
)

test(
  'the real clock, 5000 calls at once: none resolves before its tick has begun, all distinct, in call order',
  deadline('real clock at once', async () => {
    const sf = new Sonyflake({ machineId: 42 })
    const early: string[] = []
    const ids = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        sf.nextId().then((id) => {
          const now = Date.now()
          const tickStart = sf.toTime(id).getTime()
          if (tickStart > now) early.push(`call ${i}: ${tickStart - now} ms early`)
          return id
        }),
      ),
    )
    assert.equal(early.slice(0, 5), [], `${early.length} IDs before their tick`)
    assert.is(new Set(ids).size, 5000)
    for (let i = 1; i < ids.length; i++) assert.ok((ids[i] as bigint) > (ids[i - 1] as bigint), `call ${i} out of order`)
  }),
)

test(
  'a clock that goes back never takes the time part back; overflow then waits for the clock to catch up',
  deadline('clock back', async () => {
    const clock = new ManualClock(START + 100 * UNIT)
    const sf = new Sonyflake({ clock, machineId: 9 })
    const first = await sf.nextId()
    clock.set(START + 50 * UNIT)
    let last = first
    for (let i = 1; i < 256; i++) {
      const id = await sf.nextId()
      assert.ok(id > last)
      assert.is(sf.decompose(id).time, 100n)
      last = id
    }
    const next = sf.nextId()
    clock.set(START + 100 * UNIT)
    assert.not.ok(await settled(next), 'did not wait for tick 101')
    clock.set(START + 101 * UNIT)
    const parts = sf.decompose(await next)
    assert.equal([parts.time, parts.sequence], [101n, 0])
  }),
)

test(
  'an aborted overflow wait rejects with the signal reason and leaves no sleeper',
  deadline('abort', async () => {
    const clock = new ManualClock(START + 5 * UNIT)
    const sf = new Sonyflake({ clock, machineId: 1, bitsSequence: 1 })
    await sf.nextId()
    await sf.nextId()
    const ac = new AbortController()
    const next = sf.nextId({ signal: ac.signal })
    const reason = new Error('stop')
    ac.abort(reason)
    try {
      await next
      assert.unreachable()
    } catch (err) {
      assert.is(err, reason)
    }
    assert.is(clock.sleepers, 0)
  }),
)

test(
  'past the time limit nextId rejects with "over the time limit"',
  deadline('time limit', async () => {
    // 1 + 30 bits leaves exactly 32 bits of 1 ms ticks: about 49.7 days.
    const clock = new ManualClock(START + 2 ** 32 - 1)
    const sf = new Sonyflake({ clock, machineId: 5, bitsSequence: 1, bitsMachineId: 30, timeUnit: 1, startTime: START })
    assert.is(sf.bitsTime, 32)
    const last = await sf.nextId()
    assert.is(sf.decompose(last).time, 2n ** 32n - 1n)
    await sf.nextId() // sequence 1, the last ID of the last tick
    // Overflow would need tick 2^32: refused, and not by waiting.
    const err = await sf.nextId().catch((e: unknown) => e)
    assert.instance(err, OverTimeLimitError)
    assert.is((err as OverTimeLimitError).code, 'ERR_SONYFLAKE_OVER_TIME_LIMIT')
    assert.match((err as Error).message, 'over the time limit')
    clock.advance(1)
    assert.instance(await sf.nextId().catch((e: unknown) => e), OverTimeLimitError)
    assert.is(clock.sleepers, 0)
  }),
)

test(
  'the default 39-bit limit is reached after 2^39 ticks of 10 ms (about 174 years)',
  deadline('default time limit', async () => {
    const clock = new ManualClock(START + (2 ** 39 - 1) * UNIT)
    const sf = new Sonyflake({ clock, machineId: 1 })
    assert.is(sf.decompose(await sf.nextId()).time, 2n ** 39n - 1n)
    clock.set(START + 2 ** 39 * UNIT)
    assert.instance(await sf.nextId().catch((e: unknown) => e), OverTimeLimitError)
  }),
)

test('compose and decompose round-trip, toTime gives the tick start', () => {
  const clock = new ManualClock(START + 10_000)
  const sf = new Sonyflake({ clock, machineId: 1, timeUnit: 1, startTime: START })
  const cases: [number, number, number][] = [
    [START, 0, 0],
    [START, 255, 0],
    [START, 0, 65535],
    [START + 3_600_000, 17, 4242],
  ]
  for (const [time, seq, machine] of cases) {
    const id = sf.compose(new Date(time), seq, machine)
    assert.equal(sf.decompose(id), { id, time: BigInt(time - START), sequence: seq, machine })
    assert.is(sf.toTime(id).getTime(), time)
  }
})

test('compose checks every part', () => {
  const clock = new ManualClock(START + 10_000)
  const sf = new Sonyflake({ clock, machineId: 1 })
  const code = (f: () => unknown): string => {
    try {
      f()
    } catch (err) {
      return (err as { code: string }).code
    }
    return 'no error'
  }
  assert.is(code(() => sf.compose(START - 10, 0, 0)), 'ERR_SONYFLAKE_TIME_BEFORE_START')
  assert.is(code(() => sf.compose(START + 2 ** 39 * UNIT, 0, 0)), 'ERR_SONYFLAKE_OVER_TIME_LIMIT')
  assert.is(code(() => sf.compose(START, 256, 0)), 'ERR_SONYFLAKE_INVALID_SEQUENCE')
  assert.is(code(() => sf.compose(START, -1, 0)), 'ERR_SONYFLAKE_INVALID_SEQUENCE')
  assert.is(code(() => sf.compose(START, 0, 65536)), 'ERR_SONYFLAKE_INVALID_MACHINE_ID')
  assert.is(code(() => sf.compose(START, 0, 1.5)), 'ERR_SONYFLAKE_INVALID_MACHINE_ID')
})

test(
  'IDs above 2^53 stay exact (a Number would not)',
  deadline('bigint', async () => {
    const clock = new ManualClock(START + 2 ** 34 * UNIT)
    const sf = new Sonyflake({ clock, machineId: 1 })
    const a = await sf.nextId()
    const b = await sf.nextId()
    assert.ok(a > 2n ** 53n)
    assert.is(b - a, 1n << 16n)
    assert.is(sf.decompose(a).machine, 1)
    assert.is.not(BigInt(Number(a)), a, 'a Number would have dropped the machine id bit')
  }),
)

// Type-level checks, compiled by `tsc --noEmit`, never run.
export async function typeChecks(sf: Sonyflake): Promise<void> {
  // @ts-expect-error IDs are bigint: a number loses the low bits past 2^53
  const n: number = await sf.nextId()
  void n
  // @ts-expect-error decompose takes the bigint ID
  sf.decompose(1)
}

test.run()
