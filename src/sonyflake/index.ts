/**
 * gort/sonyflake: distributed unique IDs that sort by time (Sonyflake v2 rules),
 * as BigInt.
 */
export { Sonyflake } from './sonyflake.js'
export type { SonyflakeParts } from './sonyflake.js'
export type { SonyflakeSettings } from './settings.js'
export { DEFAULT_BITS_MACHINE_ID, DEFAULT_BITS_SEQUENCE, DEFAULT_START_TIME, DEFAULT_TIME_UNIT_MS } from './settings.js'
export { ManualClock, systemClock } from './clock.js'
export type { Clock } from './clock.js'
export { isPrivateIpv4, lower16BitPrivateIp, privateIpv4 } from './machine-id.js'
export {
  InvalidBitsMachineIdError,
  InvalidBitsSequenceError,
  InvalidBitsTimeError,
  InvalidMachineIdError,
  InvalidSequenceError,
  InvalidStartTimeError,
  InvalidTimeUnitError,
  NoPrivateAddressError,
  OverTimeLimitError,
  SharedStateMismatchError,
  StartTimeAheadError,
  TimeBeforeStartError,
} from './errors.js'
