/**
 * The workloads of bench/chan.bench.ts, one function per (shape, peer). Each
 * takes a batch size `n` and resolves when the batch is done; the runner times
 * batches. Every peer does the same work with its own idiom; where a peer lacks
 * a primitive (a mutex), the folklore equivalent is built from its channels.
 */
import { createRequire } from 'node:module'
import { Chan as TsChan, Select as TsSelect, recv as tsRecv } from 'ts-chan'
import * as pb from '@paybase/csp'
import { Chan, Mutex, WaitGroup, go, recv, select } from '../../src/index.js'

export type Impl = (ops: number) => Promise<void>

// js-csp ships no types; this is the slice of its API used here.
interface CspChan {
  close(): void
}
interface JsCsp {
  CLOSED: unknown
  chan(n?: number): CspChan
  go(gen: () => Generator<unknown, void, unknown>): CspChan
  put(ch: CspChan, v: unknown): unknown
  take(ch: CspChan): unknown
  alts(chs: CspChan[]): unknown
  poll(ch: CspChan): unknown
  takeAsync(ch: CspChan, cb: (v: unknown) => void): void
}
const csp = createRequire(import.meta.url)('js-csp') as JsCsp

/** Runs a js-csp process to completion as a promise. */
function cspRun(gen: () => Generator<unknown, void, unknown>): Promise<void> {
  return new Promise((resolve) => csp.takeAsync(csp.go(gen), () => resolve()))
}

// ---- (a) ping-pong ---------------------------------------------------------

export async function gortPingPong(n: number): Promise<void> {
  const ping = new Chan<number>()
  const pong = new Chan<number>()
  go(async () => {
    for (;;) {
      const r = await ping.recv()
      if (!r.ok) return
      await pong.send(r.value)
    }
  })
  for (let i = 0; i < n; i++) {
    await ping.send(i)
    await pong.recv()
  }
  ping.close()
}

export function tsChanPingPong(unsafe: boolean): Impl {
  return async (n) => {
    const ping = new TsChan<number>().setUnsafe(unsafe)
    const pong = new TsChan<number>().setUnsafe(unsafe)
    void (async () => {
      for (;;) {
        const r = await ping.recv()
        if (r.done) return
        await pong.send(r.value)
      }
    })()
    for (let i = 0; i < n; i++) {
      await ping.send(i)
      await pong.recv()
    }
    ping.close()
  }
}

export function jsCspPingPong(n: number): Promise<void> {
  const ping = csp.chan()
  const pong = csp.chan()
  csp.go(function* () {
    for (;;) {
      const v = yield csp.take(ping)
      if (v === csp.CLOSED) return
      yield csp.put(pong, v)
    }
  })
  return cspRun(function* () {
    for (let i = 0; i < n; i++) {
      yield csp.put(ping, i)
      yield csp.take(pong)
    }
    ping.close()
  })
}

export async function paybasePingPong(n: number): Promise<void> {
  const ping = pb.channel<number>()
  const pong = pb.channel<number>()
  void (async () => {
    for (;;) {
      const v = await pb.take(ping)
      if (v < 0) return
      await pb.put(pong, v)
    }
  })()
  for (let i = 0; i < n; i++) {
    await pb.put(ping, i)
    await pb.take(pong)
  }
  void pb.put(ping, -1)
}

// ---- (b) buffered producer/consumer ----------------------------------------

export async function gortBuffered(n: number): Promise<void> {
  const c = new Chan<number>(128)
  go(async () => {
    for (let i = 0; i < n; i++) await c.send(i)
    c.close()
  })
  for (;;) if (!(await c.recv()).ok) return
}

/** The synchronous fast path: trySend/tryRecv, awaiting only when they would block. */
export async function gortBufferedTry(n: number): Promise<void> {
  const c = new Chan<number>(128)
  go(async () => {
    for (let i = 0; i < n; i++) if (!c.trySend(i)) await c.send(i)
    c.close()
  })
  for (;;) {
    const r = c.tryRecv() ?? (await c.recv())
    if (!r.ok) return
  }
}

export function tsChanBuffered(unsafe: boolean): Impl {
  return async (n) => {
    const c = new TsChan<number>(128).setUnsafe(unsafe)
    void (async () => {
      for (let i = 0; i < n; i++) await c.send(i)
      c.close()
    })()
    for (;;) if ((await c.recv()).done) return
  }
}

export function jsCspBuffered(n: number): Promise<void> {
  const c = csp.chan(128)
  csp.go(function* () {
    for (let i = 0; i < n; i++) yield csp.put(c, i)
    c.close()
  })
  return cspRun(function* () {
    for (;;) if ((yield csp.take(c)) === csp.CLOSED) return
  })
}

// ---- (c) select over 4 channels -----------------------------------------------

export async function gortSelect(n: number): Promise<void> {
  const cs = [new Chan<number>(), new Chan<number>(), new Chan<number>(), new Chan<number>()] as const
  go(async () => {
    for (let i = 0; i < n; i++) await cs[i & 3]!.send(i)
  })
  for (let i = 0; i < n; i++) await select([recv(cs[0]), recv(cs[1]), recv(cs[2]), recv(cs[3])])
}

export function tsChanSelect(unsafe: boolean): Impl {
  return async (n) => {
    const cs = [0, 1, 2, 3].map(() => new TsChan<number>().setUnsafe(unsafe))
    void (async () => {
      for (let i = 0; i < n; i++) await cs[i & 3]!.send(i)
    })()
    // ts-chan's idiom for a select in a loop: build it once, wait + recv each time.
    const sel = new TsSelect(cs.map((c) => tsRecv(c))).setUnsafe(unsafe)
    for (let i = 0; i < n; i++) {
      const k = await sel.wait()
      sel.recv(sel.cases[k]!)
    }
  }
}

export function jsCspSelect(n: number): Promise<void> {
  const cs = [csp.chan(), csp.chan(), csp.chan(), csp.chan()]
  csp.go(function* () {
    for (let i = 0; i < n; i++) yield csp.put(cs[i & 3]!, i)
  })
  return cspRun(function* () {
    for (let i = 0; i < n; i++) yield csp.alts(cs)
  })
}

export async function paybaseSelect(n: number): Promise<void> {
  const cs = [pb.channel<number>(), pb.channel<number>(), pb.channel<number>(), pb.channel<number>()]
  void (async () => {
    for (let i = 0; i < n; i++) await pb.put(cs[i & 3]!, i)
  })()
  for (let i = 0; i < n; i++) await pb.alts(...cs)
}

// ---- (d) Mutex ---------------------------------------------------------------

export async function mutexUncontended(mk: () => { lock(): Promise<unknown>; unlock(): void }, n: number): Promise<void> {
  const m = mk()
  for (let i = 0; i < n; i++) {
    await m.lock()
    m.unlock()
  }
}

export async function mutexContended(mk: () => { lock(): Promise<unknown>; unlock(): void }, n: number): Promise<void> {
  const m = mk()
  const per = Math.ceil(n / 100)
  let counter = 0
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      for (let i = 0; i < per; i++) {
        await m.lock()
        counter++
        m.unlock()
      }
    }),
  )
  if (counter !== per * 100) throw new Error('lost increments')
}

export async function gortMutex100(n: number): Promise<void> {
  const m = new Mutex()
  const wg = new WaitGroup()
  const per = Math.ceil(n / 100)
  let counter = 0
  for (let g = 0; g < 100; g++) {
    wg.add(1)
    go(async () => {
      for (let i = 0; i < per; i++) {
        await m.lock()
        counter++
        m.unlock()
      }
      wg.done()
    })
  }
  await wg.wait()
  if (counter !== per * 100) throw new Error('lost increments')
}

export const tsChanMutex = (unsafe: boolean) => () => {
  const c = new TsChan<number>(1).setUnsafe(unsafe)
  return { lock: () => c.send(0), unlock: () => void c.tryRecv() }
}
export const paybaseMutex = () => {
  const c = pb.channel<number>()
  void pb.put(c, 0) // the token: take = lock, put back = unlock
  return { lock: () => pb.take(c), unlock: () => void pb.put(c, 0) }
}

export function jsCspMutex(contended: boolean): Impl {
  return (n) => {
    const m = csp.chan(1)
    if (!contended) {
      return cspRun(function* () {
        for (let i = 0; i < n; i++) {
          yield csp.put(m, 0)
          csp.poll(m)
        }
      })
    }
    const per = Math.ceil(n / 100)
    return Promise.all(
      Array.from({ length: 100 }, () =>
        cspRun(function* () {
          for (let i = 0; i < per; i++) {
            yield csp.put(m, 0)
            csp.poll(m)
          }
        }),
      ),
    ).then(() => undefined)
  }
}

// ---- (e) spawn ----------------------------------------------------------------

export async function gortSpawn(n: number): Promise<void> {
  const wg = new WaitGroup()
  wg.add(n)
  for (let i = 0; i < n; i++) go(async () => wg.done())
  await wg.wait()
}

export function jsCspSpawn(n: number): Promise<void> {
  let left = n
  return new Promise((resolve) => {
    for (let i = 0; i < n; i++) {
      csp.go(function* () {
        if (--left === 0) resolve()
      })
    }
  })
}

export async function nativeSpawn(n: number): Promise<void> {
  const ps: Promise<void>[] = new Array<Promise<void>>(n)
  for (let i = 0; i < n; i++) ps[i] = (async () => {})()
  await Promise.all(ps)
}

