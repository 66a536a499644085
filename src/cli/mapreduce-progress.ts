/**
 * The progress line of `gort mapreduce` on a terminal: maps done/total, reduces done/total, the
 * input rate, elapsed time, and failures and backups when there are some, one line on stderr
 * rewritten in place (`\r`, then ANSI erase-line) at most 10 times a second. No dependency: the
 * line is small, and the well-kept libraries for it are not in gort's dependencies.
 *
 * Invariants:
 * - The state is built from runJob's ProgressEvents and when they came; `formatProgress` is a pure
 *   function of it and the elapsed time (what the tests check).
 * - Every other write to the stream goes through `log`, which erases the line first and draws it
 *   again after, so a message never lands in the middle of the line.
 * - `stop()` erases the line and clears the timer; after it nothing is written.
 */

import type { ProgressEvent } from '../mapreduce/index.js'

export interface ProgressState {
  /** The job knows its tasks (the 'start' event came): before, the line says only `starting`. */
  started: boolean
  /** Large compressed inputs being decompressed before the maps (the 'decompress' event): files, bytes stored. */
  decompressing: { readonly files: number; readonly bytes: number } | undefined
  maps: number
  reduces: number
  mapsDone: number
  reducesDone: number
  /** Input bytes of the maps done. */
  bytes: number
  /**
   * Milliseconds from the start to the end of the map phase, once it has ended: the input rate is
   * then the map phase's, not one that falls through the reduce phase, which reads no input.
   */
  mapPhaseMs: number | undefined
  failed: number
  backups: number
}

export function newProgressState(): ProgressState {
  return { started: false, decompressing: undefined, maps: 0, reduces: 0, mapsDone: 0, reducesDone: 0, bytes: 0, mapPhaseMs: undefined, failed: 0, backups: 0 }
}

/** Folds one event, which came `elapsedMs` after the start, into the state. */
export function applyEvent(s: ProgressState, e: ProgressEvent, elapsedMs: number): void {
  if (e.type === 'phase' && e.phase === 'map') s.mapPhaseMs = elapsedMs
  else if (e.type === 'decompress') s.decompressing = { files: e.files, bytes: e.bytes }
  else if (e.type === 'start') {
    s.started = true
    s.maps = e.maps
    s.reduces = e.reduces
  } else if (e.type === 'attempt') {
    if (e.state === 'succeeded') {
      if (e.phase === 'map') {
        s.mapsDone = e.done
        s.bytes += e.bytes ?? 0
      } else s.reducesDone = e.done
    } else if (e.state === 'failed') s.failed++
    else if (e.state === 'started' && e.backup) s.backups++
  }
}

/** `1:05` for 65 s, `1:02:03` past an hour. */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/**
 * The line: `maps 3/10  reduces 0/4  12.5 MB/s  0:07` plus `  2 failed  1 backup` when nonzero. The
 * rate is the input mapped so far over the time so far, and the map phase's once it is over.
 * Before the job knows its tasks (listing the input, compiling the job, sampling): `starting  0:01`,
 * or while large compressed inputs are decompressed first: `decompressing 2 files (310.5 MB)  0:04`.
 */
export function formatProgress(s: ProgressState, elapsedMs: number): string {
  const d = s.decompressing
  if (!s.started && d !== undefined) return `decompressing ${d.files} file${d.files === 1 ? '' : 's'} (${(d.bytes / 1e6).toFixed(1)} MB)  ${formatElapsed(elapsedMs)}`
  if (!s.started) return `starting  ${formatElapsed(elapsedMs)}`
  const ms = s.mapPhaseMs ?? elapsedMs
  const mbs = ms > 0 ? s.bytes / 1e6 / (ms / 1000) : 0
  let line = `maps ${s.mapsDone}/${s.maps}  reduces ${s.reducesDone}/${s.reduces}  ${mbs.toFixed(1)} MB/s  ${formatElapsed(elapsedMs)}`
  if (s.failed > 0) line += `  ${s.failed} failed`
  if (s.backups > 0) line += `  ${s.backups} backup${s.backups === 1 ? '' : 's'}`
  return line
}

/** What the display writes to: process.stderr, or a fake terminal in tests. */
export interface ProgressStream {
  write(text: string): unknown
}

const ERASE = '\r\x1b[2K'
/** At most 10 redraws a second. */
export const REFRESH_MS = 100

export class ProgressLine {
  readonly state = newProgressState()
  readonly #out: ProgressStream
  readonly #now: () => number
  readonly #start: number
  /** The interval while the line is shown; undefined once stopped. */
  #timer: NodeJS.Timeout | undefined
  /** The text on screen now ('' when the line is erased), so an unchanged line is not redrawn. */
  #shown = ''

  constructor(out: ProgressStream, now: () => number = () => performance.now()) {
    this.#out = out
    this.#now = now
    this.#start = now()
    this.#timer = setInterval(() => this.draw(), REFRESH_MS)
    this.#timer.unref()
  }

  event(e: ProgressEvent): void {
    applyEvent(this.state, e, this.#now() - this.#start)
    // Shown as soon as the job knows its tasks, not at the next tick: a small job may be over by then.
    if (e.type === 'start' || e.type === 'decompress') this.draw()
  }

  draw(): void {
    if (this.#timer === undefined) return
    const line = formatProgress(this.state, this.#now() - this.#start)
    if (line === this.#shown) return
    this.#out.write(`${ERASE}${line}`)
    this.#shown = line
  }

  /** Writes a message line (it ends with \n) below nothing: the progress line is erased first and drawn again after. */
  log(message: string): void {
    if (this.#shown !== '') this.#out.write(ERASE)
    this.#shown = ''
    this.#out.write(`${message}\n`)
    this.draw()
  }

  stop(): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#shown !== '') this.#out.write(ERASE)
    this.#shown = ''
  }
}
