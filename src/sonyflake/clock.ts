/**
 * Clocks the generator reads. Injectable so tests can drive time by hand.
 *
 * Invariants:
 * - `now()` is wall-clock milliseconds since the Unix epoch. It may go backwards
 *   (NTP steps, a VM resumed); the generator, not the clock, keeps IDs monotonic.
 * - `sleep(ms)` resolves once `ms` milliseconds of *this* clock have passed, and
 *   rejects with `signal.reason` if the signal aborts first. It never leaves a
 *   timer or listener behind once settled.
 */

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  now(): number
  /** Resolves after `ms` milliseconds of this clock; rejects with `signal.reason` on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** Abortable `setTimeout` that rejects with the signal's own reason (not a generic AbortError). */
export function sleepMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, Math.max(0, ms))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: sleepMs,
}

interface Sleeper {
  readonly until: number
  readonly resolve: () => void
}

/**
 * A clock that moves only when told to: `set`, `advance`. Sleepers wake, in
 * deadline order, when the time reaches their deadline. Setting the time backwards
 * is allowed (that is what it is for) and wakes nobody.
 */
export class ManualClock implements Clock {
  /** Current time in ms since the epoch; changes only through set/advance. */
  #now: number
  /** Pending sleepers; each is removed when it resolves or its signal aborts. */
  #sleepers: Sleeper[] = []

  constructor(now: number | Date = 0) {
    this.#now = typeof now === 'number' ? now : now.getTime()
  }

  now(): number {
    return this.#now
  }

  /** How many sleeps are waiting for the time to move. */
  get sleepers(): number {
    return this.#sleepers.length
  }

  set(now: number | Date): void {
    this.#now = typeof now === 'number' ? now : now.getTime()
    const due = this.#sleepers.filter((s) => s.until <= this.#now).sort((a, b) => a.until - b.until)
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#now)
    for (const s of due) s.resolve()
  }

  advance(ms: number): void {
    this.set(this.#now + ms)
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      if (ms <= 0) {
        resolve()
        return
      }
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
        reject(signal?.reason)
      }
      const sleeper: Sleeper = {
        until: this.#now + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.#sleepers.push(sleeper)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
