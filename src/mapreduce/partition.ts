/**
 * Which reducer gets a key.
 *
 * - Default: 32-bit FNV-1a over the UTF-8 bytes of the key's text, `& 0x7fffffff`, mod R: the
 *   6.5840 lab's ihash, so a number key and the string with the same text go to the same reducer
 *   (their lines are then side by side in one part file).
 * - 'hadoop': Hadoop's default HashPartitioner on a Text key, `(hashCode & Integer.MAX_VALUE) %
 *   R`, where Text's hashCode is WritableComparator.hashBytes over the UTF-8 bytes: h = 1, then
 *   h = 31 * h + b for each byte b taken as a signed Java byte (-128..127), in 32-bit two's
 *   complement arithmetic. A key lands in the part file a Hadoop job with R reducers would put it.
 * - A job's own partitioner is checked on every call: an integer in [0, R) or PartitionError.
 *
 *
 * A job with sampled cuts (job.sample) defaults to `rangePartition`: partition i holds the keys k
 * with cuts[i-1] <= k < cuts[i] in key order (keys.ts), so part files in name order are one
 * sorted sequence (Hadoop's TotalOrderPartitioner; a key equal to a cut goes above it).
 */

import { PartitionError } from './errors.js'
import type { Scalar } from './job.js'
import { compareKeys, textOf } from './keys.js'

const enc = new TextEncoder()

/**
 * FNV-1a's 32-bit offset basis (as an int32) and prime: the default partitioner's hash, and the
 * map side's tables hash keys with it too (spill.ts, bytetable.ts), so that a key's partition
 * comes from the hash its table already holds.
 */
export const FNV_OFFSET = 0x811c9dc5 | 0
export const FNV_PRIME = 0x01000193

/** FNV-1a (32 bits) of the UTF-8 bytes of `s`, as a non-negative int31. */
export function fnv1a(s: string): number {
  let h = FNV_OFFSET
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME)
    } else {
      // Not ASCII: hash the real UTF-8 bytes of the rest (rare in the keys this is tuned for).
      for (const b of enc.encode(s.slice(i))) h = Math.imul(h ^ b, FNV_PRIME)
      break
    }
  }
  return h & 0x7fffffff
}

/** Java's `Text.hashCode()` of `s` (WritableComparator.hashBytes of its UTF-8 bytes): a signed int32. */
export function textHashCode(s: string): number {
  let h = 1
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      h = (Math.imul(h, 31) + c) | 0
    } else {
      const rest = enc.encode(s.slice(i))
      return javaHashBytes(rest, 0, rest.length, h)
    }
  }
  return h
}

/**
 * Java's `WritableComparator.hashBytes` of `b[off, off + len)`, going on from `h` (1 to start):
 * textHashCode of a key whose UTF-8 those bytes are. (b << 24) >> 24 is a byte as Java's signed
 * `byte`.
 */
export function javaHashBytes(b: Uint8Array, off: number, len: number, h = 1): number {
  for (let i = off; i < off + len; i++) h = (Math.imul(h, 31) + ((b[i]! << 24) >> 24)) | 0
  return h
}

/**
 * The partitioners of a streaming job, whose keys are byte strings (one char per byte,
 * streaming/pipe.ts): the default one hashes what the buffer stores (their UTF-8, as for any key),
 * consistently across tasks; Hadoop's hashes the bytes themselves, as Hadoop does, and needs the
 * key's text (the buffer's bytes are not those bytes).
 */
export function streamPartitioners(reducers: number, kind: PartitionKind): { partition: Partitioner; bytePartition: BytePartitioner | undefined } {
  if (kind !== 'hadoop' || reducers === 1) return { partition: partitioner(reducers, undefined, kind), bytePartition: bytePartitioner(reducers, undefined, kind) }
  return {
    partition: (key) => {
      const s = textOf(key)
      let h = 1
      for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + ((s.charCodeAt(i) << 24) >> 24)) | 0
      return (h & 0x7fffffff) % reducers
    },
    bytePartition: undefined,
  }
}

/** The partition Hadoop's HashPartitioner gives a Text key `s` among `reducers`. */
export function hadoopPartition(s: string, reducers: number): number {
  return (textHashCode(s) & 0x7fffffff) % reducers
}

/** Which built-in partitioner: the default (FNV-1a) or Hadoop's (Text.hashCode). */
export type PartitionKind = 'default' | 'hadoop'

export type Partitioner = (key: Scalar) => number

/**
 * A partitioner of a key given as its UTF-8 bytes `b[off, off + len)` and their FNV-1a hash `fnv`
 * (a signed int32: the byte table's, bytetable.ts), for a well-formed UTF-8 key: the same
 * partition `partitioner` gives the key's text.
 */
export type BytePartitioner = (fnv: number, b: Uint8Array, off: number, len: number) => number

/**
 * `partitioner(...)` over keys as bytes, or undefined when it needs the key's text: the job's
 * own partitioner, or sampled cuts.
 */
export function bytePartitioner(
  reducers: number,
  custom: unknown,
  kind: PartitionKind = 'default',
  cuts?: readonly Scalar[],
): BytePartitioner | undefined {
  if (kind === 'hadoop') return reducers === 1 ? () => 0 : (_h, b, off, len) => (javaHashBytes(b, off, len) & 0x7fffffff) % reducers
  if (custom !== undefined || cuts !== undefined) return undefined
  return reducers === 1 ? () => 0 : (h) => (h & 0x7fffffff) % reducers
}

/**
 * The range partition of `key`: how many cuts are at or below it (0 to cuts.length), by binary
 * search. `cuts` must be sorted in key order (`sample` sorts them); R - 1 cuts make R partitions.
 */
export function rangePartition(key: Scalar, cuts: readonly Scalar[]): number {
  let lo = 0
  let hi = cuts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(cuts[mid]!, key) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The partitioner of a job with `reducers` reducers (at least 1). `kind` 'hadoop' replaces the
 * job's own partitioner, as Hadoop's `-partitioner` option does; `cuts` when the job was sampled.
 */
export function partitioner(
  reducers: number,
  custom: ((key: never, reducers: number, cuts: readonly never[]) => number) | undefined,
  kind: PartitionKind = 'default',
  cuts?: readonly Scalar[],
): Partitioner {
  if (kind === 'hadoop') return reducers === 1 ? () => 0 : (key) => hadoopPartition(textOf(key), reducers)
  if (custom === undefined) {
    if (cuts !== undefined) return (key) => rangePartition(key, cuts)
    return reducers === 1 ? () => 0 : (key) => fnv1a(textOf(key)) % reducers
  }
  const fn = custom as (key: Scalar, reducers: number, cuts: readonly Scalar[]) => number
  const c = cuts ?? []
  return (key) => {
    const p = fn(key, reducers, c)
    if (!Number.isInteger(p) || p < 0 || p >= reducers) throw new PartitionError(textOf(key), p, reducers)
    return p
  }
}
