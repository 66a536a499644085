/**
 * Part files: `key<TAB>value` lines, UTF-8, written by one task attempt under a private name and
 * renamed into the output directory only once complete (the paper's atomic commit: a crashed or
 * duplicate attempt leaves at most a temp file, never a partial or doubled part file).
 */

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import type { Scalar } from './job.js'
import { textOf } from './keys.js'

const FLUSH_CHARS = 1 << 16

export class PartWriter {
  records = 0
  bytes = 0
  readonly #fd: number
  readonly #tmp: string
  #pending: string[] = []
  #chars = 0
  #closed = false

  /** Opens `tmp` (which must not exist) for writing. */
  constructor(tmp: string) {
    this.#tmp = tmp
    this.#fd = openSync(tmp, 'wx')
  }

  add(key: Scalar, value: Scalar): void {
    const line = `${textOf(key)}\t${textOf(value)}\n`
    this.#pending.push(line)
    this.#chars += line.length
    this.records++
    if (this.#chars >= FLUSH_CHARS) this.#flush()
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
    if (this.#pending.length === 0) return
    const b = Buffer.from(this.#pending.join(''), 'utf8')
    let off = 0
    while (off < b.length) off += writeSync(this.#fd, b, off, b.length - off)
    this.bytes += b.length
    this.#pending = []
    this.#chars = 0
  }
}

/** `part-r-00003` / `part-m-00012`. */
export function partName(kind: 'r' | 'm', n: number): string {
  return `part-${kind}-${String(n).padStart(5, '0')}`
}
