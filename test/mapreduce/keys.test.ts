// Key order, key checks and the default partitioner.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EmitTypeError, PartitionError } from '../../src/mapreduce/index.js'
import { checkKey, checkValue, compareKeys, compareText } from '../../src/mapreduce/keys.js'
import { fnv1a, partitioner } from '../../src/mapreduce/partition.js'
import { byteOrder, rng } from './_helpers.js'

const test = suite('keys')

const sign = (n: number): number => Math.sign(n)

test('compareText is UTF-8 byte order, astral and U+E000.. units included', () => {
  const r = rng(7)
  const alphabet = ['a', 'z', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '😀', '𝒳', '\u{10ffff}', '']
  const word = (): string => Array.from({ length: Math.floor(r() * 4) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('')
  for (let i = 0; i < 5000; i++) {
    const a = word()
    const b = word()
    assert.is(sign(compareText(a, b)), sign(byteOrder(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
  }
  // The case JavaScript's < gets wrong: U+FFFF sorts before U+1F600 in UTF-8.
  assert.ok('\uffff' > '😀')
  assert.ok(compareText('\uffff', '😀') < 0)
})

test('compareKeys: by text bytes; a number and a string with the same text are different keys, the number first', () => {
  const keys = ['b', 10, '10', 9, 'a', '9', '__proto__']
  keys.sort(compareKeys)
  assert.equal(keys, [10, '10', 9, '9', '__proto__', 'a', 'b'])
  assert.is(compareKeys(1, 1), 0)
  assert.is(compareKeys('x', 'x'), 0)
})

test('checkKey: strings made well-formed, numbers as they are; anything else is EmitTypeError', () => {
  assert.is(checkKey('ok'), 'ok')
  assert.is(checkKey('a\ud800b'), 'a\ufffdb')
  assert.is(checkKey(-0), -0)
  for (const bad of [undefined, null, true, {}, [], 1n, Symbol('s')]) {
    try {
      checkKey(bad)
      assert.unreachable(`checkKey(${String(bad)})`)
    } catch (e) {
      assert.instance(e, EmitTypeError)
      assert.is((e as EmitTypeError).code, 'ERR_MR_EMIT_TYPE')
      assert.is((e as EmitTypeError).what, 'key')
    }
  }
  assert.throws(() => checkValue(undefined), (e: unknown) => e instanceof EmitTypeError && e.what === 'value' && e.got === 'undefined')
})

test('fnv1a: 32-bit FNV-1a of the UTF-8 bytes, as int31', () => {
  assert.is(fnv1a(''), 0x811c9dc5 & 0x7fffffff)
  assert.is(fnv1a('a'), 0xe40c292c & 0x7fffffff)
  assert.is(fnv1a('foobar'), 0xbf9cf968 & 0x7fffffff)
  // Non-ASCII: the same as hashing the bytes one by one.
  const bytes = (s: string): number => {
    let h = 0x811c9dc5
    for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193)
    return h & 0x7fffffff
  }
  for (const s of ['naïve', '日本語', 'x😀y', 'ab\u07ff']) assert.is(fnv1a(s), bytes(s), s)
})

test('partitioner: default spreads keys over R; a number and its text go together; a custom one is checked', () => {
  const p = partitioner(4, undefined)
  const seen = new Set<number>()
  for (let i = 0; i < 100; i++) seen.add(p(`k${i}`))
  assert.equal([...seen].sort(), [0, 1, 2, 3])
  assert.is(p(12), p('12'))
  assert.is(partitioner(1, undefined)('anything'), 0)
  const custom = partitioner(3, ((k: string) => (k === 'bad' ? 3 : k.length % 3)) as never)
  assert.is(custom('ab'), 2)
  assert.throws(() => custom('bad'), (e: unknown) => e instanceof PartitionError && e.code === 'ERR_MR_PARTITION' && e.got === '3' && e.reducers === 3)
})

test.run()
