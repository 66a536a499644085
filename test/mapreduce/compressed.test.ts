// Compressed input (src/mapreduce/codec.ts): gzip, deflate, bzip2 and zstd files read as their
// text, as Hadoop reads them by their names' extensions, in process, through streaming commands,
// under records: 'files' and for a sample; corrupt ones fail at once; the copies never outlive an
// attempt. bzip2 and zstd go through those commands (npm test installs them: system-deps.ts).
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { deflateSync, gzipSync } from 'node:zlib'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { InputTooLargeError, InputUnreadableError, JobStoppedError, runJob, TaskFailedError, type ProgressEvent } from '../../src/mapreduce/index.js'
import { codecOf, decompress, findCommand, plainPieces, recordedTextSize, recordTextSizes, textSize } from '../../src/mapreduce/codec.js'
import { expandInputs } from '../../src/mapreduce/inputs.js'
import { runDecompressed } from '../../src/mapreduce/coordinator.js'
import { computeSplits, taperSplits } from '../../src/mapreduce/split.js'
import { KEY_BYTES, records } from '../../examples/mapreduce/records.js'
import { deadline } from '../_support/deadline.js'
import { rejection } from '../_support/rejection.js'
import { byteOrder, countsOf, FIXTURES, readParts, sortedEntries, tempDir, text, wordCount } from './_helpers.js'

const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '../../examples/mapreduce')
const MS = 90_000

const test = suite('compressed input')

/** `text` compressed by `command` (bzip2, zstd) as its CLI writes it, as Hadoop's codecs do. */
function compressWith(command: string, text: string | Buffer): Buffer {
  const r = spawnSync(command, ['-c'], { input: text, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`${command} -c: ${r.stderr?.toString() ?? r.error?.message}`)
  return r.stdout
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort()
}

test('codecOf and splits: .gz and .deflate are one split each, whatever the split size; other names are cut', () => {
  assert.equal(['a.gz', 'a.txt.deflate', 'a.txt', 'gz', 'a.gz.txt', 'a.bz2', 'a.zst', 'a.lz4', 'a.snappy'].map(codecOf), ['gzip', 'deflate', undefined, undefined, undefined, 'bzip2', 'zstd', undefined, undefined])
  const files = [{ path: '/d/a.gz', name: 'a.gz', size: 10_000 }, { path: '/d/b.txt', name: 'b.txt', size: 10_000 }]
  const splits = computeSplits(files, 4096, 'lines')
  assert.equal(splits.map((s) => [s.name, s.start, s.end]), [['a.gz', 0, 10_000], ['b.txt', 0, 4096], ['b.txt', 4096, 8192], ['b.txt', 8192, 10_000]])
  // Tapering the last waves cuts the plain file finer, never the compressed one.
  const both = [{ path: '/d/a.gz', name: 'a.gz', size: 100_000 }, { path: '/d/b.txt', name: 'b.txt', size: 100_000 }]
  const tapered = taperSplits(computeSplits(both, 8192, 'lines'), 8192, 2, 1024)
  assert.equal(tapered.filter((s) => s.name === 'a.gz').map((s) => [s.start, s.end]), [[0, 100_000]])
  assert.ok(tapered.filter((s) => s.name === 'b.txt').length > 100_000 / 8192)
})

test('decompress: gzip (several members too) and deflate; maxLines stops early; bad data is InputUnreadableError naming the file', deadline('decompress', async () => {
  const t = tempDir()
  try {
    const body = text(5, 4000)
    const half = body.length >> 1
    const members = path.join(t.dir, 'm.gz')
    writeFileSync(members, Buffer.concat([gzipSync(body.slice(0, half)), gzipSync(body.slice(half))]))
    assert.is(await decompress(members, 'm.gz', 'gzip', path.join(t.dir, 'm.out')), Buffer.byteLength(body))
    assert.is(readFileSync(path.join(t.dir, 'm.out'), 'utf8'), body)
    const d = path.join(t.dir, 'd.deflate')
    writeFileSync(d, deflateSync(body))
    assert.is(await decompress(d, 'd.deflate', 'deflate', path.join(t.dir, 'd.out')), Buffer.byteLength(body))
    assert.is(readFileSync(path.join(t.dir, 'd.out'), 'utf8'), body)
    // The first 10 lines are all there, and far from all the rest.
    const n = await decompress(members, 'm.gz', 'gzip', path.join(t.dir, 'few.out'), { maxLines: 10 })
    const few = readFileSync(path.join(t.dir, 'few.out'), 'utf8')
    assert.is(n, Buffer.byteLength(few))
    assert.ok(few.startsWith(body.split('\n').slice(0, 10).join('\n') + '\n'))
    assert.ok(n < Buffer.byteLength(body) / 2, `${n} bytes for 10 lines`)
    // Lines that end at a lone '\r' (old Mac text) count as lines too.
    const crText = path.join(t.dir, 'cr.gz')
    writeFileSync(crText, gzipSync(body.replaceAll('\n', '\r')))
    const m = await decompress(crText, 'cr.gz', 'gzip', path.join(t.dir, 'cr.few'), { maxLines: 10 })
    assert.ok(m < Buffer.byteLength(body) / 2, `${m} bytes for 10 lines ended by '\\r'`)
    for (const [i, [bytes, why]] of ([[gzipSync(body).subarray(0, 500), /unexpected end of file/], [Buffer.from('plain text\n'), /incorrect header check/]] as const).entries()) {
      const f = path.join(t.dir, 'bad.gz')
      writeFileSync(f, bytes)
      const e = await rejection(decompress(f, 'logs/bad.gz', 'gzip', path.join(t.dir, `bad-${i}.out`)))
      assert.instance(e, InputUnreadableError)
      assert.match((e as Error).message, /^gort mapreduce: input file "logs\/bad\.gz" cannot be read \(not valid gzip data: /)
      assert.match((e as Error).message, why)
    }
    // A file of no bytes holds no records.
    writeFileSync(path.join(t.dir, 'empty.gz'), '')
    assert.is(await decompress(path.join(t.dir, 'empty.gz'), 'empty.gz', 'gzip', path.join(t.dir, 'empty.out')), 0)
    // An aborted copy rejects with the signal's reason; plainPieces removes what it made.
    const ac = new AbortController()
    ac.abort(new Error('stop here'))
    const dir = path.join(t.dir, 'attempt')
    mkdirSync(dir)
    const e = await rejection(plainPieces([{ path: members, name: 'm.gz', start: 0, end: 1 }], dir, ac.signal))
    assert.is((e as Error).message, 'stop here')
    assert.equal(readdirSync(dir), [])
  } finally {
    t.remove()
  }
}, MS))

test('decompress through the bzip2 and zstd commands: their text; maxLines ends the command early; bad data is the command\'s first line', deadline('commands', async () => {
  const t = tempDir()
  try {
    const body = text(7, 20_000)
    for (const [codec, ext] of [['bzip2', 'bz2'], ['zstd', 'zst']] as const) {
      const f = path.join(t.dir, `a.${ext}`)
      // Two streams back to back, as pbzip2 and `cat a.zst b.zst` make them: read as one text.
      writeFileSync(f, Buffer.concat([compressWith(codec, body.slice(0, 5000)), compressWith(codec, body.slice(5000))]))
      assert.is(await decompress(f, `a.${ext}`, codec, path.join(t.dir, `${ext}.out`)), Buffer.byteLength(body))
      assert.is(readFileSync(path.join(t.dir, `${ext}.out`), 'utf8'), body, codec)
      const n = await decompress(f, `a.${ext}`, codec, path.join(t.dir, `${ext}.few`), { maxLines: 10 })
      assert.ok(n < Buffer.byteLength(body) / 2, `${codec}: ${n} bytes for 10 lines`)
      assert.ok(readFileSync(path.join(t.dir, `${ext}.few`), 'utf8').startsWith(body.split('\n').slice(0, 10).join('\n') + '\n'))
      const bad = path.join(t.dir, `bad.${ext}`)
      writeFileSync(bad, compressWith(codec, body).subarray(0, 300))
      const e = await rejection(decompress(bad, `logs/bad.${ext}`, codec, path.join(t.dir, `${ext}.bad`)))
      assert.instance(e, InputUnreadableError)
      assert.match((e as Error).message, new RegExp(`^gort mapreduce: input file "logs/bad\\.${ext}" cannot be read \\(not valid ${codec} data: \\S`))
      assert.not.match((e as Error).message, /\n/)
    }
    // Stopped while the command writes: rejects with the reason, the copy cut short, the process
    // gone. 128 streams of 8 MiB of zeros (6 KB stored): bzip2 takes seconds over the 1 GiB, and
    // the abort comes at its first bytes.
    const stream = compressWith('bzip2', Buffer.alloc(8 << 20))
    const full = 128 * (8 << 20)
    const f = path.join(t.dir, 'big.bz2')
    writeFileSync(f, Buffer.concat(Array.from({ length: 128 }, () => stream)))
    const to = path.join(t.dir, 'big.out')
    const ac = new AbortController()
    const p = decompress(f, 'big.bz2', 'bzip2', to, { signal: ac.signal })
    while (!existsSync(to) || statSync(to).size === 0) await new Promise((r) => setTimeout(r, 1))
    ac.abort(new Error('stop here'))
    assert.is(((await rejection(p)) as Error).message, 'stop here')
    assert.ok(statSync(to).size < full, `${statSync(to).size} of ${full} bytes`)
    assert.is(spawnSync('pgrep', ['-f', f]).status, 1, 'no bzip2 left')
    // Aborted before it starts: no process at all.
    const never = await rejection(decompress(f, 'big.bz2', 'bzip2', path.join(t.dir, 'never.out'), { signal: AbortSignal.abort(new Error('already')) }))
    assert.is((never as Error).message, 'already')
  } finally {
    t.remove()
  }
}, MS))

test('a command that cannot write the copy (a full disk) fails the attempt as such, not as corrupt input', deadline('enospc', async () => {
  const t = tempDir()
  const path0 = process.env['PATH']
  try {
    // What bzip2 and zstd print, and their exit codes, for `-dc FILE > /dev/full`.
    const says = {
      bzip2: ['bzip2: I/O or other error, bailing out.  Possible reason follows.', 'bzip2: No space left on device', '\tInput file = f, output file = (stdout)', 1],
      zstd: ['zstd: error 70 : Write error : cannot write block : No space left on device ', 70],
    } as const
    mkdirSync(path.join(t.dir, 'bin'))
    for (const [command, lines] of Object.entries(says)) {
      const f = path.join(t.dir, 'bin', command)
      writeFileSync(f, `#!/bin/sh\ncat >/dev/null 2>&1\nprintf '%s\\n' ${lines.slice(0, -1).map((l) => JSON.stringify(l)).join(' ')} >&2\nexit ${lines.at(-1)}\n`)
      chmodSync(f, 0o755)
    }
    process.env['PATH'] = `${path.join(t.dir, 'bin')}${path.delimiter}${path0 ?? ''}`
    for (const [codec, ext] of [['bzip2', 'bz2'], ['zstd', 'zst']] as const) {
      const f = path.join(t.dir, `a.${ext}`)
      writeFileSync(f, 'x')
      const e = await rejection(decompress(f, `a.${ext}`, codec, path.join(t.dir, `${ext}.out`)))
      assert.not.instance(e, InputUnreadableError)
      assert.is((e as Error).message, `gort mapreduce: the ${codec} command could not write the text of "a.${ext}" beside the attempt (No space left on device)`)
    }
  } finally {
    process.env['PATH'] = path0
    t.remove()
  }
}, MS))

test('the text size a .gz or .zst records: gzip\'s trailer, zstd\'s frame header; none when it is smaller than the file, or absent', () => {
  const t = tempDir()
  try {
    const write = (name: string, b: Buffer | string): string => {
      const f = path.join(t.dir, name)
      writeFileSync(f, b)
      return f
    }
    const sized = (f: string, codec: 'gzip' | 'zstd' | 'bzip2'): number | undefined => recordedTextSize(f, codec, statSync(f).size)
    const body = text(31, 3000)
    assert.is(sized(write('a.gz', gzipSync(body)), 'gzip'), Buffer.byteLength(body))
    // Two members: the trailer has the last one's size only, smaller than the file: not taken.
    assert.is(sized(write('ab.gz', Buffer.concat([gzipSync(body), gzipSync('tail\n')])), 'gzip'), undefined)
    assert.is(sized(write('tiny.gz', gzipSync('hi\n')), 'gzip'), undefined, 'a text smaller than its file')
    assert.is(sized(write('plain.gz', body), 'gzip'), undefined, 'not gzip')
    assert.is(sized(write('empty.gz', ''), 'gzip'), undefined)
    assert.is(recordedTextSize(path.join(t.dir, 'missing.gz'), 'gzip', 100), undefined, 'missing')
    // zstd writes the size when it compresses a file: 1, 2 and 4 bytes of it by the size.
    for (const n of [200, 1000, 100_000]) {
      const src = write(`z${n}.txt`, 'a'.repeat(n))
      const r = spawnSync('zstd', ['-q', '-f', src, '-o', `${src}.zst`])
      assert.is(r.status, 0, r.stderr?.toString())
      assert.is(sized(`${src}.zst`, 'zstd'), n, `${n} bytes`)
    }
    assert.is(sized(write('piped.zst', compressWith('zstd', body)), 'zstd'), undefined, 'from a pipe: no size in the header')
    assert.is(sized(write('plain.zst', body), 'zstd'), undefined, 'not zstd')
    assert.is(sized(write('a.bz2', compressWith('bzip2', body)), 'bzip2'), undefined, 'bzip2 records none')
    // textSize: a plain file's size; a compressed one's recorded text, else four times its size.
    assert.equal([textSize({ path: 'a.txt', size: 1000 }), textSize({ path: 'a.gz', size: 1000 }), textSize({ path: 'a.bz2', size: 1000 }), textSize({ path: 'a.gz', size: 1000, text: 50_000 }), textSize({ path: '/o/_temporary/input/0', size: 1000 })], [1000, 4000, 4000, 50_000, 1000])
    const files = recordTextSizes(expandInputs([path.join(t.dir, '{a.gz,ab.gz,z200.txt}')]))
    assert.equal(files.map((f) => [path.basename(f.path), f.text]), [['a.gz', Buffer.byteLength(body)], ['ab.gz', undefined], ['z200.txt', undefined]])
  } finally {
    t.remove()
  }
})

test('where gort picks the threads, a compressed file counts as the text it records: a .gz of 9 MiB of text gets two, one of random bytes one', deadline('threads', async () => {
  const t = tempDir()
  const procs0 = process.env['GOMAXPROCS']
  try {
    mkdirSync(path.join(t.dir, 'data'))
    // 9 MiB of text in a few KiB: two threads (over 8 MiB), where four times the file's size said one.
    const lines = 'the quick brown fox jumps over the lazy dog\n'.repeat(Math.ceil((9 << 20) / 44))
    const small = gzipSync(lines)
    assert.ok(small.length * 4 < 8 << 20)
    writeFileSync(path.join(t.dir, 'data', 'a.gz'), small)
    // 3 MiB of random bytes as base64 (4 MiB of text in about 3 MiB): one, where four times said two.
    const random = gzipSync(randomBytes(3 << 20).toString('base64').replace(/.{76}/g, '$&\n'), { level: 1 })
    assert.ok(random.length * 4 > 8 << 20)
    writeFileSync(path.join(t.dir, 'data', 'b.gz'), random)
    process.env['GOMAXPROCS'] = '2'
    const job = path.join(EXAMPLES, 'wc.ts')
    const a = await runJob({ job, input: path.join(t.dir, 'data', 'a.gz'), output: path.join(t.dir, 'o1') })
    const b = await runJob({ job, input: path.join(t.dir, 'data', 'b.gz'), output: path.join(t.dir, 'o2') })
    assert.equal([a.threads, b.threads], [2, 1])
    const n = Math.ceil((9 << 20) / 44)
    assert.equal(sortedEntries(countsOf(readParts(path.join(t.dir, 'o1')))), ['brown', 'dog', 'fox', 'jumps', 'lazy', 'over', 'quick', 'the'].map((w) => [w, w === 'the' ? 2 * n : n]))
  } finally {
    if (procs0 === undefined) delete process.env['GOMAXPROCS']
    else process.env['GOMAXPROCS'] = procs0
    t.remove()
  }
}, MS))

test('packFiles weighs a compressed file by its text: eight .gz of 1 MiB of text (a few KiB each) make two tasks on two threads, not one', deadline('pack', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'logs'))
    const texts: string[] = []
    for (let i = 0; i < 8; i++) {
      const body = `${text(40 + i, 50)}\n`.repeat(Math.ceil((1 << 20) / (text(40 + i, 50).length + 1)))
      texts.push(body)
      writeFileSync(path.join(t.dir, 'logs', `${i}.log.gz`), gzipSync(body))
    }
    const r = await runJob({ job: path.join(EXAMPLES, 'wc.ts'), input: path.join(t.dir, 'logs', '*.gz'), output: path.join(t.dir, 'out'), procs: 2, packFiles: true })
    assert.is(r.maps, 2)
    assert.equal(sortedEntries(countsOf(readParts(path.join(t.dir, 'out')))), sortedEntries(wordCount(texts)))
  } finally {
    t.remove()
  }
}, MS))

test('a large .gz or .zst is decompressed once and its text split across the threads: the plain text\'s part files, its stored bytes counted', deadline('expand', async () => {
  const t = tempDir()
  try {
    const body = text(21, 20_000) + text(22, 20_000)
    for (const d of ['plain', 'gz', 'zst', 'bad']) mkdirSync(path.join(t.dir, d))
    writeFileSync(path.join(t.dir, 'plain', 'log.txt'), body)
    const gz = gzipSync(body)
    writeFileSync(path.join(t.dir, 'gz', 'log.txt.gz'), gz)
    writeFileSync(path.join(t.dir, 'zst', 'log.txt.zst'), compressWith('zstd', body))
    const job = path.join(EXAMPLES, 'wc.ts')
    const run = (d: string, more: object = {}): ReturnType<typeof runJob> => runJob({ job, input: path.join(t.dir, d), output: path.join(t.dir, `out-${d}`), procs: 2, reducers: 2, splitSize: '64KiB', ...more })
    const plain = await run('plain')
    const events: ProgressEvent[] = []
    for (const d of ['gz', 'zst']) {
      const r = await run(d, { onProgress: (e: ProgressEvent) => events.push(e) })
      assert.is(r.maps, plain.maps, `${d}: a task per 64 KiB of text`)
      assert.ok(r.maps > 4)
      assert.equal(readParts(path.join(t.dir, `out-${d}`)), readParts(path.join(t.dir, 'out-plain')), d)
      assert.is(r.counters.mapInputRecords, plain.counters.mapInputRecords)
      const storedSize = statSync(path.join(t.dir, d, `log.txt.${d}`)).size
      assert.is(r.counters.inputBytes, storedSize, `${d}: the stored bytes, shared by its splits`)
      const start = events.find((e) => e.type === 'start')
      assert.is(start?.type === 'start' ? start.inputBytes : -1, storedSize)
      // Said first: what is decompressed before the maps.
      assert.equal(events[0], { type: 'decompress', files: 1, bytes: storedSize })
      events.length = 0
      assert.not.ok(existsSync(path.join(t.dir, `out-${d}`, '_temporary')))
    }
    // A large corrupt one fails the job before any map, as task "decompress", naming the file;
    // nothing is left.
    writeFileSync(path.join(t.dir, 'bad', 'cut.gz'), gz.subarray(0, gz.length >> 1))
    const e = await rejection(run('bad'))
    assert.instance(e, TaskFailedError)
    assert.is((e as TaskFailedError).task, 'decompress')
    assert.instance((e as TaskFailedError).attempts[0]!.cause, InputUnreadableError)
    assert.match((e as Error).message, /input file ".*cut\.gz" cannot be read \(not valid gzip data: unexpected end of file\)/)
    assert.not.ok(existsSync(path.join(t.dir, 'out-bad')))
  } finally {
    t.remove()
  }
}, MS))

test('a .bz2 input with no bzip2 on the PATH is refused before the job starts, saying what to install', () => {
  const t = tempDir()
  const saved = process.env['PATH']
  try {
    writeFileSync(path.join(t.dir, 'a.bz2'), 'x')
    assert.ok(findCommand('bzip2') !== undefined)
    process.env['PATH'] = t.dir
    assert.is(findCommand('bzip2'), undefined)
    assert.throws(() => expandInputs(['a.bz2'], t.dir), (e: unknown) => e instanceof InputUnreadableError
      && e.message === 'gort mapreduce: input file "a.bz2" cannot be read (it is bzip2-compressed, which gort decompresses with the bzip2 command, and no bzip2 is on the PATH: install it (apt-get install bzip2), or decompress the file first)')
  } finally {
    process.env['PATH'] = saved
    t.remove()
  }
})

test('a job over .gz, .deflate, .bz2, .zst, a multi-member .gz, an empty .gz and a plain file reads each record once, at its offset in the text', deadline('job', async () => {
  const t = tempDir()
  try {
    const texts = { 'a.txt.gz': text(1, 3000), 'b.deflate': text(2, 2000, true), 'c.gz': text(3, 1500), 'd.gz': '', 'e.txt': text(4, 1000), 'f.bz2': text(8, 900), 'g.zst': text(9, 800) }
    mkdirSync(path.join(t.dir, 'data'))
    const stored: Record<string, Buffer> = {
      'a.txt.gz': gzipSync(texts['a.txt.gz']),
      'b.deflate': deflateSync(texts['b.deflate']),
      'c.gz': Buffer.concat([gzipSync(texts['c.gz'].slice(0, 999)), gzipSync(texts['c.gz'].slice(999))]),
      'd.gz': Buffer.alloc(0),
      'e.txt': Buffer.from(texts['e.txt']),
      'f.bz2': compressWith('bzip2', texts['f.bz2']),
      'g.zst': compressWith('zstd', texts['g.zst']),
    }
    for (const [name, b] of Object.entries(stored)) writeFileSync(path.join(t.dir, 'data', name), b)
    const out = path.join(t.dir, 'out')
    const events: ProgressEvent[] = []
    // per-file.ts throws when a record's offset is not past the previous one's end.
    const r = await runJob({ job: path.join(FIXTURES, 'per-file.ts'), input: path.join(t.dir, 'data'), output: out, procs: 2, reducers: 2, splitSize: '4KiB', onProgress: (e) => events.push(e) })
    const got = readParts(out)
    for (const [name, body] of Object.entries(texts)) {
      const key = path.join(t.dir, 'data', name)
      const lines = body === '' ? [] : body.replace(/\n$/, '').split('\n')
      // CRLF lines lose their '\r' but per-file.ts counts the '\n' alone: each line's text plus one.
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l.replace(/\r$/, '')) + 1, 0)
      assert.equal([got.get(`${key}#lines`), got.get(`${key}#bytes`)], lines.length === 0 ? [undefined, undefined] : [[String(lines.length)], [String(bytes)]], name)
    }
    // The .bz2 is cut as text is (bzip2.test.ts); the other compressed files, larger than a split
    // (their text, estimated at four times their size), are decompressed first and their text cut
    // (expandCompressed); the empty one is a task of its own.
    for (const [name, b] of Object.entries(stored)) if (name !== 'd.gz') assert.ok(4 * b.length > 4096, name)
    const tasks = (name: string): number => (name === 'd.gz' ? 1 : Math.ceil((name.endsWith('.bz2') ? stored[name]!.length : Buffer.byteLength(texts[name as keyof typeof texts])) / 4096))
    assert.is(r.maps, Object.keys(texts).reduce((n, name) => n + tasks(name), 0))
    const storedBytes = Object.values(stored).reduce((n, b) => n + b.length, 0)
    assert.is(r.counters.inputBytes, storedBytes)
    const start = events.find((e) => e.type === 'start')
    assert.is(start?.type === 'start' ? start.inputBytes : -1, storedBytes)
    assert.equal(filesUnder(out), ['_SUCCESS', 'part-r-00000', 'part-r-00001'])
  } finally {
    t.remove()
  }
}, MS))

test('records: files, a sample, and a streaming mapper read a .gz, and a .bz2 in parts, as they read its text: the same part files', deadline('same', async () => {
  const t = tempDir()
  try {
    const docs = [text(11, 300), text(12, 200), text(13, 250)]
    const recs = [records(9, 0, 3000), records(9, 3000, 2000)]
    const kinds = ['plain', 'gz', 'bz2'] as const
    for (const d of kinds) mkdirSync(path.join(t.dir, d))
    // bzip2 -1: blocks of 100 kB of text, so a records file is several, in parts of 16 KiB.
    const bz2 = (b: string | Buffer): Buffer => spawnSync('bzip2', ['-1', '-c'], { input: b, maxBuffer: 1 << 30 }).stdout
    docs.forEach((b, i) => {
      writeFileSync(path.join(t.dir, 'plain', `doc${i}`), b)
      writeFileSync(path.join(t.dir, 'gz', `doc${i}.gz`), gzipSync(b))
      writeFileSync(path.join(t.dir, 'bz2', `doc${i}.bz2`), bz2(b))
    })
    recs.forEach((b, i) => {
      writeFileSync(path.join(t.dir, 'plain', `rec${i}.dat`), b)
      writeFileSync(path.join(t.dir, 'gz', `rec${i}.dat.gz`), gzipSync(b))
      writeFileSync(path.join(t.dir, 'bz2', `rec${i}.dat.bz2`), bz2(b))
    })
    assert.ok(statSync(path.join(t.dir, 'bz2', 'rec0.dat.bz2')).size > 2 * 16384, 'a .bz2 of three parts or more')
    const parts = (dir: string): string => readdirSync(dir).filter((f) => f.startsWith('part-')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8')).join('')
    const run = async (o: { kind: string; job?: string; mapper?: string; reducer?: string; input: (d: string) => string; reducers: number; sameNames?: boolean }): Promise<void> => {
      const outs: string[] = []
      for (const d of kinds) {
        const out = path.join(t.dir, `${o.kind}-${d}`)
        const { kind: _, input, sameNames: __, ...rest } = o
        await runJob({ ...rest, input: input(path.join(t.dir, d)), output: out, procs: 2, splitSize: '16KiB' } as never)
        outs.push(parts(out))
      }
      // The inverted index names the documents: the .gz names are the plain ones' with the extension.
      kinds.forEach((d, i) => {
        const same = (s: string): string => (o.sameNames === false ? s.replaceAll(`${t.dir}/${d}/`, `${t.dir}/plain/`).replaceAll(`.${d}`, '') : s)
        assert.is(same(outs[i]!), outs[0], `${o.kind}, ${d}`)
      })
    }
    await run({ kind: 'index', job: path.join(EXAMPLES, 'inverted-index.ts'), input: (d) => path.join(d, 'doc*'), reducers: 2, sameNames: false })
    await run({ kind: 'sort', job: path.join(EXAMPLES, 'sort.ts'), input: (d) => path.join(d, 'rec*'), reducers: 3 })
    await run({ kind: 'stream', mapper: 'cut -c1-12', reducer: 'uniq -c', input: (d) => path.join(d, 'doc*'), reducers: 1 })
    // The sorted records, as the plain run's check: the sample found cuts in the decompressed text.
    const all = recs.flatMap((b) => b.toString('latin1').replace(/\r\n$/, '').split('\r\n'))
    for (const d of ['gz', 'bz2']) {
      assert.is(parts(path.join(t.dir, `sort-${d}`)), all.map((l) => `${l.slice(0, KEY_BYTES)}\t${l.slice(KEY_BYTES)}\n`).sort(byteOrder).join(''))
      assert.is(readdirSync(path.join(t.dir, `sort-${d}`)).filter((f) => f.startsWith('part-r-')).length, 3)
    }
  } finally {
    t.remove()
  }
}, MS))

test("a streaming mapper's environment names the .gz and its stored length, as Hadoop's split does", deadline('env', async () => {
  const t = tempDir()
  try {
    const f = path.join(t.dir, 'a.log.gz')
    const body = gzipSync(text(6, 500))
    writeFileSync(f, body)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper: 'sh -c \'wc -l >/dev/null; echo "$mapreduce_map_input_file $mapreduce_map_input_start $mapreduce_map_input_length"\'', reducers: 0, input: f, output: out })
    assert.is(readFileSync(path.join(out, 'part-m-00000'), 'utf8'), `${f} 0 ${body.length}\t\n`)
    assert.is(r.counters.inputBytes, body.length)
  } finally {
    t.remove()
  }
}, MS))

test('a corrupt .gz fails its task at once (no retry reads the same bytes again), naming the file; no output is left', deadline('corrupt', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    writeFileSync(path.join(t.dir, 'data', 'good.gz'), gzipSync(text(1, 100)))
    writeFileSync(path.join(t.dir, 'data', 'bad.gz'), gzipSync(text(2, 3000)).subarray(0, 2000))
    const out = path.join(t.dir, 'out')
    const e = await rejection(runJob({ job: path.join(EXAMPLES, 'wc.ts'), input: path.join(t.dir, 'data/*.gz'), output: out, procs: 2, maxAttempts: 4 }))
    assert.instance(e, TaskFailedError)
    const f = e as TaskFailedError
    assert.is(f.attempts.length, 1)
    assert.instance(f.attempts[0]!.cause, InputUnreadableError)
    assert.match(f.message, /input file ".*data\/bad\.gz" cannot be read \(not valid gzip data: unexpected end of file\)/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

test("records: 'files': a .gz whose text is longer than a string may be fails at once as InputTooLargeError; its copy goes", deadline('too large', async () => {
  const t = tempDir()
  try {
    const f = path.join(t.dir, 'big.gz')
    writeFileSync(f, gzipSync('x'.repeat(5000)))
    const dir = path.join(t.dir, 'm-00000-1')
    let ran = false
    const e = await rejection(runDecompressed([{ path: f, name: 'big.gz', start: 0, end: 30 }], dir, 'files', new AbortController().signal, () => {
      ran = true
      return Promise.reject(new Error('not reached'))
    }, 4096))
    assert.instance(e, InputTooLargeError)
    assert.match((e as Error).message, /input "big\.gz" is 5000 bytes, too large for one string with records: 'files' \(at most 4096 bytes\)/)
    assert.not.ok(ran)
    assert.equal(readdirSync(dir), [])
  } finally {
    t.remove()
  }
}, MS))

test('a job stopped while it decompresses ends with the stop\'s reason and leaves nothing behind', deadline('stop', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    // 48 MiB of text in a few hundred KiB: its copy takes a while to write.
    writeFileSync(path.join(t.dir, 'data', 'big.gz'), gzipSync(Buffer.from('the quick brown fox\n'.repeat(48 << 16))))
    const out = path.join(t.dir, 'out')
    const ac = new AbortController()
    const reason = new JobStoppedError('SIGINT')
    const e = await rejection(runJob({
      job: path.join(EXAMPLES, 'wc.ts'), input: path.join(t.dir, 'data'), output: out, procs: 1, signal: ac.signal,
      onProgress: (ev) => {
        if (ev.type === 'attempt' && ev.state === 'started') ac.abort(reason)
      },
    }))
    assert.is(e, reason)
    assert.not.ok(existsSync(out))
    assert.equal(filesUnder(t.dir), ['data/big.gz'])
  } finally {
    t.remove()
  }
}, MS))

test.run()
