// Shared by the dlock tests: node-redis clients that are always closed.
import { type RedisClientType, createClient } from 'redis'
import { type RedisServer, startRedis } from '../_support/redis-server.js'

export type Client = RedisClientType

/**
 * A connected client. `errors` collects its 'error' events (node-redis emits one
 * per failed reconnect; without a listener EventEmitter would throw them).
 */
export async function connect(url: string, options: { reconnect?: boolean } = {}): Promise<{ client: Client; errors: Error[] }> {
  const errors: Error[] = []
  const client: Client = createClient({
    url,
    ...(options.reconnect === false ? { socket: { reconnectStrategy: false as const } } : {}),
  })
  client.on('error', (err: Error) => errors.push(err))
  await client.connect()
  return { client, errors }
}

/** Closes every client, whatever state it is in (destroy() also stops reconnect attempts). */
export function closeAll(clients: Iterable<Client>): void {
  for (const c of clients) if (c.isOpen) c.destroy()
}

/** What `withServer` hands a test: its own server, and `connect` for clients that are closed for it. */
export interface ServerScope {
  readonly server: RedisServer
  connect(options?: { reconnect?: boolean }): Promise<Client>
}

/**
 * Runs `body` against a redis-server of its own (the connection tests end theirs),
 * then closes every client it connected and kills the server, pass or fail.
 */
export async function withServer(body: (scope: ServerScope) => Promise<void>): Promise<void> {
  const server = await startRedis()
  const clients: Client[] = []
  try {
    await body({
      server,
      async connect(options = {}) {
        const { client } = await connect(server.url, options)
        clients.push(client)
        return client
      },
    })
  } finally {
    closeAll(clients)
    await server.kill()
  }
}
