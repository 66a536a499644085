// The server going away must give a clear error, not a hang. Each test starts
// its own redis-server, because each one ends it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Lock, RedisConnectionError, RedisLock } from '../../src/dlock/index.js'
import { deadline } from '../_support/deadline.js'
import { startRedis } from '../_support/redis-server.js'
import { type Client, closeAll, connect } from './_redis.js'

function isConnectionError(err: unknown): err is RedisConnectionError {
  return err instanceof RedisConnectionError && err.code === 'ERR_DLOCK_CONNECTION'
}

test(
  'server killed while a release is in flight: RedisConnectionError with the socket error as cause',
  deadline('in flight', async () => {
    const server = await startRedis()
    const clients: Client[] = []
    try {
      // node-redis defaults: reconnect forever. The in-flight command must still fail.
      const { client } = await connect(server.url)
      const { client: admin } = await connect(server.url)
      clients.push(client, admin)
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
    } finally {
      closeAll(clients)
      await server.kill()
    }
  }),
)

test(
  'server gone before the call (client reconnecting forever): release and extend fail at once, no hang',
  deadline('gone', async () => {
    const server = await startRedis()
    const clients: Client[] = []
    try {
      const { client } = await connect(server.url)
      clients.push(client)
      const lock = (await new RedisLock(client, { commandTimeout: 60_000 }).tryAcquire('k', { ttl: 60_000 })) as Lock
      const closed = new Promise((resolve) => client.once('end', resolve).once('error', resolve))
      await server.kill()
      await closed
      for (const op of [() => lock.release(), () => lock.extend(1000)]) {
        const err = await op().catch((e: unknown) => e)
        assert.ok(isConnectionError(err), `got ${String(err)}`)
        assert.match((err as Error).message, 'not connected')
      }
    } finally {
      closeAll(clients)
      await server.kill()
    }
  }),
)

test(
  'server killed while acquire is retrying on a held lock: acquire rejects with RedisConnectionError',
  deadline('retrying', async () => {
    const server = await startRedis()
    const clients: Client[] = []
    try {
      const { client: holderClient } = await connect(server.url, { reconnect: false })
      const { client } = await connect(server.url, { reconnect: false })
      clients.push(holderClient, client)
      await new RedisLock(holderClient).tryAcquire('held', { ttl: 60_000 })
      const waiting = new RedisLock(client).acquire('held', { ttl: 1000, retry: { minDelay: 1, maxDelay: 5 } }).catch((e: unknown) => e)
      for (let i = 0; i < 3; i++) await client.ping()
      await server.kill()
      const err = await waiting
      assert.ok(isConnectionError(err), `got ${String(err)}`)
    } finally {
      closeAll(clients)
      await server.kill()
    }
  }),
)

test(
  'a server that stops answering: the call fails after commandTimeout with RedisConnectionError',
  deadline('timeout', async () => {
    const server = await startRedis()
    const clients: Client[] = []
    try {
      const { client } = await connect(server.url)
      const { client: admin } = await connect(server.url)
      clients.push(client, admin)
      await admin.sendCommand(['CLIENT', 'PAUSE', '60000', 'ALL'])
      const err = await new RedisLock(client, { commandTimeout: 200 }).tryAcquire('k', { ttl: 1000 }).catch((e: unknown) => e)
      assert.ok(isConnectionError(err), `got ${String(err)}`)
      assert.match((err as Error).message, 'redis did not answer within 200 ms')
    } finally {
      closeAll(clients)
      await server.kill()
    }
  }),
)

test.run()
