/**
 * Up-front checks of what callers pass to dlock, so a bad key or option fails
 * with a gort error naming it before any Redis call (node-redis would otherwise
 * report `"arguments[3]" must be of type "string | Buffer"`, or worse, send it).
 */
import { InvalidLockKeyError, InvalidLockOptionError } from './errors.js'

/** A Redis key: a non-empty string. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidLockKeyError(key)
  return key
}

/** A whole number of milliseconds, at least `min`. */
export function checkMs(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidLockOptionError(option, value, `an integer number of ms >= ${min}`)
  }
  return value
}

/** An options bag: an object, or undefined when `optional`. */
export function checkObject(option: string, value: unknown, optional: boolean): Record<string, unknown> | undefined {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidLockOptionError(option, value, optional ? 'an object or undefined' : 'an object')
  }
  return value as Record<string, unknown>
}

/** An AbortSignal, or undefined. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value
  throw new InvalidLockOptionError('signal', value, 'an AbortSignal or undefined')
}
