import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidLockKeyError, InvalidLockOptionError, type RedisClientLike, redisCheckMachineId, releaseMachineId } from '../../src/dlock/index.js'
import { InvalidMachineIdError, Sonyflake } from '../../src/sonyflake/index.js'
import { deadline } from '../_support/deadline.js'
import { withServer } from './_redis.js'

test(
  'checkMachineId backed by a Redis set: SADD 1 claims a free id, 0 refuses a taken one',
  deadline('machine ids', () =>
    withServer(async ({ connect }) => {
      const a = await connect()
      const b = await connect()
      const first = await Sonyflake.create({ machineId: 7, checkMachineId: redisCheckMachineId(a) })
      assert.is(first.decompose(await first.nextId()).machine, 7)
      assert.equal(await b.sMembers('gort:sonyflake:machine-ids'), ['7'])

      const clash = await Sonyflake.create({ machineId: 7, checkMachineId: redisCheckMachineId(b) }).catch((e: unknown) => e)
      assert.instance(clash, InvalidMachineIdError)
      assert.match((clash as Error).message, 'invalid machine id: 7 (rejected by checkMachineId)')

      // Many processes racing for the same ids: each id goes to exactly one of them.
      const check = redisCheckMachineId(b, { key: 'race' })
      const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => check(i % 10)))
      assert.is(verdicts.filter(Boolean).length, 10)

      assert.is(await releaseMachineId(a, 7), true)
      assert.is(await releaseMachineId(a, 7), false)
      const again = await Sonyflake.create({ machineId: 7, checkMachineId: redisCheckMachineId(b) })
      assert.is(again.machineId, 7)
    }),
  ),
)

test(
  'a bad set key, timeout or machine id fails up front with gort errors, before any redis call',
  deadline('machine id options', async () => {
    const calls: string[] = []
    const client = {
      isReady: true,
      sAdd: async (key: string) => void calls.push(key),
      sRem: async (key: string) => void calls.push(key),
    } as unknown as RedisClientLike
    assert.throws(() => redisCheckMachineId(client, { key: 5 as never }), (e: unknown) => e instanceof InvalidLockKeyError)
    assert.throws(() => redisCheckMachineId(client, { key: '' }), (e: unknown) => e instanceof InvalidLockKeyError)
    assert.throws(() => redisCheckMachineId(client, { commandTimeout: '9' as never }), (e: unknown) => e instanceof InvalidLockOptionError)
    const check = redisCheckMachineId(client)
    const bad = await check('7' as never).catch((e: unknown) => e)
    assert.instance(bad, InvalidLockOptionError)
    assert.is((bad as Error).message, 'dlock: invalid machine id: "7" (a non-negative integer)')
    assert.instance(await releaseMachineId(client, 7, { key: {} as never }).catch((e: unknown) => e), InvalidLockKeyError)
    assert.instance(await releaseMachineId(client, -1).catch((e: unknown) => e), InvalidLockOptionError)
    assert.equal(calls, [])
  }),
)

test.run()
