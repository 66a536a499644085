/**
 * Is a stuck M computing or blocked? The kernel knows: on Linux each thread's scheduler state is
 * in /proc/self/task/<tid>/stat ('R' running or runnable; 'S' or 'D' asleep, as in Atomics.wait
 * or synchronous I/O). Go's sysmon knows the same from its own bookkeeping (an M in a syscall);
 * JavaScript does not. The process-wide CPU time the monitor used alone before cannot tell which
 * thread burned it, and it undercounts whenever the main thread waits for a core (its event loop
 * counts as active while it waits): with both cores computing it could call a computing M
 * blocked and add a third thread.
 *
 * Why the state and not the thread's CPU time (schedstat): the kernel updates a running thread's
 * CPU time at ticks and context switches, so over the few ms the monitor has it is far off in
 * both directions; the state is exact at each reading.
 *
 * Invariants:
 * - Each M writes its own tid to its O_TID word before it runs any G; 0 means unknown (not
 *   Linux, or no /proc), and then every answer here is NaN: the caller falls back.
 * - The score is a moving average of the readings of one stall: the caller names when the stall
 *   began, and readings from before then are dropped, so an earlier stall never counts.
 * - Readings are taken only for Ms the monitor is about to judge (stuck, with work waiting), so an
 *   idle or healthy runtime pays nothing; each reading re-reads a descriptor kept open for that
 *   thread (closed when its thread is gone or the runtime closes).
 */

import { closeSync, openSync, readSync, readlinkSync } from 'node:fs'

/** This thread's kernel thread id, or 0 when the platform does not expose it. */
export function ownTid(): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : 0
  } catch {
    return 0
  }
}

/** Reads threads' scheduler states. */
export interface StateReader {
  /** 1 when thread `tid` of this process is running or runnable, 0 when asleep, NaN when unknown. */
  read(tid: number): number
  /** Releases what reading held (file descriptors). */
  close(): void
}

/**
 * Reads /proc/self/task/<tid>/stat through a descriptor kept open per thread: a re-read of the
 * open file costs a fraction of a fresh open and read.
 */
export class ProcStateReader implements StateReader {
  readonly #fds = new Map<number, number>()
  readonly #buf = Buffer.alloc(512)

  read(tid: number): number {
    let fd = this.#fds.get(tid)
    try {
      if (fd === undefined) {
        fd = openSync(`/proc/self/task/${tid}/stat`, 'r')
        this.#fds.set(tid, fd)
      }
      const n = readSync(fd, this.#buf, 0, this.#buf.length, 0)
      // The name in parentheses may hold spaces or ')': the state follows the last ')'.
      const close = this.#buf.lastIndexOf(0x29, n - 1)
      return close >= 0 && this.#buf[close + 2] === 0x52 /* R */ ? 1 : 0
    } catch {
      // No such thread (it exited), or no /proc.
      if (fd !== undefined) this.#drop(tid, fd)
      return NaN
    }
  }

  close(): void {
    for (const [tid, fd] of this.#fds) this.#drop(tid, fd)
  }

  #drop(tid: number, fd: number): void {
    this.#fds.delete(tid)
    try {
      closeSync(fd)
    } catch {
      // already gone
    }
  }
}

/**
 * A computing thread is seen asleep now and then (its isolate waits for V8's GC helper threads, or
 * a page fault), and the monitor's samples can come in bursts when the main thread is busy: two
 * asleep readings in a row once moved a computing M's P. Blocked is therefore asleep in at least
 * ASLEEP_READINGS readings in a row spanning at least ASLEEP_MS.
 */
const ASLEEP_READINGS = 3
const ASLEEP_MS = 4
/**
 * After RUNNING_READINGS runnable readings in a row in one stall (a long computation), read again
 * only every SLOW_READ_MS: each read is a /proc read on the main thread, which shares the cores
 * with the Ms it watches. A blocked verdict is then at most SLOW_READ_MS later.
 */
const RUNNING_READINGS = 4
const SLOW_READ_MS = 8

export class ThreadStates {
  readonly #readings: Int32Array
  /** Per M: asleep readings in a row, and when the first of them was taken. */
  readonly #asleep: Int32Array
  readonly #asleepSince: Float64Array
  /** Per M: runnable readings in a row. */
  readonly #running: Int32Array
  readonly #at: Float64Array
  readonly #reader: StateReader
  /** The reading the last runnable() call took (NaN: unknown), so a caller can tell "no verdict yet" from "cannot know". */
  lastRead = NaN

  /** For owner indices 0..maxM. */
  constructor(maxM: number, reader: StateReader = new ProcStateReader()) {
    this.#readings = new Int32Array(maxM + 1)
    this.#asleep = new Int32Array(maxM + 1)
    this.#asleepSince = new Float64Array(maxM + 1)
    this.#running = new Int32Array(maxM + 1)
    this.#at = new Float64Array(maxM + 1)
    this.#reader = reader
  }

  close(): void {
    this.#reader.close()
  }

  /** Some reading has given an answer: the kernel's word is available here. */
  readable = false

  /** Thread `tid`'s state now, with no averaging: 1 runnable, 0 asleep, NaN unknown. */
  stateNow(tid: number): number {
    if (tid <= 0) return NaN
    const r = this.#reader.read(tid)
    if (!Number.isNaN(r)) this.readable = true
    return r
  }

  /**
   * Reads M `m`'s state (thread `tid`) during a stall that began at `stallStart`: 0 when it has
   * been asleep long enough to call it blocked (ASLEEP_READINGS readings in a row over at least
   * ASLEEP_MS), else 1 (computing, or asleep too briefly to tell); NaN until two readings of the
   * stall exist.
   */
  runnable(m: number, tid: number, now: number, stallStart: number): number {
    const same = this.#readings[m] !== 0 && this.#at[m]! >= stallStart
    if (same && this.#running[m]! >= RUNNING_READINGS && now - this.#at[m]! < SLOW_READ_MS) {
      this.lastRead = 1
      return 1
    }
    const r = this.stateNow(tid)
    this.lastRead = r
    if (!Number.isFinite(r)) return NaN
    if (!same) {
      this.#readings[m] = 0
      this.#asleep[m] = 0
      this.#running[m] = 0
    }
    if (r !== 0) {
      this.#asleep[m] = 0
      this.#running[m]!++
    } else {
      this.#running[m] = 0
      if (this.#asleep[m]!++ === 0) this.#asleepSince[m] = now
    }
    this.#readings[m]!++
    this.#at[m] = now
    if (this.#readings[m]! < 2) return NaN
    return this.#asleep[m]! >= ASLEEP_READINGS && now - this.#asleepSince[m]! >= ASLEEP_MS ? 0 : 1
  }
}

/**
 * True when `busy` threads' worth of CPU (averaged over a window) covers every one of `running`
 * Ms: none of them can be blocked. Half a thread of slack for V8's helper threads and sampling noise.
 */
export function looksComputing(busy: number, running: number): boolean {
  return Number.isFinite(busy) && busy >= running - 0.5
}

/**
 * The monitor's verdict on a stuck M: computing when the kernel saw its thread runnable in at
 * least half of the stall's readings; without those, when the process's other threads burned
 * about as much CPU as there are running Ms.
 */
export function mComputing(runnable: number, busyThreads: number, runningMs: number): boolean {
  if (Number.isFinite(runnable)) return runnable >= 0.5
  return looksComputing(busyThreads, runningMs)
}
