/**
 * Reference rows for shape (a): what an unbuffered ping-pong costs with no
 * channel at all, so the table shows how much of gort's round trip is
 * bookkeeping and how much is the four `await`s every round trip needs.
 *
 * `Rendezvous` is the least a promise rendezvous can do: one parked resolver
 * per direction, resolving receivers with `{ value, ok }` like gort. It has no
 * FIFO queue, no close, no select, no cancellation, no deadlock registry, and it
 * starves timers (nothing ever yields to the event loop). The guarded variant
 * adds exactly gort's starvation guard (a budget of 1024 completing ops, then
 * one shared setImmediate that settles the held promises), the one piece of
 * gort's cost that ts-chan unsafe does not pay. Neither is a usable channel.
 */

const BUDGET = 1024
let budget = BUDGET
let held: (() => void)[] = []
const RESOLVED = Promise.resolve()

function flush(): void {
  budget = BUDGET
  const h = held
  held = []
  for (let i = 0; i < h.length; i++) h[i]!()
}

class Rendezvous<T> {
  #recv: ((r: { value: T; ok: boolean }) => void) | null = null
  #send: (() => void) | null = null
  #value: T | undefined = undefined
  readonly #guard: boolean

  constructor(guard: boolean) {
    this.#guard = guard
  }

  #mustYield(): boolean {
    if (!this.#guard || --budget >= 0) return false
    if (budget === -1) setImmediate(flush)
    return true
  }

  send(value: T): Promise<void> {
    const r = this.#recv
    if (r !== null) {
      this.#recv = null
      r({ value, ok: true })
      return this.#mustYield() ? new Promise<void>((res) => void held.push(res)) : RESOLVED
    }
    this.#value = value
    return new Promise<void>((res) => {
      this.#send = res
    })
  }

  recv(): Promise<{ value: T; ok: boolean }> {
    const s = this.#send
    if (s !== null) {
      this.#send = null
      s()
      const r = { value: this.#value as T, ok: true }
      this.#value = undefined
      return this.#mustYield() ? new Promise((res) => void held.push(() => res(r))) : Promise.resolve(r)
    }
    return new Promise((res) => {
      this.#recv = res
    })
  }
}

/** The same loop as gortPingPong, over `Rendezvous`; `guard` adds gort's yield budget. */
export function rawPingPong(guard: boolean): (n: number) => Promise<void> {
  return async (n) => {
    const ping = new Rendezvous<number>(guard)
    const pong = new Rendezvous<number>(guard)
    const done = (async () => {
      for (let i = 0; i < n; i++) {
        const r = await ping.recv()
        await pong.send(r.value)
      }
    })()
    for (let i = 0; i < n; i++) {
      await ping.send(i)
      await pong.recv()
    }
    await done
  }
}
