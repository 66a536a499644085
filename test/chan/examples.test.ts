// The seed's programs, run as users run them (a child process each), checked by output.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { runChild } from './_support.js'

test(
  'say: hello and world interleave, five lines each',
  deadline('say', async () => {
    const r = await runChild('examples/say.ts', [], { SAY_MS: '5' })
    assert.is(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.is(lines.filter((l) => l === 'hello').length, 5)
    assert.is(lines.filter((l) => l === 'world').length, 5)
    // Both sleep in step, so neither finishes all five before the other starts.
    assert.ok(lines.slice(0, 5).includes('hello') && lines.slice(0, 5).includes('world'), lines.join(','))
  }, 30_000),
)

test(
  'mutex-counter: 1000 goroutines under a Mutex count exactly 1000',
  deadline('mutex-counter', async () => {
    const r = await runChild('examples/mutex-counter.ts')
    assert.is(r.code, 0, r.stderr)
    assert.is(r.stdout.trim(), 'counter = 1000')
  }, 30_000),
)

test(
  'trylock: only the winners increment',
  deadline('trylock', async () => {
    const r = await runChild('examples/trylock.ts')
    assert.is(r.code, 0, r.stderr)
    const m = /winners = (\d+), counter = (\d+)/.exec(r.stdout)
    assert.ok(m, r.stdout)
    const winners = Number(m[1])
    assert.is(Number(m[2]), winners)
    assert.ok(winners >= 1 && winners <= 10)
    assert.is(r.stdout.split('\n').filter((l) => l.endsWith('got the lock')).length, winners)
    assert.is(r.stdout.split('\n').filter((l) => l.endsWith('could not get the lock')).length, 10 - winners)
  }, 30_000),
)

test.run()
