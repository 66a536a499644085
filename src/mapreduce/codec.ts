/**
 * Compressed input, as Hadoop reads it: a file is decompressed when its name ends with a codec's
 * extension (CompressionCodecFactory picks the codec by it), and its records are the decompressed
 * text's. gort reads the two codecs Node's zlib has: gzip (`.gz`, GzipCodec) and deflate
 * (`.deflate`, DefaultCodec: zlib's format, header and checksum). The other codecs Hadoop names
 * are refused before the job starts (inputs.ts) rather than read as text.
 *
 * How: a compressed file is one split (Hadoop's gzip and deflate are not splittable either); each
 * map attempt that reads it first has the coordinator decompress it, streaming, into the
 * attempt's own directory, on libuv's thread pool, and its map task then reads that file as any
 * other (`plainPieces`). So the M's task body stays synchronous, where a hung map can still be
 * ended (scheduler/main/kill.ts), and a failed attempt's copy goes with its directory. Offsets
 * (`ctx.offset`) are the decompressed text's, as Hadoop's LineRecordReader counts them. A
 * corrupt or truncated file fails its task at once (InputUnreadableError): another attempt reads
 * the same bytes. A file of zero bytes holds no records (zlib would call it truncated).
 */

import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createInflate } from 'node:zlib'
import { makeDirs } from './dirs.js'
import { InputUnreadableError } from './errors.js'
import type { Split } from './split.js'

/** The codecs gort decompresses. */
export type Codec = 'gzip' | 'deflate'

/** Hadoop's codecs by extension, and whether gort reads them. */
const CODECS: Readonly<Record<string, { readonly name: string; readonly codec?: Codec }>> = {
  gz: { name: 'gzip', codec: 'gzip' },
  deflate: { name: 'deflate', codec: 'deflate' },
  bz2: { name: 'bzip2' },
  zst: { name: 'zstd' },
  lz4: { name: 'lz4' },
  snappy: { name: 'snappy' },
}
/** zlib's errors that mean the bytes are not (or not all of) a stream of the codec. */
const BAD_DATA: ReadonlySet<string> = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT'])
const EXTENSION = new RegExp(`\\.(${Object.keys(CODECS).join('|')})$`)

/** The Hadoop codec a file's name asks for (by its extension): its name, and gort's codec when gort reads it. */
export function codecByName(name: string): { readonly name: string; readonly codec?: Codec } | undefined {
  const m = EXTENSION.exec(name)
  return m === null ? undefined : CODECS[m[1]!]
}

/** The codec gort decompresses `name` with; undefined for a file read as it is. */
export function codecOf(name: string): Codec | undefined {
  return codecByName(name)?.codec
}

export interface DecompressOptions {
  /** Aborting it stops the copy (rejecting with its reason). */
  readonly signal?: AbortSignal
  /** Stop once this many '\n' have been written (a sample needs only the first records). */
  readonly maxLines?: number
}

/**
 * Decompresses `from` (codec `codec`; `name` as the input pattern matched it, for errors) into a
 * new file `to`; returns the bytes written. Bad compressed data is InputUnreadableError.
 */
export async function decompress(from: string, name: string, codec: Codec, to: string, o: DecompressOptions = {}): Promise<number> {
  const out = await open(to, 'wx')
  let bytes = 0
  let lines = 0
  let enough = false
  const limit = o.maxLines ?? Infinity
  try {
    // A zero-byte file is no stream at all: no records (zlib's "unexpected end of file" otherwise).
    if ((await stat(from)).size === 0) return 0
    const source = createReadStream(from, { highWaterMark: 1 << 16 })
    const z = codec === 'gzip' ? createGunzip({ chunkSize: 1 << 16 }) : createInflate({ chunkSize: 1 << 16 })
    try {
      await pipeline(source, z, async (chunks: AsyncIterable<Buffer>) => {
        for await (const c of chunks) {
          for (let at = 0; at < c.length;) at += (await out.write(c, at)).bytesWritten
          bytes += c.length
          if (limit !== Infinity) {
            for (let i = c.indexOf(0x0a); i >= 0; i = c.indexOf(0x0a, i + 1)) lines++
            if (lines >= limit) {
              enough = true
              return
            }
          }
        }
      }, o.signal === undefined ? {} : { signal: o.signal })
    } catch (e) {
      if (o.signal?.aborted === true) throw o.signal.reason
      if (enough) return bytes // the sink stopped early: the pipeline ends the source with an AbortError
      if (BAD_DATA.has((e as { code?: string }).code ?? '')) {
        throw new InputUnreadableError(name, `not valid ${codec} data: ${(e as Error).message}`)
      }
      throw e
    }
    return bytes
  } finally {
    await out.close()
  }
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
      const codec = codecOf(s.name)
      if (codec === undefined) {
        out.push(s)
        continue
      }
      if (made.length === 0) makeDirs(dir)
      const to = path.join(dir, `input-${i}`)
      made.push(to)
      const size = await decompress(s.path, s.name, codec, to, { ...(signal === undefined ? {} : { signal }), ...(maxLines === undefined ? {} : { maxLines }) })
      out.push({ path: to, name: s.name, start: 0, end: size, stored: s.end - s.start })
    }
    return { pieces: out, remove }
  } catch (e) {
    await remove()
    throw e
  }
}
