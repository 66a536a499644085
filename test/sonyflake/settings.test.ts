import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  InvalidBitsMachineIdError,
  InvalidBitsSequenceError,
  InvalidBitsTimeError,
  InvalidMachineIdError,
  InvalidStartTimeError,
  InvalidTimeUnitError,
  ManualClock,
  NoPrivateAddressError,
  SharedStateMismatchError,
  Sonyflake,
  type SonyflakeSettings,
  StartTimeAheadError,
  lower16BitPrivateIp,
} from '../../src/sonyflake/index.js'
import { GortError } from '../../src/errors.js'
import { deadline } from '../_support/deadline.js'

const NOW = Date.UTC(2026, 5, 1)
const clock = new ManualClock(NOW)

function fails(settings: SonyflakeSettings): GortError {
  try {
    new Sonyflake({ clock, machineId: 1, ...settings })
  } catch (err) {
    assert.instance(err, GortError)
    return err as GortError
  }
  throw new Error(`no error for ${JSON.stringify(settings)}`)
}

const cases: [string, SonyflakeSettings, new (...args: never[]) => GortError, string, string][] = [
  ['bitsSequence -1', { bitsSequence: -1 }, InvalidBitsSequenceError, 'ERR_SONYFLAKE_INVALID_BITS_SEQUENCE', 'invalid bit length for sequence number: -1'],
  ['bitsSequence 31', { bitsSequence: 31 }, InvalidBitsSequenceError, 'ERR_SONYFLAKE_INVALID_BITS_SEQUENCE', ': 31'],
  ['bitsSequence 2.5', { bitsSequence: 2.5 }, InvalidBitsSequenceError, 'ERR_SONYFLAKE_INVALID_BITS_SEQUENCE', ': 2.5'],
  ['bitsMachineId 31', { bitsMachineId: 31 }, InvalidBitsMachineIdError, 'ERR_SONYFLAKE_INVALID_BITS_MACHINE_ID', 'invalid bit length for machine id: 31'],
  ['bitsMachineId -3', { bitsMachineId: -3 }, InvalidBitsMachineIdError, 'ERR_SONYFLAKE_INVALID_BITS_MACHINE_ID', ': -3'],
  ['16 + 16 bits leave 31 for time', { bitsSequence: 16, bitsMachineId: 16 }, InvalidBitsTimeError, 'ERR_SONYFLAKE_INVALID_BITS_TIME', 'bit length for time must be 32 or more: got 31'],
  ['time unit 0.5 ms', { timeUnit: 0.5 }, InvalidTimeUnitError, 'ERR_SONYFLAKE_INVALID_TIME_UNIT', 'invalid time unit: 0.5'],
  ['time unit -10', { timeUnit: -10 }, InvalidTimeUnitError, 'ERR_SONYFLAKE_INVALID_TIME_UNIT', ': -10'],
  ['time unit NaN', { timeUnit: Number.NaN }, InvalidTimeUnitError, 'ERR_SONYFLAKE_INVALID_TIME_UNIT', ': NaN'],
  ['start time ahead', { startTime: NOW + 1 }, StartTimeAheadError, 'ERR_SONYFLAKE_START_TIME_AHEAD', 'start time is ahead of now: 2026-06-01T00:00:00.001Z'],
  ['start time invalid', { startTime: new Date('nope') }, InvalidStartTimeError, 'ERR_SONYFLAKE_INVALID_START_TIME', 'invalid start time: Invalid Date'],
  ['machine id above 16 bits', { machineId: 65536 }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: 65536'],
  ['machine id above 4 bits', { machineId: 16, bitsMachineId: 4 }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', '0..15'],
  ['machine id negative', { machineId: -1 }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: -1'],
  ['machine id from a function', { machineId: () => 1.5 }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', '1.5'],
  ['machine id a string', { machineId: '5' as never }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: "5" (must be a number or a function that returns one)'],
  ['machine id an object', { machineId: {} as never }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: an object (Object) (must be a number'],
  ['machine id a bigint', { machineId: 5n as never }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: 5n (must be a number'],
  ['machine id null', { machineId: null as never }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: null (must be a number'],
  ['machine id function returns a string', { machineId: (() => '5') as never }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'invalid machine id: "5" (must be an integer'],
  ['checkMachineId says no', { checkMachineId: () => false }, InvalidMachineIdError, 'ERR_SONYFLAKE_INVALID_MACHINE_ID', 'rejected by checkMachineId'],
]

for (const [name, settings, type, code, text] of cases) {
  test(`invalid setting: ${name}`, () => {
    const err = fails(settings)
    assert.instance(err, type)
    assert.is(err.code, code)
    assert.ok(err.message.includes(text), `message "${err.message}" lacks "${text}"`)
  })
}

test('0 and undefined mean the defaults, as Go zero values do', () => {
  const sf = new Sonyflake({ clock, machineId: 1, bitsSequence: 0, bitsMachineId: 0, timeUnit: 0 })
  assert.equal([sf.bitsTime, sf.bitsSequence, sf.bitsMachineId, sf.timeUnit], [39, 8, 16, 10])
  assert.is(sf.startTime.toISOString(), '2025-01-01T00:00:00.000Z')
})

test('the default start time is ahead of a clock set in 2024', () => {
  assert.throws(() => new Sonyflake({ clock: new ManualClock(Date.UTC(2024, 0, 1)), machineId: 1 }), (e: unknown) => e instanceof StartTimeAheadError)
})

test('a machineId function that throws: its own error comes out', () => {
  const boom = new Error('no metadata service')
  try {
    new Sonyflake({ clock, machineId: () => { throw boom } })
    assert.unreachable()
  } catch (err) {
    assert.is(err, boom)
  }
})

test('checkMachineId sees the machine id', () => {
  const seen: number[] = []
  new Sonyflake({ clock, machineId: 77, checkMachineId: (id) => (seen.push(id), true) })
  assert.equal(seen, [77])
})

test(
  'async machineId and checkMachineId: ready() and nextId() wait for them, and reject when the id is refused',
  deadline('async check', async () => {
    const clock2 = new ManualClock(NOW)
    const ok = await Sonyflake.create({ clock: clock2, machineId: async () => 12, checkMachineId: async () => true })
    assert.is(ok.machineId, 12)
    assert.is(ok.decompose(await ok.nextId()).machine, 12)

    const refused = new Sonyflake({ clock: clock2, machineId: 13, checkMachineId: async () => false })
    const e1 = await refused.ready().catch((e: unknown) => e)
    const e2 = await refused.nextId().catch((e: unknown) => e)
    assert.instance(e1, InvalidMachineIdError)
    assert.instance(e2, InvalidMachineIdError)
    assert.instance(await Sonyflake.create({ clock: clock2, machineId: async () => 70_000 }).catch((e: unknown) => e), InvalidMachineIdError)
  }),
)

test('the default machine id is the lower 16 bits of the first private IPv4 address, or NoPrivateAddressError', () => {
  let expected: number | NoPrivateAddressError
  try {
    expected = lower16BitPrivateIp()
  } catch (err) {
    expected = err as NoPrivateAddressError
  }
  if (typeof expected === 'number') {
    assert.is(new Sonyflake({ clock }).machineId, expected)
  } else {
    assert.instance(expected, NoPrivateAddressError)
    assert.throws(() => new Sonyflake({ clock }), (e: unknown) => e instanceof NoPrivateAddressError && e.code === 'ERR_SONYFLAKE_NO_PRIVATE_ADDRESS')
  }
})

test('a shared state buffer refuses a generator with different settings', () => {
  const state = Sonyflake.sharedState()
  new Sonyflake({ clock, machineId: 1, sharedState: state })
  new Sonyflake({ clock, machineId: 1, sharedState: state })
  assert.throws(() => new Sonyflake({ clock, machineId: 2, sharedState: state }), (e: unknown) => e instanceof SharedStateMismatchError)
  assert.throws(() => new Sonyflake({ clock, machineId: 1, timeUnit: 1, sharedState: state }), (e: unknown) => e instanceof SharedStateMismatchError)
})

test.run()
