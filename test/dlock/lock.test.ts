import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  InvalidLockKeyError,
  InvalidLockOptionError,
  type Lock,
  LockLostError,
  LockNotHeldError,
  RedisLock,
  fenceKey,
} from '../../src/dlock/index.js'
import { deadline } from '../_support/deadline.js'
import { type RedisServer, startRedis } from '../_support/redis-server.js'
import { type Client, closeAll, connect, withServer } from './_redis.js'

let server: RedisServer
const clients: Client[] = []

async function client(): Promise<Client> {
  const { client: c } = await connect(server.url)
  clients.push(c)
  return c
}

test.before(async () => {
  server = await startRedis()
})

test.after(async () => {
  closeAll(clients)
  await server.stop()
})

test(
  'tryAcquire: SET NX with a random token and a TTL; a second holder gets null until release',
  deadline('tryAcquire', async () => {
    const c = await client()
    const locks = new RedisLock(c)
    const a = await locks.tryAcquire('t1', { ttl: 10_000 })
    assert.ok(a)
    assert.is(await c.get('t1'), a.token)
    const pttl = await c.pTTL('t1')
    assert.ok(pttl > 0 && pttl <= 10_000, `pttl ${pttl}`)
    assert.match(a.token, /^[0-9a-f]{32}$/)
    assert.is(await locks.tryAcquire('t1', { ttl: 10_000 }), null)
    await a.release()
    assert.is(await c.get('t1'), null)
    const b = await locks.tryAcquire('t1', { ttl: 10_000 })
    assert.ok(b)
    assert.is.not(b.token, a.token)
    await b.release()
  }),
)

test(
  'fencing tokens strictly increase across acquisitions and clients, in both fence modes',
  deadline('fencing', async () => {
    for (const fence of ['time', 'counter'] as const) {
      const lockers = [0, 1, 2].map(async () => new RedisLock(await client(), { fence }))
      const fences: number[] = []
      for (let i = 0; i < 30; i++) {
        const lock = await ((await lockers[i % 3]) as RedisLock).acquire(`fence-key-${fence}`, { ttl: 5000 })
        fences.push(lock.fence)
        await lock.release()
      }
      for (let i = 1; i < fences.length; i++) assert.ok((fences[i] as number) > (fences[i - 1] as number), `${fence}: fence ${fences[i]} after ${fences[i - 1]}`)
      for (const f of fences) assert.ok(Number.isSafeInteger(f), `${fence}: fence ${f} is not an exact integer`)
      if (fence === 'counter') assert.is(fences[29], 30)
      // 'time': never below Redis's clock in microseconds (its clock is this machine's here).
      else assert.ok((fences[0] as number) >= Date.UTC(2025, 0, 1) * 1000, `time fence ${fences[0]} is not in microseconds`)
    }
  }),
)

test(
  'fences go on increasing after Redis restarts without persistence and forgets the counter; the counter mode starts again at 1',
  deadline('restart', () =>
    withServer(async ({ server, connect: connectFirst }) => {
      // The old holders keep their leases in their heads while Redis is gone.
      const c1 = await connectFirst({ reconnect: false })
      const old = (await new RedisLock(c1).tryAcquire('orders', { ttl: 60_000 })) as Lock
      const oldCounter = (await new RedisLock(c1, { fence: 'counter' }).tryAcquire('plain', { ttl: 60_000 })) as Lock
      assert.is(oldCounter.fence, 1)
      await server.kill()
      await withServer(async ({ connect: connectSecond }) => {
        const c2 = await connectSecond()
        const next = (await new RedisLock(c2).tryAcquire('orders', { ttl: 60_000 })) as Lock
        assert.ok(next.fence > old.fence, `fence ${next.fence} after a restart, ${old.fence} before it`)
        // Why 'counter' needs a Redis that persists its fence key.
        const nextCounter = (await new RedisLock(c2, { fence: 'counter' }).tryAcquire('plain', { ttl: 60_000 })) as Lock
        assert.is(nextCounter.fence, 1)
      })
    }),
  ),
)

test(
  '50 concurrent clients do GET/SET increments under the lock: the count is exact, fences increase',
  deadline(
    '50 clients',
    async () => {
      const c0 = await client()
      await c0.set('counter', '0')
      const rounds = 4
      const fencesInOrder: number[] = []
      const workers = await Promise.all(Array.from({ length: 50 }, () => client()))
      await Promise.all(
        workers.map(async (c) => {
          const locks = new RedisLock(c)
          for (let r = 0; r < rounds; r++) {
            const lock = await locks.acquire('counter-lock', { ttl: 10_000, retry: { minDelay: 1, maxDelay: 20 } })
            fencesInOrder.push(lock.fence)
            // A read-modify-write: without mutual exclusion, increments get lost.
            const value = Number(await c.get('counter'))
            await c.set('counter', String(value + 1))
            await lock.release()
          }
        }),
      )
      assert.is(await c0.get('counter'), String(50 * rounds))
      for (let i = 1; i < fencesInOrder.length; i++) {
        assert.ok((fencesInOrder[i] as number) > (fencesInOrder[i - 1] as number), 'fences out of order')
      }
    },
    60_000,
  ),
)

test(
  'a holder whose TTL lapsed cannot release or extend the next holder\'s lock',
  deadline('lapsed', async () => {
    const c = await client()
    const first = new RedisLock(c)
    const second = new RedisLock(await client())
    const a = (await first.tryAcquire('lapse', { ttl: 30 })) as Lock
    assert.ok(a)
    // The second holder waits on the real expiry through acquire's own retries.
    const b = await second.acquire('lapse', { ttl: 10_000, retry: { minDelay: 5, maxDelay: 20 } })
    assert.ok(b.fence > a.fence)
    const releaseErr = await a.release().catch((e: unknown) => e)
    assert.instance(releaseErr, LockLostError)
    assert.is((releaseErr as LockLostError).code, 'ERR_DLOCK_LOST')
    assert.instance(await a.extend(10_000).catch((e: unknown) => e), LockLostError)
    assert.is(await c.get('lapse'), b.token, "the lapsed holder touched the next holder's lock")
    await b.release()
  }),
)

test(
  'a client whose token is no longer the key\'s cannot release or extend it (the lock deleted and taken by another, no clock involved)',
  deadline('foreign token', async () => {
    const c = await client()
    const a = (await new RedisLock(c).tryAcquire('owned', { ttl: 60_000 })) as Lock
    await c.del('owned') // as if a's ttl had lapsed
    const b = (await new RedisLock(await client()).tryAcquire('owned', { ttl: 60_000 })) as Lock
    assert.ok(b, 'the second client did not get the freed lock')
    const releaseErr = await a.release().catch((e: unknown) => e)
    assert.instance(releaseErr, LockLostError)
    assert.match((releaseErr as Error).message, 'dlock: release failed: lock "owned" is lost')
    assert.is(await c.get('owned'), b.token, "a release with a foreign token deleted the holder's lock")
    await c.pExpire('owned', 50_000)
    const extendErr = await a.extend(1_000_000).catch((e: unknown) => e)
    assert.instance(extendErr, LockLostError)
    const pttl = await c.pTTL('owned')
    assert.ok(pttl > 0 && pttl <= 50_000, `a foreign extend changed the holder's ttl to ${pttl}`)
    assert.not.ok(a.released)
    await b.release()
  }),
)

test(
  'extend resets the TTL of a held lock; release twice is LockNotHeldError',
  deadline('extend', async () => {
    const c = await client()
    const lock = (await new RedisLock(c).tryAcquire('ext', { ttl: 1000 })) as Lock
    const before = lock.validUntil
    await lock.extend(60_000)
    const pttl = await c.pTTL('ext')
    assert.ok(pttl > 1000 && pttl <= 60_000, `pttl ${pttl}`)
    assert.ok(lock.validUntil > before)
    await lock.release()
    assert.ok(lock.released)
    const err = await lock.release().catch((e: unknown) => e)
    assert.instance(err, LockNotHeldError)
    assert.is((err as LockNotHeldError).code, 'ERR_DLOCK_NOT_HELD')
    assert.instance(await lock.extend(10).catch((e: unknown) => e), LockNotHeldError)
  }),
)

test(
  'acquire on a held lock keeps retrying until its signal aborts, then rejects with the reason',
  deadline('abort while retrying', async () => {
    const c = await client()
    const holder = (await new RedisLock(c).tryAcquire('busy', { ttl: 60_000 })) as Lock
    const ac = new AbortController()
    const reason = new Error('gave up')
    const waiting = new RedisLock(await client()).acquire('busy', { ttl: 1000, signal: ac.signal, retry: { minDelay: 1, maxDelay: 5 } })
    // Let it fail a few attempts on the held lock before aborting.
    for (let i = 0; i < 5; i++) await c.ping()
    ac.abort(reason)
    assert.is(await waiting.catch((e: unknown) => e), reason)
    assert.is(await c.get('busy'), holder.token)
    await holder.release()
  }),
)

test(
  'an acquire aborted while its SET is in flight leaves no lock behind',
  deadline('abort in flight', async () => {
    const c = await client()
    const ac = new AbortController()
    const attempt = new RedisLock(c).acquire('inflight', { ttl: 60_000, signal: ac.signal })
    ac.abort(new Error('now'))
    assert.match(String(await attempt.catch((e: unknown) => e)), 'now')
    // Same connection, so this PING is answered after the clean-up compare-and-delete.
    await c.ping()
    assert.is(await c.get('inflight'), null)
  }),
)

test(
  'invalid options are refused, echoing the value',
  deadline('options', async () => {
    const locks = new RedisLock(await client())
    for (const ttl of [0, -5, 1.5, Number.NaN]) {
      const err = await locks.tryAcquire('x', { ttl }).catch((e: unknown) => e)
      assert.instance(err, InvalidLockOptionError)
      assert.is((err as InvalidLockOptionError).code, 'ERR_DLOCK_INVALID_OPTION')
      assert.match((err as Error).message, `invalid ttl: ${ttl}`)
    }
    assert.instance(await locks.acquire('x', { ttl: 10, retry: { minDelay: 50, maxDelay: 10 } }).catch((e: unknown) => e), InvalidLockOptionError)
    assert.throws(() => new RedisLock(clients[0] as Client, { commandTimeout: 0 }), (e: unknown) => e instanceof InvalidLockOptionError)
  }),
)

/** What a call rejected or threw with, or 'no error'. */
async function failure(f: () => unknown): Promise<unknown> {
  try {
    await f()
  } catch (err) {
    return err
  }
  return 'no error'
}

test(
  'keys and options of the wrong type fail up front with gort errors, before any redis call',
  deadline('types', async () => {
    const c = await client()
    const locks = new RedisLock(c)
    for (const key of [5, undefined, null, '', {}, 5n] as unknown[]) {
      for (const call of [() => locks.tryAcquire(key as string, { ttl: 1000 }), () => locks.acquire(key as string, { ttl: 1000 }), () => fenceKey(key as string)]) {
        const err = await failure(call)
        assert.instance(err, InvalidLockKeyError, `key ${String(key)}: ${String(err)}`)
        assert.is((err as InvalidLockKeyError).code, 'ERR_DLOCK_INVALID_KEY')
      }
    }
    const keyErr = (await failure(() => locks.tryAcquire(5 as unknown as string, { ttl: 1000 }))) as Error
    assert.is(keyErr.message, 'dlock: invalid key: 5 (must be a non-empty string)')

    const cases: [string, () => unknown, string][] = [
      ['ttl a string', () => locks.tryAcquire('x', { ttl: '1000' as unknown as number }), 'dlock: invalid ttl: "1000"'],
      ['no options', () => locks.tryAcquire('x', undefined as never), 'dlock: invalid options: undefined'],
      ['options a number', () => locks.acquire('x', 1000 as never), 'dlock: invalid options: 1000'],
      ['signal not a signal', () => locks.tryAcquire('x', { ttl: 1000, signal: 'stop' as never }), 'dlock: invalid signal: "stop"'],
      ['retry a number', () => locks.acquire('x', { ttl: 1000, retry: 5 as never }), 'dlock: invalid retry: 5'],
      ['retry delay a string', () => locks.acquire('x', { ttl: 1000, retry: { minDelay: '5' as never } }), 'dlock: invalid retry.minDelay: "5"'],
      ['unknown fence mode', () => new RedisLock(c, { fence: 'lamport' as never }), 'dlock: invalid fence: "lamport"'],
      ['not a client', () => new RedisLock({} as never), 'dlock: invalid client'],
      ['options of RedisLock a string', () => new RedisLock(c, 'fast' as never), 'dlock: invalid options: "fast"'],
    ]
    for (const [name, call, text] of cases) {
      const err = await failure(call)
      assert.instance(err, InvalidLockOptionError, `${name}: ${String(err)}`)
      assert.ok((err as Error).message.startsWith(text), `${name}: "${(err as Error).message}"`)
    }
    const lock = (await locks.tryAcquire('typed', { ttl: 60_000 })) as Lock
    assert.instance(await failure(() => lock.release({ signal: {} as never })), InvalidLockOptionError)
    assert.instance(await failure(() => lock.extend(1000, 'soon' as never)), InvalidLockOptionError)
    await lock.release()
    assert.equal(await c.keys('x*'), [], 'a refused call reached redis')
  }),
)

// Type-level checks, compiled by `tsc --noEmit`, never run.
export function typeChecks(locks: RedisLock): void {
  // @ts-expect-error ttl is required: a lock without expiry outlives a crashed holder
  void locks.acquire('k', {})
  // @ts-expect-error fence is a number, not a string
  void locks.tryAcquire('k', { ttl: 1 }).then((l) => l?.fence.toUpperCase())
  // @ts-expect-error tryAcquire may return null: the lock can be taken
  void locks.tryAcquire('k', { ttl: 1 }).then((l) => l.release())
}

test.run()
