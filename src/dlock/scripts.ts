/**
 * The Lua scripts behind the lock, and EVALSHA with a fallback to EVAL.
 *
 * Invariants (each script runs atomically in Redis):
 * - ACQUIRE_*: the lock key is set to the token (NX, PX ttl) and the fence
 *   counter is moved up in the same script, so a fence is never issued without
 *   the lock, and fences are strictly increasing in the order locks were granted
 *   while the fence key lives. The fence key has no TTL: it must outlive every
 *   lock. ACQUIRE_TIME also survives losing it (see there).
 * - RELEASE / EXTEND: act only when the key still holds the caller's token
 *   (compare-and-delete, compare-and-pexpire). A holder whose TTL lapsed thus
 *   cannot delete or prolong the next holder's lock.
 */
import { createHash } from 'node:crypto'
import type { RedisClientLike, ScriptCall } from './client.js'

export interface Script {
  readonly source: string
  readonly sha1: string
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/**
 * KEYS: lock, fence. ARGV: token, ttl ms. Returns the fence, or nil when the lock is taken.
 * The fence is max(counter + 1, Redis's TIME in microseconds), stored back as the
 * counter: it keeps increasing when a restart without persistence loses the
 * counter, provided Redis's clock does not go back by more than the outage, and
 * a clock that goes back while Redis runs cannot take it back (the counter
 * still counts up). Microseconds since 1970 stay below 2^53 until about 2255, so
 * the fence is an exact JS number. TIME before a write is allowed: scripts
 * replicate their effects (always on Redis 7, the default since Redis 5).
 */
export const ACQUIRE_TIME = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  local t = redis.call('TIME')
  local now = t[1] .. string.format('%06d', tonumber(t[2]))
  if fence < tonumber(now) then
    redis.call('SET', KEYS[2], now)
    return tonumber(now)
  end
  return fence
end
return false
`)

/** As ACQUIRE_TIME with the counter alone: 1, 2, 3, ... Increasing only while the fence key survives. */
export const ACQUIRE_COUNTER = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
`)

/** KEYS: lock. ARGV: token. Returns 1 if deleted, 0 if the token was not there. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

/** KEYS: lock. ARGV: token, ttl ms. Returns 1 if the TTL was set, 0 if the token was not there. */
export const EXTEND = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

/** EVALSHA, and EVAL when the server's script cache does not have it (NOSCRIPT). */
export async function runScript(client: RedisClientLike, s: Script, call: ScriptCall): Promise<unknown> {
  try {
    return await client.evalSha(s.sha1, call)
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(s.source, call)
    throw err
  }
}
