/**
 * Shape (a)'s burst from the main thread, shared by scheduler.bench.ts and main-burst.ts: submit
 * `count` tasks in one synchronous loop, then await them all with Promise.all; and the no-thread
 * floor under it.
 *
 * With 200k results pending, the main thread's cost is mostly V8's: the scavenger copying the
 * pending promises (about two thirds of the wall time with the default young generation) and
 * Promise.all's reaction per element (about 0.5 µs each here). Both are the same for gort and the
 * floor, so the floor is what this shape can reach on this machine.
 */

export interface BurstRun {
  readonly ms: number
  /** CPU of the whole process (all threads, V8's GC helpers included), µs per task. */
  readonly cpuUsPerTask: number
}

export async function burst(count: number, submit: (i: number) => Promise<number>): Promise<BurstRun> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const ps: Promise<number>[] = new Array(count)
  for (let i = 0; i < count; i++) ps[i] = submit(i)
  await Promise.all(ps)
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { ms, cpuUsPerTask: (c.user + c.system) / count }
}

/**
 * The floor under any go() that returns a promise settled from another thread: one pending
 * promise per task, resolved in batches from later event-loop turns (as completions arrive),
 * and no threads or queues at all.
 */
export function deferredPromises(): (i: number) => Promise<number> {
  let resolvers: ((v: number) => void)[] = []
  let head = 0
  let scheduled = false
  const keep = (r: (v: number) => void): void => void resolvers.push(r)
  const settleSome = (): void => {
    const end = Math.min(resolvers.length, head + 4096)
    for (; head < end; head++) resolvers[head]!(head)
    if (head < resolvers.length) setImmediate(settleSome)
    else {
      resolvers = []
      head = 0
      scheduled = false
    }
  }
  return () => {
    const p = new Promise<number>(keep)
    if (!scheduled) {
      scheduled = true
      setImmediate(settleSome)
    }
    return p
  }
}
