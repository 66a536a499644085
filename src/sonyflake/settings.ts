/**
 * Settings and their validation, by Sonyflake v2's rules.
 *
 * Invariants of a resolved Layout:
 * - bitsSequence and bitsMachine are integers in 1..30 (0 or undefined means the
 *   default, 8 and 16, as Go's zero value does);
 * - bitsTime = 63 - bitsSequence - bitsMachine >= 32, so an ID never uses the
 *   sign bit and always fits in a signed 64-bit integer;
 * - timeUnit >= 1 ms (0 or undefined means 10 ms);
 * - startUnits = floor(startTime / timeUnit) and the start time is not after the
 *   clock's now.
 */
import type { Clock } from './clock.js'
import {
  InvalidBitsMachineIdError,
  InvalidBitsSequenceError,
  InvalidBitsTimeError,
  InvalidStartTimeError,
  InvalidTimeUnitError,
  StartTimeAheadError,
} from './errors.js'

export const DEFAULT_BITS_SEQUENCE = 8
export const DEFAULT_BITS_MACHINE_ID = 16
export const DEFAULT_TIME_UNIT_MS = 10
/** Sonyflake v2's default epoch: 2025-01-01T00:00:00Z. */
export const DEFAULT_START_TIME = Date.UTC(2025, 0, 1)

export interface SonyflakeSettings {
  /** Epoch of the time part (Date or ms since 1970). Default 2025-01-01T00:00:00Z. Must not be in the future. */
  startTime?: Date | number
  /**
   * This generator's machine id, or a function that finds it (may be async).
   * Default: the lower 16 bits of the first private IPv4 address.
   */
  machineId?: number | (() => number | Promise<number>)
  /** Vetoes a machine id (e.g. one already taken); may be async. False means InvalidMachineIdError. */
  checkMachineId?: (machineId: number) => boolean | Promise<boolean>
  /** Bits of the per-tick sequence number, 1..30; default 8. */
  bitsSequence?: number
  /** Bits of the machine id, 1..30; default 16. */
  bitsMachineId?: number
  /** Length of one tick in milliseconds, >= 1; default 10. */
  timeUnit?: number
  /** Where time comes from; default the system clock. Inject a ManualClock in tests. */
  clock?: Clock
  /**
   * A buffer from `Sonyflake.sharedState()`: generators in several threads that
   * share it (with identical settings) behave as one generator.
   */
  sharedState?: SharedArrayBuffer
}

export interface Layout {
  readonly bitsTime: number
  readonly bitsSequence: number
  readonly bitsMachine: number
  readonly timeUnit: number
  readonly startTime: number
  /** floor(startTime / timeUnit): the start, in ticks since the epoch. */
  readonly startUnits: number
}

function bits(value: number | undefined, fallback: number, invalid: (v: unknown) => Error): number {
  if (value === undefined || value === 0) return fallback
  if (!Number.isInteger(value) || value < 0 || value > 30) throw invalid(value)
  return value
}

function toMs(value: Date | number): number {
  const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : Number.NaN
  if (!Number.isFinite(ms)) throw new InvalidStartTimeError(value)
  return ms
}

/** Validates everything that does not need the machine id. Throws the first problem found, in Go's order. */
export function resolveLayout(settings: SonyflakeSettings, clock: Clock): Layout {
  const bitsSequence = bits(settings.bitsSequence, DEFAULT_BITS_SEQUENCE, (v) => new InvalidBitsSequenceError(v))
  const bitsMachine = bits(settings.bitsMachineId, DEFAULT_BITS_MACHINE_ID, (v) => new InvalidBitsMachineIdError(v))

  const unit = settings.timeUnit
  if (unit !== undefined && unit !== 0 && !(Number.isFinite(unit) && unit >= 1)) throw new InvalidTimeUnitError(unit)
  const timeUnit = unit === undefined || unit === 0 ? DEFAULT_TIME_UNIT_MS : unit

  const startTime = settings.startTime === undefined ? DEFAULT_START_TIME : toMs(settings.startTime)
  const now = clock.now()
  if (startTime > now) throw new StartTimeAheadError(startTime, now)

  const bitsTime = 63 - bitsSequence - bitsMachine
  if (bitsTime < 32) throw new InvalidBitsTimeError(bitsTime)

  return { bitsTime, bitsSequence, bitsMachine, timeUnit, startTime, startUnits: Math.floor(startTime / timeUnit) }
}
