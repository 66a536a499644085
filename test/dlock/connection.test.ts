// The server going away must give a clear error, not a hang. Each test starts
// its own redis-server, because each one ends it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Lock, RedisConnectionError, RedisLock } from '../../src/dlock/index.js'
import { deadline } from '../_support/deadline.js'
import { withServer } from './_redis.js'

function isConnectionError(err: unknown): err is RedisConnectionError {
  return err instanceof RedisConnectionError && err.code === 'ERR_DLOCK_CONNECTION'
}

test(
  'server killed while a release is in flight: RedisConnectionError with the socket error as cause',
  deadline('in flight', () =>
    withServer(async ({ server, connect }) => {
      // node-redis defaults: reconnect forever. The in-flight command must still fail.
      const client = await connect()
      const admin = await connect()
      // A generous timeout, so only the socket closing can end the release.
      const lock = (await new RedisLock(client, { commandTimeout: 60_000 }).tryAcquire('k', { ttl: 60_000 })) as Lock
      // Scripts block while writes are paused: the release reaches the server and waits there.
      await admin.sendCommand(['CLIENT', 'PAUSE', '60000', 'WRITE'])
      const release = lock.release().catch((e: unknown) => e)
      await admin.ping() // the release was written before this PING on the other connection
      await server.kill()
      const err = await release
      assert.ok(isConnectionError(err), `got ${String(err)}`)
      assert.match((err as Error).message, 'dlock: release "k": the connection to redis was lost')
      assert.ok((err as Error).cause !== undefined)
    }),
  ),
)

test(
  'server gone before the call (client reconnecting forever): release and extend fail at once, no hang',
  deadline('gone', () =>
    withServer(async ({ server, connect }) => {
      const client = await connect()
      const lock = (await new RedisLock(client, { commandTimeout: 60_000 }).tryAcquire('k', { ttl: 60_000 })) as Lock
      const closed = new Promise((resolve) => client.once('end', resolve).once('error', resolve))
      await server.kill()
      await closed
      for (const op of [() => lock.release(), () => lock.extend(1000)]) {
        const err = await op().catch((e: unknown) => e)
        assert.ok(isConnectionError(err), `got ${String(err)}`)
        assert.match((err as Error).message, 'not connected')
      }
    }),
  ),
)

test(
  'server killed while acquire is retrying on a held lock: acquire rejects with RedisConnectionError',
  deadline('retrying', () =>
    withServer(async ({ server, connect }) => {
      const holderClient = await connect({ reconnect: false })
      const client = await connect({ reconnect: false })
      await new RedisLock(holderClient).tryAcquire('held', { ttl: 60_000 })
      const waiting = new RedisLock(client).acquire('held', { ttl: 1000, retry: { minDelay: 1, maxDelay: 5 } }).catch((e: unknown) => e)
      for (let i = 0; i < 3; i++) await client.ping()
      await server.kill()
      const err = await waiting
      assert.ok(isConnectionError(err), `got ${String(err)}`)
    }),
  ),
)

test(
  'a server that stops answering: the call fails after commandTimeout with RedisConnectionError',
  deadline('timeout', () =>
    withServer(async ({ connect }) => {
      const client = await connect()
      const admin = await connect()
      await admin.sendCommand(['CLIENT', 'PAUSE', '60000', 'ALL'])
      const err = await new RedisLock(client, { commandTimeout: 200 }).tryAcquire('k', { ttl: 1000 }).catch((e: unknown) => e)
      assert.ok(isConnectionError(err), `got ${String(err)}`)
      assert.match((err as Error).message, 'redis did not answer within 200 ms')
    }),
  ),
)

test.run()
