// Shared by the dlock tests: node-redis clients that are always closed.
import { type RedisClientType, createClient } from 'redis'

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
