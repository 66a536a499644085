// Part files: each line is `key<TAB>value` in UTF-8, exactly what encoding the line's text gives
// (a lone surrogate as U+FFFD), for short and long, ASCII and other text, across the writer's
// buffer, and nothing appears under the final name before commit.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Scalar } from '../../src/mapreduce/job.js'
import { PartWriter } from '../../src/mapreduce/output.js'
import { rng, tempDir, WORDS } from './_helpers.js'

const test = suite('output')

test('a part file holds the UTF-8 of each key<TAB>value line, in order', () => {
  const t = tempDir()
  try {
    const r = rng(7)
    const pairs: [Scalar, Scalar][] = [
      ['a', 1], [-0, 'x'], [Number.NaN, 2.5], ['', ''], ['__proto__', 'constructor'],
      ['x\ud800', 'lone \udc00 low'], ['😀', '𝒳y'],
      // Longer than the writer's buffer, and than its ASCII loop; non-ASCII that long too.
      ['big', 'z'.repeat(100_000)], ['wide', 'é日'.repeat(20_000)], ['k', 'a'.repeat(32)], ['k', 'a'.repeat(33)],
    ]
    for (let i = 0; i < 20_000; i++) pairs.push([WORDS[Math.floor(r() * WORDS.length)]!, r() < 0.5 ? i : WORDS[i % WORDS.length]!])
    const w = new PartWriter(path.join(t.dir, 'tmp'))
    for (const [k, v] of pairs) w.add(k, v)
    const final = path.join(t.dir, 'part-r-00000')
    assert.not.ok(existsSync(final))
    w.commit(final)
    const want = Buffer.from(pairs.map(([k, v]) => `${String(k)}\t${String(v)}\n`).join(''), 'utf8')
    const got = readFileSync(final)
    assert.ok(got.equals(want), 'bytes differ')
    assert.is(w.bytes, want.length)
    assert.is(w.records, pairs.length)
    assert.ok(got.includes(Buffer.from('x\ufffd\tlone \ufffd low\n')), 'lone surrogates as U+FFFD')
  } finally {
    t.remove()
  }
})

test.run()
