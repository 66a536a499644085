/**
 * Cancelling a G that an M has taken: its caller's AbortSignal reaches the running task (as the
 * task's own signal, m/signals.ts) and, with `killAfterMs`, ends the M that runs it (main/kill.ts).
 *
 * How a cancel travels. The caller's thread (the G's owner) sets the flag of the G's cancel word
 * (G_CANCEL), which a task computing synchronously reads from shared memory: a message never
 * arrives while its thread is busy. The reason, any value, cannot live in shared memory, so it goes
 * first, as a message on a BroadcastChannel every thread of the runtime listens on: postMessage
 * there queues it at every listener before it returns, so a task that sees the flag finds the
 * reason already queued and reads it synchronously (receiveMessageOnPort). A message and not a
 * routed one: the owner may be an M, which has no port to the M running its child; each M drops
 * the cancels of Gs it does not run. Cancels are rare, so the broadcast costs nothing that matters.
 *
 * Invariants:
 * - Only the owner writes a G's cancel word (the flag on abort, the generation when it frees the
 *   record), so the generation it reads is the running G's.
 * - A cancel's message is posted before its flag is set.
 * - A G no M has taken is never flagged: it is marked GS_CANCELLED instead and no M runs it.
 */

import { BroadcastChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { G_CANCEL, G_STATE, GS_CANCELLED, GS_QUEUED, gOff, type Layout } from './layout.js'
import type { Owner } from './owner.js'

/** Whether the G whose record is at word `go` is flagged cancelled (its cancel word's bit 0; the rest is the record's generation). */
export function cancelFlagged(I: Int32Array, go: number): boolean {
  return (Atomics.load(I, go + G_CANCEL) & 1) === 1
}

/** A cancel on the wire: the G, the generation of its record, the reason when it could be cloned. */
export interface CancelMsg {
  readonly gid: number
  readonly gen: number
  readonly reason?: unknown
  /** 1 when `reason` is the caller's (it could be structured-cloned). */
  readonly r: 0 | 1
}

export class Cancels {
  readonly #I: Int32Array
  readonly #l: Layout
  readonly #bc: BroadcastChannel
  /** Asks the main thread to end the M running G `gid` (generation `gen`) if it still runs there. */
  readonly #kill: (gid: number, gen: number) => void
  /** The channel's name, the same on every thread of the runtime. */
  readonly channel: string
  /** What this thread does with a cancel (an M: m/signals.ts); the main thread drops them. */
  onCancel: (msg: CancelMsg) => void = () => {}

  constructor(I: Int32Array, l: Layout, channel: string, kill: (gid: number, gen: number) => void) {
    this.#I = I
    this.#l = l
    this.channel = channel
    this.#kill = kill
    this.#bc = new BroadcastChannel(channel)
    this.#bc.onmessage = (e: unknown): void => this.onCancel((e as { data: CancelMsg }).data)
    // The channel never keeps the process alive (the threads are unref'd too).
    ;(this.#bc as unknown as { unref(): void }).unref()
  }

  /**
   * Wires `signal` to G `gid` of `owner` (this thread's): on abort the caller's promise rejects
   * at once; a G still queued is marked cancelled so no M runs it; a G an M has taken is told
   * (the flag, then its task's signal aborts), and with `killAfterMs` its M is ended if the G
   * still runs that long after.
   */
  watch(signal: AbortSignal, gid: number, owner: Owner, killAfterMs: number | undefined): void {
    const I = this.#I
    const go = gOff(this.#l, gid)
    let timer: NodeJS.Timeout | undefined
    const onAbort = (): void => {
      if (Atomics.compareExchange(I, go + G_STATE, GS_QUEUED, GS_CANCELLED) !== GS_QUEUED) {
        const w = I[go + G_CANCEL]!
        const gen = w >>> 1
        this.#post(gid, gen, signal.reason)
        Atomics.store(I, go + G_CANCEL, w | 1)
        if (killAfterMs !== undefined) {
          timer = setTimeout(() => this.#kill(gid, gen), killAfterMs)
          timer.unref()
        }
      }
      owner.detach(gid, signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    // Neither the listener nor the kill timer may outlive the G: dropped when it settles either way.
    owner.onSettle(gid, () => {
      signal.removeEventListener('abort', onAbort)
      if (timer !== undefined) clearTimeout(timer)
    })
  }

  #post(gid: number, gen: number, reason: unknown): void {
    try {
      this.#bc.postMessage({ gid, gen, reason, r: 1 } satisfies CancelMsg)
    } catch {
      // A reason that cannot be cloned (a function, say): the task gets an AbortError instead.
      this.#bc.postMessage({ gid, gen, r: 0 } satisfies CancelMsg)
    }
  }

  /** Handles every cancel already queued at this thread, now (a task saw a flag before its event loop ran). */
  drain(): void {
    for (;;) {
      // Node reads a BroadcastChannel like a port (its typings say MessagePort only).
      const m = receiveMessageOnPort(this.#bc as unknown as MessagePort) as { message: CancelMsg } | undefined
      if (m === undefined) return
      this.onCancel(m.message)
    }
  }

  close(): void {
    this.#bc.close()
  }
}
