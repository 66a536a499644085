/**
 * The Lua scripts behind the lock, and EVALSHA with a fallback to EVAL.
 *
 * Invariants (each script runs atomically in Redis):
 * - ACQUIRE: the lock key is set to the token (NX, PX ttl) and the fence counter
 *   is incremented in the same script, so a fence is never issued without the
 *   lock, and fences are strictly increasing in the order locks were granted.
 *   The fence key has no TTL: it must outlive every lock to stay increasing.
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

/** KEYS: lock, fence. ARGV: token, ttl ms. Returns the fence, or nil when the lock is taken. */
export const ACQUIRE = script(`
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
