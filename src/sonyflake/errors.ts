/**
 * Errors thrown by the Sonyflake generator.
 *
 * Invariants:
 * - One class and one stable `code` per invalid setting, so callers can branch on
 *   `err.code` (Go's sonyflake v2 has one sentinel error per case; we keep that).
 * - The message starts with Go's text verbatim ("invalid time unit") and then
 *   echoes the bad value, so a log line says both what and which.
 */
import { GortError, describeValue } from '../errors.js'

/** `63 - bitsSequence - bitsMachineId` is below 32. */
export class InvalidBitsTimeError extends GortError {
  constructor(readonly bitsTime: number) {
    super('ERR_SONYFLAKE_INVALID_BITS_TIME', `bit length for time must be 32 or more: got ${bitsTime}`)
  }
}

/** `bitsSequence` is not an integer in 0..30. */
export class InvalidBitsSequenceError extends GortError {
  constructor(readonly value: unknown) {
    super('ERR_SONYFLAKE_INVALID_BITS_SEQUENCE', `invalid bit length for sequence number: ${String(value)}`)
  }
}

/** `bitsMachineId` is not an integer in 0..30. */
export class InvalidBitsMachineIdError extends GortError {
  constructor(readonly value: unknown) {
    super('ERR_SONYFLAKE_INVALID_BITS_MACHINE_ID', `invalid bit length for machine id: ${String(value)}`)
  }
}

/** `timeUnit` is below 1 ms, negative or not a finite number. */
export class InvalidTimeUnitError extends GortError {
  constructor(readonly value: unknown) {
    super('ERR_SONYFLAKE_INVALID_TIME_UNIT', `invalid time unit: ${String(value)} ms (must be 1 ms or longer)`)
  }
}

/** `startTime` is not a valid date or epoch-milliseconds number. */
export class InvalidStartTimeError extends GortError {
  constructor(readonly value: unknown) {
    super('ERR_SONYFLAKE_INVALID_START_TIME', `invalid start time: ${String(value)}`)
  }
}

/** `startTime` lies after the clock's now. */
export class StartTimeAheadError extends GortError {
  constructor(
    readonly startTime: number,
    readonly now: number,
  ) {
    super(
      'ERR_SONYFLAKE_START_TIME_AHEAD',
      `start time is ahead of now: ${new Date(startTime).toISOString()} > ${new Date(now).toISOString()}`,
    )
  }
}

/**
 * The machine id is out of range for `bitsMachineId`, not an integer, not a
 * number or a function, or `checkMachineId` rejected it.
 */
export class InvalidMachineIdError extends GortError {
  constructor(
    readonly value: unknown,
    readonly reason: string,
  ) {
    super('ERR_SONYFLAKE_INVALID_MACHINE_ID', `invalid machine id: ${describeValue(value)} (${reason})`)
  }
}

/** No machine id was given and no interface has a private IPv4 address. */
export class NoPrivateAddressError extends GortError {
  constructor(readonly addresses: readonly string[]) {
    super(
      'ERR_SONYFLAKE_NO_PRIVATE_ADDRESS',
      `no private ip address among [${addresses.join(', ')}]; pass machineId explicitly`,
    )
  }
}

/** The elapsed time no longer fits in the time bits (about 174 years by default). */
export class OverTimeLimitError extends GortError {
  constructor(
    readonly elapsed: number,
    readonly bitsTime: number,
  ) {
    super('ERR_SONYFLAKE_OVER_TIME_LIMIT', `over the time limit: elapsed ${elapsed} units needs more than ${bitsTime} bits`)
  }
}

/** `compose` was given a sequence number outside 0..2^bitsSequence-1. */
export class InvalidSequenceError extends GortError {
  constructor(
    readonly value: unknown,
    readonly bitsSequence: number,
  ) {
    super('ERR_SONYFLAKE_INVALID_SEQUENCE', `invalid sequence number: ${String(value)} (must fit in ${bitsSequence} bits)`)
  }
}

/** `compose` was given a time before the generator's start time. */
export class TimeBeforeStartError extends GortError {
  constructor(
    readonly time: number,
    readonly startTime: number,
  ) {
    super(
      'ERR_SONYFLAKE_TIME_BEFORE_START',
      `time is before the start time: ${new Date(time).toISOString()} < ${new Date(startTime).toISOString()}`,
    )
  }
}

/**
 * A `sharedState` buffer is already bound to a generator with different settings.
 * Sharing state between different layouts or machine ids would hand out duplicates.
 */
export class SharedStateMismatchError extends GortError {
  constructor() {
    super(
      'ERR_SONYFLAKE_SHARED_STATE_MISMATCH',
      'sharedState is bound to a generator with different settings (bits, time unit, start time or machine id)',
    )
  }
}
