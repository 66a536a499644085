/**
 * Splits and the records in them.
 *
 * A split is a byte range [start, end) of one file. Text splits are cut at fixed byte offsets,
 * not at line boundaries: the line reader makes them line-aligned by this rule (Hadoop's
 * LineRecordReader's): a record belongs to the split in which its first byte lies.
 * - A line ends at '\n', at '\r\n', or at a '\r' not followed by '\n', as Hadoop's LineReader
 *   ends one (old Mac text, a log that kept a terminal's carriage returns); the line is the bytes
 *   before its end. A final line without an end is a record; the end of the file's last line
 *   starts no empty record after it.
 * - A split that starts at 0 starts with a record. One that starts at s > 0 starts with a record
 *   only when the bytes before s end a line (byte s - 1 is '\n', or is '\r' and byte s is not
 *   '\n'); otherwise its first bytes finish a record of an earlier split and are skipped, up to
 *   and including the next line end (which may lie beyond `end`).
 * - A split reads every record that starts before `end`, to that record's line end or the file's
 *   end, even when that lies beyond `end`.
 * So each record is read exactly once, whatever the split size. Bytes are decoded as UTF-8 per
 * record, after the cut: '\n' (0x0A) and '\r' (0x0D) never occur inside a multi-byte sequence,
 * so a split boundary inside a character cannot garble one.
 */

import { constants as bufferConstants } from 'node:buffer'
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { splittable } from './codec.js'
import { RecordTooLongError } from './errors.js'
import type { InputFile } from './inputs.js'
import type { RecordKind } from './job.js'

export interface Split {
  /** Absolute path. */
  readonly path: string
  /** The file as the input pattern matched it. */
  readonly name: string
  readonly start: number
  readonly end: number
  /** A decompressed copy's (codec.ts): the bytes of the compressed file it was made from, which the split counts as its own. */
  readonly stored?: number
  /**
   * A decompressed copy of a part of a `.bz2` file (codec.ts, decompressBz2Part): the part's
   * start in that file (the split's, as Hadoop's `map.input.start` gives it), and what to add to
   * an offset in the copy for the record offset the job sees.
   */
  readonly origin?: Origin
}

export interface Origin {
  readonly start: number
  readonly shift: number
}

/** The bytes a split stands for in the job's counts: the file's as stored (a compressed file's, for a copy of its text). */
export const storedBytes = (s: Split): number => s.stored ?? s.end - s.start

/**
 * The splits of `files`, in file order then offset order. 'lines' and 'chunks': ranges of
 * `splitSize` bytes; an empty file has one of its own, and so has a compressed one (codec.ts),
 * whatever its size, but for a `.bz2`, cut as text is (its splits read the blocks that start in
 * them: bzip2.ts). 'files': one split per file, empty files included (a file is a record).
 */
export function computeSplits(files: readonly InputFile[], splitSize: number, records: RecordKind): Split[] {
  const out: Split[] = []
  for (const f of files) {
    if (records === 'files') {
      out.push({ path: f.path, name: f.name, start: 0, end: f.size })
      continue
    }
    // An empty file is a split of its own, as Hadoop's FileInputFormat makes one: its map task
    // runs (setup and cleanup; a streaming mapper that writes a line per file at its end).
    if (f.size === 0) out.push({ path: f.path, name: f.name, start: 0, end: 0, ...(f.stored === undefined ? {} : { stored: f.stored }) })
    // A compressed file is read from its start (codec.ts): one split, whatever its size; but a
    // .bz2 is cut as text is (its parts start at its blocks: bzip2.ts), and so is a decompressed
    // copy (f.stored; codec.ts expandCompressed).
    else if (!splittable(f.path)) out.push({ path: f.path, name: f.name, start: 0, end: f.size })
    else for (let s = 0; s < f.size; s += splitSize) out.push(cut(f, s, Math.min(s + splitSize, f.size)))
  }
  return out
}

/**
 * Bytes [start, end) of `f` (a file, or a split of one) as a split. For a decompressed copy, its
 * share of the stored bytes, in proportion (rounded so that the shares of adjacent pieces add up
 * to the whole).
 */
function cut(f: { readonly path: string; readonly name: string; readonly stored?: number | undefined; readonly start?: number; readonly end?: number; readonly size?: number }, start: number, end: number): Split {
  if (f.stored === undefined) return { path: f.path, name: f.name, start, end }
  const from = f.start ?? 0
  const len = (f.end ?? f.size ?? 0) - from
  const at = (x: number): number => (len === 0 ? 0 : Math.round((f.stored! * (x - from)) / len))
  return { path: f.path, name: f.name, start, end, stored: at(end) - at(start) }
}

/**
 * `splits` with their last two waves cut finer (guided self-scheduling, Polychronopoulos and Kuck
 * 1987), for a job whose split size gort chose: where at most `procs` splits' worth of bytes is
 * left, a split is cut in halves, and where at most half that is left, in quarters (never below
 * `least` bytes). Tasks start in order, so the last ones to start are short, and a thread that
 * finishes its share early takes one of them instead of waiting for a whole split's task on the
 * other thread. Equal tasks still end unevenly: 64 MiB word count maps took 4.7-6.6 s each at two
 * threads (bench/NOTES.md). Only when there are more than two waves (total > 2 x procs x
 * splitSize): a single wave of equal tasks is as even as it gets, and cutting it costs a task's
 * fixed costs for nothing. Each byte stays in exactly one split, in order.
 */
export function taperSplits(splits: readonly Split[], splitSize: number, procs: number, least: number): Split[] {
  const total = splits.reduce((n, s) => n + (s.end - s.start), 0)
  const wave = procs * splitSize
  if (procs < 2 || total <= 2 * wave) return [...splits]
  const out: Split[] = []
  let before = 0 // bytes of the splits before `s`
  for (const s of splits) {
    if (s.start === s.end || !splittable(s.path)) out.push(s) // an empty file's, or a compressed one
    else for (let at = s.start; at < s.end;) {
      const left = total - (before + at - s.start)
      const size = left > wave ? splitSize : left > wave / 2 ? splitSize / 2 : splitSize / 4
      const end = Math.min(s.end, at + Math.max(least, Math.floor(size)))
      out.push(cut(s, at, end))
      at = end
    }
    before += s.end - s.start
  }
  return out
}

/**
 * Map tasks from splits (Hadoop's CombineFileInputFormat, without its racks): consecutive splits,
 * in file order, share a task. There are as many tasks as `splitSize` bytes of input need
 * (rounded up), each split going to the task whose equal share of the bytes holds its middle:
 * tasks come out about equal, where filling each up to `splitSize` in turn would leave a last
 * small one running alone after the others. So a task holds about `splitSize` bytes: less than
 * its share plus one split (two splits of `splitSize` never meet). A file larger than a split
 * still gives a task per split; a directory of small files gives a task per `splitSize` of them
 * instead of one each, so a task's buffer sees more of each key (fewer pairs to shuffle) and each
 * reduce merges fewer runs. Every split lands in exactly one task, in order. A split's bytes are
 * what `weight` says (default: its length; the coordinator gives a compressed one its text's).
 */
export function packSplits(splits: readonly Split[], splitSize: number, weight: (s: Split) => number = (s) => s.end - s.start): Split[][] {
  const total = splits.reduce((n, s) => n + weight(s), 0)
  // Only empty files: one task for them all (a share of 0 bytes would put each in its own).
  if (total === 0) return splits.length === 0 ? [] : [[...splits]]
  const per = total / Math.max(1, Math.ceil(total / splitSize))
  const tasks: Split[][] = []
  let cur: Split[] = []
  let group = 0
  let at = 0
  for (const s of splits) {
    const n = weight(s)
    const g = Math.floor((at + n / 2) / per)
    if (cur.length > 0 && g !== group) {
      tasks.push(cur)
      cur = []
    }
    cur.push(s)
    group = g
    at += n
  }
  if (cur.length > 0) tasks.push(cur)
  return tasks
}

const NL = 0x0a
const CR = 0x0d

/** The most bytes LineReader reads as one line: V8's longest string, in UTF-8 bytes (a line this long or shorter always decodes). */
export const MAX_LINE_BYTES = bufferConstants.MAX_STRING_LENGTH

export interface LineReaderOptions {
  /** The first read's size; a longer line grows the buffer (default 1 MiB). */
  readonly bufSize?: number
  /** 'latin1': each line as a byte string, one char per byte (streaming, streaming/pipe.ts); default 'utf8'. */
  readonly encoding?: 'utf8' | 'latin1'
  /** The file as the input pattern matched it, for errors (default: the path). */
  readonly name?: string
  /** The longest line read, in bytes; a longer one is a RecordTooLongError (default MAX_LINE_BYTES). */
  readonly maxLine?: number
}

/**
 * Reads the line records of one split: `next()` moves to the next record and returns false after
 * the last; `offset` and `line` describe the current one. Reads the file in chunks; a line longer
 * than the buffer grows it, up to `maxLine` bytes (RecordTooLongError beyond: no string holds it,
 * and growing on would only take memory). Skipping the end of a record an earlier split owns
 * keeps nothing it read and stops at the split's end, however long that record is.
 */
export class LineReader {
  /** File offset of the current record's first byte. */
  offset = -1
  line = ''
  readonly #fd: number
  readonly #end: number
  readonly #name: string
  readonly #maxLine: number
  readonly #encoding: 'utf8' | 'latin1'
  #buf: Buffer
  /** File offset of #buf[0]; the buffer holds [#bufPos, #bufPos + #len). */
  #bufPos: number
  #len = 0
  #eof = false
  /** File offset of the next record's first byte. */
  #pos: number
  /**
   * The last scan for '\r' (#firstCR): it covered the file offsets [#crFrom, #crTo), and the first
   * '\r' there is at #crAt (-1: none). A file without one is scanned once a buffer, not once a line.
   */
  #crFrom = 0
  #crTo = 0
  #crAt = -1

  constructor(path: string, start: number, end: number, o: LineReaderOptions = {}) {
    this.#fd = openSync(path, 'r')
    this.#end = end
    this.#name = o.name ?? path
    this.#encoding = o.encoding ?? 'utf8'
    this.#maxLine = o.maxLine ?? MAX_LINE_BYTES
    this.#buf = Buffer.allocUnsafe(Math.max(16, o.bufSize ?? 1 << 20))
    this.#bufPos = start
    this.#pos = start
    if (start > 0) {
      // Does a record start at `start`? Only when the bytes before it end a line: a '\n', or a
      // '\r' whose next byte (this split's first) is not the '\n' of a CRLF.
      const two = Buffer.alloc(2)
      const n = readSync(this.#fd, two, 0, 2, start - 1)
      const ended = n >= 1 && (two[0] === NL || (two[0] === CR && (n < 2 || two[1] !== NL)))
      if (!ended) this.#pos = this.#skip(start)
    }
  }

  /** The file offset of the next record's first byte; the split's end or more when it has no more. */
  get nextOffset(): number {
    return this.#pos
  }

  /** The buffer's size now (tests: skipping and long lines must not grow it past need). */
  get bufferBytes(): number {
    return this.#buf.length
  }

  next(): boolean {
    if (this.#pos >= this.#end) return false
    const t = this.#find(this.#pos)
    let stop: number
    let after: number
    if (t < 0) {
      stop = this.#bufPos + this.#len // EOF: the last line has no end
      if (stop <= this.#pos) return false // the split ends at the file's end
      after = stop
    } else {
      stop = t
      // '\n'; '\r\n'; or a '\r' alone (#find gives a '\r' with its next byte buffered, or at EOF).
      after = this.#buf[t - this.#bufPos] === CR && t + 1 < this.#bufPos + this.#len && this.#buf[t + 1 - this.#bufPos] === NL ? t + 2 : t + 1
    }
    if (stop - this.#pos > this.#maxLine) throw new RecordTooLongError(this.#name, this.#pos, this.#maxLine)
    this.offset = this.#pos
    this.line = this.#buf.toString(this.#encoding, this.#pos - this.#bufPos, stop - this.#bufPos)
    this.#pos = after
    return true
  }

  close(): void {
    closeSync(this.#fd)
  }

  /**
   * The file offset of the first '\n' or '\r' at or after `from`, reading as needed; a '\r' only
   * once the byte after it is buffered too (or the file ends there). -1 at EOF (then the buffer
   * holds the rest of the file).
   */
  #find(from: number): number {
    let scanned = from
    for (;;) {
      const i = this.#len === 0 ? -1 : this.#buf.indexOf(NL, scanned - this.#bufPos)
      const bufEnd = this.#bufPos + this.#len
      const nl = i >= 0 && i < this.#len ? this.#bufPos + i : -1
      // The last scan saw no '\r' up to this '\n' (a file without any): no call.
      if (nl >= 0 && this.#crAt < 0 && scanned >= this.#crFrom && nl <= this.#crTo) return nl
      const cr = this.#firstCR(scanned, nl < 0 ? bufEnd : nl)
      if (cr >= 0 && (cr + 1 < bufEnd || this.#eof)) return cr
      if (nl >= 0) return nl
      if (this.#eof) return -1
      scanned = cr >= 0 ? cr : bufEnd
      this.#fill(from)
    }
  }

  /** The first '\r' in the buffered file offsets [from, limit), or -1; the scan is kept for the next call (#crAt). */
  #firstCR(from: number, limit: number): number {
    let at = this.#crAt
    if (from < this.#crFrom || (at >= 0 ? at < from : limit > this.#crTo)) {
      // Not known from the last scan: scan on, from where a scan that found none stopped.
      const s = at < 0 && from >= this.#crFrom && from < this.#crTo ? this.#crTo : from
      const i = this.#buf.indexOf(CR, s - this.#bufPos)
      at = i >= 0 && i < this.#len ? this.#bufPos + i : -1
      if (s === from) this.#crFrom = from
      this.#crTo = this.#bufPos + this.#len
      this.#crAt = at
    }
    return at >= 0 && at < limit ? at : -1
  }

  /**
   * The offset just past the first line end in [from, end), reading without keeping what it read,
   * or `end` or more when there is none before `end` (a record that starts in an earlier split
   * runs past this one, which then starts none). The buffer is left holding the last chunk read,
   * from its first byte.
   */
  #skip(from: number): number {
    for (let at = from; at < this.#end; ) {
      const want = Math.min(this.#buf.length, this.#end - at)
      const n = readSync(this.#fd, this.#buf, 0, want, at)
      if (n === 0) break
      const chunk = this.#buf.subarray(0, n)
      const e = firstEnd(chunk, 0, false)
      if (e >= 0) {
        this.#bufPos = at
        this.#len = n
        return at + e
      }
      if (chunk[n - 1] === CR) {
        // The chunk's last byte, and the first line end: at the split's end (or the file's) any
        // next record starts at or past `end`; else read on from the '\r', to see what follows.
        if (n < want || at + n >= this.#end) return at + n
        at += n - 1
        continue
      }
      at += n
    }
    return this.#end
  }

  /**
   * Keeps the bytes from `keep` (the current record's start) on, and reads more after them,
   * growing the buffer when they fill it, unless they are a line longer than maxLine already.
   */
  #fill(keep: number): void {
    const drop = keep - this.#bufPos
    if (drop > 0) {
      this.#buf.copy(this.#buf, 0, drop, this.#len)
      this.#len -= drop
      this.#bufPos = keep
    }
    if (this.#len === this.#buf.length) {
      // No line end in the bytes kept: they are all the current line's (but for a final '\r').
      if (this.#len > this.#maxLine + 1) throw new RecordTooLongError(this.#name, keep, this.#maxLine)
      const bigger = Buffer.allocUnsafe(this.#buf.length * 2)
      this.#buf.copy(bigger, 0, 0, this.#len)
      this.#buf = bigger
    }
    const n = readSync(this.#fd, this.#buf, this.#len, this.#buf.length - this.#len, this.#bufPos + this.#len)
    if (n === 0) this.#eof = true
    this.#len += n
  }
}

/**
 * Reads the records of one split as chunks of whole records (records: 'chunks'): the same records
 * as LineReader, by the same rule, but as the raw bytes of many lines at once, each line's end
 * included (and the last line's, when the file ends with one). `next()` moves to the next chunk;
 * `chunk` (valid until the next call) and `offset` (its first byte's file offset) describe it. A
 * chunk ends after the last line end in the buffer, or after the one that ends the split's last
 * record; a record longer than the buffer grows it.
 */
export class ChunkReader {
  offset = -1
  chunk: Uint8Array = new Uint8Array(0)
  readonly #fd: number
  readonly #end: number
  #buf: Buffer
  /** File offset of the next record's first byte. */
  #pos: number

  constructor(path: string, start: number, end: number, bufSize = 1 << 20) {
    // The first record is LineReader's: it knows how to skip a record an earlier split owns (and
    // reads no record itself, so a first line of any length is found, not decoded).
    const first = new LineReader(path, start, end, { bufSize: 1 << 12 })
    try {
      this.#pos = first.nextOffset < end ? first.nextOffset : Number.POSITIVE_INFINITY
    } finally {
      first.close()
    }
    this.#fd = openSync(path, 'r')
    this.#end = end
    this.#buf = Buffer.allocUnsafe(Math.max(16, bufSize))
  }

  next(): boolean {
    if (this.#pos >= this.#end) return false
    const limit = this.#end - this.#pos // bytes of the buffer that lie in the split
    let len = 0
    let cut = -1
    for (;;) {
      const got = readSync(this.#fd, this.#buf, len, this.#buf.length - len, this.#pos + len)
      len += got
      const data = this.#buf.subarray(0, len)
      // Reaching `end`: the split's last record is the one holding byte end - 1; cut after its end.
      const c = len >= limit ? firstEnd(data, limit - 1, got === 0) : lastEnd(data, got === 0)
      if (c >= 0) {
        cut = c
        break
      }
      if (got === 0) {
        cut = len // the file ends without a line end
        break
      }
      if (len === this.#buf.length) {
        const bigger = Buffer.allocUnsafe(this.#buf.length * 2)
        this.#buf.copy(bigger, 0, 0, len)
        this.#buf = bigger
      }
    }
    if (cut === 0) return false // nothing left: the split ends at the file's end
    this.offset = this.#pos
    this.chunk = this.#buf.subarray(0, cut)
    this.#pos += cut
    return true
  }

  close(): void {
    closeSync(this.#fd)
  }
}

/**
 * Just past the first line end in `data` at or after `from` (a '\r\n' whole), or -1 when there is
 * none yet: a '\r' that is the last byte counts only at the file's end (`eof`), where no '\n'
 * can follow it.
 */
function firstEnd(data: Uint8Array, from: number, eof: boolean): number {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length)
  const nl = b.indexOf(NL, from)
  const cr = b.indexOf(CR, from)
  if (cr < 0 || (nl >= 0 && nl < cr)) return nl < 0 ? -1 : nl + 1
  if (cr + 1 < b.length) return cr + (b[cr + 1] === NL ? 2 : 1)
  return eof ? cr + 1 : -1
}

/** Just past the last line end in `data`, or -1 when it has none yet (a final '\r' counts only at the file's end, `eof`). */
function lastEnd(data: Uint8Array, eof: boolean): number {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length)
  const nl = b.lastIndexOf(NL)
  let cr = b.lastIndexOf(CR)
  // A '\r' as the last byte is a line end only when nothing can follow; else look before it.
  if (cr === b.length - 1 && !eof) cr = cr === 0 ? -1 : b.lastIndexOf(CR, cr - 1)
  // A '\r' after the last '\n' has a byte after it that is not '\n' (or ends the file): a line end.
  return Math.max(nl, cr) < 0 ? -1 : Math.max(nl, cr) + 1
}

/** records: 'files': the whole file as one UTF-8 string. */
export function readWholeFile(path: string): string {
  return readFileSync(path, 'utf8')
}
