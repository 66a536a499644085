// The byte fast path (records: 'chunks', ctx.emitBytes, the byte table) and the map side's early
// combining: the same part files as the string path, byte for byte, and the same across reruns.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteTable } from '../../src/mapreduce/bytetable.js'
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

test.run()
