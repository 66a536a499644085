/**
 * Time: sleep, after (Go's time.After) and tick (time.NewTicker).
 *
 * Invariants:
 * - A pending sleep/after/tick holds a real timer, so the event loop stays
 *   alive and the deadlock detector never fires while a timer can still wake
 *   someone (a goroutine in `select` with an `after` case is not deadlocked).
 * - after's channel has capacity 1 and gets exactly one value, so the timer
 *   never blocks and an unread value is simply dropped with the channel.
 * - A ticker drops ticks for slow readers, as Go's does (trySend into cap 1).
 * - Durations are validated: a negative, NaN or infinite ms throws a RangeError
 *   naming the value.
 */
import { Chan, type OpOptions } from './chan.js'

function checkMs(fn: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${fn}: duration must be a finite number of ms >= 0, got ${String(ms)}`)
  }
}

/** Resolves after `ms` milliseconds; rejects with `signal.reason` if aborted first. */
export function sleep(ms: number, options?: OpOptions): Promise<void> {
  checkMs('sleep', ms)
  const signal = options?.signal
  if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason)
  return new Promise<void>((resolve, reject) => {
    if (signal === undefined) {
      setTimeout(resolve, ms)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A channel that receives the current time once, after `ms` (Go's time.After). */
export function after(ms: number): Chan<Date> {
  checkMs('after', ms)
  const c = new Chan<Date>(1)
  setTimeout(() => c.trySend(new Date()), ms)
  return c
}

/** A ticker: `c` receives the time every `ms` until `stop()` (Go's time.Ticker). */
export class Ticker {
  readonly c: Chan<Date> = new Chan<Date>(1)
  #timer: ReturnType<typeof setInterval> | null

  constructor(ms: number) {
    checkMs('tick', ms)
    if (ms === 0) throw new RangeError('tick: non-positive interval for Ticker, got 0')
    this.#timer = setInterval(() => this.c.trySend(new Date()), ms)
  }

  /** Stops the ticks. Like Go, it does not close `c`; stopping twice is harmless. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}

/** Starts a Ticker firing every `ms`; call `stop()` when done. */
export function tick(ms: number): Ticker {
  return new Ticker(ms)
}
