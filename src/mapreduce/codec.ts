/**
 * Compressed input, as Hadoop reads it: a file is decompressed when its name ends with a codec's
 * extension (CompressionCodecFactory picks the codec by it), and its records are the decompressed
 * text's. gzip (`.gz`, GzipCodec) and deflate (`.deflate`, DefaultCodec: zlib's format, header and
 * checksum) are read with Node's zlib; bzip2 (`.bz2`) and zstd (`.zst`), whose files Hadoop's
 * codecs write in the formats of the `bzip2` and `zstd` commands, with those commands, when they
 * are on the PATH (else the input is refused before the job starts, inputs.ts). Hadoop's `.lz4`
 * and `.snappy` are its own block framings, which no common tool reads: refused.
 *
 * How: a compressed file is one split (gort reads each from its start, as Hadoop reads gzip), but
 * for a `.bz2`, which is cut into splits as text is (bzip2.ts, decompressBz2Part), and for a large
 * one of the others, decompressed once before the maps and its text split (expandCompressed).
 * Each map attempt that reads a compressed split first has the coordinator decompress it into the
 * attempt's own directory (zlib on libuv's thread pool, or the command's own process), and its
 * map task then reads that file as any other (`plainPieces`). So the M's task body stays
 * synchronous, where a hung map can still be ended (scheduler/main/kill.ts), and a failed
 * attempt's copy goes with its directory. Offsets (`ctx.offset`) are the decompressed text's, as
 * Hadoop's LineRecordReader counts them (for a later split of a `.bz2`, as Hadoop counts those:
 * from the compressed byte where its first block starts; Split.origin). A corrupt or truncated
 * file fails its task at once (InputUnreadableError): another attempt reads the same bytes. A
 * file of zero bytes holds no records (zlib would call it truncated).
 */

import { spawn } from 'node:child_process'
import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { open, rm, stat, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createInflate } from 'node:zlib'
import { blocksFrom, blockStream, firstBlock, type Bz2Block } from './bzip2.js'
import { makeDirs } from './dirs.js'
import { InputUnreadableError } from './errors.js'
import { findExecutable } from './streaming/command.js'
import type { InputFile } from './inputs.js'
import type { RecordKind } from './job.js'
import type { Split } from './split.js'

/** The codecs gort decompresses. */
export type Codec = 'gzip' | 'deflate' | 'bzip2' | 'zstd'

interface CodecInfo {
  /** Hadoop's name for it. */
  readonly name: string
  /** gort's codec, when gort reads it. */
  readonly codec?: Codec
}

/** Hadoop's codecs by extension, and how gort reads them. */
const CODECS: Readonly<Record<string, CodecInfo>> = {
  gz: { name: 'gzip', codec: 'gzip' },
  deflate: { name: 'deflate', codec: 'deflate' },
  bz2: { name: 'bzip2', codec: 'bzip2' },
  zst: { name: 'zstd', codec: 'zstd' },
  lz4: { name: 'lz4' },
  snappy: { name: 'snappy' },
}
/** The codecs zlib lacks, and the command that decompresses each (`CMD -dc FILE` writes the text to stdout). */
export const COMMANDS: Readonly<Partial<Record<Codec, string>>> = { bzip2: 'bzip2', zstd: 'zstd' }
/** zlib's errors that mean the bytes are not (or not all of) a stream of the codec. */
const BAD_DATA: ReadonlySet<string> = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT'])
const EXTENSION = new RegExp(`\\.(${Object.keys(CODECS).join('|')})$`)

/** The Hadoop codec a file's name asks for (by its extension), and how gort reads it. */
export function codecByName(name: string): CodecInfo | undefined {
  const m = EXTENSION.exec(name)
  return m === null ? undefined : CODECS[m[1]!]
}

/** The codec gort decompresses `name` with; undefined for a file read as it is. */
export function codecOf(name: string): Codec | undefined {
  return codecByName(name)?.codec
}

/**
 * Text bytes a compressed input is taken to hold per byte stored, where gort sizes a job by its
 * text (the thread count, options.ts autoProcs) and its format records no size (bzip2, deflate,
 * gzip or zstd of several members or frames): these codecs shrink prose 3-5 times, logs often
 * more (the bench corpus of random words, by 1.8).
 */
export const TEXT_PER_STORED_BYTE = 4

/**
 * About how much text a file holds: its size; for a compressed one, the size its format recorded
 * (`text`, recordTextSizes), else TEXT_PER_STORED_BYTE times its size. By its path: a
 * decompressed copy (expandCompressed) keeps the compressed file's name, and is its text.
 */
export function textSize(f: { readonly path: string; readonly size: number; readonly text?: number | undefined }): number {
  if (codecOf(f.path) === undefined) return f.size
  return f.text ?? f.size * TEXT_PER_STORED_BYTE
}

/** Most compressed inputs whose recorded text size a job reads as it starts (a small read each); the rest are estimated. */
export const MAX_SIZE_PROBES = 256

/** `files`, each compressed one (up to MAX_SIZE_PROBES of them) with the text size its format records, where it does (recordedTextSize). */
export function recordTextSizes(files: readonly InputFile[]): InputFile[] {
  let probes = 0
  return files.map((f) => {
    const codec = codecOf(f.path)
    if (codec === undefined || probes++ >= MAX_SIZE_PROBES) return f
    const text = recordedTextSize(f.path, codec, f.size)
    return text === undefined ? f : { ...f, text }
  })
}

/**
 * The text size a compressed file records, where its format keeps one, else undefined: gzip's
 * ISIZE (the last 4 bytes: its last member's text size, modulo 2^32), zstd's Frame_Content_Size
 * (in the first frame's header, which the `zstd` command writes when it compresses a file, not a
 * pipe). A file of several members or frames (`cat a.gz b.gz`) records one's only, so a size
 * below the file's own is not taken (nor is a tiny file's: its estimate is small either way),
 * and the result stays an estimate: a text over 4 GiB in one gzip member reads as its size
 * modulo 2^32. Unreadable or not of its format (a misnamed file): undefined; the job says why
 * when it reads the file.
 */
export function recordedTextSize(file: string, codec: Codec, size: number): number | undefined {
  if (codec !== 'gzip' && codec !== 'zstd') return undefined
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const head = Buffer.alloc(18)
    if (readSync(fd, head, 0, head.length, 0) < (codec === 'gzip' ? 2 : 6)) return undefined
    let text: number | undefined
    if (codec === 'gzip') {
      if (head[0] !== 0x1f || head[1] !== 0x8b || size < 18) return undefined
      const tail = Buffer.alloc(4)
      if (readSync(fd, tail, 0, 4, size - 4) !== 4) return undefined
      text = tail.readUInt32LE(0)
    } else {
      text = zstdContentSize(head)
    }
    return text !== undefined && text >= size ? text : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The Frame_Content_Size of the zstd frame whose header starts `b` (RFC 8878, 3.1.1.1), or undefined when it has none. */
function zstdContentSize(b: Buffer): number | undefined {
  if (b.readUInt32LE(0) !== 0xfd2fb528) return undefined
  const fhd = b[4]!
  const single = (fhd >> 5) & 1
  const at = 5 + (single === 1 ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!
  const width = [single === 1 ? 1 : 0, 2, 4, 8][fhd >> 6]!
  if (width === 0 || at + width > b.length) return undefined
  switch (width) {
    case 1: return b[at]!
    case 2: return b.readUInt16LE(at) + 256
    case 4: return b.readUInt32LE(at)
    default: return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32
  }
}

/** Whether a file of this name may be cut into splits: plain text, or bzip2 (bzip2.ts), as Hadoop's SplittableCompressionCodec. */
export function splittable(name: string): boolean {
  const codec = codecOf(name)
  return codec === undefined || codec === 'bzip2'
}

/** `command`'s path on the PATH (only: not the working directory), or undefined. */
export function findCommand(command: string, envPath = process.env['PATH'] ?? ''): string | undefined {
  return findExecutable(command, envPath.split(path.delimiter))
}

export interface DecompressOptions {
  /** Aborting it stops the copy (rejecting with its reason). */
  readonly signal?: AbortSignal
  /** Stop once this many lines have ended (a sample needs only the first records). */
  readonly maxLines?: number
}

/**
 * Decompresses `from` (codec `codec`; `name` as the input pattern matched it, for errors) into a
 * new file `to`; returns the bytes written. Bad compressed data is InputUnreadableError.
 */
export async function decompress(from: string, name: string, codec: Codec, to: string, o: DecompressOptions = {}): Promise<number> {
  const out = await open(to, 'wx')
  try {
    // A zero-byte file is no stream at all: no records (zlib's "unexpected end of file" otherwise).
    if ((await stat(from)).size === 0) return 0
    const command = COMMANDS[codec]
    return command === undefined ? await viaZlib(from, name, codec, out, o) : (await viaCommand(from, name, codec, command, out, o)).bytes
  } finally {
    await out.close()
  }
}

/** What copyInto wrote: its bytes, and whether it stopped at `maxLines`. */
interface Copied {
  bytes: number
  enough: boolean
}

/**
 * Writes the chunks into `out` until they end, or until `maxLines` lines have ended (then
 * `copied.enough`), counting `copied.bytes`. Lines end at '\n', '\r\n' or a lone '\r' (split.ts):
 * the more numerous of the '\n's and the '\r's is never more than the lines ended.
 */
async function copyInto(chunks: AsyncIterable<Buffer>, out: FileHandle, maxLines: number, copied: Copied): Promise<void> {
  let nl = 0
  let cr = 0
  for await (const c of chunks) {
    for (let at = 0; at < c.length;) at += (await out.write(c, at)).bytesWritten
    copied.bytes += c.length
    if (maxLines !== Infinity) {
      for (let i = c.indexOf(0x0a); i >= 0; i = c.indexOf(0x0a, i + 1)) nl++
      for (let i = c.indexOf(0x0d); i >= 0; i = c.indexOf(0x0d, i + 1)) cr++
      if (Math.max(nl, cr) >= maxLines) {
        copied.enough = true
        return
      }
    }
  }
}

async function viaZlib(from: string, name: string, codec: Codec, out: FileHandle, o: DecompressOptions): Promise<number> {
  const copied = { bytes: 0, enough: false }
  const z = codec === 'gzip' ? createGunzip({ chunkSize: 1 << 16 }) : createInflate({ chunkSize: 1 << 16 })
  try {
    await pipeline(createReadStream(from, { highWaterMark: 1 << 16 }), z, (chunks: AsyncIterable<Buffer>) => copyInto(chunks, out, o.maxLines ?? Infinity, copied), o.signal === undefined ? {} : { signal: o.signal })
  } catch (e) {
    if (o.signal?.aborted === true) throw o.signal.reason
    if (copied.enough) return copied.bytes // the sink stopped early: the pipeline ends the source with an AbortError
    if (BAD_DATA.has((e as { code?: string }).code ?? '')) throw new InputUnreadableError(name, `not valid ${codec} data: ${(e as Error).message}`)
    throw e
  }
  return copied.bytes
}

/**
 * `command -dc FILE`'s output into `out` at its offset, or `command -dc`'s with `from` as its
 * stdin; returns the bytes written. The command writes into `out` itself (its stdout is that
 * file): bzip2 writes 5 kB at a time, and passing those through this thread cost it 0.6 s of CPU a
 * 32 MiB text, a third of bzip2's own. With `maxLines` (a sample) the output comes through a pipe
 * instead, to stop it early (`cut`: it was). A failure of the command (its first stderr line) is
 * InputUnreadableError.
 */
async function viaCommand(from: string | AsyncIterable<Buffer>, name: string, codec: Codec, command: string, out: FileHandle, o: DecompressOptions): Promise<{ bytes: number; cut: boolean }> {
  o.signal?.throwIfAborted()
  const copied = { bytes: 0, enough: false }
  const piped = typeof from !== 'string'
  const direct = o.maxLines === undefined
  const before = direct ? (await out.stat()).size : 0
  const child = spawn(command, piped ? ['-dc'] : ['-dc', from], { stdio: [piped ? 'pipe' : 'ignore', direct ? out.fd : 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  exited.catch(() => {}) // awaited below; a spawn error also ends the pipeline first
  // The input, written as the command takes it. Its own failure (reading the file) is the
  // attempt's error; a write refused because the command exited (EPIPE) is the command's, told
  // by its exit below.
  const fed: Promise<unknown> = !piped ? Promise.resolve() : pipeline(Readable.from(from), child.stdin!).then(
    () => undefined,
    (e: unknown) => (['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'].includes((e as NodeJS.ErrnoException).code ?? '') ? undefined : e),
  )
  const stop = (): void => void child.kill()
  o.signal?.addEventListener('abort', stop, { once: true })
  try {
    if (!direct) {
      try {
        await pipeline(child.stdout!, (chunks: AsyncIterable<Buffer>) => copyInto(chunks, out, o.maxLines!, copied), o.signal === undefined ? {} : { signal: o.signal })
      } catch (e) {
        if (o.signal?.aborted === true) throw o.signal.reason
        if (!copied.enough) throw e
      }
      if (copied.enough) child.kill()
    }
    let end: { code: number | null; signal: NodeJS.Signals | null }
    try {
      end = await exited
    } catch (e) {
      throw new InputUnreadableError(name, `the ${command} command that decompresses ${codec} could not run (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
    }
    if (o.signal?.aborted === true) throw o.signal.reason
    const feedError = await fed
    if (feedError !== undefined && !copied.enough) throw feedError
    if (!copied.enough && (end.code !== 0 || end.signal !== null)) {
      // It could not write the copy (a full disk): the attempt's failure, not the input's.
      const write = WRITE_FAILED.exec(stderr)
      if (write !== null) throw new Error(`gort mapreduce: the ${command} command could not write the text of ${JSON.stringify(name)} beside the attempt (${CAUSE.exec(stderr)?.[0] ?? write[0]})`)
      // The first line says what (bzip2 goes on for a paragraph of advice).
      const why = stderr.trim().split('\n')[0]!.trim().replace(/[;:,]$/, '') || (end.signal !== null ? `killed by ${end.signal}` : `exit code ${end.code}`)
      throw new InputUnreadableError(name, `not valid ${codec} data: ${why}`)
    }
    return { bytes: direct ? (await out.stat()).size - before : copied.bytes, cut: copied.enough }
  } finally {
    o.signal?.removeEventListener('abort', stop)
    if (child.exitCode === null && child.signalCode === null) child.kill()
  }
}

/** What bzip2 and zstd say when they cannot write their output (`bzip2 -dc f > /dev/full`, zstd's error 70). */
const WRITE_FAILED = /I\/O or other error|Write error/
/** The system's reason in such a message. */
const CAUSE = /No space left on device|Disk quota exceeded|Read-only file system|Input\/output error|File too large/

/** A part of a `.bz2` file decompressed (decompressBz2Part): the copy's layout and where its text came from. */
export interface Bz2Part {
  /** Bytes before the part's own text: 1 (a byte that ends no line, so its first line is skipped) unless the text starts the file's. */
  readonly prefix: number
  /** The text of the part's own blocks: copy bytes [prefix, prefix + text). The rest is the next blocks', up to a line end. */
  readonly text: number
  /** The copy's size. */
  readonly size: number
  /** The byte of the compressed file where the part's first block starts (-1: the part holds none). */
  readonly firstByte: number
}

/**
 * Decompresses part [start, end) of the `.bz2` file `from` (bzip2.ts) into the new file `to`: a
 * prefix byte, the text of the blocks that start in the range, then the next blocks' text until
 * a line has ended in it (the record that starts at the part's end, or runs past it, is the
 * part's: split.ts's rule, with the prefix making a later part skip its first, partial line).
 * With `maxLines`, only the first lines are needed (a sample).
 */
export async function decompressBz2Part(from: string, name: string, start: number, end: number, to: string, o: DecompressOptions = {}): Promise<Bz2Part> {
  const command = COMMANDS.bzip2!
  const out = await open(to, 'wx+')
  try {
    const fh = await open(from, 'r')
    try {
      // Every part checks that the file starts as bzip2 does (a part finds no block in other
      // bytes), and where its first block is: the part that holds it reads its first line.
      const fileSize = (await fh.stat()).size
      const first = await firstBlock(fh, fileSize)
      if ('bad' in first) throw new InputUnreadableError(name, `not valid bzip2 data: ${first.bad}`)
      const blocks = blocksFrom(fh, fileSize, start)
      let next = await blocks.next()
      if (next.done === true || next.value.bit >= end * 8) return { prefix: 0, text: 0, size: 0, firstByte: -1 }
      const firstByte = Math.floor(next.value.bit / 8)
      const prefix = next.value.bit === first.bit ? 0 : 1
      // A block the file's end cuts off from what must follow it (a marker, the stream's CRC):
      // bzip2 itself would say so of the whole file; its own CRC may still hold.
      const whole = (b: Bz2Block): Bz2Block => {
        if (!b.whole) throw new InputUnreadableError(name, 'not valid bzip2 data: the file ends unexpectedly')
        return b
      }
      if (prefix === 1) await out.write(PREFIX)
      async function* own(): AsyncGenerator<Buffer> {
        while (next.done !== true && next.value.bit < end * 8) {
          yield await blockStream(fh, whole(next.value))
          next = await blocks.next()
        }
      }
      const lines = o.maxLines === undefined ? {} : { maxLines: o.maxLines + prefix }
      const { bytes: text, cut } = await viaCommand(own(), name, 'bzip2', command, out, { ...o, ...lines })
      let size = prefix + text
      // The next blocks, one at a time, until a line has ended in their text (not when a sample
      // cut the part's own text short: it has its lines).
      const rest = o.signal === undefined ? {} : { signal: o.signal }
      for (let from = size; !cut && next.done !== true;) {
        const b = whole(next.value)
        next = await blocks.next()
        size += (await viaCommand((async function* () { yield await blockStream(fh, b) })(), name, 'bzip2', command, out, rest)).bytes
        if (await lineEndIn(out, from, size)) break
        from = Math.max(from, size - 1) // a '\r' as the last byte: the next block's first tells
      }
      await blocks.return(undefined)
      return { prefix, text, size, firstByte }
    } finally {
      await fh.close()
    }
  } finally {
    await out.close()
  }
}

/** Whether bytes [from, to) of `fh` hold a line end: a '\n', or a '\r' with a byte after it (which tells '\r\n' from a lone '\r'). */
async function lineEndIn(fh: FileHandle, from: number, to: number): Promise<boolean> {
  const buf = Buffer.allocUnsafe(1 << 16)
  for (let at = from; at < to;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at)
    if (bytesRead === 0) return false
    const b = buf.subarray(0, bytesRead)
    const r = b.indexOf(0x0d)
    if (b.includes(0x0a) || (r >= 0 && at + r < to - 1)) return true
    at += bytesRead
  }
  return false
}

/** The byte before a later part's text: not a line end, so its first (partial) line is skipped. */
const PREFIX = Buffer.from('\0')

/**
 * The inputs, with each large compressed file that cannot be split (.gz, .deflate, .zst: Hadoop
 * maps each as one task) decompressed into `dir` first, so that its text is cut into splits and
 * mapped on every thread, where one thread would map it all. Large: its text (estimated,
 * textSize) more than `splitSize`. At most `procs` decompress at once (zlib on libuv's pool, or
 * the command's process). A copy keeps the file's name (the key `map` gets) and its stored size
 * (`stored`, which its splits share as their bytes in). Not for records: 'files' (a file is one
 * record). A corrupt file fails the job here, before any map, with InputUnreadableError.
 * `starting` hears how many files, and bytes stored, are decompressed, before it begins.
 */
export async function expandCompressed(
  files: readonly InputFile[], records: RecordKind, splitSize: number, dir: string, procs: number, signal?: AbortSignal,
  starting: (files: number, bytes: number) => void = () => {},
): Promise<InputFile[]> {
  const out = [...files]
  if (records === 'files') return out
  const big = files.flatMap((f, i) => (!splittable(f.path) && f.size > 0 && textSize(f) > splitSize ? [i] : []))
  if (big.length === 0) return out
  starting(big.length, big.reduce((n, i) => n + files[i]!.size, 0))
  makeDirs(dir)
  // The first failure stops the others.
  const ac = new AbortController()
  const stop = signal === undefined ? ac.signal : AbortSignal.any([signal, ac.signal])
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < big.length) {
      const i = big[next++]!
      const f = files[i]!
      const to = path.join(dir, String(i))
      const size = await decompress(f.path, f.name, codecOf(f.path)!, to, { signal: stop })
      out[i] = { path: to, name: f.name, size, stored: f.size }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(procs, big.length) }, () => worker().catch((e: unknown) => {
      ac.abort(e)
      throw e
    })))
  } catch (e) {
    signal?.throwIfAborted()
    throw e
  }
  return out
}

/** What `plainPieces` made: the pieces to read, and the removal of the decompressed copies. */
export interface PlainPieces {
  readonly pieces: Split[]
  readonly remove: () => Promise<void>
}

/**
 * `pieces` as files a map task can read: each compressed one decompressed into `dir` (made when
 * needed), as the whole range of a plain file that keeps the input's name and its stored size;
 * the others as they are. `maxLines`: decompress only each file's first lines (a sample). `remove`
 * deletes the copies (call it when the attempt ends, whatever way).
 */
export async function plainPieces(pieces: readonly Split[], dir: string, signal?: AbortSignal, maxLines?: number): Promise<PlainPieces> {
  const made: string[] = []
  const remove = async (): Promise<void> => {
    await Promise.all(made.map((f) => rm(f, { force: true })))
  }
  try {
    const out: Split[] = []
    for (const [i, s] of pieces.entries()) {
      // By its path: a decompressed copy (expandCompressed) keeps the compressed file's name.
      const codec = codecOf(s.path)
      if (codec === undefined) {
        out.push(s)
        continue
      }
      if (made.length === 0) makeDirs(dir)
      const to = path.join(dir, `input-${i}`)
      made.push(to)
      const o = { ...(signal === undefined ? {} : { signal }), ...(maxLines === undefined ? {} : { maxLines }) }
      if (codec === 'bzip2' && (s.start > 0 || s.end < (await stat(s.path)).size)) {
        // A part of a large .bz2 (computeSplits cuts them): its blocks' text, and a line beyond.
        const part = await decompressBz2Part(s.path, s.name, s.start, s.end, to, o)
        const shift = part.prefix === 0 ? 0 : part.firstByte - part.prefix
        out.push({ path: to, name: s.name, start: part.prefix, end: Math.min(part.prefix + part.text + 1, part.size), stored: s.end - s.start, origin: { start: s.start, shift } })
        continue
      }
      const size = await decompress(s.path, s.name, codec, to, o)
      out.push({ path: to, name: s.name, start: 0, end: size, stored: s.end - s.start })
    }
    return { pieces: out, remove }
  } catch (e) {
    await remove()
    throw e
  }
}
