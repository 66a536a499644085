// Tasks of bench/payload.bench.ts. Each M imports this module once.
import { go, task } from '../../src/scheduler/index.js'

export const num = task(import.meta.url, function num(n: number): number {
  return n
})

/** The length of a string argument: the result is a number, so only the argument is over the record. */
export const len = task(import.meta.url, function len(s: string): number {
  return s.length
})

/** The string itself: argument and result both over the record. */
export const echoStr = task(import.meta.url, function echoStr(s: string): string {
  return s
})

/** One child with the same argument, from inside a task: the payload crosses M -> M. */
export const viaChild = task(import.meta.url, async function viaChild(s: string | number): Promise<unknown> {
  return typeof s === 'number' ? go(num, s) : go(echoStr, s)
})

export const byteLen = task(import.meta.url, function byteLen(u8: Uint8Array): number {
  return u8.byteLength
})

export const makeBytes = task(import.meta.url, function makeBytes(n: number): Uint8Array {
  return new Uint8Array(n)
})

/** A shared view and an index, flat: the registry's K_SHARED form in the record. */
export const viewAt = task(import.meta.url, function viewAt(view: Int32Array, i: number): number {
  return Atomics.add(view, i, 1)
})

/** The same inside an object with a name, as programs pass them: K_ARENA_SHARED (by message before). */
export const viewAtBox = task(import.meta.url, function viewAtBox(box: { view: Int32Array; i: number; name: string }): number {
  return Atomics.add(box.view, box.i, 1)
})
