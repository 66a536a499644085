// The sampling behind a total order (src/mapreduce/sample.ts, rangePartition in partition.ts) and
// the job parameters' checks: pure functions, no threads.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineJob, MapReduceArgError, rangePartition, type Scalar } from '../../src/mapreduce/index.js'
import { compareKeys } from '../../src/mapreduce/keys.js'
import { resolveJobOptions } from '../../src/mapreduce/options.js'
import { partitioner } from '../../src/mapreduce/partition.js'
import { pickCuts, readCuts, sampleSplits, writeCuts } from '../../src/mapreduce/sample.js'
import { rng } from './_helpers.js'

const test = suite('sample')

test('rangePartition: keys below the first cut go to 0, a key equal to a cut goes above it, past the last to R - 1', () => {
  const cuts = ['g', 'p']
  assert.equal(['a', 'f', 'g', 'h', 'o', 'p', 'z', ''].map((k) => rangePartition(k, cuts)), [0, 0, 1, 1, 1, 2, 2, 0])
  assert.is(rangePartition('x', []), 0)
  // Key order, not UTF-16 order: U+FFFF sorts before an astral character.
  assert.is(rangePartition('\uffff', ['😀']), 0)
  // A number sorts before the string with the same text.
  assert.equal([rangePartition(5, ['5']), rangePartition('5', [5])], [0, 1])
})

test('rangePartition agrees with a linear count over random keys and cuts', () => {
  const r = rng(3)
  const word = (): string => Array.from({ length: 1 + Math.floor(r() * 4) }, () => String.fromCharCode(97 + Math.floor(r() * 5))).join('')
  for (let round = 0; round < 200; round++) {
    const cuts = [...new Set(Array.from({ length: Math.floor(r() * 6) }, word))].sort(compareKeys)
    const k = word()
    assert.is(rangePartition(k, cuts), cuts.filter((c) => compareKeys(c, k) <= 0).length, `${k} in ${cuts.join(',')}`)
  }
})

test('pickCuts: R - 1 evenly spaced keys; runs of equal keys make one cut; none from an empty sample', () => {
  const keys = Array.from({ length: 100 }, (_, i) => String(i).padStart(3, '0'))
  assert.equal(pickCuts(keys, 4), ['025', '050', '075'])
  assert.equal(pickCuts(keys, 1), [])
  assert.equal(pickCuts([], 3), [])
  const skewed = [...Array(90).fill('a'), ...Array.from({ length: 10 }, (_, i) => `b${i}`)] as string[]
  const cuts = pickCuts(skewed, 4)
  assert.equal(cuts, [...new Set(cuts)], 'distinct')
  assert.ok(cuts.length >= 1 && cuts.length <= 3)
  for (let i = 1; i < cuts.length; i++) assert.ok(compareKeys(cuts[i - 1]!, cuts[i]!) < 0, 'sorted')
  assert.equal(pickCuts(['x', 'x', 'x'], 3), ['x'])
})

test('cuts keep their types through the file, NaN and big numbers too', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gort-cuts-'))
  try {
    const cuts: Scalar[] = [-1.5, 3, NaN, 'NaN', '__proto__', '😀', 1e300]
    writeCuts(path.join(dir, 'c.json'), cuts)
    const back = readCuts(path.join(dir, 'c.json'))
    assert.equal(back.map((k) => typeof k), cuts.map((k) => typeof k))
    assert.equal(back.map(String), cuts.map(String))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sampleSplits spreads over the input, first split included', () => {
  const splits = Array.from({ length: 100 }, (_, i) => ({ path: `/f${i}`, name: `f${i}`, start: 0, end: 1 }))
  assert.equal(sampleSplits(splits, 4).map((s) => s.name), ['f0', 'f25', 'f50', 'f75'])
  assert.is(sampleSplits(splits.slice(0, 3), 10).length, 3)
})

test('partitioner: cuts make the range default; a custom partitioner gets them; no cuts: an empty list', () => {
  assert.equal(['a', 'm', 'z'].map(partitioner(3, undefined, 'default', ['f', 'n'])), [0, 1, 2])
  const seen: unknown[] = []
  const custom = (k: never, r: number, cuts: readonly never[]): number => {
    seen.push(cuts)
    return (cuts as readonly string[]).length % r
  }
  partitioner(3, custom, 'default', ['q'])('a')
  partitioner(3, custom)('a')
  assert.equal(seen, [['q'], []])
})

test('defineJob checks sample; runJob checks params', () => {
  assert.throws(() => defineJob({ map() {}, sample: 5 as never }), /sample must be an object/)
  assert.throws(() => defineJob({ map() {}, sample: { records: 0 } }), /sample.records must be an integer/)
  assert.throws(() => defineJob({ map() {}, sample: { splits: 1.5 } }), /sample.splits must be an integer/)
  defineJob({ map() {}, sample: {} })
  const base = { job: '/x.ts', input: 'in', output: 'out' }
  assert.equal(resolveJobOptions({ ...base, params: { a: '1', b: '' } }).params, [['a', '1'], ['b', '']])
  assert.equal(resolveJobOptions({ ...base, params: new Map([['__proto__', 'x']]) }).params, [['__proto__', 'x']])
  assert.equal(resolveJobOptions(base).params, [])
  for (const bad of [{ a: 1 }, [['a', 'b']], 'a=b', new Map([['a', 2]])]) {
    assert.throws(() => resolveJobOptions({ ...base, params: bad as never }), (e: unknown) => e instanceof MapReduceArgError && e.option === 'params')
  }
})

test.run()
