/**
 * Attempt clocks: how a running attempt tells the coordinator, through shared memory, when its
 * body started, when it last made progress, that it ended, and that its thread is exiting; and
 * how the coordinator closes an attempt whose body has not started. One Int32Array per phase
 * (clockWords), three words per attempt (never reused within the phase): its state word; its
 * start word, which keeps when the body began after the state word has moved on (ENDED,
 * exiting), so that a finished attempt's duration can be read; and its progress word, a count
 * (wrapping) of the records and keys the attempt read and the lines its streaming process wrote,
 * which the coordinator watches: the task timeout counts from when it last changed, as Hadoop's
 * counts from a task's last progress. The state word's states, the only place they are named:
 *
 *   NOT_STARTED (0)  the G has not started its body (its M is starting, importing, or busy)
 *   > 0              started: Date.now() - epoch + 1 when the body began
 *   ENDED            the body has ended (its promise settled, whatever it brought)
 *   CLOSED           closed by the coordinator before the body started: it never will
 *   other < 0        the thread is exiting (`process.exit` in the job's code): -1 - exit code,
 *                    written by the thread's 'exit' listener before the thread stops
 *
 * The start word: 0 until the body began, then the started value above, written once by the
 * attempt's thread right after its compareExchange won (so a state word past `started` implies a
 * start word already written, and a start word of 0 reads as not started yet). The progress
 * word: written by the attempt's thread only, with plain (not atomic) increments, one per record
 * in the hot loops; the coordinator reads it atomically every poll, and a stale read only makes
 * it see less progress than there was, later, never more.
 *
 * Transitions, each once: NOT_STARTED -> started (the attempt's thread, compareExchange) or
 * NOT_STARTED -> CLOSED (the coordinator, compareExchange: so exactly one of the two wins); then
 * started -> ENDED or started -> exiting (the attempt's thread). Why: the task timeout counts
 * from the body's start (a fresh M's start-up and imports are not the task's); a thread that
 * calls process.exit is known to be dead at once, not only when the Worker's 'exit' event
 * reaches the main thread after the thread and its heap are torn down (seconds, on a loaded
 * machine); and a phase that abandons attempts (a lost backup copy, a failed or stopped job)
 * can wait for their bodies to end before the job ends their threads, since a streaming
 * attempt's processes outlive a thread that is ended before it kills them (drainClocks). A
 * reader that sees a stale value only polls again; a thread ended from outside (a kill, out of
 * memory) writes nothing, and the scheduler's MDiedError reports it.
 */

export const NOT_STARTED = 0
/** Below every exit-code word (-1 - code, code 0-255 or so), and below each other. */
export const ENDED = -(2 ** 30)
export const CLOSED = ENDED - 1

/** The clock words of a phase of `slots` attempts: state words, then start words, then progress words. */
export function clockWords(slots: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12 * slots))
}

/** Where slot's start word is. */
const startOf = (words: Int32Array, slot: number): number => words.length / 3 + slot
/** Where slot's progress word is. */
const progressOf = (words: Int32Array, slot: number): number => (words.length / 3) * 2 + slot

export interface AttemptClock {
  /** From clockWords. */
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

/**
 * On the attempt's thread, as its body begins: undefined when the coordinator closed the attempt
 * first (the body must not run), else `done`, to call when the body's promise settles.
 */
export function clockStarted(c: AttemptClock): { done: () => void; progress: () => void } | undefined {
  const at = Date.now() - c.epoch + 1
  if (Atomics.compareExchange(c.words, c.slot, NOT_STARTED, at) !== NOT_STARTED) return undefined
  Atomics.store(c.words, startOf(c.words, c.slot), at)
  const s = runningSet()
  s.add(c)
  const p = progressOf(c.words, c.slot)
  const w = c.words
  return {
    progress: () => {
      w[p] = (w[p]! + 1) | 0
    },
    done: () => {
      // Out of the exit listener's set first: an exit after this leaves ENDED as it is.
      if (!s.delete(c)) return
      Atomics.store(c.words, c.slot, ENDED)
      Atomics.notify(c.words, c.slot)
    },
  }
}

export type ClockReading =
  | { state: 'not started' } | { state: 'started'; at: number } | { state: 'ended' } | { state: 'closed' } | { state: 'exiting'; code: number }

function reading(w: number, epoch: number): ClockReading {
  if (w === NOT_STARTED) return { state: 'not started' }
  if (w > 0) return { state: 'started', at: epoch + w - 1 }
  if (w === ENDED) return { state: 'ended' }
  if (w === CLOSED) return { state: 'closed' }
  return { state: 'exiting', code: -1 - w }
}

/** On the coordinator: what the word says now. */
export function readClock(words: Int32Array, slot: number, epoch: number): ClockReading {
  return reading(Atomics.load(words, slot), epoch)
}

/**
 * On the coordinator: Date.now() when the attempt's body began, whatever its state word says now
 * (ended, exiting); undefined while it has not begun, and for an attempt closed before it did.
 */
export function startedAt(words: Int32Array, slot: number, epoch: number): number | undefined {
  const w = Atomics.load(words, startOf(words, slot))
  return w > 0 ? epoch + w - 1 : undefined
}

/** On the coordinator: the attempt's progress count (progress()); a change means it made progress since. */
export function progressCount(words: Int32Array, slot: number): number {
  return Atomics.load(words, progressOf(words, slot))
}

/** On the coordinator: closes the attempt if its body has not started (it never will), and returns what the word says. */
export function closeClock(words: Int32Array, slot: number, epoch: number): ClockReading {
  const w = Atomics.compareExchange(words, slot, NOT_STARTED, CLOSED)
  return reading(w === NOT_STARTED ? CLOSED : w, epoch)
}

/** How often drainClocks reads the words it waits for. */
const DRAIN_POLL_MS = 5

/**
 * On the coordinator: closes each of `slots` whose body has not started, and resolves once every
 * other one has ended (or its thread is exiting), or after `ms`, whichever is first. Polls (no
 * timer is left behind when it resolves).
 */
export function drainClocks(words: Int32Array, slots: readonly number[], epoch: number, ms: number): Promise<void> {
  let left = slots.filter((slot) => closeClock(words, slot, epoch).state === 'started')
  if (left.length === 0 || ms <= 0) return Promise.resolve()
  const deadline = Date.now() + ms
  return new Promise((resolve) => {
    const poll = (): void => {
      left = left.filter((slot) => readClock(words, slot, epoch).state === 'started')
      if (left.length === 0 || Date.now() >= deadline) resolve()
      else setTimeout(poll, DRAIN_POLL_MS)
    }
    setTimeout(poll, DRAIN_POLL_MS)
  })
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
