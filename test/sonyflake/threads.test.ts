import { Worker } from 'node:worker_threads'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Sonyflake } from '../../src/sonyflake/index.js'
import { deadline } from '../_support/deadline.js'

// Plain worker_threads (the scheduler Runtime is not used here): each worker runs
// its own Sonyflake over a SharedArrayBuffer state shared with its sibling.
const bootstrap = new URL('./fixtures/tsx-worker.mjs', import.meta.url)
const entry = new URL('./fixtures/generate.ts', import.meta.url).href

interface Generated {
  readonly ids: BigInt64Array
  /** IDs whose tick had not begun when nextId resolved. */
  readonly early: number
}

function generateInWorker(machineId: number, state: SharedArrayBuffer, count: number): Promise<Generated> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(bootstrap, { workerData: { entry, machineId, state, count } })
    let ids: Generated | null = null
    worker.once('message', (m: Generated) => {
      ids = m
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (ids !== null && code === 0) resolve(ids)
      else reject(new Error(`worker for machine ${machineId} exited with ${code} and ${ids ? 'ids' : 'no ids'}`))
    })
  })
}

test(
  'two machine ids, two threads each sharing one state: no duplicates, none before its tick, each thread strictly increasing',
  deadline(
    'threads',
    async () => {
      const count = 10_000
      const stateA = Sonyflake.sharedState()
      const stateB = Sonyflake.sharedState()
      const results = await Promise.all([
        generateInWorker(1, stateA, count),
        generateInWorker(1, stateA, count),
        generateInWorker(2, stateB, count),
        generateInWorker(2, stateB, count),
      ])
      const all = new Set<bigint>()
      const probe = new Sonyflake({ machineId: 0 })
      for (const [w, { ids, early }] of results.entries()) {
        assert.is(early, 0, `worker ${w}: ${early} IDs resolved before their tick had begun`)
        assert.is(ids.length, count)
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i] as bigint
          if (i > 0) assert.ok(id > (ids[i - 1] as bigint), `worker ${w}: id ${i} not above its predecessor`)
          assert.is(probe.decompose(id).machine, w < 2 ? 1 : 2)
          all.add(id)
        }
      }
      assert.is(all.size, 4 * count, 'duplicate ids across threads')
    },
    30_000,
  ),
)

test.run()
