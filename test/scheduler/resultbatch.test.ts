import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Worker } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import { computeLayout, H_NPIDLE, O_WAITING, oOff, P_IDLE, pOff, writeHeader } from '../../src/scheduler/shared/layout.js'
import { mainBatching, mainTryBatch, W_NONE } from '../../src/scheduler/shared/park.js'
import { Runtime } from '../../src/scheduler/index.js'
import { gateSpin } from './fixtures/tasks.js'
import { flagArray, startWithoutRescue } from './_wait.js'

const N = 40

/** Runs N gateSpin tasks: releases them once the first result is in; returns the results. */
async function gated(rt: Runtime): Promise<number[]> {
  const view = flagArray(2)
  const all = Array.from({ length: N }, () => rt.go(gateSpin, view))
  await Promise.race(all)
  Atomics.store(view, 1, 1)
  return Promise.all(all)
}

test('with many Gs awaited and every P busy, the main thread takes results by a batched wait', deadline('result-batch', async () => {
  const rt = await startWithoutRescue(() => Runtime.start({ procs: 2, spares: 0 }))
  try {
    const got = await gated(rt)
    assert.equal([...got].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i))
    assert.ok(rt.stats().mainBatches.waits >= 1, JSON.stringify(rt.stats().mainBatches))
  } finally {
    await rt.close()
  }
}))

test('an M that goes idle ends a batched wait at once (the wait would outlast the test otherwise)', deadline('result-batch-nudge', async () => {
  // 100 ms per batched wait: the tasks end long before it unless the machine stalls that long.
  const rt = await startWithoutRescue(() => Runtime.start({ procs: 2, spares: 0, resultBatchUs: 100_000 }))
  try {
    await gated(rt)
    const b = rt.stats().mainBatches
    assert.ok(b.waits >= 1 && b.cut >= 1, JSON.stringify(b))
  } finally {
    await rt.close()
  }
}))

test('resultBatchUs: 0 turns batched waits off', deadline('result-batch-off', async () => {
  const rt = await startWithoutRescue(() => Runtime.start({ procs: 2, spares: 0, resultBatchUs: 0 }))
  try {
    await gated(rt)
    assert.equal(rt.stats().mainBatches, { waits: 0, cut: 0 })
  } finally {
    await rt.close()
  }
}))


test('handshake stress: the main thread never batches while an M parks unseen', deadline('result-batch-stress', async () => {
  // Each round the main thread starts a batched wait (mainTryBatch) while an M on another thread
  // marks its P idle (markIdle), at varying offsets. Lost: the main thread batched (it saw no idle
  // P) and no nudge came (the flag still says W_BATCH after both): a wait nobody would cut short.
  const rounds = 100_000
  const l = computeLayout(1, 4, 64, 64)
  const sab = new SharedArrayBuffer(l.words * 4)
  const I = new Int32Array(sab)
  writeHeader(I, l)
  const ctl = new Int32Array(new SharedArrayBuffer(12)) // [round go, round done, spare]
  const w = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { sab, ctl, rounds, entry: new URL('./fixtures/idler.ts', import.meta.url).href },
  })
  const exited = new Promise<void>((resolve, reject) => {
    w.once('exit', () => resolve())
    w.once('error', reject)
  })
  const po = pOff(l, 0)
  const flag = oOff(l, 0) + O_WAITING
  let lost = 0
  let batched = 0
  let seed = 777
  try {
    for (let r = 1; r <= rounds; r++) {
      Atomics.store(I, flag, W_NONE)
      Atomics.store(I, H_NPIDLE, 0)
      Atomics.store(I, po + P_IDLE, 0)
      Atomics.store(ctl, 0, r)
      seed = (Math.imul(seed, 1103515245) + 12345) | 0
      for (let i = (seed >>> 16) & 63; i > 0; i--) Atomics.load(ctl, 2)
      const b = mainTryBatch(I, l)
      while (Atomics.load(ctl, 1) !== r) {}
      if (b) {
        batched++
        if (mainBatching(I, l)) lost++
      }
      if (r % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await exited
    assert.is(lost, 0, `${lost} of ${batched} batched waits were never nudged`)
    assert.ok(batched > 0 && batched < rounds, `both orders happened (${batched} of ${rounds} batched)`)
  } finally {
    await w.terminate()
  }
}, 60_000))

test.run()
