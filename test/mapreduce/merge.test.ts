// Run files and the k-way merge: values come back with their type, runs merge in key order with
// ties in run order, groups stream their values and skip what reduce leaves unread, and more
// runs than the fan-in are merged in passes.
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Scalar } from '../../src/mapreduce/job.js'
import { compareKeys } from '../../src/mapreduce/keys.js'
import { AfterReturnError, ValuesOnceError } from '../../src/mapreduce/errors.js'
import { Merger, groups, mergePasses, mergeToFile } from '../../src/mapreduce/merge.js'
import { RunReader, RunWriter } from '../../src/mapreduce/runfile.js'
import { deadline } from '../_support/deadline.js'
import { FIXTURES, rng, tempDir } from './_helpers.js'

const execFileAsync = promisify(execFile)
const REPO = fileURLToPath(new URL('../..', import.meta.url))

const test = suite('merge')

function writeRun(p: string, pairs: readonly [Scalar, Scalar][]): string {
  const w = new RunWriter(p)
  for (const [k, v] of pairs) w.add(k, v)
  w.close()
  return p
}

function readRun(p: string, bufSize?: number): [Scalar, Scalar][] {
  const r = new RunReader(p, bufSize)
  const out: [Scalar, Scalar][] = []
  while (r.next()) out.push([r.key(), r.value()])
  r.close()
  return out
}

test('a run gives back keys and values with the type and bits they were written with', () => {
  const t = tempDir()
  try {
    const pairs: [Scalar, Scalar][] = [
      [1, 'one'], ['1', 1], [-0, -0], [Number.NaN, Number.NaN], [1.5e300, 0.1 + 0.2], ['__proto__', 'tab\there\nnewline'],
      ['😀', ''], ['', '日本語'], ['big', 'x'.repeat(200_000)],
    ]
    for (const bufSize of [16, 1 << 16]) {
      const got = readRun(writeRun(path.join(t.dir, `r${bufSize}.run`), pairs), bufSize)
      assert.is(got.length, pairs.length)
      for (let i = 0; i < pairs.length; i++) {
        const [k, v] = pairs[i]!
        const [gk, gv] = got[i]!
        // -0 as a key travels as its text '0'; as a value it stays -0.
        assert.ok(Object.is(gk, Object.is(k, -0) ? 0 : k), `key ${i}: ${String(gk)}`)
        assert.ok(Object.is(gv, v), `value ${i}`)
        assert.is(typeof gk, typeof k)
      }
    }
  } finally {
    t.remove()
  }
})

test('keys of every short length come back as written, ASCII or not', () => {
  const t = tempDir()
  try {
    const keys: string[] = []
    for (let n = 0; n <= 12; n++) {
      keys.push('abcdefghijklm'.slice(0, n))
      if (n >= 2) keys.push(`${'xyzxyzxyzxyz'.slice(0, n - 2)}é`)
    }
    keys.sort(compareKeys)
    const got = readRun(writeRun(path.join(t.dir, 'k.run'), keys.map((k, i): [Scalar, Scalar] => [k, i])))
    assert.equal(got.map(([k]) => k), keys)
  } finally {
    t.remove()
  }
})

test('merge: key order across runs, equal keys run by run, each run in its own order', () => {
  const t = tempDir()
  try {
    const a = writeRun(path.join(t.dir, 'a.run'), [['a', 'a1'], ['a', 'a2'], ['c', 'a3'], [10, 'a4']].sort((x, y) => compareKeys(x[0]!, y[0]!)) as [Scalar, Scalar][])
    const b = writeRun(path.join(t.dir, 'b.run'), [[10, 'b0'], ['a', 'b1'], ['b', 'b2'], ['c', 'b3']].sort((x, y) => compareKeys(x[0]!, y[0]!)) as [Scalar, Scalar][])
    const e = writeRun(path.join(t.dir, 'e.run'), [])
    const readers = [a, e, b].map((p) => new RunReader(p, 16))
    const m = new Merger(readers)
    const out: string[] = []
    while (m.next()) out.push(`${String(m.current!.key())}=${String(m.current!.value())}`)
    for (const r of readers) r.close()
    assert.equal(out, ['10=a4', '10=b0', 'a=a1', 'a=a2', 'a=b1', 'b=b2', 'c=a3', 'c=b3'])
  } finally {
    t.remove()
  }
})

test('merge: keys that share long prefixes, are prefixes of each other or hold 0 bytes sort by their bytes across many runs', () => {
  const t = tempDir()
  try {
    // Keys around the merge's numeric prefixes (6 and 12 bytes): long common stems, a stem and
    // its extensions, 0 bytes, bytes from 0x80 up, and numbers beside their text.
    const stems = ['', 'abcdef', 'abcdefghijkl', 'abcdefghijk', 'abcdefghijklmnop', 'abcdef\0\0\0\0\0\0', 'é', 'zzzzzzzzzzzzz']
    const tails = ['', '\0', 'a', 'b', '\0a', 'ÿ', '😀', 'xyzxyzxyz']
    const r = rng(17)
    const runs: string[] = []
    const all: [Scalar, Scalar][] = []
    for (let i = 0; i < 23; i++) {
      const pairs: [Scalar, Scalar][] = Array.from({ length: 120 }, (_, j): [Scalar, Scalar] => {
        const x = r()
        const key: Scalar = x < 0.1 ? Math.floor(r() * 30) : stems[Math.floor(r() * stems.length)]! + tails[Math.floor(r() * tails.length)]!
        return [key, `${i}:${j}`]
      })
      pairs.sort((x, y) => compareKeys(x[0], y[0]))
      all.push(...pairs)
      runs.push(writeRun(path.join(t.dir, `in-${i}.run`), pairs))
    }
    const readers = runs.map((p) => new RunReader(p, 32))
    const m = new Merger(readers)
    const got: [Scalar, Scalar][] = []
    while (m.next()) got.push([m.current!.key(), m.current!.value()])
    for (const rd of readers) rd.close()
    const want = [...all].sort((x, y) => compareKeys(x[0], y[0]) || Number(String(x[1]).split(':')[0]) - Number(String(y[1]).split(':')[0]))
    assert.equal(got, want)
  } finally {
    t.remove()
  }
})

test('a record with a count: groups give its value that many times, merge passes keep it, it counts as that many pairs', deadline('reps', async () => {
  const t = tempDir()
  try {
    const w = new RunWriter(path.join(t.dir, 'a.run'))
    w.key('k')
    w.value(1, 5)
    w.value('s', 3)
    w.value(-0)
    w.key('z')
    w.value(7, 2)
    w.close()
    assert.is(w.records, 11)
    const b = writeRun(path.join(t.dir, 'b.run'), [['k', 2]])
    const c = writeRun(path.join(t.dir, 'c.run'), [])
    const work = path.join(t.dir, 'work')
    mkdirSync(work)
    // Through a merge pass too (three runs, fan-in 2): the counts survive it, and so do the totals.
    let progress = 0
    const runs = mergePasses([w.path, b, c], work, 2, () => progress++)
    assert.is(runs.length, 2)
    const passed = progress
    assert.ok(passed > 0, 'a merge pass reports progress')
    assert.is(mergeToFile(runs, path.join(t.dir, 'out.run'), () => progress++), 12)
    assert.ok(progress > passed, 'so does the final merge, a record at a time')
    for (const inputs of [[w.path, b, c], [path.join(t.dir, 'out.run')]]) {
      const readers = inputs.map((p) => new RunReader(p, 16))
      let read = 0
      const got: [Scalar, Scalar[]][] = []
      for await (const g of groups(new Merger(readers), (n) => (read += n))) {
        const vs: Scalar[] = []
        for await (const v of g.values) vs.push(v)
        got.push([g.key, vs])
      }
      for (const r of readers) r.close()
      assert.equal(got, [['k', [1, 1, 1, 1, 1, 's', 's', 's', -0, 2]], ['z', [7, 7]]])
      assert.ok(Object.is(got[0]![1][8], -0), '-0 stays -0')
      assert.is(read, 12)
    }
  } finally {
    t.remove()
  }
}))

test('groups: one per key, values stream, unread values are skipped; values are read once, and not after the group', deadline('groups', async () => {
  const t = tempDir()
  try {
    const pairs: [Scalar, Scalar][] = []
    for (let i = 0; i < 5000; i++) pairs.push(['many', i])
    const a = writeRun(path.join(t.dir, 'a.run'), [['alpha', 1], ...pairs, ['zeta', 'z']])
    const b = writeRun(path.join(t.dir, 'b.run'), [['many', -1], ['omega', 2]])
    const readers = [a, b].map((p) => new RunReader(p, 64))
    let read = 0
    const got: [Scalar, Scalar[]][] = []
    let stale: AsyncIterable<Scalar> | undefined
    let staleIt: AsyncIterator<Scalar> | undefined
    for await (const g of groups(new Merger(readers), () => read++)) {
      if (g.key === 'many') {
        // Read three values, then stop: the rest is skipped, not handed to the next key.
        const vs: Scalar[] = []
        const it = g.values[Symbol.asyncIterator]()
        for (let r = await it.next(); !r.done; r = await it.next()) {
          vs.push(r.value)
          if (vs.length === 3) break
        }
        got.push([g.key, vs])
        stale = g.values
        staleIt = it
        // A second pass over the same values: they stream from the merge once.
        assert.throws(() => g.values[Symbol.asyncIterator](), (e: unknown) => e instanceof ValuesOnceError && /reduce\("many"\) iterated its values a second time/.test(e.message))
        continue
      }
      const vs: Scalar[] = []
      for await (const v of g.values) vs.push(v)
      got.push([g.key, vs])
    }
    for (const r of readers) r.close()
    assert.equal(got, [['alpha', [1]], ['many', [0, 1, 2]], ['omega', [2]], ['zeta', ['z']]])
    assert.is(read, 1 + 5001 + 1 + 1, 'every value was read from the runs once')
    // Read after the merge moved on (a reduce that did not await its reading): an error, not nothing.
    assert.throws(() => stale![Symbol.asyncIterator](), (e: unknown) => e instanceof ValuesOnceError)
    const late = await staleIt!.next().then(() => undefined, (e: unknown) => e)
    assert.instance(late, AfterReturnError)
    assert.match((late as Error).message, /the values were read after reduce\("many"\) returned/)
  } finally {
    t.remove()
  }
}))

test('mergePasses: more runs than the fan-in are merged in passes into the same order; intermediates removed', () => {
  const t = tempDir()
  try {
    const r = rng(3)
    const runs: string[] = []
    const all: [Scalar, Scalar][] = []
    for (let i = 0; i < 11; i++) {
      const pairs: [Scalar, Scalar][] = Array.from({ length: 50 }, (_, j): [Scalar, Scalar] => [`k${Math.floor(r() * 40)}`, `${i}:${j}`])
      pairs.sort((x, y) => compareKeys(x[0], y[0]))
      all.push(...pairs)
      runs.push(writeRun(path.join(t.dir, `in-${i}.run`), pairs))
    }
    const work = path.join(t.dir, 'work')
    mkdirSync(work)
    const last = mergePasses(runs, work, 3)
    assert.ok(last.length <= 3, `${last.length} runs left`)
    mergeToFile(last, path.join(t.dir, 'out.run'))
    const got = readRun(path.join(t.dir, 'out.run'))
    // Same multiset, key order, and within a key the runs' order (run index, then position).
    const want = [...all].sort((x, y) => compareKeys(x[0], y[0]) || Number(String(x[1]).split(':')[0]) - Number(String(y[1]).split(':')[0]))
    assert.equal(got, want)
    assert.ok(readdirSync(work).length <= 3, 'only the last pass\'s runs are left in the work dir')
    // A fan-in below 2 would never finish: refused.
    assert.throws(() => mergePasses(runs, work, 1), /fan-in of 1/)
  } finally {
    t.remove()
  }
})

test('finalRuns: a map task\'s spills beyond the fan-in are merged in passes, never all open at once', deadline('final runs', async () => {
  // 300 spills of two partitions under an open-file limit of 160: all of a partition's at once
  // (as before) is EMFILE; FAN_IN at a time fits beside Node's and tsx's own.
  const t = tempDir()
  try {
    const all: [Scalar, Scalar][][] = [[], []]
    for (let i = 0; i < 300; i++) {
      for (const p of [0, 1]) {
        const pairs: [Scalar, Scalar][] = [[`k${(i * 7 + p) % 50}`, `${i}`], [`k${(i * 7 + p) % 50}x`, i]]
        all[p]!.push(...pairs)
        writeRun(path.join(t.dir, `spill-${String(i).padStart(3, '0')}-p${p}.run`), pairs)
      }
    }
    const fixture = path.join(FIXTURES, 'final-runs.ts')
    const { stdout } = await execFileAsync('sh', ['-c', `ulimit -n 160 && exec "${process.execPath}" --import tsx "${fixture}" "${t.dir}"`], { cwd: REPO })
    assert.is(stdout, 'p-00000.run p-00001.run\n')
    assert.equal(readdirSync(t.dir).sort(), ['p-00000.run', 'p-00001.run'], 'spills and passes removed')
    for (const p of [0, 1]) {
      // Spill order within a key: the spills were written (and named) in order.
      const want = [...all[p]!].sort((x, y) => compareKeys(x[0], y[0]) || Number(x[1]) - Number(y[1]))
      assert.equal(readRun(path.join(t.dir, `p-0000${p}.run`)), want)
    }
  } finally {
    t.remove()
  }
}, 60_000))

test.run()
