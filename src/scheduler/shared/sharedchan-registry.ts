/**
 * Which SharedArrayBuffer a channel id names, on this thread: what lets a SharedChan be sent over
 * another SharedChan (Go's `chan chan T`) between any threads of the process, Runtime or not.
 *
 * A slot cannot hold a SharedArrayBuffer, only numbers, so a SharedChan crosses as its id (two
 * random words in its header). The receiving thread turns the id back into memory:
 * 1. its own handles (a thread keeps each channel's handle weakly, by id), else
 * 2. buffers other threads announced: the sender posts {id, buffer} on a BroadcastChannel that
 *    every thread using SharedChan listens on, before the value is in the slot. postMessage on a
 *    BroadcastChannel queues the message at every listener before it returns, so the receiver
 *    finds it by reading its queue synchronously (receiveMessageOnPort), else
 * 3. (a thread that started listening after the announcement) it asks, and polls its queue for
 *    the answer of any thread that holds the buffer. This is the only wait, and it needs the
 *    holder's event loop to turn; it gives up after RESOLVE_MS with an error.
 *
 * Invariants:
 * - H_INFLIGHT counts copies of the channel written into slots and not yet read back (or taken
 *   back by a cancelled or closed sender). While it is above 0, the sending thread holds the
 *   buffer (`held`), so some thread can always answer an ask.
 * - A thread drops a heard or held buffer only on a release message, and only if the buffer's
 *   H_INFLIGHT is 0 when it handles it (a later send may have raised it again).
 * - The BroadcastChannel never keeps a thread alive (unref), except while this thread polls.
 */

import { BroadcastChannel, isMainThread as isMain, receiveMessageOnPort } from 'node:worker_threads'
import { GortError } from '../../errors.js'
import { H_INFLIGHT } from './sharedchan-layout.js'

const NAME = 'gort:sharedchan'
const RESOLVE_MS = 5000

type Msg =
  | { readonly t: 'have'; readonly key: number; readonly buf: SharedArrayBuffer }
  | { readonly t: 'want'; readonly key: number }
  | { readonly t: 'release'; readonly key: number }

/** A channel id that no live thread could turn into memory in time. */
export class SharedChanLostError extends GortError {
  constructor(key: number) {
    super('ERR_SHAREDCHAN_LOST', `sharedchan: no thread answered for channel ${key.toString(16)} (did the sending thread exit?)`)
  }
}

/** An id's two header words as one map key (the high word is kept to 21 bits). */
export const keyOf = (lo: number, hi: number): number => hi * 2 ** 32 + (lo >>> 0)

const handles = new Map<number, WeakRef<{ readonly buffer: SharedArrayBuffer }>>()
const collected = new FinalizationRegistry<number>((key) => {
  if (handles.get(key)?.deref() === undefined) handles.delete(key)
})
const heard = new Map<number, SharedArrayBuffer>()
const held = new Map<number, SharedArrayBuffer>()
let bc: BroadcastChannel | null = null

function channel(): BroadcastChannel {
  if (bc === null) {
    bc = new BroadcastChannel(NAME)
    bc.onmessage = (e: unknown): void => hear((e as { data: Msg }).data)
    bc.unref()
  }
  return bc
}

function bufferFor(key: number): SharedArrayBuffer | undefined {
  return handles.get(key)?.deref()?.buffer ?? held.get(key) ?? heard.get(key)
}

function hear(m: Msg): void {
  if (m.t === 'have') {
    if (bufferFor(m.key) === undefined) heard.set(m.key, m.buf)
  } else if (m.t === 'want') {
    const buf = bufferFor(m.key)
    if (buf !== undefined) channel().postMessage({ t: 'have', key: m.key, buf })
  } else {
    for (const map of [heard, held]) {
      const buf = map.get(m.key)
      if (buf !== undefined && Atomics.load(new Int32Array(buf, 0, H_INFLIGHT + 1), H_INFLIGHT) === 0) map.delete(m.key)
    }
  }
}

/** A handle made on this thread (new SharedChan, SharedChan.from): found by id from now on. */
export function remember(key: number, handle: { readonly buffer: SharedArrayBuffer }): void {
  channel()
  handles.set(key, new WeakRef(handle))
  collected.register(handle, key)
}

/** This thread's handle for `key`, if it has a live one. */
export function handleOf<T>(key: number): T | undefined {
  return handles.get(key)?.deref() as T | undefined
}

/** A copy of the channel goes into a slot (called under the outer channel's lock). */
export function sent(I: Int32Array, key: number, buf: SharedArrayBuffer): void {
  Atomics.add(I, H_INFLIGHT, 1)
  if (!held.has(key)) {
    held.set(key, buf)
    channel().postMessage({ t: 'have', key, buf })
  }
}

/** A copy left a slot (read by a receiver, or taken back): the last one lets every thread drop it. */
export function unsent(I: Int32Array, key: number): void {
  if (Atomics.sub(I, H_INFLIGHT, 1) === 1) {
    held.delete(key)
    heard.delete(key)
    channel().postMessage({ t: 'release', key })
  }
}

/** The buffer named by `key`, found synchronously (see the header). */
export function resolve(key: number): SharedArrayBuffer {
  const port = channel()
  let buf = bufferFor(key)
  if (buf !== undefined) return buf
  const drain = (): SharedArrayBuffer | undefined => {
    for (let m = receiveMessageOnPort(port as never); m !== undefined; m = receiveMessageOnPort(port as never)) hear((m as { message: Msg }).message)
    return bufferFor(key)
  }
  if ((buf = drain()) !== undefined) return buf
  port.postMessage({ t: 'want', key })
  const until = Date.now() + RESOLVE_MS
  const nap = new Int32Array(new SharedArrayBuffer(4))
  while (Date.now() < until) {
    if ((buf = drain()) !== undefined) return buf
    // Off the main thread, sleep a little between polls; the main thread only spins.
    if (!isMain) Atomics.wait(nap, 0, 0, 0.2)
  }
  throw new SharedChanLostError(key)
}

/**
 * This thread found `key` by asking (resolve) and keeps its own handle: the other threads may drop
 * the copy the answer left them, unless the channel is in flight (see hear's release).
 */
export function forget(key: number): void {
  heard.delete(key)
  channel().postMessage({ t: 'release', key })
}
