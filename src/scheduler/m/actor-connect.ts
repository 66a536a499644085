/**
 * A caller's M asks the main thread for a call port to an actor (the main thread holds every
 * actor's control port, so only it can have the actor's M open one). One listener on this M's
 * worker port answers the requests by number.
 *
 * Invariant: each request is answered once; requests still open when the M ends die with it.
 */

import { parentPort, workerData } from 'node:worker_threads'
import { InternalError } from '../../errors.js'
import type { ActorConnect, ActorToM, Connection } from '../shared/actor-protocol.js'

const waiting = new Map<number, (c: Connection) => void>()
let nextReq = 1
let listening = false

export function connect(id: number, dead: number): Promise<Connection> {
  const port = parentPort
  if (port === null) throw new InternalError('actor connect off an M')
  if (!listening) {
    listening = true
    port.on('message', (msg: ActorToM | { t: string }) => {
      if (msg.t !== 'actor' || (msg as ActorToM).k !== 'port') return
      const a = msg as ActorToM
      const w = waiting.get(a.req)
      if (w === undefined) return
      waiting.delete(a.req)
      w(a.conn)
    })
  }
  const req = nextReq++
  return new Promise<Connection>((resolve) => {
    waiting.set(req, resolve)
    port.postMessage({ t: 'actor', k: 'connect', id, req, m: (workerData as { m: number }).m, dead } satisfies ActorConnect)
  })
}
