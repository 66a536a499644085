// The map side's buffer: what it spills equals a plain model of the emitted pairs (values in emit
// order per key, or their sums through a combiner), across spills, early combines and the
// arena's compaction, with number and string values, `__proto__` keys and number keys.
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Scalar, TaskContext } from '../../src/mapreduce/job.js'
import { compareKeys } from '../../src/mapreduce/keys.js'
import { Merger } from '../../src/mapreduce/merge.js'
import { bytePartitioner, partitioner, type PartitionKind } from '../../src/mapreduce/partition.js'
import { RunReader } from '../../src/mapreduce/runfile.js'
import { COMBINE_AT, FOLD_AT, MapBuffer, type Combine } from '../../src/mapreduce/spill.js'
import { deadline } from '../_support/deadline.js'
import { rng, tempDir, WORDS } from './_helpers.js'

const test = suite('spill')

const ctx = {} as TaskContext
const KEYS: Scalar[] = [...WORDS, 1, 2, -0, 10, Number.NaN]

/** Every pair of partition p's runs, merged (ties in run order), as [key, values] (a record with a count gives its value that many times). */
function readBack(buffer: MapBuffer, p: number): [Scalar, Scalar[]][] {
  const readers = buffer.runs[p]!.map((f) => new RunReader(f))
  const m = new Merger(readers)
  const out: [Scalar, Scalar[]][] = []
  while (m.next()) {
    const k = m.current!.key()
    const last = out[out.length - 1]
    const vs = Array.from({ length: m.current!.reps() }, () => m.current!.value())
    if (last !== undefined && Object.is(last[0], k)) last[1].push(...vs)
    else out.push([k, vs])
  }
  for (const r of readers) r.close()
  return out
}

/** The model's keys of partition p, in key order, with their values: what readBack must give. */
function wanted<K extends Scalar, V>(model: ReadonlyMap<K, V>, partition: (k: K) => number, p: number): [K, V][] {
  return [...model].filter(([k]) => partition(k) === p).sort((x, y) => compareKeys(x[0], y[0]))
}

/** Removes the buffer's run files (the next round writes runs of the same names). */
function removeRuns(buffer: MapBuffer): void {
  for (const rs of buffer.runs) for (const f of rs) rmSync(f)
}

/** Emits `n` pairs (frequent keys far more often than others) into a buffer and into a model. */
async function fill(buffer: MapBuffer, seed: number, n: number, value: (i: number) => Scalar): Promise<Map<Scalar, Scalar[]>> {
  const r = rng(seed)
  const model = new Map<Scalar, Scalar[]>()
  for (let i = 0; i < n; i++) {
    const k = KEYS[Math.floor(r() * r() * r() * KEYS.length)]!
    // Keys as emit checks them: -0 is stored as the key 0 is.
    const mk = Object.is(k, -0) ? 0 : k
    const v = value(i)
    buffer.add(mk, v)
    const vs = model.get(mk) ?? []
    vs.push(v)
    model.set(mk, vs)
    if (buffer.ready) await buffer.combineReady()
    if (buffer.full) await buffer.spill()
  }
  await buffer.spill()
  return model
}

function partOf(k: Scalar): number {
  return String(k).length % 2
}

test('without a combiner, each key keeps all its values in emit order, across spills',
  deadline('spill: order', async () => {
    const t = tempDir()
    try {
      for (const limit of [1 << 30, 20_000]) {
        const b = new MapBuffer({ reducers: 2, limit, dir: path.join(t.dir), partition: partOf, combine: undefined, ctx })
        const model = await fill(b, limit, 30_000, (i) => (i % 3 === 0 ? `s${i}` : i))
        if (limit < 1 << 30) assert.ok(b.counters.spills > 2, `${b.counters.spills} spills`)
        for (const p of [0, 1]) {
          const got = readBack(b, p)
          const want = wanted(model, partOf, p)
          assert.equal(got.map(([k]) => k), want.map(([k]) => k))
          for (let i = 0; i < got.length; i++) assert.equal(got[i]![1], want[i]![1], `values of ${String(got[i]![0])}`)
        }
        removeRuns(b)
      }
    } finally {
      t.remove()
    }
  }))

test('repeated values come back as emitted, in order: 0 and -0 apart, NaN, strings, with and without a combiner',
  deadline('spill: repeats', async () => {
    const t = tempDir()
    try {
      // Values in blocks of 40 emits, so a frequent key gets each value many times in a row and
      // sees 0 then -0, -0 then 0, NaN then NaN, and equal strings made apart.
      const BLOCK: Scalar[] = [1, 0, -0, 0, Number.NaN, Number.NaN, 'x', 'y', 2, 1]
      const value = (i: number): Scalar => {
        const v = BLOCK[Math.floor(i / 40) % BLOCK.length]!
        return typeof v === 'string' ? `${v}${'z'.repeat(i % 2)}`.slice(0, 1) : v
      }
      const same = (a: readonly Scalar[], b: readonly Scalar[], what: string): void => {
        assert.is(a.length, b.length, `${what}: length`)
        for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what}[${i}]: ${String(a[i])} is not ${String(b[i])}`)
      }
      for (const limit of [1 << 30, 20_000]) {
        const dir = path.join(t.dir, `plain-${limit}`)
        mkdirSync(dir)
        const b = new MapBuffer({ reducers: 2, limit, dir, partition: partOf, combine: undefined, ctx })
        const model = await fill(b, 11, 30_000, value)
        if (limit < 1 << 30) assert.ok(b.counters.spills > 2, `${b.counters.spills} spills`)
        for (const p of [0, 1]) for (const [k, vs] of readBack(b, p)) same(vs, model.get(k)!, `values of ${String(k)}`)
      }
      // A combine that passes its values through, after reading them all: what it saw, in order.
      const record: Combine = async (k, values, emit) => {
        const got: Scalar[] = []
        for await (const v of values) got.push(v)
        for (const v of got) emit(k, v)
      }
      const dir = path.join(t.dir, 'combined')
      mkdirSync(dir)
      const b = new MapBuffer({ reducers: 2, limit: 1 << 30, dir, partition: partOf, combine: record, ctx })
      const model = await fill(b, 12, 30_000, value)
      for (const p of [0, 1]) for (const [k, vs] of readBack(b, p)) same(vs, model.get(k)!, `combined values of ${String(k)}`)
      assert.ok(b.counters.combineInputRecords >= 30_000, `${b.counters.combineInputRecords} values combined`)
    } finally {
      t.remove()
    }
  }))

test('values read by hand: next() in order, several at once, results a consumer cannot change', 
  deadline('spill: manual next', async () => {
    const t = tempDir()
    try {
      const seen: IteratorResult<Scalar>[][] = []
      const byHand: Combine = async (k, values, emit) => {
        const it = values[Symbol.asyncIterator]()
        const rs = await Promise.all([it.next(), it.next(), it.next()])
        for (const r of rs) {
          try {
            ;(r as { value: unknown }).value = 'changed'
          } catch {
            // frozen: a strict-mode assignment throws
          }
        }
        for (let r = await it.next(); ; r = await it.next()) {
          rs.push(r)
          if (r.done === true) break
        }
        seen.push(rs)
        emit(k, rs.filter((r) => r.done !== true).length)
      }
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: byHand, ctx })
      for (const v of [1, 1, 1, 1, 'x', 'x', 2]) b.add('k', v)
      await b.spill()
      assert.equal(seen.map((rs) => rs.map((r) => [r.done, r.value])), [[
        [false, 1], [false, 1], [false, 1], [false, 1], [false, 'x'], [false, 'x'], [false, 2], [true, undefined],
      ]])
      assert.equal(readBack(b, 0), [['k', [7]]])
    } finally {
      t.remove()
    }
  }))

test('with a summing combiner: every key sums right, frequent keys are combined early, the arena compacts',
  deadline('spill: combine', async () => {
    const t = tempDir()
    try {
      let calls = 0
      const sum: Combine = async (k, values, emit) => {
        calls++
        let n = 0
        for await (const v of values) n += v as number
        emit(k, n)
      }
      const b = new MapBuffer({ reducers: 2, limit: 1 << 30, dir: t.dir, partition: partOf, combine: sum, ctx })
      const n = 200_000
      const model = await fill(b, 7, n, (i) => 1 + (i % 5))
      assert.is(b.counters.spills, 1)
      assert.is(b.counters.combineInputRecords - b.counters.combineOutputRecords + b.counters.spilledRecords, n)
      assert.ok(calls > n / COMBINE_AT / 2, `${calls} combines`)
      for (const p of [0, 1]) {
        for (const [k, vs] of readBack(b, p)) {
          assert.is(vs.length, 1, `${String(k)}: one value`)
          assert.is(vs[0], model.get(k)!.reduce((x, y) => (x as number) + (y as number), 0), `sum of ${String(k)}`)
        }
      }
    } finally {
      t.remove()
    }
  }))

test('a combine that emits while it iterates (the arena compacts under it), other keys too, string values', 
  deadline('spill: emitting combine', async () => {
    const t = tempDir()
    try {
      // Concatenates a key's values, emitting the text so far every 4 values (so a batch of 64
      // becomes 16 values, in order) and once an empty string under a key of the same partition.
      let compactedUnder = 0
      const cat: Combine = async (k, values, emit) => {
        let part = ''
        let i = 0
        emit(partOf(k) === 0 ? 'ab' : 'a', '')
        for await (const v of values) {
          part += v as string
          if (++i % 4 === 0) {
            const before = b.bytes
            emit(k, part)
            if (b.bytes < before) compactedUnder++
            part = ''
          }
        }
        if (part !== '') emit(k, part)
      }
      const b = new MapBuffer({ reducers: 2, limit: 1 << 30, dir: t.dir, partition: partOf, combine: cat, ctx })
      const model = await fill(b, 3, 100_000, (i) => String.fromCharCode(97 + (i % 26)))
      assert.ok(compactedUnder > 0, 'the arena was compacted during a combine')
      for (const p of [0, 1]) {
        const got = new Map(readBack(b, p).map(([k, vs]) => [k, vs.join('')]))
        for (const [k, vs] of model) if (partOf(k) === p) assert.is(got.get(k), vs.join(''), `values of ${String(k)}`)
      }
    } finally {
      t.remove()
    }
  }))

test('pairs a combine moves to other keys of its partition come back in emit order per key', 
  deadline('spill: moved keys', async () => {
    const t = tempDir()
    try {
      const moving: Combine = async (k, values, emit) => {
        const vs: Scalar[] = []
        for await (const v of values) vs.push(v)
        if (k === 'b') emit('a', 20)
        for (const v of vs) emit(k, v)
        if (k === 'b') emit('c', 30)
      }
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: moving, ctx })
      // b has two values, so combine runs on it; a and c, with one each, are written as they are.
      for (const [k, v] of [['c', 3], ['b', 2], ['a', 1], ['b', 4]] as const) b.add(k, v)
      await b.spill()
      assert.equal(readBack(b, 0), [['a', [1, 20]], ['b', [2, 4]], ['c', [30, 3]]])
    } finally {
      t.remove()
    }
  }))

test('combine runs zero times on a key with one value at the spill, once on a key with more', 
  deadline('spill: single values', async () => {
    const t = tempDir()
    try {
      const got: [Scalar, Scalar[]][] = []
      const tagged: Combine = async (k, values, emit) => {
        const vs: Scalar[] = []
        for await (const v of values) vs.push(v)
        got.push([k, vs])
        emit(k, `combined ${vs.join(',')}`)
      }
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: tagged, ctx })
      for (const [k, v] of [['one', 1], ['two', 'x'], [7, 'n'], ['two', 'y'], ['s', 'single']] as const) b.add(k, v)
      await b.spill()
      assert.equal(got, [['two', ['x', 'y']]])
      assert.equal(readBack(b, 0), [[7, ['n']], ['one', [1]], ['s', ['single']], ['two', ['combined x,y']]])
      assert.is(b.counters.combineInputRecords, 2)
      assert.is(b.counters.combineOutputRecords, 1)
      assert.is(b.counters.spilledRecords, 4)
    } finally {
      t.remove()
    }
  }))

test('repeats fold: a value emitted n times costs O(log n) combines of two values, and sums right', 
  deadline('spill: fold', async () => {
    const t = tempDir()
    try {
      const seen: number[] = []
      const sum: Combine = async (k, values, emit) => {
        let n = 0
        let c = 0
        for await (const v of values) {
          n += v as number
          c++
        }
        seen.push(c)
        emit(k, n)
      }
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: sum, ctx })
      // 10 000 ones then 100 twos, 5 ones and a 3 (entries of FOLD_AT repeats or more fold, the rest as they are).
      for (let i = 0; i < 10_000; i++) b.add('k', 1)
      for (let i = 0; i < 100; i++) b.add('k', 2)
      for (const v of [1, 1, 1, 1, 1, 3]) b.add('k', v)
      for (let i = 0; i < FOLD_AT - 1; i++) b.add('few', 4)
      await b.spill()
      assert.equal(readBack(b, 0), [['few', Array.from({ length: FOLD_AT - 1 }, () => 4)], ['k', [10_000 + 200 + 5 + 3]]])
      assert.ok(seen.length <= 2 * Math.ceil(Math.log2(10_000)) + 2 * Math.ceil(Math.log2(100)) + 2, `${seen.length} combines`)
      assert.ok(seen.every((c) => c <= 6 + 2 * 14), `combines saw ${seen.join(',')} values`)
      assert.is(b.counters.combineInputRecords, 10_106)
      assert.is(b.counters.combineOutputRecords, 1)
      assert.is(b.counters.spilledRecords, 1 + FOLD_AT - 1, 'few: written as it is, once with a count')
    } finally {
      t.remove()
    }
  }))

test('a combine that does not make two values one pair of their key turns folding off: values as emitted, in order', 
  deadline('spill: no fold', async () => {
    const t = tempDir()
    try {
      const combines: Record<string, Combine> = {
        // Passes values through (two pairs for two values).
        passThrough: async (k, values, emit) => {
          for await (const v of values) emit(k, v)
        },
        // Given exactly two values, emits one pair under another key of the partition.
        moves: async (k, values, emit) => {
          const vs: Scalar[] = []
          for await (const v of values) vs.push(v)
          if (vs.length === 2) emit(`${String(k)}-moved`, vs.join(''))
          else for (const v of vs) emit(k, v)
        },
      }
      for (const [name, combine] of Object.entries(combines)) {
        const dir = path.join(t.dir, name)
        mkdirSync(dir)
        const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir, partition: () => 0, combine, ctx })
        for (let i = 0; i < 100; i++) b.add('k', 'v')
        b.add('k', 'w')
        for (let i = 0; i < 40; i++) b.add('j', 1)
        await b.spill()
        const got = readBack(b, 0)
        const moved = name === 'moves' ? got.filter(([k]) => String(k).endsWith('-moved')).length : 0
        assert.is(moved, 0, `${name}: a trial combine's output never reaches the run`)
        assert.equal(got, [['j', Array.from({ length: 40 }, () => 1)], ['k', [...Array.from({ length: 100 }, () => 'v'), 'w']]], name)
      }
    } finally {
      t.remove()
    }
  }))

test('early combines count entries, not repeats: a key emitted one value 10 000 times is never ready, one with COMBINE_AT different values is', 
  deadline('spill: ready', async () => {
    const t = tempDir()
    try {
      const sum: Combine = async (k, values, emit) => {
        let n = 0
        for await (const v of values) n += v as number
        emit(k, n)
      }
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: sum, ctx })
      for (let i = 0; i < 10_000; i++) b.add('same', 1)
      assert.is(b.ready, false)
      for (let i = 0; i < COMBINE_AT; i++) b.add('varied', i)
      assert.is(b.ready, true)
      await b.combineReady()
      await b.spill()
      assert.equal(readBack(b, 0), [['same', [10_000]], ['varied', [(COMBINE_AT * (COMBINE_AT - 1)) / 2]]])
    } finally {
      t.remove()
    }
  }))

test('a key that is not well-formed is the key it becomes (lone surrogates as U+FFFD)', 
  deadline('spill: well-formed keys', async () => {
    const t = tempDir()
    try {
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: undefined, ctx })
      for (const [k, v] of [['x\ud800', 1], ['x\ufffd', 2], ['x\udc00', 3], ['y', 4]] as const) b.add(k, v)
      await b.spill()
      assert.equal(readBack(b, 0), [['x\ufffd', [1, 2, 3]], ['y', [4]]])
    } finally {
      t.remove()
    }
  }))

test('keys whose hashes collide stay apart, through table growth and a spill (the table emptied and refilled)',
  deadline('spill: key table', async () => {
    const t = tempDir()
    try {
      const b = new MapBuffer({ reducers: 1, limit: 1 << 30, dir: t.dir, partition: () => 0, combine: undefined, ctx })
      // FNV-1a 32-bit collisions: the table's hash of each pair is the same.
      const colliding = ['costarring', 'liquid', 'declinate', 'macallums', 'altarage', 'zinke', 'altarages', 'zinkes']
      const model = new Map<Scalar, Scalar[]>()
      const emit = (k: Scalar, v: Scalar): void => {
        b.add(k, v)
        model.set(k, [...(model.get(k) ?? []), v])
      }
      const expected = (): [Scalar, Scalar[]][] => [...model].sort((x, y) => compareKeys(x[0], y[0]))
      for (let round = 0; round < 2; round++) {
        model.clear()
        // Enough keys to double the table several times, between the colliding ones.
        for (let i = 0; i < 20_000; i++) {
          emit(`k${(i * 7919) % 20_000}`, i)
          if (i % 2500 === 0) for (const [j, k] of colliding.entries()) emit(k, j + round)
        }
        for (const k of ['1', 1, '__proto__', 'constructor', '']) emit(k, round)
        await b.spill()
        // This round's run alone.
        const r = new RunReader(b.runs[0]!.at(-1)!)
        const got: [Scalar, Scalar[]][] = []
        try {
          while (r.next()) {
            const k = r.key()
            const vs = Array.from({ length: r.reps() }, () => r.value())
            const last = got[got.length - 1]
            if (last !== undefined && Object.is(last[0], k)) last[1].push(...vs)
            else got.push([k, vs])
          }
        } finally {
          r.close()
        }
        assert.equal(got, expected())
      }
    } finally {
      t.remove()
    }
  }))

test('string keys are partitioned from their UTF-8 and hash and sorted by their bytes, as their text would be',
  deadline('spill: key bytes', async () => {
    const t = tempDir()
    // No number key: the buffer sorts the keys' bytes. Astral code points after U+FFFF (UTF-16
    // order would put them before), keys of 2, 3 and 4 byte characters (their UTF-16 hash is not
    // their UTF-8 one), lone surrogates, a key and its extensions, keys longer than 8 bytes.
    const keys = [...WORDS.filter((w) => typeof w === 'string'), '', 'x\ud800', 'x\ufffd', '\udc00', 'ab', 'abc', 'abcdefghijk', 'abcdefghij', '\ue000', '\ud83d\ude00z']
    const text = (k: string): string => (k as unknown as { toWellFormed(): string }).toWellFormed()
    const sum: Combine = async (k, vs, emit) => {
      let n = 0
      for await (const v of vs) n += v as number
      emit(k, n)
    }
    try {
      for (const kind of ['default', 'hadoop'] as PartitionKind[]) {
        for (const combine of [undefined, sum]) {
          for (const limit of [1 << 30, 4000]) {
            const partition = partitioner(3, undefined, kind)
            const b = new MapBuffer({ reducers: 3, limit, dir: t.dir, partition, bytePartition: bytePartitioner(3, undefined, kind), combine, ctx })
            const r = rng(limit + keys.length)
            const model = new Map<string, number[]>()
            for (let i = 0; i < 5000; i++) {
              const k = keys[Math.floor(r() * r() * keys.length)]!
              b.add(k, 1)
              const vs = model.get(text(k)) ?? []
              vs.push(1)
              model.set(text(k), vs)
              if (b.ready) await b.combineReady()
              if (b.full) await b.spill()
            }
            await b.spill()
            if (limit < 1 << 30) assert.ok(b.counters.spills > 2, `${b.counters.spills} spills`)
            for (const p of [0, 1, 2]) {
              const got = readBack(b, p)
              const want = wanted(model, partition, p)
              assert.equal(got.map(([k]) => k), want.map(([k]) => k), `${kind} partition ${p}`)
              for (let i = 0; i < got.length; i++) {
                const total = got[i]![1].reduce((x: number, y) => x + (y as number), 0)
                assert.is(total, want[i]![1].length, `count of ${String(got[i]![0])}`)
              }
            }
            removeRuns(b)
          }
        }
      }
    } finally {
      t.remove()
    }
  }))

test('a released buffer\'s arrays serve the next buffer on the thread, emptied, after a spill or without one',
  deadline('spill: spare arrays', async () => {
    const t = tempDir()
    try {
      let made = 0
      const make = (): MapBuffer => {
        const dir = path.join(t.dir, String(made++))
        mkdirSync(dir)
        return new MapBuffer({ reducers: 1, limit: 1 << 30, dir, partition: () => 0, combine: undefined, ctx })
      }
      // Enough keys to grow every array well past its first size.
      const keys = Array.from({ length: 30_000 }, (_, i) => `k${(i * 7919) % 30_000}`)
      const first = make()
      for (const k of keys) first.add(k, 1)
      await first.spill()
      first.release()
      first.release() // a second call does nothing
      // Takes the arrays: the same keys again, and one more, each exactly once in its run.
      const second = make()
      for (const k of [...keys, 'extra']) second.add(k, 2)
      await second.spill()
      const r = new RunReader(second.runs[0]!.at(-1)!)
      let n = 0
      try {
        while (r.next()) {
          assert.is(r.value(), 2)
          n++
        }
      } finally {
        r.close()
      }
      assert.is(n, keys.length + 1)
      // A task that failed before spilling leaves keys in its table: the next buffer must not find them.
      second.release()
      const failed = make()
      for (const k of keys) failed.add(k, 3)
      failed.release()
      const third = make()
      for (const k of keys.slice(0, 10)) third.add(k, 4)
      third.add('new', 4)
      await third.spill()
      const got = readBack(third, 0)
      assert.equal(got, [...keys.slice(0, 10), 'new'].sort().map((k) => [k, [4]]))
    } finally {
      t.remove()
    }
  }))

test.run()
