/**
 * One streaming process: a task attempt's mapper, reducer or combiner, with text lines going in
 * on stdin and coming out on stdout, and Hadoop's `reporter:` lines on stderr.
 *
 * Byte strings. Hadoop Streaming passes bytes, whatever their encoding, so stdin and stdout carry
 * "byte strings": one char per byte (latin1), never UTF-8 text, and nothing is replaced by U+FFFD.
 * The streaming tasks keep them so end to end (the split's lines, keys and values in the buffer and
 * the runs, the part files: `PartWriter`'s `bytes`). Inside, such a string is stored as its UTF-8
 * like any other (a byte from 0x80 takes two), and UTF-8 order is code point order, which for
 * these strings is their bytes' order: keys still sort as `LC_ALL=C sort` and Hadoop sort them.
 *
 * Invariants:
 * - Input is written in batches of about BATCH characters, and a batch waits for 'drain' when the
 *   pipe is full (backpressure): memory stays bounded however fast the task produces lines and
 *   however slow the process reads them. A wait for 'drain' also ends when stdin closes or fails
 *   (the process exited without reading everything), so a dead process cannot hang the task;
 *   whether that is a failure is decided by its exit status alone.
 * - Output lines are cut at '\n' only ('\r' before it dropped, as for input records), each run of
 *   whole lines decoded at once (as byte strings; stderr as UTF-8, for messages). A last line
 *   without '\n' is a line.
 * - `done()` settles only after the process has exited, its stdout and stderr are closed (no
 *   handle outlives the attempt), and whatever else of its process group was still running was
 *   killed (as YARN ends a container's process tree): a command's stray background process does
 *   not outlive the attempt. Until then its pid is in the attempt's word of the phase's process
 *   groups (groups.ts), for the main thread to kill should it exit first. It rejects with
 *   StreamProcessError on a non-zero exit or a signal, naming the command, the status and the
 *   tail of its stderr.
 * - stderr lines `reporter:counter:G,C,N` add N to counter `C` (group `gort`) or `G,C` (any other
 *   group), G and C not blank, N an integer; `reporter:status:...` sets `status`; other lines, a
 *   malformed reporter line too, go on to this process's stderr, and the last TAIL_LINES of them
 *   are kept for the error.
 */

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { StreamProcessError } from '../errors.js'
import type { TaskCounters } from '../counters.js'
import { interpreterOf, type Command } from './command.js'
import { holdGroup, killGroup, releaseGroup, spawningGroup, type AttemptGroups } from './groups.js'

export const BATCH = 1 << 16
const TAIL_LINES = 20
const NL = 0x0a
const CR = 0x0d

/**
 * Splits a byte stream into lines: push chunks, get whole lines; `end()` gives the unterminated
 * rest. A line ends at '\n', '\r\n' or a '\r' alone, as Hadoop Streaming's readers of a command's
 * output end one (its LineReader), unless `keepCR`.
 */
export class LineSplitter {
  /**
   * The bytes after the last '\n' so far, as the chunks they came in (copied): joined once, when
   * the line ends. A Buffer grown by a concat per chunk made a line of n chunks cost n^2/2 chunk
   * copies: a 40 MB line from a mapper took 11-14 s.
   */
  #rest: Buffer[] = []
  readonly #keepCR: boolean
  readonly #encoding: 'utf8' | 'latin1'

  /**
   * `keepCR`: lines end at '\n' only, a '\r' before it left on the line (a caller that counts the
   * bytes it read). `encoding` 'latin1': lines as byte strings (see the module comment); '\n' and
   * '\r' are never inside a multi-byte UTF-8 sequence, so 'utf8' decodes whole lines too.
   */
  constructor(keepCR = false, encoding: 'utf8' | 'latin1' = 'utf8') {
    this.#keepCR = keepCR
    this.#encoding = encoding
  }

  /** The whole lines completed by `chunk`, in order. */
  push(chunk: Buffer): string[] {
    const last = chunk.lastIndexOf(NL)
    if (last < 0) {
      if (chunk.length > 0) this.#rest.push(Buffer.from(chunk))
      return []
    }
    const head = this.#rest.length === 0 ? chunk.subarray(0, last) : Buffer.concat([...this.#rest, chunk.subarray(0, last)])
    this.#rest = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : []
    const lines = head.toString(this.#encoding).split('\n')
    if (this.#keepCR) return lines
    if (head.indexOf(CR) < 0) return lines
    // A '\r' last on a line is its CRLF's; any other ends a line of its own.
    return lines.flatMap((l) => {
      const body = l.endsWith('\r') ? l.slice(0, -1) : l
      return body.includes('\r') ? body.split('\r') : body
    })
  }

  /** The lines after the last '\n' (none when the stream ended with one): a '\r' there ends a line, the stream's end the last. */
  end(): string[] {
    const r = this.#rest
    this.#rest = []
    if (r.length === 0) return []
    const l = (r.length === 1 ? r[0]! : Buffer.concat(r)).toString(this.#encoding)
    if (this.#keepCR || !l.includes('\r')) return [l]
    const lines = l.split('\r')
    if (lines.at(-1) === '') lines.pop() // a final '\r' ends the last line
    return lines
  }
}

/** Splits a streaming output line at its first tab: no tab, the whole line is the key and the value is empty. */
export function splitLine(line: string): [string, string] {
  const t = line.indexOf('\t')
  return t < 0 ? [line, ''] : [line.slice(0, t), line.slice(t + 1)]
}

/**
 * Why `file` could not be started, for StreamProcessError. ENOENT for a file that exists means
 * the kernel found no interpreter for it: the `#!` line's (resolveCommand checks an absolute one
 * beforehand; a relative one, or one removed since, ends here), or a binary's dynamic loader.
 * Node's own "spawn FILE ENOENT" would read as if the file were missing.
 */
function startFailure(file: string, e: Error): string {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(file)) return e.message
  const interp = interpreterOf(file)
  if (interp !== undefined) return `its #! interpreter ${JSON.stringify(interp)} was not found (spawn ENOENT)`
  return 'the program exists, but its #! interpreter or (for a binary) its dynamic loader was not found (spawn ENOENT)'
}

export class Pipe {
  /** The last `reporter:status:` message. */
  status = ''
  readonly #role: string
  readonly #command: Command
  readonly #child: ChildProcess
  readonly #stdin: Writable
  readonly #counters: TaskCounters
  readonly #tail: string[] = []
  readonly #done: Promise<void>
  #pending: string[] = []
  #chars = 0
  /** stdin closed or failed: writes are dropped, the exit status decides. */
  #inputGone = false
  #killedWhy: string | undefined
  readonly #progress: () => void

  /**
   * Starts `command` with `env` added to this process's environment. Each stdout line goes to
   * `onLine` (a byte string), synchronously, in order. `groups`: the attempt's words in the phase's process groups
   * and this process's role there (groups.ts), or undefined when nothing outside the attempt watches it.
   * `progress`: called as the process works, for the task timeout (clock.ts): for each line
   * written to it and each chunk it writes on stdout or stderr (Hadoop counts any stderr line).
   */
  constructor(
    role: string, command: Command, env: Readonly<Record<string, string>>, counters: TaskCounters, onLine: (line: string) => void,
    groups: { readonly attempt: AttemptGroups; readonly role: number } | undefined, progress: () => void = () => {},
  ) {
    this.#role = role
    this.#progress = progress
    this.#command = command
    this.#counters = counters
    // Its own process group (Hadoop starts tasks with setsid too): kill() then ends whatever the
    // command started, so no grandchild keeps the pipes open after the attempt is over.
    // The process runs before spawn() returns: the word says so first (groups.ts, SPAWNING).
    if (groups !== undefined) spawningGroup(groups.attempt, groups.role)
    let child: ChildProcess
    try {
      child = spawn(command.file, [...command.args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    } catch (e) {
      if (groups !== undefined) holdGroup(groups.attempt, groups.role, undefined)
      throw e
    }
    this.#child = child
    this.#stdin = child.stdin!
    const pid = child.pid // undefined when the spawn failed ('error' follows)
    if (groups !== undefined) holdGroup(groups.attempt, groups.role, pid)
    const gone = (): void => {
      this.#inputGone = true
    }
    this.#stdin.on('error', gone) // EPIPE: the process stopped reading
    this.#stdin.on('close', gone)
    const out = new LineSplitter(false, 'latin1')
    let outError: unknown
    child.stdout!.on('data', (chunk: Buffer) => {
      if (outError !== undefined || this.#killedWhy !== undefined) return
      progress()
      try {
        for (const l of out.push(chunk)) onLine(l)
      } catch (e) {
        // The task's side failed on a line (a bad key, a failed spill): stop the process.
        outError = e
        this.kill('was stopped: the task failed on its output')
      }
    })
    const err = new LineSplitter()
    child.stderr!.on('data', (chunk: Buffer) => {
      progress()
      for (const l of err.push(chunk)) this.#stderrLine(l)
    })
    this.#done = new Promise<void>((resolve, reject) => {
      let spawnError: Error | undefined
      child.on('error', (e) => {
        spawnError = e
      })
      // What it left in the background may hold its stdout or stderr open, and 'close' waits for
      // those pipes: the group goes as the process exits (the output already in the pipes stays).
      child.on('exit', () => {
        if (pid !== undefined) killGroup(pid)
      })
      child.on('close', (code, signal) => {
        if (pid !== undefined) {
          killGroup(pid) // what it left running in the background
          if (groups !== undefined) releaseGroup(groups.attempt, groups.role, pid)
        }
        for (const l of err.end()) this.#stderrLine(l)
        if (outError === undefined && this.#killedWhy === undefined) {
          try {
            for (const l of out.end()) onLine(l)
          } catch (e) {
            outError = e
          }
        }
        if (outError !== undefined) return reject(outError)
        const tail = this.#tail.join('\n')
        if (spawnError !== undefined) return reject(new StreamProcessError(role, command.text, null, null, tail, `could not start: ${startFailure(command.file, spawnError)}`))
        if (this.#killedWhy !== undefined) return reject(new StreamProcessError(role, command.text, code, signal, tail, this.#killedWhy))
        if (code !== 0 || signal !== null) return reject(new StreamProcessError(role, command.text, code, signal, tail))
        resolve()
      })
    })
    // done() may be awaited late (after the input is written); the rejection is not unhandled meanwhile.
    this.#done.catch(() => {})
  }

  /** Queues `text` (whole lines, a byte string) for stdin; returns a promise when the caller must wait for the pipe to drain. */
  write(text: string): Promise<void> | undefined {
    this.#progress()
    this.#pending.push(text)
    this.#chars += text.length
    return this.#chars >= BATCH ? this.flush() : undefined
  }

  /** Writes what is queued; resolves when the pipe can take more (or stdin is gone). */
  flush(): Promise<void> | undefined {
    if (this.#pending.length === 0) return undefined
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('')
    this.#pending = []
    this.#chars = 0
    if (this.#inputGone) return undefined
    if (this.#stdin.write(text, 'latin1')) return undefined
    return new Promise<void>((resolve) => {
      const stop = (): void => {
        this.#stdin.off('drain', stop)
        this.#stdin.off('close', stop)
        this.#stdin.off('error', stop)
        resolve()
      }
      this.#stdin.on('drain', stop)
      this.#stdin.on('close', stop)
      this.#stdin.on('error', stop)
    })
  }

  /** Flushes and closes stdin: the process sees the end of its input. */
  async end(): Promise<void> {
    const f = this.flush()
    if (f !== undefined) await f
    if (!this.#inputGone) this.#stdin.end()
  }

  /** Settles when the process has exited and its output is read: see the header. */
  done(): Promise<void> {
    return this.#done
  }

  /** True once stdin is closed (the process exited or stopped reading): more input would be dropped. */
  get inputGone(): boolean {
    return this.#inputGone
  }

  /**
   * Kills the process when the attempt's signal (its taskSignal()) aborts: an attempt that was
   * cancelled (a failed or stopped job, a timeout, a backup copy that lost) ends even while it
   * only waits for its process (to read its input, or to exit). The signal's event arrives on this
   * thread's event loop, which runs while the attempt awaits its process.
   */
  watchAbort(signal: AbortSignal): void {
    const onAbort = (): void => this.kill('was stopped: the attempt was cancelled')
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    const off = (): void => signal.removeEventListener('abort', onAbort)
    void this.#done.then(off, off)
  }

  /** Stops reading stdout until resumeOutput() (the process blocks once its pipe fills). */
  pauseOutput(): void {
    this.#child.stdout!.pause()
  }

  resumeOutput(): void {
    this.#child.stdout!.resume()
  }

  /** Ends the process and its process group (SIGKILL): the attempt is failing or abandoned. `why` is what done() will say. */
  kill(why: string): void {
    this.#killedWhy ??= why
    this.#inputGone = true
    this.#stdin.destroy()
    this.#child.stdout!.resume() // a paused stdout would never close, and neither would the process
    const pid = this.#child.pid
    if (pid === undefined || !killGroup(pid)) this.#child.kill('SIGKILL') // the group is gone already, or was never made
  }

  #stderrLine(line: string): void {
    if (line.startsWith('reporter:counter:')) {
      const cols = line.slice('reporter:counter:'.length).trim().split(',')
      const n = cols.length === 3 && /^[+-]?\d+$/.test(cols[2]!) ? Number(cols[2]) : Number.NaN
      // A counter needs a group and a name, as Hadoop's do: `reporter:counter:,,5` is no counter ",".
      if (Number.isSafeInteger(n) && cols[0]!.trim() !== '' && cols[1]!.trim() !== '') {
        this.#counters.increment(cols[0] === 'gort' ? cols[1]! : `${cols[0]},${cols[1]}`, n)
        return
      }
    } else if (line.startsWith('reporter:status:')) {
      this.status = line.slice('reporter:status:'.length)
      return
    }
    // Anything else, a malformed reporter line too, is the process's own diagnostics.
    process.stderr.write(`${this.#role} ${this.#command.text}: ${line}\n`)
    this.#tail.push(line)
    if (this.#tail.length > TAIL_LINES) this.#tail.shift()
  }
}
