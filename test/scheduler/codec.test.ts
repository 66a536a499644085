import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeArgs, encodeResult, errorToPlain, plainToError, readPayload, writeNumsFast } from '../../src/scheduler/shared/codec.js'
import { K_BYTES, K_NUMS, K_REMOTE } from '../../src/scheduler/shared/layout.js'

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

test("a thread's error named like an Object member is rebuilt as an Error of that name, its fields as fields", () => {
  for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf']) {
    const e = new Error('boom') as Error & { code: string }
    Object.defineProperty(e, 'name', { value: name, enumerable: false, writable: true, configurable: true })
    e.code = 'E_USER'
    const back = plainToError(structuredClone(errorToPlain(e))) as Error & { code: string }
    assert.ok(back instanceof Error && Object.getPrototypeOf(back) === Error.prototype, name)
    assert.is(back.name, name)
    assert.is(back.message, 'boom')
    assert.is(back.code, 'E_USER')
  }
  // An own field named __proto__ stays a field.
  const e = Object.defineProperty(Object.assign(new Error('x'), { n: 1 }), '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true })
  const back = plainToError(structuredClone(errorToPlain(e))) as Error & { n: number; polluted?: boolean }
  assert.ok(Object.getPrototypeOf(back) === Error.prototype)
  assert.is(back.polluted, undefined)
  assert.equal(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, { polluted: true })
  assert.is(back.n, 1)
})

test('an error whose fields cannot be read still crosses as itself, each such field a note', () => {
  const e = new Error('m')
  Object.defineProperty(e, 'boom', { get() { throw new Error('getter threw') }, enumerable: true })
  const back = plainToError(structuredClone(errorToPlain(e))) as Error & { boom: string }
  assert.is(back.message, 'm')
  assert.is(back.boom, '(its boom could not be read: getter threw)')
  const bad = { toString() { throw new Error('no') } }
  assert.is(plainToError(structuredClone(errorToPlain(bad))), '[object Object]')
})

test('inline numbers round-trip exactly (-0, fractions, beyond int32, NaN)', () => {
  const I = new Int32Array(new SharedArrayBuffer(64))
  const F = new Float64Array(I.buffer)
  const U8 = new Uint8Array(I.buffer)
  const args = [-0, 1.5, 2 ** 31, NaN]
  assert.ok(writeNumsFast(I, F, 0, args))
  const back = readPayload(I, F, U8, 0, true) as number[]
  assert.ok(Object.is(back[0], -0))
  assert.equal(back.slice(1, 3), [1.5, 2 ** 31])
  assert.ok(Number.isNaN(back[3]))
  assert.ok(writeNumsFast(I, F, 0, [7, -3]))
  assert.equal(readPayload(I, F, U8, 0, true), [7, -3])
  assert.not.ok(writeNumsFast(I, F, 0, [1, 2, 3, 4, 5]), 'more than 4 numbers are not inline')
  assert.not.ok(writeNumsFast(I, F, 0, [1, '2']))
})

test.run()
