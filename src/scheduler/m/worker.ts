/**
 * Worker-thread entry of an M. The main thread starts it (directly from dist/, or through
 * worker-bootstrap.mjs when running from .ts sources under tsx) with the runtime's shared buffer,
 * this M's index and the P it starts with (-1: a spare, parked until handed a P): in its
 * `workerData`, or, for a thread started before its Runtime (main/prestart.ts), as the first
 * message, which it waits for once its modules are loaded.
 */

import { parentPort, workerData } from 'node:worker_threads'
import { startMachine } from './machine.js'
import type { FromM } from '../shared/protocol.js'
import { Sched } from '../shared/sched.js'
import { setMSpawner, setRetire, setTaskSignals } from '../task.js'
import type { DeferredInit } from '../main/prestart.js'

interface Init {
  readonly sab: SharedArrayBuffer
  readonly m: number
  readonly p: number
  /** The shared-buffer registry's channel (sharedbufs.ts). */
  readonly sharedBufs: string
  /** The cancel channel (shared/cancel.ts). */
  readonly cancels: string
}

/**
 * Starts the M. No top-level await in an M's entry modules: a thread ended while V8 evaluates an
 * async module can abort the whole process (nodejs/node#43182, #53238).
 */
function start(init: Init): void {
  const sched = new Sched(init.sab)
  sched.attachBufs(init.m, init.sharedBufs)
  // Only the main thread can end a worker: a kill asked for by a task's goWith goes there.
  sched.attachCancels(init.cancels, (gid, gen) => parentPort?.postMessage({ t: 'kill', gid, gen } satisfies FromM))
  const m = startMachine(sched, init.m, init.p)
  setMSpawner(m.spawner)
  setTaskSignals(() => m.signals.get())
  setRetire(() => m.retire())
}

const data = workerData as Init | DeferredInit
if ('deferred' in data) parentPort!.once('message', start)
else start(data)
