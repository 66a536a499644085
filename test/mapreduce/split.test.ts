// Splits and line records: whatever the split size, every record is read exactly once, by the
// split in which it starts, with its byte offset: CRLF, lone CRs, no final newline, empty files, empty
// lines, multi-byte UTF-8 cut by a split boundary, lines longer than the reader's buffer.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChunkReader, computeSplits, LineReader, packSplits, taperSplits, type Split } from '../../src/mapreduce/split.js'
import { RecordTooLongError } from '../../src/mapreduce/errors.js'
import type { InputFile } from '../../src/mapreduce/inputs.js'
import { rng, tempDir, text } from './_helpers.js'
import { thrown } from '../_support/rejection.js'

const test = suite('split')

/**
 * The records of `bytes` by the rule itself, byte by byte, for comparison: [offset, line]. A line
 * ends at '\n', '\r\n' or a '\r' alone (Hadoop's LineReader).
 */
function reference(bytes: Buffer): [number, string][] {
  const out: [number, string][] = []
  let start = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a && bytes[i] !== 0x0d) continue
    out.push([start, bytes.toString('utf8', start, i)])
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i++
    start = i + 1
  }
  if (start < bytes.length) out.push([start, bytes.toString('utf8', start)])
  return out
}

function readAll(file: InputFile, splitSize: number, bufSize: number): [number, string][] {
  const out: [number, string][] = []
  for (const s of computeSplits([file], splitSize, 'lines')) {
    const r = new LineReader(s.path, s.start, s.end, { bufSize })
    try {
      while (r.next()) {
        assert.ok(r.offset >= s.start && r.offset < s.end, `record at ${r.offset} read by split [${s.start}, ${s.end})`)
        out.push([r.offset, r.line])
      }
    } finally {
      r.close()
    }
  }
  return out
}

const CASES: [string, string][] = [
  ['empty file', ''],
  ['one newline', '\n'],
  ['newlines only', '\n\n\n'],
  ['no final newline', 'alpha\nbeta\ngamma'],
  ['final newline', 'alpha\nbeta\ngamma\n'],
  ['CRLF', 'alpha\r\nbeta\r\n\r\ngamma\r\n'],
  ['CRLF, no final newline', 'alpha\r\nbeta'],
  ['a lone CR ends a line', 'a\rb\nc\r'],
  ['CR only (old Mac text)', 'alpha\rbeta\r\rgamma'],
  ['CR, CRLF and LF mixed', 'a\r\r\nb\n\rc\r\n\r\nd\r'],
  ['CRs in a row', '\r\r\r\n\r'],
  ['a terminal progress line', 'done 10%\rdone 50%\rdone 100%\nok\n'],
  ['empty lines between', 'a\n\n\nb\n\n'],
  ['multi-byte UTF-8', 'naïve café\n日本語のテキスト\n😀😀😀\nStraße\n𝒳\n'],
  ['one long line', 'x'.repeat(300)],
  ['long lines', `${'y'.repeat(100)}\n${'é'.repeat(70)}\n\n${'z'.repeat(40)}`],
]

test('every record exactly once, by the split it starts in, for every split size', () => {
  const t = tempDir()
  try {
    for (const [name, content] of CASES) {
      const p = path.join(t.dir, 'f.txt')
      writeFileSync(p, content)
      const bytes = Buffer.from(content)
      const file: InputFile = { path: p, name: 'f.txt', size: bytes.length }
      const want = reference(bytes)
      for (let size = 1; size <= bytes.length + 2; size++) {
        for (const buf of [16, 1 << 16]) {
          assert.equal(readAll(file, size, buf), want, `${name}: split size ${size}, buffer ${buf}`)
        }
      }
    }
  } finally {
    t.remove()
  }
})

test('random text of \\r, \\n and multi-byte characters: the records of every split size, line and chunk readers alike, are the reference\'s', () => {
  const t = tempDir()
  try {
    const r = rng(11)
    const alphabet = ['a', 'b', 'é', '😀', '\r', '\n', '\r', '\n', ' ']
    const p = path.join(t.dir, 'r.txt')
    for (let round = 0; round < 150; round++) {
      const content = Array.from({ length: Math.floor(r() * 48) }, () => alphabet[Math.floor(r() * alphabet.length)]!).join('')
      writeFileSync(p, content)
      const bytes = Buffer.from(content)
      const file: InputFile = { path: p, name: 'r.txt', size: bytes.length }
      const want = reference(bytes)
      for (let size = 1; size <= bytes.length + 1; size++) {
        assert.equal(readAll(file, size, 16), want, `${JSON.stringify(content)}: split size ${size}`)
        const chunks: Buffer[] = []
        for (const s of computeSplits([file], size, 'chunks')) {
          const c = new ChunkReader(s.path, s.start, s.end, 16)
          try {
            while (c.next()) chunks.push(Buffer.from(c.chunk))
          } finally {
            c.close()
          }
        }
        assert.ok(Buffer.concat(chunks).equals(bytes), `${JSON.stringify(content)}: chunks of split size ${size}`)
      }
    }
  } finally {
    t.remove()
  }
})

test('chunks: the splits\' chunks, in order, are the file\'s bytes, each cut after a line end or at the end, each starting a record of its split', () => {
  const t = tempDir()
  try {
    for (const [name, content] of [...CASES, ['generated', text(3, 200, true)] as [string, string]]) {
      const p = path.join(t.dir, 'f.txt')
      writeFileSync(p, content)
      const bytes = Buffer.from(content)
      const starts = new Set(reference(bytes).map(([o]) => o))
      const sizes = bytes.length > 400 ? [1, 7, 64, 333, bytes.length] : Array.from({ length: bytes.length + 2 }, (_, i) => i + 1)
      for (const size of sizes) {
        for (const buf of [16, 1 << 16]) {
          const got: Buffer[] = []
          for (const s of computeSplits([{ path: p, name: 'f.txt', size: bytes.length }], size, 'chunks')) {
            const r = new ChunkReader(s.path, s.start, s.end, buf)
            try {
              while (r.next()) {
                const at = `${name}: split size ${size}, buffer ${buf}, chunk at ${r.offset}`
                assert.ok(r.offset >= s.start && r.offset < s.end, `${at}: outside [${s.start}, ${s.end})`)
                assert.ok(starts.has(r.offset), `${at}: not a record's start`)
                assert.ok(r.chunk.length > 0, at)
                const after = r.offset + r.chunk.length
                // Cut after a line end: a '\n', or a '\r' whose next byte is not a '\n'.
                const endsLine = bytes[after - 1] === 0x0a || (bytes[after - 1] === 0x0d && bytes[after] !== 0x0a)
                assert.ok(endsLine || after === bytes.length, `${at}: cut inside a line`)
                assert.ok(bytes.subarray(r.offset, r.offset + r.chunk.length).equals(r.chunk), `${at}: bytes differ`)
                got.push(Buffer.from(r.chunk))
              }
            } finally {
              r.close()
            }
          }
          assert.ok(Buffer.concat(got).equals(bytes), `${name}: split size ${size}, buffer ${buf}: every byte once, in order`)
        }
      }
    }
  } finally {
    t.remove()
  }
})

test('generated text with CRLF and LF: the lines are the text split at \\n, less each \\r before it', () => {
  const t = tempDir()
  try {
    for (const crlf of [false, true]) {
      const content = text(crlf ? 2 : 1, 400, crlf)
      const p = path.join(t.dir, 'g.txt')
      writeFileSync(p, content)
      const size = Buffer.byteLength(content)
      const lines = content.split('\n').map((l) => l.replace(/\r$/, ''))
      if (content.endsWith('\n')) lines.pop()
      for (const split of [7, 100, 1000, size]) {
        const got = readAll({ path: p, name: 'g', size }, split, 64).map(([, l]) => l)
        assert.equal(got, lines, `crlf ${crlf}, split ${split}`)
      }
    }
  } finally {
    t.remove()
  }
})

test('a line longer than maxLine is a RecordTooLongError naming the file and the line; the buffer stops growing', () => {
  const t = tempDir()
  try {
    const p = path.join(t.dir, 'long.txt')
    // Lines of 40 bytes (one of them CRLF: its \r is not the line's), then one of 1000.
    const lines = ['a'.repeat(40), `${'b'.repeat(40)}\r`, 'c'.repeat(1000), 'd']
    writeFileSync(p, lines.join('\n'))
    const r = new LineReader(p, 0, 2000, { bufSize: 16, name: 'data/long.txt', maxLine: 40 })
    try {
      assert.ok(r.next())
      assert.is(r.line, 'a'.repeat(40))
      assert.ok(r.next())
      assert.is(r.line, 'b'.repeat(40))
      const err = thrown(() => r.next())
      assert.instance(err, RecordTooLongError)
      const e = err as RecordTooLongError
      assert.is(e.code, 'ERR_MR_RECORD_TOO_LONG')
      assert.equal([e.file, e.offset, e.limit], ['data/long.txt', 83, 40])
      assert.match(e.message, /input "data\/long\.txt": the line at byte 83 is longer than 40 bytes, the most one string holds; .*records: 'chunks'/)
      assert.ok(r.bufferBytes <= 64, `the buffer grew to ${r.bufferBytes} bytes for a 40-byte limit`)
    } finally {
      r.close()
    }
    // A line of exactly maxLine bytes is read (and that file's split holds nothing else).
    writeFileSync(p, 'e'.repeat(40))
    const ok = new LineReader(p, 0, 40, { bufSize: 16, maxLine: 40 })
    try {
      assert.ok(ok.next())
      assert.is(ok.line.length, 40)
      assert.not.ok(ok.next())
    } finally {
      ok.close()
    }
  } finally {
    t.remove()
  }
})

test('skipping a record an earlier split owns keeps nothing and stops at the split\'s end, however long the record', () => {
  const t = tempDir()
  try {
    const p = path.join(t.dir, 'one-line.txt')
    writeFileSync(p, `${'x'.repeat(100_000)}\nnext\n`)
    // A split inside the long line, ending before its newline: no record, and no long read.
    const inside = new LineReader(p, 50_000, 60_000, { bufSize: 64, maxLine: 10 })
    try {
      assert.is(inside.nextOffset, 60_000)
      assert.not.ok(inside.next())
      assert.is(inside.bufferBytes, 64)
    } finally {
      inside.close()
    }
    // The split whose range holds the newline starts the next record, the long line not read as one.
    const holds = new LineReader(p, 90_000, 100_010, { bufSize: 64, maxLine: 10 })
    try {
      assert.ok(holds.next())
      assert.equal([holds.offset, holds.line], [100_001, 'next'])
      assert.not.ok(holds.next())
      assert.is(holds.bufferBytes, 64)
    } finally {
      holds.close()
    }
  } finally {
    t.remove()
  }
})

test('computeSplits: ranges of splitSize per file, one empty split for an empty file (as Hadoop); files mode: one per file', () => {
  const files: InputFile[] = [
    { path: '/a', name: 'a', size: 10 },
    { path: '/e', name: 'e', size: 0 },
    { path: '/b', name: 'b', size: 4 },
  ]
  assert.equal(computeSplits(files, 4, 'lines').map((s) => [s.name, s.start, s.end]), [
    ['a', 0, 4], ['a', 4, 8], ['a', 8, 10], ['e', 0, 0], ['b', 0, 4],
  ])
  assert.equal(computeSplits(files, 4, 'files').map((s) => [s.name, s.start, s.end]), [['a', 0, 10], ['e', 0, 0], ['b', 0, 4]])
})

test('taperSplits: the last two waves in halves then quarters; each byte once, in order; else unchanged', () => {
  const files: InputFile[] = Array.from({ length: 16 }, (_, i) => ({ path: `/d/${i}`, name: String(i), size: 64 }))
  files[3] = { path: '/d/3', name: '3', size: 100 } // a file of one split and a part
  const splits = computeSplits(files, 64, 'lines')
  const tapered = taperSplits(splits, 64, 2, 1)
  // An empty file's split stays.
  const withEmpty = taperSplits(computeSplits([...files, { path: '/d/z', name: 'z', size: 0 }], 64, 'lines'), 64, 2, 1)
  assert.ok(withEmpty.some((s) => s.name === 'z' && s.start === 0 && s.end === 0))
  // Each byte of each file once, in order.
  const cover = (list: Split[]): string => list.map((s) => `${s.name}:${s.start}-${s.end}`).join(' ')
  const joined = new Map<string, number>()
  for (const s of tapered) {
    assert.equal(s.start, joined.get(s.name) ?? 0, `${s.name} continues where it stopped`)
    assert.ok(s.end > s.start)
    joined.set(s.name, s.end)
  }
  for (const f of files) assert.equal(joined.get(f.name), f.size)
  // 1060 bytes, waves of 128: the splits start whole, the last 128 bytes are cut in halves
  // (32) and the last 64 in quarters (16).
  const tail = tapered.slice(-6).map((s) => [s.name, s.start, s.end])
  assert.equal(tail, [['14', 0, 32], ['14', 32, 64], ['15', 0, 16], ['15', 16, 32], ['15', 32, 48], ['15', 48, 64]])
  assert.equal(cover(tapered.slice(0, -6)), cover(splits.slice(0, -2)))
  // One thread, two waves or fewer: as they were.
  assert.equal(taperSplits(splits, 64, 1, 1), splits)
  assert.equal(taperSplits(splits, 64, 9, 1), splits)
  // Never below `least`.
  assert.ok(taperSplits(splits, 64, 2, 24).every((s) => s.end - s.start >= 24 || s.end === files.find((f) => f.name === s.name)!.size))
})

test('packSplits: only empty files make one task', () => {
  const empty: Split[] = Array.from({ length: 10 }, (_, i) => ({ path: `/e/${i}`, name: String(i), start: 0, end: 0 }))
  assert.equal(packSplits(empty, 1024).map((t) => t.length), [10])
  assert.equal(packSplits([], 1024), [])
})

test('packSplits: a split weighs what `weight` says: compressed files by their text', () => {
  const sp = (name: string, end: number): Split => ({ path: `/x/${name}`, name, start: 0, end })
  // Eight .gz files of 10 bytes holding 100 each, and two text files of 100: by their bytes (280),
  // two tasks, all eight .gz in the first; by their text (1000), five of 200.
  const splits = [...Array.from({ length: 8 }, (_, i) => sp(`f${i}.gz`, 10)), sp('a.txt', 100), sp('b.txt', 100)]
  assert.equal(packSplits(splits, 200).map((t) => t.length), [9, 1])
  const tasks = packSplits(splits, 200, (s) => (s.end - s.start) * (s.name.endsWith('.gz') ? 10 : 1))
  assert.equal(tasks.map((t) => t.map((s) => s.name)), [['f0.gz', 'f1.gz'], ['f2.gz', 'f3.gz'], ['f4.gz', 'f5.gz'], ['f6.gz', 'f7.gz'], ['a.txt', 'b.txt']])
})

test('packSplits: each split once, in order; about a split a task; small files in equal tasks; big files one task a split', () => {
  const sp = (name: string, start: number, end: number): Split => ({ path: `/x/${name}`, name, start, end })
  const shape = (tasks: Split[][]): string[][] => tasks.map((t) => t.map((s) => `${s.name}@${s.start}`))
  const check = (splits: Split[], size: number): Split[][] => {
    const tasks = packSplits(splits, size)
    assert.equal(tasks.flat(), splits, 'every split once, in order')
    const per = splits.reduce((n, s) => n + s.end - s.start, 0) / Math.ceil(splits.reduce((n, s) => n + s.end - s.start, 0) / size)
    for (const t of tasks) {
      const lens = t.map((s) => s.end - s.start)
      assert.ok(t.length === 1 || lens.reduce((a, b) => a + b, 0) < per + Math.max(...lens), 'about one share')
    }
    return tasks
  }
  assert.equal(packSplits([], 10), [])
  // 16 files of about 4 units, splitSize half the total (autoSplitSize for two threads): two tasks of 8.
  // The first eight are larger: filling tasks up to the split size in turn would make three.
  const sizes = [42, 42, 43, 42, 42, 41, 42, 42, 38, 38, 37, 38, 38, 39, 38, 38]
  const total = sizes.reduce((a, b) => a + b, 0)
  const small = sizes.map((n, i) => sp(`f${i}`, 0, n))
  assert.equal(check(small, Math.ceil(total / 2)).map((t) => t.length), [8, 8])
  assert.equal(check(small, Math.ceil(total / 4)).map((t) => t.length), [4, 4, 4, 4])
  // Files as big as a split: one task each, as before.
  const big = [sp('a', 0, 64), sp('a', 64, 128), sp('b', 0, 64)]
  assert.equal(shape(check(big, 64)), [['a@0'], ['a@64'], ['b@0']])
  // A big file's tail and the small files after it share tasks up to the split size.
  const mixed = [sp('a', 0, 64), sp('a', 64, 70), sp('b', 0, 10), sp('c', 0, 30), sp('d', 0, 50), sp('e', 0, 1)]
  const m = check(mixed, 64)
  assert.equal(shape(m)[0], ['a@0'])
  assert.ok(m.length <= 4, `${m.length} tasks`)
  // A split larger than splitSize (a file cut at another size) is still a task of its own.
  assert.equal(shape(check([sp('a', 0, 5), sp('b', 0, 100), sp('c', 0, 5)], 10)), [['a@0'], ['b@0'], ['c@0']])
})

test.run()
