/**
 * runJob against a sequential reference on random inputs: keys and values of both types (numbers
 * such as -0, NaN, 1e21; strings such as '', '__proto__', tabs, newlines, astral and lone
 * surrogates, and texts equal to a number key's), skewed so that some keys get hundreds of values,
 * over files with CRLF, blank lines, no final newline or nothing at all, under random procs,
 * reducers, split sizes, memory budgets (down to spilling every few hundred pairs), partitioners
 * and file packing, with no combiner, a combiner that changes nothing, and a summing one. Each
 * output must equal the reference, key by key, with each part file sorted by key bytes (a number
 * key before the string of the same text) and each key in the partition its partitioner names.
 * GORT_DIFF_CASES=N runs N cases per job instead of the few CI runs (GORT_DIFF_SEED: the first).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runJob, type Scalar } from '../../src/mapreduce/index.js'
import { compareKeys } from '../../src/mapreduce/keys.js'
import { partitioner, type PartitionKind } from '../../src/mapreduce/partition.js'
import { decode, encode, type Enc } from './fixtures/diff-common.js'
import { FIXTURES, rng, tempDir } from './_helpers.js'

const CASES = Number(process.env['GORT_DIFF_CASES'] ?? 5)
const SEED = Number(process.env['GORT_DIFF_SEED'] ?? 1)

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

const NUMBER_KEYS = ['0', '1', '2', '5', '-3', '1.5', '1e+21', '9007199254740991', '10', '9', '100', '-0.25']
const STRING_KEYS = ['', ' ', 'a\tb', 'x\ny', 'cr\r', '\uD800', '\uDC00x', '\uFFFD', '__proto__', 'constructor', 'toString',
  'naïve', '日本語', '😀', '𝒳y', '\uffff', 'Apple', 'apple', 'a', 'b', 'zz', 'w0', 'w1', 'w2']

/** A random string of 0-6 code points, astral and lone surrogates included. */
function randomText(r: () => number): string {
  let s = ''
  for (let n = Math.floor(r() * 7); n > 0; n--) {
    const kind = r()
    if (kind < 0.6) s += String.fromCharCode(0x61 + Math.floor(r() * 6))
    else if (kind < 0.75) s += String.fromCharCode(0x80 + Math.floor(r() * 0x780))
    else if (kind < 0.85) s += String.fromCodePoint(0x10000 + Math.floor(r() * 0x1000))
    else if (kind < 0.9) s += String.fromCharCode(0xd800 + Math.floor(r() * 0x800)) // a lone surrogate, high or low
    else s += String.fromCharCode(0xe000 + Math.floor(r() * 0x2000))
  }
  return s
}

/** Input files' texts for one case: JSON lines of [keyType, key, valueType, value] pairs (fixtures/diff-common.ts). */
function generate(seed: number, sum: boolean): string[] {
  const r = rng(seed)
  const keys: Enc[] = []
  for (let i = 0, n = 5 + Math.floor(r() * 60); i < n; i++) {
    const c = r()
    if (c < 0.25) {
      // A number key, and often the string of its text: a separate key, ordered after it.
      const n = pick(r, NUMBER_KEYS)
      keys.push(['n', n])
      if (r() < 0.5) keys.push(['s', n])
    } else {
      keys.push(c < 0.6 ? ['s', pick(r, STRING_KEYS)] : ['s', randomText(r)])
    }
  }
  const value = (): Enc => {
    // Mostly 1s, as word count emits: long runs of one value, which a combine folds.
    if (sum) return ['n', String(r() < 0.97 ? 1 : Math.floor(r() * 1000) - 500)]
    const c = r()
    if (c < 0.4) return ['n', '1'] // the repeated value: counted records, folding
    if (c < 0.55) return ['n', pick(r, ['-0', '0', 'NaN', 'Infinity', '-Infinity', '0.1', '-1e-300', '123456789.125'])]
    if (c < 0.7) return ['s', pick(r, ['', 'x', 'a\tb', 'line\nbreak', '\uD83D', '😀', '__proto__', '1'])]
    return ['s', randomText(r)]
  }
  const files: string[] = []
  for (let f = 0, nf = 1 + Math.floor(r() * 4); f < nf; f++) {
    const lines: string[] = []
    const nl = r() < 0.15 ? 0 : Math.floor(r() * 600)
    for (let i = 0; i < nl; i++) {
      if (r() < 0.05) {
        lines.push('')
        continue
      }
      const pairs: string[][] = []
      for (let j = Math.floor(r() * 6); j > 0; j--) {
        // Skewed: the first keys get most pairs, so some have hundreds of values.
        const k = keys[Math.floor(r() * r() * r() * keys.length)]!
        const v = value()
        pairs.push([k[0], k[1], v[0], v[1]])
      }
      lines.push(JSON.stringify(pairs))
    }
    const eol = r() < 0.3 ? '\r\n' : '\n'
    files.push(lines.join(eol) + (lines.length > 0 && r() < 0.7 ? eol : ''))
  }
  return files
}

/** The string as it comes back from UTF-8. */
const utf8 = (s: string): string => Buffer.from(s).toString()

/** What the job must output: encoded key's JSON -> its line's value. */
function reference(files: readonly string[], sum: boolean): Map<string, string> {
  const groups = new Map<string, { key: Scalar; values: Scalar[] }>()
  for (const text of files) {
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue
      for (const [tk, k, tv, v] of JSON.parse(line) as [Enc[0], string, Enc[0], string][]) {
        // Keys and values travel as UTF-8: a lone surrogate comes back as U+FFFD.
        const key = decode([tk, tk === 's' ? utf8(k) : k])
        const value = decode([tv, tv === 's' ? utf8(v) : v])
        const id = JSON.stringify(encode(key))
        const g = groups.get(id) ?? groups.set(id, { key, values: [] }).get(id)!
        g.values.push(value)
      }
    }
  }
  const out = new Map<string, string>()
  for (const [id, g] of groups) {
    out.set(id, sum ? String(g.values.reduce((a, b) => (a as number) + (b as number), 0)) : JSON.stringify(g.values.map((v) => JSON.stringify(encode(v))).sort()))
  }
  return out
}

interface Options { procs: number; reducers: number; memory: string; splitSize?: string; packFiles: boolean; partition: PartitionKind }

function options(seed: number): Options {
  const r = rng(seed * 7919 + 1)
  const splitSize = pick(r, ['700', '4KiB', '16KiB', undefined]) // undefined: the default, one split a file here
  return {
    procs: 1 + Math.floor(r() * 3),
    reducers: pick(r, [1, 2, 3, 5]),
    memory: pick(r, ['64KiB', '160KiB', '1MiB', '256MiB']),
    ...(splitSize === undefined ? {} : { splitSize }),
    packFiles: r() < 0.3,
    partition: r() < 0.3 ? 'hadoop' : 'default',
  }
}

/** Output lines by encoded key, checking each file's order and each key's partition. */
function readOutput(dir: string, o: Options): Map<string, string> {
  const parts = readdirSync(dir).filter((f) => f.startsWith('part-r-')).sort()
  assert.is(parts.length, o.reducers, 'one part file per reducer')
  const byKey = new Map<string, string>()
  const partOf = partitioner(o.reducers, undefined, o.partition)
  parts.forEach((f, p) => {
    let prev: Scalar | undefined
    const body = readFileSync(path.join(dir, f), 'utf8')
    for (const line of body === '' ? [] : body.replace(/\n$/, '').split('\n')) {
      const tab = line.indexOf('\t')
      const k = line.slice(0, tab)
      const key = decode(JSON.parse(k) as Enc)
      if (prev !== undefined) assert.ok(compareKeys(prev, key) < 0, `${f}: ${k} after ${JSON.stringify(encode(prev))}`)
      prev = key
      assert.is(partOf(key), p, `${k} in ${f}`)
      assert.not.ok(byKey.has(k), `${k} twice`)
      byKey.set(k, line.slice(tab + 1))
    }
  })
  return byKey
}

for (const [job, sum] of [['diff-plain.ts', false], ['diff-identity.ts', false], ['diff-sum.ts', true]] as const) {
  test(`${job}: random keys, values, files and options equal the sequential reference (${CASES} cases)`, async () => {
    for (let c = 0; c < CASES; c++) {
      const seed = SEED + c
      const files = generate(seed, sum)
      const o = options(seed)
      const { dir, remove } = tempDir()
      try {
        const input = path.join(dir, 'in')
        mkdirSync(input)
        files.forEach((t, i) => writeFileSync(path.join(input, `f${i}.txt`), t))
        const out = path.join(dir, 'out')
        const label = `${job} seed ${seed} ${JSON.stringify(o)}`
        try {
          await runJob({ job: path.join(FIXTURES, job), input: path.join(input, '*.txt'), output: out, ...o })
        } catch (e) {
          throw new Error(`${label}: ${(e as Error).message}`, { cause: e })
        }
        const got = readOutput(out, o)
        const ref = reference(files, sum)
        assert.is(got.size, ref.size, `${label}: ${got.size} keys, want ${ref.size}`)
        for (const [k, v] of ref) assert.is(got.get(k), v, `${label}: values of ${k}`)
      } finally {
        remove()
      }
    }
  })
}

test.run()
