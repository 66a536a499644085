/**
 * The caller's side of an actor: a comlink Endpoint that `wrap` builds the typed Remote over. It
 * sends each call straight down a call port to the actor's M (no hop through the main thread), and
 * adds what comlink leaves out: comlink waits forever for a reply on a port whose other side died,
 * so this endpoint keeps the ids of the calls it sent, and when the port closes it answers each of
 * them itself with a reply that rejects it (ActorDiedError, or ActorStoppedError when the actor
 * said it stopped). The next call then asks for a port again (`connect`): to the restarted
 * instance of a supervised actor, or an answer saying it is gone for good.
 *
 * Invariants:
 * - Every call id in `#pending` gets exactly one reply delivered to comlink: the actor's, or one
 *   made here when its port closed or no port could be had. An id leaves `#pending` when its reply
 *   is delivered.
 * - The call port is ref'd exactly while a call is pending: an idle actor does not keep the
 *   process alive, an awaited call does.
 * - Calls made while no port is attached wait in `#buffered`, in order, and leave it in order
 *   (flushed down the new port, or answered with the reason there is none).
 * - `#gone`, once set, is final: the actor will never answer again (stopped, died unsupervised,
 *   or its runtime closed).
 */

import type { MessagePort } from 'node:worker_threads'
import { transferHandlers, type TransferHandler } from 'comlink'
import { ActorDiedError, ActorStoppedError } from '../errors.js'
import { InternalError } from '../../errors.js'
import { GONE_HANDLER, goneReply, isNotice, type ActorGone, type ActorInfo, type Connection } from './actor-protocol.js'

// The reply made by goneReply rejects the call with a typed error: comlink deserializes a HANDLER
// reply through the handler of that name, and a throw there rejects the call's promise.
if (!transferHandlers.has(GONE_HANDLER)) {
  const h: TransferHandler<never, ActorGone> = {
    canHandle: (_v: unknown): _v is never => false,
    serialize: () => {
      throw new InternalError('actor gone handler serializes nothing')
    },
    deserialize: (g: ActorGone): never => {
      throw g.stopped ? new ActorStoppedError(g.actor) : new ActorDiedError(g.actor, g.m, g.reason)
    },
  }
  transferHandlers.set(GONE_HANDLER, h as TransferHandler<unknown, unknown>)
}

type Listener = ((ev: { data: unknown }) => void) | { handleEvent(ev: { data: unknown }): void }
type Transfer = readonly (ArrayBuffer | MessagePort)[] | undefined

export class ActorEndpoint {
  readonly info: ActorInfo
  readonly #connect: (dead: number) => Promise<Connection>
  #port: MessagePort | undefined
  /** The M of the instance behind #port (for ActorDiedError). */
  #m = 0
  /** The instance behind #port; once it closed unannounced, the one we saw die (0: none). */
  #inst = 0
  #died = 0
  #connecting = false
  /** The actor said it stopped on #port: its close is a stop, not a death. */
  #stopSeen = false
  #gone: ActorGone | undefined
  #buffered: [data: { id?: unknown }, transfer: Transfer][] = []
  readonly #pending = new Set<string>()
  readonly #listeners: Listener[] = []
  readonly #onMessageFn = (data: unknown): void => this.#onMessage(data)

  constructor(info: ActorInfo, connect: (dead: number) => Promise<Connection>) {
    this.info = info
    this.#connect = connect
  }

  // ---- comlink's Endpoint ----

  postMessage(data: { id?: unknown }, transfer?: Transfer): void {
    const id = data.id
    if (typeof id === 'string') {
      this.#pending.add(id)
      if (this.#pending.size === 1) this.#port?.ref()
    }
    if (this.#port !== undefined) {
      this.#port.postMessage(data, transfer as never)
      return
    }
    if (this.#gone !== undefined) {
      const gone = this.#gone
      if (typeof id === 'string') queueMicrotask(() => this.#answer(id, gone))
      return
    }
    this.#buffered.push([data, transfer])
    if (!this.#connecting) this.#reconnect()
  }

  addEventListener(_type: string, l: Listener): void {
    this.#listeners.push(l)
  }

  removeEventListener(_type: string, l: Listener): void {
    const i = this.#listeners.indexOf(l)
    if (i >= 0) this.#listeners.splice(i, 1)
  }

  // ---- ports ----

  #reconnect(): void {
    this.#connecting = true
    this.#connect(this.#died).then(
      (conn) => {
        this.#connecting = false
        if (conn.gone !== undefined) this.#end(conn.gone)
        else if (this.#gone !== undefined) conn.port.close() // closed while connecting
        else this.#attach(conn.port, conn.m, conn.inst)
      },
      (e: unknown) => {
        this.#connecting = false
        this.#end({ stopped: false, actor: this.info.label, m: 0, reason: `no port to it: ${e instanceof Error ? e.message : String(e)}` })
      },
    )
  }

  #attach(port: MessagePort, m: number, inst: number): void {
    this.#port = port
    this.#m = m
    this.#inst = inst
    this.#died = 0
    this.#stopSeen = false
    port.on('message', this.#onMessageFn)
    port.on('close', () => this.#onClose(port))
    const buffered = this.#buffered
    this.#buffered = []
    for (const [data, transfer] of buffered) port.postMessage(data, transfer as never)
    if (this.#pending.size === 0) port.unref()
  }

  #onMessage(data: unknown): void {
    if (isNotice(data)) {
      this.#stopSeen = true
      return
    }
    const id = (data as { id?: unknown } | null)?.id
    if (typeof id === 'string' && this.#pending.delete(id) && this.#pending.size === 0) this.#port?.unref()
    this.#deliver(data)
  }

  #onClose(port: MessagePort): void {
    if (port !== this.#port) return
    this.#port = undefined
    const gone: ActorGone = this.#stopSeen ? { stopped: true, actor: this.info.label } : { stopped: false, actor: this.info.label, m: this.#m, reason: 'its M exited' }
    // Every call sent down that port: answered here, since nothing will come back on it.
    const ids = [...this.#pending]
    for (const [data] of this.#buffered) if (typeof data.id === 'string') ids.splice(ids.indexOf(data.id), 1)
    for (const id of ids) this.#answer(id, gone)
    if (!this.#stopSeen) this.#died = this.#inst // the next connect tells the host, which may not know yet
    if (this.#stopSeen) this.#end(gone)
    else if (this.#buffered.length > 0 && !this.#connecting) this.#reconnect()
  }

  /** The actor will never answer: answers every pending call with `gone`, and every later one. */
  #end(gone: ActorGone): void {
    this.#gone ??= gone
    this.#buffered = []
    for (const id of [...this.#pending]) this.#answer(id, this.#gone)
  }

  /** Closes this endpoint for good (its runtime closed): pending and later calls reject with `gone`. */
  close(gone: ActorGone): void {
    const port = this.#port
    this.#port = undefined
    this.#end(gone)
    port?.close()
  }

  #answer(id: string, gone: ActorGone): void {
    if (!this.#pending.delete(id)) return
    this.#deliver(goneReply(id, gone))
  }

  #deliver(data: unknown): void {
    const ev = { data }
    for (const l of this.#listeners) {
      if (typeof l === 'function') l(ev)
      else l.handleEvent(ev)
    }
  }
}
