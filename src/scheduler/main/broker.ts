/**
 * The main thread's side of payloads too large for a G record: it keeps large arguments until the
 * M that starts the G asks for them, and routes large results to the G's owner.
 *
 * Invariants: each stashed payload is delivered once (to the single M that claimed its G) and
 * then dropped; a fetch that arrives before its stash (an M spawned the G and another M took it
 * first) waits for it.
 */

import { resultFromRemote, type RemotePayload } from '../shared/codec.js'
import { ownerOf, type Layout } from '../shared/layout.js'
import type { FromM, ToM } from '../shared/protocol.js'

export class PayloadBroker {
  readonly #l: Layout
  readonly #post: (m: number, msg: ToM) => void
  readonly #stash = new Map<number, RemotePayload>()
  readonly #fetchWait = new Map<number, number>()

  constructor(l: Layout, post: (m: number, msg: ToM) => void) {
    this.#l = l
    this.#post = post
  }

  /** Large arguments of a G the main thread spawned. */
  stash(gid: number, payload: RemotePayload): void {
    this.#stash.set(gid, payload)
  }

  /** Handles an M's message; returns a result for a G of the main thread to settle. */
  onMessage(msg: FromM): { gid: number; value: unknown; isErr: boolean } | undefined {
    if (msg.t === 'stash') {
      const waiter = this.#fetchWait.get(msg.gid)
      if (waiter !== undefined) {
        this.#fetchWait.delete(msg.gid)
        this.#post(waiter, { t: 'payload', gid: msg.gid, payload: msg.payload })
      } else this.#stash.set(msg.gid, msg.payload)
    } else if (msg.t === 'fetch') {
      const payload = this.#stash.get(msg.gid)
      if (payload !== undefined) {
        this.#stash.delete(msg.gid)
        this.#post(msg.m, { t: 'payload', gid: msg.gid, payload })
      } else this.#fetchWait.set(msg.gid, msg.m)
    } else if (msg.t === 'result') {
      const owner = ownerOf(this.#l, msg.gid)
      if (owner !== 0) {
        this.#post(owner, msg)
        return undefined
      }
      return { gid: msg.gid, ...resultFromRemote(msg.payload, msg.err) }
    }
    return undefined
  }
}
