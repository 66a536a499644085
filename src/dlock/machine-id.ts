/**
 * Sonyflake machine ids claimed in a Redis set, so two generators never share one.
 *
 * Invariants:
 * - SADD is atomic: of any number of processes claiming the same id, exactly
 *   one sees 1 (free, now claimed); the rest see 0 (taken) and are refused.
 * - A claim lasts until released (SREM); a crashed process's id stays taken.
 *   That errs on the safe side: a leaked id wastes one of 65536, a reused live
 *   one would produce duplicate IDs.
 */
import { DEFAULT_COMMAND_TIMEOUT_MS, type RedisClientLike, bounded } from './client.js'
import { InvalidLockOptionError } from './errors.js'
import { checkKey, checkMs, checkObject } from './validate.js'

export const DEFAULT_MACHINE_ID_SET = 'gort:sonyflake:machine-ids'

export interface MachineIdSetOptions {
  /** The Redis set of claimed ids (default `gort:sonyflake:machine-ids`). */
  key?: string
  /** Bound on each Redis round trip, ms (default 2000). */
  commandTimeout?: number
}

/** A `checkMachineId` for Sonyflake: claims the id in a Redis set; false if it was taken. */
/** Validates the options shared by both functions. */
function setOptions(options: unknown): { key: string; timeout: number } {
  const bag = checkObject('options', options, true) ?? {}
  return {
    key: checkKey(bag['key'] ?? DEFAULT_MACHINE_ID_SET),
    timeout: checkMs('commandTimeout', bag['commandTimeout'] ?? DEFAULT_COMMAND_TIMEOUT_MS, 1),
  }
}

function checkMachineId(machineId: unknown): number {
  if (typeof machineId !== 'number' || !Number.isSafeInteger(machineId) || machineId < 0) {
    throw new InvalidLockOptionError('machine id', machineId, 'a non-negative integer')
  }
  return machineId
}

export function redisCheckMachineId(
  client: RedisClientLike,
  options: MachineIdSetOptions = {},
): (machineId: number) => Promise<boolean> {
  const { key, timeout } = setOptions(options)
  return async (machineId) => {
    checkMachineId(machineId)
    return Number(await bounded(client, `claim machine id ${machineId}`, timeout, undefined, (c) => c.sAdd(key, String(machineId)))) === 1
  }
}

/** Gives a claimed machine id back; true if it was claimed. */
export async function releaseMachineId(
  client: RedisClientLike,
  machineId: number,
  options: MachineIdSetOptions = {},
): Promise<boolean> {
  const { key, timeout } = setOptions(options)
  checkMachineId(machineId)
  return Number(await bounded(client, `release machine id ${machineId}`, timeout, undefined, (c) => c.sRem(key, String(machineId)))) === 1
}
