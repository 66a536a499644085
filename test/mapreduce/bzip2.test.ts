// A large .bz2 read in parts (src/mapreduce/bzip2.ts, codec.ts decompressBz2Part), as Hadoop's
// BZip2Codec splits one: each part decompresses the blocks whose marker starts in its byte range,
// and the parts' records are the file's, each once, wherever the cuts fall (in a marker, between
// blocks, between streams) and wherever the blocks end (mid-line, at a line end, between '\r'
// and '\n'). bzip2 -1 makes blocks of 99,981 bytes of text without runs, so a few hundred KB hold
// several. The bzip2 command is installed by npm test (system-deps.ts).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { blocksFrom, blockStream, type Bz2Block } from '../../src/mapreduce/bzip2.js'
import { decompressBz2Part, plainPieces } from '../../src/mapreduce/codec.js'
import { ChunkReader, computeSplits, LineReader, type Split } from '../../src/mapreduce/split.js'
import { InputUnreadableError, runJob, TaskFailedError } from '../../src/mapreduce/index.js'
import { deadline } from '../_support/deadline.js'
import { rejection } from '../_support/rejection.js'
import { readParts, rng, tempDir, text } from './_helpers.js'

const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '../../examples/mapreduce')
const MS = 90_000
/** Text bytes in a block of `bzip2 -1`, for text without runs of four equal bytes. */
const BLOCK_TEXT = 99_981

const test = suite('bzip2 parts')

function bzip2(body: string | Buffer, level = 1): Buffer {
  const r = spawnSync('bzip2', [`-${level}`, '-c'], { input: body, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`bzip2: ${r.stderr.toString()}`)
  return r.stdout
}

function bunzip2(b: Buffer): Buffer {
  const r = spawnSync('bzip2', ['-dc'], { input: b, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`bzip2 -dc: ${r.stderr.toString()}`)
  return r.stdout
}

async function allBlocks(file: string, from = 0): Promise<Bz2Block[]> {
  const fh = await open(file, 'r')
  try {
    const out: Bz2Block[] = []
    for await (const b of blocksFrom(fh, (await fh.stat()).size, from)) out.push(b)
    return out
  } finally {
    await fh.close()
  }
}

const WIDE = ['alpha', 'beta', 'gamma', 'délta', 'εψιλον', 'zeta', '東京']
const ASCII = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta']

/** About `bytes` of words with no run of four equal bytes, lines ended by `ends` in turn. */
function words(seed: number, bytes: number, ends: readonly string[] = ['\n'], list = WIDE): Buffer {
  const r = rng(seed)
  const out: string[] = []
  let n = 0
  let line = 0
  while (n < bytes) {
    const w = list[Math.floor(r() * list.length)]!
    const sep = r() < 0.1 ? ends[line++ % ends.length]! : ' '
    out.push(w, sep)
    n += Buffer.byteLength(w) + Buffer.byteLength(sep)
  }
  return Buffer.from(out.join(''))
}

/** ASCII words on one line (spaces only), with `s` put in so that its first byte is byte `at`. */
function lineEndAt(seed: number, bytes: number, at: number, s: string): Buffer {
  const b = words(seed, bytes, [' '], ASCII)
  return Buffer.concat([b.subarray(0, at), Buffer.from(s), b.subarray(at)])
}

/** The records LineReader reads from `pieces` (each a copy from plainPieces), with the offsets the job sees. */
function recordsOf(pieces: readonly Split[]): { line: string; offset: number; part: number }[] {
  const out: { line: string; offset: number; part: number }[] = []
  for (const [i, s] of pieces.entries()) {
    const r = new LineReader(s.path, s.start, s.end, { name: s.name })
    try {
      while (r.next()) out.push({ line: r.line, offset: r.offset + (s.origin?.shift ?? 0), part: i })
    } finally {
      r.close()
    }
  }
  return out
}

/** The chunks ChunkReader reads from a piece (copied: a chunk is valid until the next). */
function chunksOf(s: Split): Buffer[] {
  const r = new ChunkReader(s.path, s.start, s.end, 1 << 14)
  const out: Buffer[] = []
  try {
    while (r.next()) out.push(Buffer.from(r.chunk))
  } finally {
    r.close()
  }
  return out
}

/** The records of `body` read as one plain file. */
function plainRecords(dir: string, body: Buffer): { line: string; offset: number }[] {
  const f = path.join(dir, 'plain.txt')
  writeFileSync(f, body)
  const r = new LineReader(f, 0, body.length)
  const out: { line: string; offset: number }[] = []
  try {
    while (r.next()) out.push({ line: r.line, offset: r.offset })
  } finally {
    r.close()
  }
  return out
}

test('blocksFrom finds every block of a file of two streams; each, made a stream of its own, is that block\'s text', deadline('blocks', async () => {
  const t = tempDir()
  try {
    const a = words(1, 3 * BLOCK_TEXT + 5000)
    const b = words(2, BLOCK_TEXT + 10)
    const f = path.join(t.dir, 'ab.bz2')
    writeFileSync(f, Buffer.concat([bzip2(a), bzip2(b)]))
    const blocks = await allBlocks(f)
    assert.is(blocks.length, 4 + 2)
    assert.is(blocks[0]!.bit, 32) // right after "BZh1"
    const fh = await open(f, 'r')
    try {
      const texts: Buffer[] = []
      for (const blk of blocks) texts.push(bunzip2(await blockStream(fh, blk)))
      assert.equal(texts.map((x) => x.length), [BLOCK_TEXT, BLOCK_TEXT, BLOCK_TEXT, Buffer.byteLength(a) - 3 * BLOCK_TEXT, BLOCK_TEXT, Buffer.byteLength(b) - BLOCK_TEXT])
      assert.ok(Buffer.concat(texts).equals(Buffer.concat([a, b])))
    } finally {
      await fh.close()
    }
    // From any byte: the blocks whose marker starts at or after it (markers start mid-byte).
    const size = statSync(f).size
    for (const from of [1, 4, 5, ...blocks.slice(1).flatMap((x) => [Math.floor(x.bit / 8), Math.floor(x.bit / 8) + 1, Math.ceil(x.bit / 8)]), size - 1]) {
      const want = blocks.filter((x) => x.bit >= from * 8).map((x) => x.bit)
      assert.equal((await allBlocks(f, from)).map((x) => x.bit), want, `from ${from}`)
    }
  } finally {
    t.remove()
  }
}, MS))

test('parts cut anywhere hold each record of the text once, in order, wherever blocks end: mid-line, at a line end, inside \'\\r\\n\', after a lone \'\\r\'', deadline('records', async () => {
  const t = tempDir()
  try {
    // [what, text, the last byte of block 1's text when the case is about it]
    const bodies: [string, Buffer, string?][] = [
      ['LF, multi-byte', words(3, 5 * BLOCK_TEXT)],
      ['CRLF and lone CR', words(4, 4 * BLOCK_TEXT, ['\r\n', '\n', '\r'])],
      // A block's text ending at a line end, in the middle of a '\r\n', and after a lone '\r'.
      ['LF ends block 1', lineEndAt(5, 3 * BLOCK_TEXT, BLOCK_TEXT - 1, '\n'), '\n'],
      ['CRLF across blocks 1-2', lineEndAt(6, 3 * BLOCK_TEXT, BLOCK_TEXT - 1, '\r\n'), '\r'],
      ['lone CR ends block 1', lineEndAt(7, 3 * BLOCK_TEXT, BLOCK_TEXT - 1, '\rx'), '\r'],
      // One line longer than two blocks, then short ones; no final line end.
      ['a line over blocks', Buffer.concat([words(8, 2.5 * BLOCK_TEXT, [' ']), Buffer.from('\n'), words(9, BLOCK_TEXT, ['\n', ' '])])],
    ]
    for (const [what, raw, lastOfBlock1] of bodies) {
      const f = path.join(t.dir, 'in.bz2')
      const stored = bzip2(raw)
      writeFileSync(f, stored)
      if (lastOfBlock1 !== undefined) {
        // The premise: block 1's text ends where this case puts its line end.
        const fh = await open(f, 'r')
        const first = bunzip2(await blockStream(fh, (await allBlocks(f))[0]!))
        await fh.close()
        assert.is(first.length, BLOCK_TEXT, what)
        assert.is(first.subarray(-1).toString('latin1'), lastOfBlock1, what)
      }
      const want = plainRecords(t.dir, raw)
      const blocks = await allBlocks(f)
      assert.ok(blocks.length >= 3, `${what}: ${blocks.length} blocks`)
      // Split sizes from smaller than a block's stored bytes (parts with no block) to half the file.
      for (const splitSize of [997, 4096, Math.ceil(stored.length / 7), Math.ceil(stored.length / 2)]) {
        const splits = computeSplits([{ path: f, name: 'in.bz2', size: stored.length }], splitSize, 'lines')
        assert.ok(splits.length > 1)
        const dir = path.join(t.dir, `copies-${splitSize}`)
        const plain = await plainPieces(splits, dir)
        try {
          const got = recordsOf(plain.pieces)
          assert.equal(got.map((r) => r.line), want.map((r) => r.line), `${what}, split size ${splitSize}`)
          // records: 'chunks' reads the same records, line ends included: the text, byte for byte.
          assert.ok(Buffer.concat(plain.pieces.flatMap(chunksOf)).equals(raw), `${what}, split size ${splitSize}: chunks`)
          // The first part's offsets are the text's; within a part they grow (Hadoop's: a later
          // part counts from its first block's byte in the compressed file).
          for (let i = 0; i < got.length; i++) {
            if (got[i]!.part === 0) assert.is(got[i]!.offset, want[i]!.offset)
            else if (i > 0 && got[i - 1]!.part === got[i]!.part) assert.ok(got[i]!.offset > got[i - 1]!.offset)
          }
        } finally {
          await plain.remove()
        }
      }
    }
  } finally {
    t.remove()
  }
}, MS))

test('a part decompresses its own blocks and only as many more as its last line needs; one with no block is empty', deadline('part', async () => {
  const t = tempDir()
  try {
    const body = words(10, 6 * BLOCK_TEXT)
    const f = path.join(t.dir, 'p.bz2')
    writeFileSync(f, bzip2(body))
    const blocks = await allBlocks(f)
    const b2 = Math.floor(blocks[2]!.bit / 8)
    // Blocks 1 and 2 (block 2's marker starts in byte b2), then a line's worth of block 3.
    const p = await decompressBz2Part(f, 'p.bz2', Math.floor(blocks[1]!.bit / 8), b2 + 1, path.join(t.dir, 'p1'))
    assert.equal([p.prefix, p.text], [1, 2 * BLOCK_TEXT])
    assert.ok(p.size <= 1 + 3 * BLOCK_TEXT, `${p.size}`)
    const copy = readFileSync(path.join(t.dir, 'p1'))
    assert.ok(copy.subarray(1).equals(body.subarray(BLOCK_TEXT, BLOCK_TEXT + copy.length - 1)))
    // Lines that end at a lone '\r' only (old Mac text): the same.
    writeFileSync(f, bzip2(words(10, 6 * BLOCK_TEXT, ['\r'])))
    const crBlocks = await allBlocks(f)
    const cr = await decompressBz2Part(f, 'p.bz2', Math.floor(crBlocks[1]!.bit / 8), Math.floor(crBlocks[2]!.bit / 8) + 1, path.join(t.dir, 'p3'))
    assert.ok(cr.text === 2 * BLOCK_TEXT && cr.size <= 1 + 3 * BLOCK_TEXT, `${cr.text}, ${cr.size}`)
    // A range inside one block's bytes holds no marker: nothing to decompress.
    const none = await decompressBz2Part(f, 'p.bz2', b2 + 1, b2 + 100, path.join(t.dir, 'p2'))
    assert.equal(none, { prefix: 0, text: 0, size: 0, firstByte: -1 })
    assert.is(statSync(path.join(t.dir, 'p2')).size, 0)
  } finally {
    t.remove()
  }
}, MS))

test('empty streams before the first block: the part that holds it still reads its first line', deadline('empty first', async () => {
  const t = tempDir()
  try {
    const body = words(15, 3 * BLOCK_TEXT)
    const f = path.join(t.dir, 'e.bz2')
    // Two empty streams (14 bytes each) first: the first block starts at bit 32 + 2 * 112.
    const stored = Buffer.concat([bzip2(''), bzip2(''), bzip2(body)])
    writeFileSync(f, stored)
    assert.is((await allBlocks(f))[0]!.bit, 32 + 2 * 14 * 8)
    const want = plainRecords(t.dir, body)
    for (const splitSize of [3, 20, 997, 4096]) {
      const plain = await plainPieces(computeSplits([{ path: f, name: 'e.bz2', size: stored.length }], splitSize, 'lines'), path.join(t.dir, `c-${splitSize}`))
      try {
        assert.equal(recordsOf(plain.pieces).map((r) => r.line), want.map((r) => r.line), `split size ${splitSize}`)
      } finally {
        await plain.remove()
      }
    }
  } finally {
    t.remove()
  }
}, MS))

test('a .bz2 cut short at a block\'s marker or in its end of stream, or a header and no blocks, is unreadable in the part that meets it', deadline('cut', async () => {
  const t = tempDir()
  try {
    const stored = bzip2(words(16, 4 * BLOCK_TEXT))
    const f = path.join(t.dir, 'whole.bz2')
    writeFileSync(f, stored)
    const blocks = await allBlocks(f)
    const cuts: [string, Buffer][] = [
      // Bytes up to block 3's marker, which is then incomplete: block 2 runs to the end, with nothing after it.
      ['at a block', stored.subarray(0, Math.floor(blocks[2]!.bit / 8))],
      ['in the stream CRC', stored.subarray(0, stored.length - 1)],
      ['in the end marker', stored.subarray(0, stored.length - 6)],
      ['a header and garbage', Buffer.concat([Buffer.from('BZh9'), Buffer.from(words(17, 20_000, [' '], ASCII))])],
      ['a header and half a marker', stored.subarray(0, 7)],
    ]
    for (const [what, bytes] of cuts) {
      const c = path.join(t.dir, 'cut.bz2')
      writeFileSync(c, bytes)
      // Every part, the whole file's range included; one of them must fail, none may garble.
      const splits = computeSplits([{ path: c, name: 'cut.bz2', size: bytes.length }], 997, 'lines')
      let failed = 0
      for (const [i, s] of splits.entries()) {
        const e = await decompressBz2Part(c, 'cut.bz2', s.start, s.end, path.join(t.dir, `${what}-${i}`)).then(() => undefined, (x: unknown) => x)
        if (e === undefined) continue
        assert.instance(e, InputUnreadableError, what)
        assert.match((e as Error).message, /\(not valid bzip2 data: /)
        failed++
      }
      assert.ok(failed > 0, `${what}: some part says so`)
    }
  } finally {
    t.remove()
  }
}, MS))

test('a job over a .bz2 of two streams maps it in parts on two threads and writes what the plain text gives', deadline('job', async () => {
  const t = tempDir()
  try {
    const body = text(11, 30_000) + text(12, 20_000)
    mkdirSync(path.join(t.dir, 'bz'))
    mkdirSync(path.join(t.dir, 'txt'))
    writeFileSync(path.join(t.dir, 'bz', 'in.txt.bz2'), Buffer.concat([bzip2(text(11, 30_000)), bzip2(text(12, 20_000))]))
    writeFileSync(path.join(t.dir, 'txt', 'in.txt'), body)
    const job = path.join(EXAMPLES, 'wc.ts')
    const plain = await runJob({ job, input: path.join(t.dir, 'txt'), output: path.join(t.dir, 'o1'), procs: 2, reducers: 2 })
    const parts = await runJob({ job, input: path.join(t.dir, 'bz'), output: path.join(t.dir, 'o2'), procs: 2, reducers: 2, splitSize: '16KiB' })
    assert.ok(parts.maps > 4, `${parts.maps} map tasks`)
    assert.equal(readParts(path.join(t.dir, 'o2')), readParts(path.join(t.dir, 'o1')))
    assert.is(parts.counters.mapInputRecords, plain.counters.mapInputRecords)
    assert.is(parts.counters.inputBytes, statSync(path.join(t.dir, 'bz', 'in.txt.bz2')).size)
  } finally {
    t.remove()
  }
}, MS))

test('the default split size cuts a .bz2 by its own bytes over the threads: 2.6 MB on two threads is two tasks', deadline('default split', async () => {
  const t = tempDir()
  try {
    const r = rng(5)
    const lines: string[] = []
    for (let n = 0; n < 3_400_000;) {
      const l = Array.from({ length: 60 }, () => String.fromCharCode(33 + Math.floor(r() * 94))).join('')
      lines.push(l)
      n += 61
    }
    const bz = bzip2(`${lines.join('\n')}\n`)
    assert.ok(bz.length > 2 << 20 && bz.length < 4 << 20, `${bz.length} bytes`)
    writeFileSync(path.join(t.dir, 'in.txt.bz2'), bz)
    const job = await runJob({ job: path.join(EXAMPLES, 'wc.ts'), input: path.join(t.dir, 'in.txt.bz2'), output: path.join(t.dir, 'out'), procs: 2 })
    assert.is(job.maps, 2, 'a split of half its bytes each (four times its bytes over two threads would make one)')
    assert.is(job.counters.mapInputRecords, lines.length)
  } finally {
    t.remove()
  }
}, MS))

test('a corrupt block fails its part\'s task at once as unreadable input, naming the file; nothing is left', deadline('corrupt', async () => {
  const t = tempDir()
  try {
    const stored = bzip2(words(13, 4 * BLOCK_TEXT))
    mkdirSync(path.join(t.dir, 'in'))
    const f = path.join(t.dir, 'in', 'c.bz2')
    writeFileSync(f, stored)
    const blocks = await allBlocks(f)
    // A byte in block 3's data (past its header): its CRC check fails.
    const bad = Buffer.from(stored)
    const at = Math.floor(blocks[2]!.bit / 8) + 200
    bad[at] = bad[at]! ^ 0x55
    writeFileSync(f, bad)
    const out = path.join(t.dir, 'out')
    const e = await rejection(runJob({ job: path.join(EXAMPLES, 'wc.ts'), input: f, output: out, procs: 2, splitSize: '8KiB', maxAttempts: 3 }))
    assert.instance(e, TaskFailedError)
    const attempts = (e as TaskFailedError).attempts
    assert.is(attempts.length, 1, 'not retried')
    assert.instance(attempts[0]!.cause, InputUnreadableError)
    assert.match((e as Error).message, /input file "[^"]*c\.bz2" cannot be read \(not valid bzip2 data: /)
    assert.not.ok(existsSync(out))
    // Not bzip2 at all: every part says so, not only the first (the others find no block).
    writeFileSync(f, words(14, 60_000))
    for (const start of [0, 20_000]) {
      const n = await rejection(decompressBz2Part(f, 'c.bz2', start, start + 20_000, path.join(t.dir, `np-${start}`)))
      assert.instance(n, InputUnreadableError)
      assert.match((n as Error).message, /\(not valid bzip2 data: it does not start with a bzip2 header\)$/)
    }
  } finally {
    t.remove()
  }
}, MS))

test.run()
