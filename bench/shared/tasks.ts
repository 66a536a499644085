// Tasks for bench/shared.bench.ts: the M side of the SharedChan shapes.
import { threadId } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { SharedChan, task } from '../../src/scheduler/index.js'
import { recv, select } from '../../src/index.js'

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

/** (c) producer of many: sends from..from+n-1 on a shared queue (no close: main closes). */
export const produceN = task(import.meta.url, async function produceN(c: SharedChan<number>, from: number, n: number): Promise<number> {
  for (let i = from; i < from + n; i++) await c.send(i)
  return threadId
})

/** Now on a clock all threads share (ms): each thread's performance.now() has its own origin. */
const now = (): number => performance.timeOrigin + performance.now()

/** (c) consumer of many: receives until closed; [items, time of its first value, time of the close]. */
export const consumeN = task(import.meta.url, async function consumeN(c: SharedChan<number>): Promise<number[]> {
  let n = 0
  let t0 = 0
  for await (const _ of c) {
    if (n++ === 0) t0 = now()
  }
  return [n, t0, now(), threadId]
})

/** (e) receives by select over four shared channels until all are closed; [items, first, end, thread]. */
export const selectSink = task(import.meta.url, async function selectSink(a: SharedChan<number>, b: SharedChan<number>, c: SharedChan<number>, d: SharedChan<number>): Promise<number[]> {
  const cs: (SharedChan<number> | null)[] = [a, b, c, d]
  let open = 4
  let n = 0
  let t0 = 0
  while (open > 0) {
    const r = await select([recv(cs[0]!), recv(cs[1]!), recv(cs[2]!), recv(cs[3]!)])
    if (!r.ok) {
      cs[r.index] = null
      open--
      continue
    }
    if (n++ === 0) t0 = now()
  }
  return [n, t0, now(), threadId]
})

/** (e) one of the four producers: sends 0..n-1 on its own channel, then closes it. */
export const produceClose = task(import.meta.url, async function produceClose(c: SharedChan<number>, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await c.send(i)
  c.close()
  return threadId
})
