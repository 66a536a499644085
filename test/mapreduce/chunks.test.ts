// The byte fast path (records: 'chunks', ctx.emitBytes, the byte table) and the map side's early
// combining: the same part files as the string path, byte for byte, and the same across reruns.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteTable, sortByBytes } from '../../src/mapreduce/bytetable.js'
import { bytePartitioner, partitioner } from '../../src/mapreduce/partition.js'
import { runJob } from '../../src/mapreduce/index.js'
import { deadline } from '../_support/deadline.js'
import { FIXTURES, rng, tempDir, text, WORDS } from './_helpers.js'

const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), '../../examples/mapreduce')
const WC = path.join(EXAMPLES, 'wc.ts')
const WC_BYTES = path.join(EXAMPLES, 'wc-bytes.ts')
const MS = 90_000

function writeInputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), t))
  return path.join(dir, 'data/*.txt')
}

/** Every file of an output directory, by name, as bytes. */
function files(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f))]))
}

const test = suite('chunks')

test('byte table: sums equal a Map of the keys\' text, through growth and drains; invalid UTF-8 drains as its text', () => {
  const r = rng(11)
  const t = new ByteTable(1 << 20)
  const want = new Map<string, number>()
  const keys = [...WORDS, ...Array.from({ length: 5000 }, (_, i) => `k${i}`)].map((w) => Buffer.from(w))
  keys.push(Buffer.from([0xff, 0x41]), Buffer.from([0xfe, 0x41]), Buffer.from([])) // both invalid: one text, '\ufffdA'
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 40_000; i++) {
      const k = keys[Math.floor(r() * r() * keys.length)]!
      const pad = Buffer.concat([Buffer.from('xx'), k, Buffer.from('yy')])
      const n = 1 + Math.floor(r() * 3)
      t.add(pad, 2, 2 + k.length, n)
      const text = k.toString('utf8')
      want.set(text, (want.get(text) ?? 0) + n)
    }
    const got = new Map<string, number>()
    t.drain((k, v) => got.set(k, (got.get(k) ?? 0) + v))
    assert.equal([...got].sort(), [...want].sort(), `round ${round}`)
    assert.is(t.size, 0)
    want.clear()
  }
  assert.is(t.adds, 120_000)
})

/** Keys that share long prefixes (past the table's 12 inline bytes and the sort's 4-byte steps), differ by a trailing NUL, or are empty. */
function trickyKeys(r: () => number, n: number): Buffer[] {
  const stems = ['', 'a', 'ab', 'abcdefghijkl', 'abcdefghijklm', 'abcdefghijklmnopqrstuvwx', 'zz', 'caf\u00e9', '\u65e5\u672c']
  const keys = new Map<string, Buffer>()
  while (keys.size < n) {
    const stem = Buffer.from(stems[Math.floor(r() * stems.length)]!)
    const tail = Buffer.from(Array.from({ length: Math.floor(r() * 9) }, () => (r() < 0.1 ? 0 : r() < 0.05 ? 0xc3 : 0x61 + Math.floor(r() * 3))))
    const k = Buffer.concat([stem, tail])
    keys.set(k.toString('hex'), k)
  }
  return [...keys.values()]
}

test('byte table: a released table\'s arrays serve the next one on the thread, empty, even when it was released full', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => Buffer.from(`key-${i}`))
  const full = new ByteTable(1 << 22)
  for (const k of keys) full.add(k, 0, k.length, 1)
  full.release() // not cleared: a task that failed
  full.release()
  const next = new ByteTable(1 << 22)
  assert.is(next.size, 0)
  for (const k of keys.slice(0, 100)) next.add(k, 0, k.length, 5)
  assert.is(next.size, 100)
  const sums = new Map<string, number>()
  next.drain((k, v) => sums.set(k, v))
  assert.equal(sums, new Map(keys.slice(0, 100).map((k) => [k.toString(), 5])))
  next.release()
  // A table whose limit is smaller than the spare's slots makes its own.
  const small = new ByteTable(1 << 16)
  small.add(keys[0]!, 0, keys[0]!.length, 1)
  assert.is(small.size, 1)
  small.release()
})

test('sortByBytes: the order of Buffer.compare, for short runs and packed ones, shared prefixes, NULs and lengths', () => {
  const r = rng(5)
  for (const n of [1, 2, 50, 3000, 40_000]) {
    const keys = trickyKeys(r, n)
    const arena = Buffer.concat(keys)
    const offsets = new Int32Array(2 * n)
    let at = 0
    keys.forEach((k, i) => {
      offsets[2 * i] = at
      offsets[2 * i + 1] = k.length
      at += k.length
    })
    const ids = Int32Array.from(keys.map((_, i) => i).sort(() => r() - 0.5))
    sortByBytes(ids, arena, offsets)
    const want = keys.map((_, i) => i).sort((x, y) => Buffer.compare(keys[x]!, keys[y]!))
    assert.equal([...ids].map((i) => keys[i]!.toString('hex')), want.map((i) => keys[i]!.toString('hex')), `n = ${n}`)
  }
})

test('byte partitioner: the partition of the key\'s text, default and Hadoop\'s; none for a job\'s own or sampled cuts', () => {
  const keys = [...WORDS, 'hasOwnPropertyX', ''].map((w) => Buffer.from(w))
  for (const kind of ['default', 'hadoop'] as const) {
    for (const reducers of [1, 3, 7]) {
      const byText = partitioner(reducers, undefined, kind)
      const byBytes = bytePartitioner(reducers, undefined, kind)!
      const t = new ByteTable(1 << 20)
      for (const k of keys) t.add(k, 0, k.length, 1)
      const lists = t.sorted(reducers, byBytes)
      const got = lists.map((ids) => [...ids].map((e) => t.arena.toString('utf8', t.keyStart(e), t.keyStart(e) + t.keyLength(e))))
      const want = Array.from({ length: reducers }, (_, p) => keys.map((k) => k.toString('utf8')).filter((w) => byText(w) === p).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))))
      assert.equal(got, want, `${kind}, ${reducers} reducers`)
    }
  }
  assert.is(bytePartitioner(3, () => 0), undefined)
  assert.is(bytePartitioner(3, undefined, 'default', ['m']), undefined)
  assert.ok(bytePartitioner(3, () => 0, 'hadoop') !== undefined, '--partitioner hadoop replaces the job\'s own')
})

test('byte table: long keys equal in their first 12 bytes stay apart; sorted() sums equal the adds; well-formedness', () => {
  const r = rng(7)
  const keys = trickyKeys(r, 2000)
  const t = new ByteTable(1 << 22)
  const want = new Map<string, number>()
  for (let i = 0; i < 30_000; i++) {
    const k = keys[Math.floor(r() * r() * keys.length)]!
    t.add(Buffer.concat([Buffer.from('  '), k]), 2, 2 + k.length, 2)
    want.set(k.toString('hex'), (want.get(k.toString('hex')) ?? 0) + 2)
  }
  const got = new Map<string, number>()
  for (const ids of t.sorted(1, () => 0)) for (const e of ids) got.set(t.arena.toString('hex', t.keyStart(e), t.keyStart(e) + t.keyLength(e)), t.sum(e))
  assert.equal([...got].sort(), [...want].sort())
  assert.is(t.wellFormed(), false, '0xc3 before an ASCII byte is not UTF-8')
  t.clear()
  t.add(Buffer.from('caf\u00e9'), 0, 5, 1)
  assert.is(t.wellFormed(), true)
  t.add(Buffer.from([0xed, 0xa0, 0x80]), 0, 3, 1) // a surrogate's 3 bytes: not UTF-8
  assert.is(t.wellFormed(), false)
})

test('wc-bytes.ts with invalid UTF-8, long keys and --partitioner hadoop: the part files of wc.ts', deadline('wc-bytes bytes', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    const long = 'abcdefghijklmnop abcdefghijklmnoq abcdefghijkl abcdefghijklm caf\u00e9 \u65e5\u672c\u8a9e'
    writeFileSync(path.join(t.dir, 'data/a.txt'), `${text(41, 800)}\n${long}\n${long}\n`)
    writeFileSync(path.join(t.dir, 'data/b.txt'), Buffer.concat([Buffer.from(`${long}\nx `), Buffer.from([0xff, 0x41, 0x20, 0xfe, 0x41, 0x0a]), Buffer.from(text(42, 500))]))
    const input = path.join(t.dir, 'data/*.txt')
    for (const partition of ['default', 'hadoop'] as const) {
      const a = path.join(t.dir, `wc-${partition}`)
      const b = path.join(t.dir, `wcb-${partition}`)
      await runJob({ job: WC, input, output: a, procs: 2, reducers: 3, partition, memory: '64KiB', splitSize: '4KiB' })
      await runJob({ job: WC_BYTES, input, output: b, procs: 2, reducers: 3, partition, memory: '64KiB', splitSize: '4KiB' })
      assert.equal(files(b), files(a), partition)
    }
    // 60k distinct keys in one 2.7 MB split, read as 3 chunks: the table (3481 keys at this
    // memory) is full after each, and spills mid-task; the spills merge into one run.
    mkdirSync(path.join(t.dir, 'many'))
    writeFileSync(path.join(t.dir, 'many/c.txt'), Array.from({ length: 400_000 }, (_, i) => `k${(i * 7919) % 60_000}${i % 9 === 0 ? '\n' : ' '}`).join(''))
    const many = path.join(t.dir, 'many/c.txt')
    await runJob({ job: WC, input: many, output: path.join(t.dir, 'many-wc'), procs: 2, reducers: 3, memory: '64KiB' })
    const r = await runJob({ job: WC_BYTES, input: many, output: path.join(t.dir, 'many-wcb'), procs: 2, reducers: 3, memory: '64KiB' })
    assert.equal(files(path.join(t.dir, 'many-wcb')), files(path.join(t.dir, 'many-wc')))
    assert.ok(r.counters.spills >= 2, `the byte table spilled mid-task (${r.counters.spills} spills)`)
  } finally {
    t.remove()
  }
}, MS))

test('wc-bytes.ts writes the part files of wc.ts, byte for byte (splits, drains, spills, reducers)', deadline('wc-bytes', async () => {
  const t = tempDir()
  try {
    const texts = [text(21, 3000), text(22, 2500, true), '', text(23, 1), 'no final newline\tat all']
    const input = writeInputs(t.dir, texts)
    for (const [memory, splitSize] of [['256MiB', '64MiB'], ['64KiB', '8KiB']] as const) {
      const a = path.join(t.dir, `wc-${memory}`)
      const b = path.join(t.dir, `wcb-${memory}`)
      const ra = await runJob({ job: WC, input, output: a, procs: 2, reducers: 3, memory, splitSize })
      const rb = await runJob({ job: WC_BYTES, input, output: b, procs: 2, reducers: 3, memory, splitSize })
      assert.equal(files(b), files(a), `memory ${memory}, split ${splitSize}`)
      assert.is(rb.counters.mapOutputRecords, ra.counters.mapOutputRecords)
      assert.is(rb.counters.inputBytes, ra.counters.inputBytes)
      assert.ok(rb.counters.spilledRecords <= ra.counters.spilledRecords, 'the byte table sums at least as well as the combiner')
    }
  } finally {
    t.remove()
  }
}, MS))

test('a byte job with its own partitioner or no reducers: the counts of wc.ts, through the buffer or part-m files', deadline('wc-bytes drains', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, [text(51, 3000), text(52, 2000), 'x\ty  z\n'])
    const want = new Map<string, number>()
    await runJob({ job: WC, input, output: path.join(t.dir, 'wc'), procs: 2, reducers: 1 })
    for (const line of readFileSync(path.join(t.dir, 'wc/part-r-00000'), 'utf8').split('\n')) {
      if (line !== '') want.set(line.slice(0, line.lastIndexOf('\t')), Number(line.slice(line.lastIndexOf('\t') + 1)))
    }
    const counts = (dir: string): Map<string, number> => {
      const got = new Map<string, number>()
      for (const [f, b] of files(dir)) {
        if (!f.startsWith('part-')) continue
        for (const line of b.toString('utf8').split('\n')) {
          if (line === '') continue
          const k = line.slice(0, line.lastIndexOf('\t'))
          got.set(k, (got.get(k) ?? 0) + Number(line.slice(line.lastIndexOf('\t') + 1)))
        }
      }
      return got
    }
    const own = path.join(t.dir, 'own')
    const r = await runJob({ job: path.join(FIXTURES, 'bytes-partitioned.ts'), input, output: own, procs: 2, reducers: 3, memory: '64KiB', splitSize: '8KiB' })
    assert.equal([...counts(own)].sort(), [...want].sort(), 'own partitioner')
    for (const [f, b] of files(own)) {
      if (!f.startsWith('part-r-')) continue
      for (const line of b.toString('utf8').split('\n')) if (line !== '') assert.is((line.codePointAt(0) ?? 0) % 3, Number(f.slice(-1)), `${line} in ${f}`)
    }
    assert.is(r.counters.mapOutputRecords, [...want.values()].reduce((a, b) => a + b, 0))
    const mapOnly = path.join(t.dir, 'map-only')
    await runJob({ job: WC_BYTES, input, output: mapOnly, procs: 2, reducers: 0, splitSize: '8KiB' })
    assert.ok([...files(mapOnly).keys()].some((f) => f.startsWith('part-m-')))
    assert.equal([...counts(mapOnly)].sort(), [...want].sort(), 'map-only: each split\'s sums')
  } finally {
    t.remove()
  }
}, MS))

test('two runs give byte-identical part files (wc.ts and wc-bytes.ts, with spills)', deadline('rerun', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, [text(31, 4000), text(32, 3000)])
    for (const job of [WC, WC_BYTES]) {
      const outs = [path.join(t.dir, `${path.basename(job)}-1`), path.join(t.dir, `${path.basename(job)}-2`)]
      for (const output of outs) await runJob({ job, input, output, procs: 2, reducers: 2, memory: '64KiB', splitSize: '16KiB' })
      assert.equal(files(outs[1]!), files(outs[0]!), path.basename(job))
    }
  } finally {
    t.remove()
  }
}, MS))

test('one key emitted 200k times fits a 64 KiB buffer (no spill): its repeats take no room, combine folds them', deadline('repeats fold', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, [Array.from({ length: 20_000 }, () => 'same same same same same same same same same same').join('\n')])
    const r = await runJob({ job: WC, input, output: path.join(t.dir, 'out'), procs: 1, reducers: 1, memory: '64KiB' })
    assert.is(r.counters.mapOutputRecords, 200_000)
    assert.is(r.counters.spills, 0, 'the key\'s repeats took no room in the buffer')
    assert.is(r.counters.combineInputRecords, 200_000, 'every emitted value went through combine')
    assert.is(r.counters.combineOutputRecords, 1, 'folded into one pair')
    assert.is(r.counters.spilledRecords, 1)
    assert.is(readFileSync(path.join(t.dir, 'out/part-r-00000'), 'utf8'), 'same\t200000\n')
  } finally {
    t.remove()
  }
}, MS))

test('emitBytes outside a chunks job fails the attempt with a clear error', deadline('emitBytes misuse', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b\n'])
    const e = await runJob({ job: path.join(FIXTURES, 'emitbytes-lines.ts'), input, output: path.join(t.dir, 'out'), procs: 1, maxAttempts: 1 }).then(
      () => undefined,
      (err: unknown) => err as { code?: string; attempts?: { error: string }[] },
    )
    assert.is(e?.code, 'ERR_MR_TASK_FAILED')
    assert.match(e?.attempts?.[0]?.error ?? '', /emitBytes is for records: 'chunks' jobs/)
  } finally {
    t.remove()
  }
}, MS))

test('emitBytes with key bytes that are not bytes, or a count that is not a number, says which', deadline('emitBytes types', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b\n'])
    for (const [bad, want] of [['key', /emitBytes: the key bytes must be a Uint8Array, got "abc"/], ['count', /emitBytes: the count must be a number, got "x"/]] as const) {
      const e = await runJob({ job: path.join(FIXTURES, 'emitbytes-bad.ts'), input, output: path.join(t.dir, `out-${bad}`), procs: 1, maxAttempts: 1, params: { bad } }).then(
        () => undefined,
        (err: unknown) => err as { code?: string; attempts?: { error: string; code: string }[] },
      )
      assert.is(e?.code, 'ERR_MR_TASK_FAILED')
      assert.is(e?.attempts?.[0]?.code, 'ERR_MR_EMIT_TYPE')
      assert.match(e?.attempts?.[0]?.error ?? '', want)
    }
  } finally {
    t.remove()
  }
}, MS))

test.run()
