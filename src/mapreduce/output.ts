/**
 * Part files: `key<TAB>value` lines, UTF-8 (or a streaming job's bytes as they came: `bytes`), written by one task attempt under a private name and
 * renamed into the output directory only once complete (the paper's atomic commit: a crashed or
 * duplicate attempt leaves at most a temp file, never a partial or doubled part file).
 */

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import type { Scalar } from './job.js'
import { textOf } from './keys.js'
import { writeText } from './runfile.js'

/** Bytes a writer buffers before it writes them. */
const BUFFER_BYTES = 1 << 16

export class PartWriter {
  records = 0
  bytes = 0
  readonly #fd: number
  readonly #tmp: string
  /**
   * The lines not yet written, as UTF-8. Not their strings: a reduce that emits a line per group
   * kept thousands of them alive across collections, and a 1 GiB word count's reduce Ms grew
   * their heaps by 25 MB with them (bench/NOTES.md).
   */
  #buf = Buffer.allocUnsafeSlow(BUFFER_BYTES)
  #len = 0
  #closed = false

  /** Keys and values are byte strings, one char per byte (streaming/pipe.ts), written as those bytes. */
  readonly #bytes: boolean

  /** Opens `tmp` (which must not exist) for writing. */
  constructor(tmp: string, o: { readonly bytes?: boolean } = {}) {
    this.#tmp = tmp
    this.#fd = openSync(tmp, 'wx')
    this.#bytes = o.bytes ?? false
  }

  add(key: Scalar, value: Scalar): void {
    const k = textOf(key)
    const v = textOf(value)
    const most = 3 * (k.length + v.length) + 2
    if (this.#len + most > this.#buf.length) {
      this.#flush()
      if (most > this.#buf.length) this.#buf = Buffer.allocUnsafeSlow(most)
    }
    const b = this.#buf
    let at = this.#len
    if (this.#bytes) {
      at += b.write(k, at, 'latin1')
      b[at++] = 0x09
      at += b.write(v, at, 'latin1')
    } else {
      at += writeText(b, at, k)
      b[at++] = 0x09
      at += writeText(b, at, v)
    }
    b[at++] = 0x0a
    this.#len = at
    this.records++
  }

  /** Flushes, syncs and closes the temp file, then renames it to `final`. */
  commit(final: string): void {
    this.close(true)
    renameSync(this.#tmp, final)
  }

  /** Closes the file (idempotent); the temp file stays until the attempt's directory is removed. */
  close(sync = false): void {
    if (this.#closed) return
    this.#closed = true
    this.#flush()
    if (sync) fsyncSync(this.#fd)
    closeSync(this.#fd)
  }

  #flush(): void {
    const b = this.#buf
    let off = 0
    while (off < this.#len) off += writeSync(this.#fd, b, off, this.#len - off)
    this.bytes += this.#len
    this.#len = 0
  }
}
