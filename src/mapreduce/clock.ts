/**
 * Attempt clocks: how a running attempt tells the coordinator, through shared memory, when its
 * body started and that its thread is exiting. One Int32Array per phase, one word per attempt
 * (never reused within the phase), written only by the attempt's thread and read by the
 * coordinator's polls. The word's states, the only place they are named:
 *
 *   NOT_STARTED (0)  the G has not started its body (its M is starting, importing, or busy)
 *   > 0              started: Date.now() - epoch + 1 when the body began
 *   < 0              the thread is exiting (`process.exit` in the job's code): -1 - exit code,
 *                    written by the thread's 'exit' listener before the thread stops
 *
 * Transitions: NOT_STARTED -> started -> exiting, each once. Why: the task timeout counts from
 * the body's start (a fresh M's start-up and imports are not the task's), and a thread that
 * calls process.exit is known to be dead at once, not only when the Worker's 'exit' event
 * reaches the main thread after the thread and its heap are torn down (seconds, on a loaded
 * machine). A reader that sees a stale value only polls again; a thread ended from outside
 * (a kill, out of memory) writes nothing, and the scheduler's MDiedError reports it.
 */

export const NOT_STARTED = 0

export interface AttemptClock {
  readonly words: Int32Array
  readonly slot: number
  /** Date.now() on the main thread when the phase began. */
  readonly epoch: number
}

/** The attempts whose bodies run on this thread, for the 'exit' listener: one set per thread, whatever module copy. */
const RUNNING = Symbol.for('gort.mapreduce.runningClocks')

function runningSet(): Set<AttemptClock> {
  const g = globalThis as Record<symbol, Set<AttemptClock> | undefined>
  let s = g[RUNNING]
  if (s === undefined) {
    s = new Set()
    g[RUNNING] = s
    process.on('exit', (code) => {
      for (const c of s!) {
        Atomics.store(c.words, c.slot, -1 - (code | 0))
        Atomics.notify(c.words, c.slot) // the coordinator's watch (watchClock) wakes now, not at its next poll
      }
    })
  }
  return s
}

/** On the attempt's thread, as its body begins; `done` when the attempt's promise settles. */
export function clockStarted(c: AttemptClock): { done: () => void } {
  Atomics.store(c.words, c.slot, Date.now() - c.epoch + 1)
  const s = runningSet()
  s.add(c)
  return { done: () => void s.delete(c) }
}

export type ClockReading = { state: 'not started' } | { state: 'started'; at: number } | { state: 'exiting'; code: number }

/** On the coordinator: what the word says now. */
export function readClock(words: Int32Array, slot: number, epoch: number): ClockReading {
  const w = Atomics.load(words, slot)
  if (w === NOT_STARTED) return { state: 'not started' }
  return w > 0 ? { state: 'started', at: epoch + w - 1 } : { state: 'exiting', code: -1 - w }
}

/** Atomics.waitAsync (Node 16+; not in the ES2023 lib's types). */
const waitAsync = (Atomics as unknown as {
  waitAsync?: (a: Int32Array, i: number, v: number) => { async: false; value: string } | { async: true; value: Promise<string> }
}).waitAsync

/**
 * On the coordinator: calls `onChange` soon after the word at `slot` is notified (the attempt's
 * thread exiting), again and again until `stop()`; the caller reads the word itself. Waits with
 * Atomics.waitAsync, which keeps no process alive; `stop` notifies the word once so that no
 * waiter is left behind. Without waitAsync it does nothing: the caller's poll finds the change.
 */
export function watchClock(words: Int32Array, slot: number, onChange: () => void): { stop: () => void } {
  let stopped = false
  const wait = (): void => {
    if (stopped || waitAsync === undefined) return
    const w = waitAsync(words, slot, Atomics.load(words, slot))
    if (!w.async) queueMicrotask(wake) // the word changed between the load and the wait
    else void w.value.then(wake)
  }
  const wake = (): void => {
    if (stopped) return
    onChange()
    wait()
  }
  wait()
  return {
    stop: () => {
      if (stopped) return
      stopped = true
      Atomics.notify(words, slot)
    },
  }
}
