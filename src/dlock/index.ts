/**
 * gort/dlock: a Redis lock with token-checked release/extend and fencing tokens,
 * and a Redis-backed machine-id check for gort/sonyflake. Bring a node-redis client.
 */
export { Lock, RedisLock, fenceKey } from './lock.js'
export type { AcquireOptions, FenceMode, RedisLockOptions, RetryOptions } from './lock.js'
export { DEFAULT_MACHINE_ID_SET, redisCheckMachineId, releaseMachineId } from './machine-id.js'
export type { MachineIdSetOptions } from './machine-id.js'
export { DEFAULT_COMMAND_TIMEOUT_MS } from './client.js'
export type { RedisClientLike, ScriptCall } from './client.js'
export { InvalidLockKeyError, InvalidLockOptionError, LockLostError, LockNotHeldError, RedisConnectionError } from './errors.js'
