/**
 * A caller's M asks the main thread for a call port to an actor (the main thread holds every
 * actor's control port, so only it can have the actor's M open one), or to start one (spawnActor
 * inside a task). One listener on this M's worker port answers the requests by number.
 *
 * Invariant: each request is answered once; requests still open when the M ends die with it.
 */

import { parentPort, workerData } from 'node:worker_threads'
import { InternalError } from '../../errors.js'
import type { ActorConnect, ActorInfo, ActorSpawn, ActorToM, Connection } from '../shared/actor-protocol.js'
import { plainToError } from '../shared/codec.js'

const waiting = new Map<number, (msg: ActorToM) => void>()
let nextReq = 1
let listening = false

/** Posts `msg` (numbered `req`) to the main thread and resolves with its answer. */
function ask(make: (req: number, m: number) => ActorConnect | ActorSpawn): Promise<ActorToM> {
  const port = parentPort
  if (port === null) throw new InternalError('actor request off an M')
  if (!listening) {
    listening = true
    port.on('message', (msg: ActorToM | { t: string }) => {
      if (msg.t !== 'actor') return
      const a = msg as ActorToM
      const w = waiting.get(a.req)
      if (w === undefined) return
      waiting.delete(a.req)
      w(a)
    })
  }
  const req = nextReq++
  return new Promise<ActorToM>((resolve) => {
    waiting.set(req, resolve)
    port.postMessage(make(req, (workerData as { m: number }).m))
  })
}

export async function connect(id: number, dead: number): Promise<Connection> {
  const a = await ask((req, m) => ({ t: 'actor', k: 'connect', id, req, m, dead }))
  if (a.k !== 'port') throw new InternalError(`actor connect answered with ${a.k}`)
  return a.conn
}

/** spawnActor inside a task: the main thread's host starts it; resolves with its ActorInfo. */
export async function spawn(key: string, args: readonly unknown[], o: { restart: 'never' | 'always' | 'on-failure'; maxRestarts: number }): Promise<ActorInfo> {
  const a = await ask((req, m) => ({ t: 'actor', k: 'spawn', key, args, restart: o.restart, maxRestarts: o.maxRestarts, req, m }))
  if (a.k !== 'spawned') throw new InternalError(`actor spawn answered with ${a.k}`)
  if (a.info === undefined) throw plainToError(a.error)
  return a.info
}
