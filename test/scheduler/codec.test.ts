import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeArgs, encodeResult, errorToPlain, plainToError } from '../../src/scheduler/codec.js'
import { K_BYTES, K_NUMS, K_REMOTE } from '../../src/scheduler/layout.js'

test('small numeric args are inline numbers; others serialized, large ones remote', () => {
  assert.is(encodeArgs([1, 2.5]).kind, K_NUMS)
  assert.is(encodeArgs(['hi']).kind, K_BYTES)
  assert.is(encodeArgs(['x'.repeat(100)]).kind, K_REMOTE)
  assert.is(encodeResult(3).kind, K_NUMS)
})

test('uncloneable args throw at encode time', () => {
  assert.throws(() => encodeArgs([() => 1]))
})

test('errors round-trip with name, message, stack, code, own fields and cause', () => {
  const e = new RangeError('bad range', { cause: new Error('root') }) as RangeError & { code: string; n: number }
  e.code = 'E_X'
  e.n = 7
  const back = plainToError(structuredClone(errorToPlain(e))) as RangeError & { code: string; n: number }
  assert.instance(back, RangeError)
  assert.is(back.message, 'bad range')
  assert.is(back.code, 'E_X')
  assert.is(back.n, 7)
  assert.is(back.stack, e.stack)
  assert.is((back.cause as Error).message, 'root')
})

test('custom error names survive; non-errors are thrown back as values', () => {
  class MyErr extends Error {
    override name = 'MyErr'
  }
  const back = plainToError(errorToPlain(new MyErr('m'))) as Error
  assert.is(back.name, 'MyErr')
  assert.is(plainToError(errorToPlain('just a string')), 'just a string')
})

test.run()
