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
 * - Durations follow Go: a zero or negative duration means "now" (time.Sleep
 *   returns at once, time.After fires at once); a ticker's interval must be
 *   positive. A non-number, NaN or infinite ms throws a RangeError naming it.
 */
import { Chan, type OpOptions, describeValue, refuseBySignal } from './chan.js'

/** The duration to pass to setTimeout; throws for what Go's time.Duration cannot be. */
function checkMs(fn: string, ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RangeError(`${fn}: duration must be a finite number of ms, got ${describeValue(ms)}`)
  }
  return ms < 0 ? 0 : ms
}

/** Resolves after `ms` milliseconds; rejects with `signal.reason` if aborted first. */
export function sleep(ms: number, options?: OpOptions): Promise<void> {
  ms = checkMs('sleep', ms)
  const signal = options?.signal
  if (signal !== undefined) {
    const refused = refuseBySignal('sleep', signal)
    if (refused !== null) return refused
  }
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
  ms = checkMs('after', ms)
  const c = new Chan<Date>(1)
  setTimeout(() => c.trySend(new Date()), ms)
  return c
}

/** A ticker: `c` receives the time every `ms` until `stop()` (Go's time.Ticker). */
export class Ticker {
  readonly c: Chan<Date> = new Chan<Date>(1)
  #timer: ReturnType<typeof setInterval> | null

  constructor(ms: number) {
    if (checkMs('tick', ms) <= 0) throw new RangeError(`tick: non-positive interval for Ticker, got ${ms}`)
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
