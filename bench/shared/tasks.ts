// Tasks for bench/shared.bench.ts: the M side of the SharedChan shapes.
import { threadId } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { SharedChan, task } from '../../src/scheduler/index.js'

/** (a) echoes ping -> pong until ping closes. */
export const echo = task(import.meta.url, async function echo(ping: SharedArrayBuffer, pong: SharedArrayBuffer): Promise<number> {
  const a = SharedChan.from<number>(ping)
  const b = SharedChan.from<number>(pong)
  let n = 0
  for (;;) {
    const r = await a.recv()
    if (!r.ok) return n
    await b.send(r.value)
    n++
  }
})

/** (b) producer: sends 0..n-1, then closes. */
export const produce = task(import.meta.url, async function produce(sab: SharedArrayBuffer, n: number): Promise<number> {
  const c = SharedChan.from<number>(sab)
  for (let i = 0; i < n; i++) await c.send(i)
  c.close()
  return threadId
})

/** (b) consumer: receives until closed; [items, ms from the first value to the close, thread]. */
export const consume = task(import.meta.url, async function consume(sab: SharedArrayBuffer): Promise<number[]> {
  const c = SharedChan.from<number>(sab)
  let n = 0
  let t0 = 0
  for (;;) {
    const r = await c.recv()
    if (n === 0) t0 = performance.now()
    if (!r.ok) return [n, performance.now() - t0, threadId]
    n++
  }
})
