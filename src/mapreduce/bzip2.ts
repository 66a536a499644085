/**
 * Parts of a `.bz2` file, as Hadoop's BZip2Codec reads them (a SplittableCompressionCodec): a
 * large `.bz2` is cut into byte ranges like a text file, and each part decompresses the bzip2
 * blocks that start inside its range, so the file's text is mapped on every thread at once.
 *
 * The format (bzip2's own, which Hadoop's codec writes too): a stream is "BZh" and a level digit,
 * then blocks, then an end-of-stream marker; each block starts with the 48-bit BLOCK_MAGIC
 * (0x314159265359, pi's digits) and its 32-bit CRC, and runs, in bits, to the next marker; the
 * end marker is EOS_MAGIC (0x177245385090, sqrt(pi)'s), the stream's CRC (each block's CRC
 * folded in: rotate left by one, xor), and zero bits to a byte. Blocks are not byte-aligned: a
 * marker may start at any bit. A file may hold several streams one after another (`cat a.bz2
 * b.bz2`, pbzip2's output, Wikipedia's multistream dumps).
 *
 * How a part is read: its blocks are those whose marker starts at a bit in [start * 8, end * 8)
 * (so each block belongs to exactly one part); each is copied out, shifted to a byte boundary,
 * as a stream of its own ("BZh9", the block, an end marker whose CRC is the block's), and the
 * `bzip2` command decompresses the streams (codec.ts). A marker is found by its bits alone, as
 * Hadoop's CBZip2InputStream and bzip2recover find them; inside compressed data the same 48 bits
 * occur by chance once in 2^48 bit positions, and such a false cut fails its part's CRC check,
 * which fails the task as corrupt input rather than garbling it.
 */

import type { FileHandle } from 'node:fs/promises'

/**
 * A block of a bzip2 file: bits [bit, end) of it, marker included, and the CRC its header holds.
 * `whole`: a marker follows it, and if that is an end of stream, the stream's CRC is there too;
 * false for a file cut short after it (its own CRC cannot tell: the block may be intact).
 */
export interface Bz2Block {
  readonly bit: number
  readonly end: number
  readonly crc: number
  readonly whole: boolean
}

const BLOCK = 0 // MAGICS[0]; MAGICS[1] is the end-of-stream marker

const MAGICS = [0x314159265359n, 0x177245385090n] as const
/** Bytes a marker may span at a shift: its 48 bits from bit `s` of the first. */
const SPAN = 7

/**
 * One marker at one bit shift: `needle` is bytes 1-5 of its 7-byte span (whole bytes at every
 * shift), searched with Buffer.indexOf; the span's first and last byte are then checked under
 * their masks.
 */
interface Pattern {
  readonly kind: number
  readonly shift: number
  readonly needle: Buffer
  readonly first: number
  readonly firstMask: number
  readonly last: number
  readonly lastMask: number
}

const PATTERNS: readonly Pattern[] = MAGICS.flatMap((magic, kind) =>
  Array.from({ length: 8 }, (_, shift): Pattern => {
    const at = BigInt(8 - shift) // the marker's bits, placed from bit `shift` of a 56-bit span
    const bytes = (v: bigint): number[] => Array.from({ length: SPAN }, (_, k) => Number((v >> BigInt(8 * (SPAN - 1 - k))) & 0xffn))
    const b = bytes(magic << at)
    const m = bytes(((1n << 48n) - 1n) << at)
    return { kind, shift, needle: Buffer.from(b.slice(1, 6)), first: b[0]!, firstMask: m[0]!, last: b[6]!, lastMask: m[6]! }
  }))

interface Marker {
  readonly bit: number
  readonly kind: number
}

/** The markers that start in buf[0, own) (the bytes after `own` are there to complete them), as absolute bits from `base`. */
function scan(buf: Buffer, own: number, base: number): Marker[] {
  const found: Marker[] = []
  for (const p of PATTERNS) {
    for (let j = buf.indexOf(p.needle, 1); j >= 0; j = buf.indexOf(p.needle, j + 1)) {
      const i = j - 1
      if (i >= own) break
      if ((buf[i]! & p.firstMask) !== p.first) continue
      if (p.lastMask !== 0 && (i + 6 >= buf.length || (buf[i + 6]! & p.lastMask) !== p.last)) continue
      found.push({ bit: (base + i) * 8 + p.shift, kind: p.kind })
    }
  }
  return found.sort((a, b) => a.bit - b.bit)
}

/** Bytes read at a time while looking for markers. */
const CHUNK = 1 << 20

/** The markers of either kind that start at or after byte `from`, in order, read as they are asked for. */
async function* markersFrom(fh: FileHandle, size: number, from: number): AsyncGenerator<Marker> {
  const buf = Buffer.allocUnsafe(CHUNK + SPAN)
  for (let at = from; at < size; at += CHUNK) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK + SPAN, size - at), at)
    yield* scan(buf.subarray(0, bytesRead), Math.min(CHUNK, bytesRead), at)
  }
}

/**
 * The blocks of the file open as `fh` (`size` bytes) whose marker starts at or after byte
 * `from`, in order, read as they are asked for. A block's end is the next marker of either kind,
 * or the file's end when none follows (a file cut short: not `whole`).
 */
export async function* blocksFrom(fh: FileHandle, size: number, from: number): AsyncGenerator<Bz2Block> {
  let open: Marker | undefined // a block marker whose end is not found yet
  for await (const mk of markersFrom(fh, size, from)) {
    // An end of stream is whole with its CRC (32 bits after its marker) in the file.
    if (open !== undefined) yield { bit: open.bit, end: mk.bit, crc: await crcOf(fh, open.bit), whole: mk.kind === BLOCK || mk.bit + 80 <= size * 8 }
    open = mk.kind === BLOCK ? mk : undefined
  }
  if (open !== undefined) yield { bit: open.bit, end: size * 8, crc: await crcOf(fh, open.bit), whole: false }
}

/**
 * Where the file's first block starts (-1: it has none), after checking that it starts as a
 * bzip2 file does: "BZh" and a level, then a block or an end-of-stream marker right after
 * (before the first block, only empty streams). Else why not, in bzip2's words.
 */
export async function firstBlock(fh: FileHandle, size: number): Promise<{ readonly bit: number } | { readonly bad: string }> {
  const head = Buffer.alloc(4)
  await fh.read(head, 0, 4, 0)
  if (!/^BZh[1-9]$/.test(head.toString('latin1'))) return { bad: 'it does not start with a bzip2 header' }
  let expect = FIRST_BLOCK_BIT
  let ends = -1 // the byte where the last empty stream ended
  for await (const mk of markersFrom(fh, size, 4)) {
    if (mk.bit !== expect) return { bad: `no block where one should start (bit ${expect})` }
    if (mk.kind === BLOCK) return { bit: mk.bit }
    // An empty stream: its CRC and padding, then the next stream's header (4 bytes).
    ends = Math.ceil((mk.bit + 80) / 8)
    expect = (ends + 4) * 8
  }
  return ends === size ? { bit: -1 } : { bad: 'the file ends unexpectedly' }
}

/** The CRC a block's header holds: the 32 bits after its marker. */
async function crcOf(fh: FileHandle, bit: number): Promise<number> {
  const b = Buffer.alloc(5)
  await fh.read(b, 0, 5, Math.floor((bit + 48) / 8))
  const s = (bit + 48) % 8
  let v = 0
  for (let k = 0; k < 32; k++) v = v * 2 + ((b[(s + k) >> 3]! >> (7 - ((s + k) & 7))) & 1)
  return v
}

/** The first block of a valid file: right after the 4-byte stream header. */
export const FIRST_BLOCK_BIT = 32

/**
 * Block `b` of the file as a bzip2 stream of its own: "BZh9" (the largest block size, which
 * admits a block of any level), the block's bits moved to a byte boundary, the end marker, the
 * block's CRC as the stream's (one block: the fold of it is itself), and zero bits to a byte.
 */
export async function blockStream(fh: FileHandle, b: Bz2Block): Promise<Buffer> {
  const first = Math.floor(b.bit / 8)
  const src = Buffer.alloc(Math.ceil(b.end / 8) - first + 1)
  const { bytesRead } = await fh.read(src, 0, src.length - 1, first)
  if (bytesRead < src.length - 1) throw new Error(`a bzip2 block past the file's end (bit ${b.end})`)
  const bits = b.end - b.bit
  const out = Buffer.alloc(4 + Math.ceil((bits + 80) / 8))
  out.write('BZh9', 0, 'latin1')
  const s = b.bit % 8
  const whole = Math.floor(bits / 8)
  // Whole bytes of the block, shifted left by s (src has a zero byte past what was read), four
  // at a time (2-4x faster than byte by byte: this thread shifts every part's blocks).
  if (s === 0) src.copy(out, 4, 0, whole)
  else {
    const from = new DataView(src.buffer, src.byteOffset, src.length)
    const to = new DataView(out.buffer, out.byteOffset, out.length)
    const words = whole & ~3
    for (let k = 0; k < words; k += 4) to.setUint32(4 + k, ((from.getUint32(k) << s) | (src[k + 4]! >> (8 - s))) >>> 0)
    for (let k = words; k < whole; k++) out[4 + k] = ((src[k]! << s) | (src[k + 1]! >> (8 - s))) & 0xff
  }
  let w = 4 * 8 + whole * 8 // the bit written next
  const put = (v: number, n: number): void => {
    for (let k = n - 1; k >= 0; k--, w++) if ((v >> k) & 1) out[w >> 3]! |= 0x80 >> (w & 7)
  }
  // The block's last bits (fewer than 8), then the trailer.
  for (let k = whole * 8; k < bits; k++) put((src[(s + k) >> 3]! >> (7 - ((s + k) & 7))) & 1, 1)
  put(0x1772, 16)
  put(0x45385090 >>> 16, 16)
  put(0x45385090 & 0xffff, 16)
  put(b.crc >>> 16, 16)
  put(b.crc & 0xffff, 16)
  return out.subarray(0, Math.ceil(w / 8))
}
