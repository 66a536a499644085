/**
 * Worker-thread entry of an M. The main thread starts it (directly from dist/, or through
 * worker-bootstrap.mjs when running from .ts sources under tsx) with the runtime's shared buffer,
 * this M's index and the P it starts with (-1: a spare, parked until handed a P).
 */

import { workerData } from 'node:worker_threads'
import { startMachine } from './machine.js'
import { Sched } from '../shared/sched.js'
import { setMSpawner } from '../task.js'

interface Init {
  readonly sab: SharedArrayBuffer
  readonly m: number
  readonly p: number
  /** The shared-buffer registry's channel (sharedbufs.ts). */
  readonly sharedBufs: string
}

const init = workerData as Init
const sched = new Sched(init.sab)
sched.attachBufs(init.m, init.sharedBufs)
setMSpawner(startMachine(sched, init.m, init.p).spawner)
