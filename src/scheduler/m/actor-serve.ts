/**
 * The actor's side, on its M: one instance, one mailbox, any number of call ports.
 *
 * comlink's `expose` serves each message as it arrives, so two calls to an async method would
 * interleave at their awaits. gort's mailbox sits between the ports and comlink instead: a message
 * from any port joins one FIFO, and the next is handed to comlink only once comlink has posted the
 * reply to the one before (every comlink request gets exactly one reply, with the request's id,
 * after the method's promise settled). So calls run one at a time, in the order they reached this
 * thread, which keeps each caller's own order (a port is FIFO).
 *
 * The G that serves stays pending until the actor stops, as a task awaiting anything does: it
 * holds no P while idle (the M runs other Gs and parks with Atomics.waitAsync, since a live task
 * is pinned here), and a message that arrives while the M is parked marks it as running user code
 * first (MPark.resumed), as the M's own result messages do, unless the call before it replied at
 * once (resume-hint.ts: the mark costs a turn of the M's loop, more than a short call).
 *
 * Invariants:
 * - At most one message is with comlink at a time (`#current` holds its id).
 * - A stop lets the call in progress finish; queued calls are answered with ActorStoppedError by
 *   this side, then every call port gets the 'stopped' notice and closes, and the G returns.
 */

import { expose } from 'comlink'
import { parentPort, workerData, MessageChannel, type MessagePort } from 'node:worker_threads'
import { InternalError } from '../../errors.js'
import { resolveActorClass } from '../actor.js'
import { goneReply, type ActorCtl, type ActorNotice, type ActorReady } from '../shared/actor-protocol.js'
import { currentMPark } from '../shared/park.js'
import { ResumeHint } from '../shared/resume-hint.js'

type Listener = (ev: { data: unknown }) => void

/** One call port, as the Endpoint comlink's `expose` serves. */
class CallPort {
  readonly port: MessagePort
  readonly #box: Mailbox
  listener: Listener | undefined

  constructor(port: MessagePort, box: Mailbox) {
    this.port = port
    this.#box = box
    port.on('message', (data: unknown) => box.push(this, data))
    port.on('close', () => box.detach(this))
  }

  postMessage(data: { id?: unknown }, transfer?: readonly (ArrayBuffer | MessagePort)[]): void {
    this.port.postMessage(data, transfer as never)
    this.#box.replied(data.id)
  }

  addEventListener(_type: string, l: Listener): void {
    this.listener = l
  }

  removeEventListener(_type: string, l: Listener): void {
    // comlink's RELEASE: the caller released this Remote; its port serves nothing more.
    if (this.listener === l) this.listener = undefined
    this.port.close()
  }
}

class Mailbox {
  readonly #label: string
  readonly #instance: object
  readonly #ports = new Set<CallPort>()
  #q: [CallPort, unknown][] = []
  #head = 0
  /** The id of the call with comlink now (its reply not posted yet), or undefined. */
  #current: unknown = undefined
  #stopping = false
  readonly #done: () => void
  /** Whether a call marks the M resumed: not while calls reply at once (resume-hint.ts). */
  readonly #hint = new ResumeHint()

  constructor(label: string, instance: object, done: () => void) {
    this.#label = label
    this.#instance = instance
    this.#done = done
  }

  attach(port: MessagePort): void {
    const cp = new CallPort(port, this)
    this.#ports.add(cp)
    expose(this.#instance, cp as never)
    port.unref() // the actor's G keeps this M busy enough; ports must not hold a closing M
  }

  detach(cp: CallPort): void {
    this.#ports.delete(cp)
  }

  push(cp: CallPort, data: unknown): void {
    if (this.#stopping) {
      this.#refuse(cp, data)
      return
    }
    this.#q.push([cp, data])
    if (this.#current === undefined) this.#next()
  }

  replied(id: unknown): void {
    if (id === undefined || id !== this.#current) return
    this.#current = undefined
    this.#hint.end()
    if (this.#stopping) this.#finish()
    else this.#next()
  }

  #next(): void {
    while (this.#current === undefined && this.#head < this.#q.length) {
      const [cp, data] = this.#q[this.#head]!
      this.#q[this.#head++] = undefined as never
      if (this.#head === this.#q.length) {
        this.#q = []
        this.#head = 0
      }
      const l = cp.listener
      if (l === undefined) continue // released
      const id = (data as { id?: unknown } | null)?.id
      this.#current = id
      // A message wakes this M's event loop: user code runs now, the M is not parked. Marked so
      // unless the last call replied at once (resume-hint.ts).
      if (currentMPark !== null && this.#hint.begin()) currentMPark.resumed()
      l({ data })
    }
  }

  stop(): void {
    if (this.#stopping) return
    this.#stopping = true
    if (this.#current === undefined) this.#finish()
  }

  #finish(): void {
    for (let i = this.#head; i < this.#q.length; i++) {
      const [cp, data] = this.#q[i]!
      this.#refuse(cp, data)
    }
    this.#q = []
    this.#head = 0
    for (const cp of this.#ports) {
      cp.port.postMessage({ gortActor: 'stopped' } satisfies ActorNotice)
      cp.port.close()
    }
    this.#ports.clear()
    this.#done()
  }

  #refuse(cp: CallPort, data: unknown): void {
    const id = (data as { id?: unknown } | null)?.id
    if (typeof id === 'string') cp.port.postMessage(goneReply(id, { stopped: true, actor: this.#label }))
  }
}

/**
 * Runs actor `id`'s instance `inst` until stopped: constructs it (a constructor that throws fails
 * the G, and so the spawn), tells the main thread its control port, serves.
 */
export async function serveActor(key: string, id: number, label: string, inst: number, args: unknown[]): Promise<void> {
  const port = parentPort
  if (port === null) throw new InternalError('an actor runs on an M')
  const cls = (await resolveActorClass(key)) as new (...a: unknown[]) => object
  const instance = new cls(...args)
  const { port1: ctl, port2: theirs } = new MessageChannel()
  let box!: Mailbox
  await new Promise<void>((resolve) => {
    box = new Mailbox(label, instance, () => {
      ctl.close()
      resolve()
    })
    ctl.on('message', (msg: ActorCtl) => {
      if (msg.k === 'attach') box.attach(msg.port)
      else box.stop()
    })
    ctl.unref()
    const ready: ActorReady = { t: 'actor', k: 'ready', id, inst, m: (workerData as { m: number }).m, ctl: theirs }
    port.postMessage(ready, [theirs])
  })
}
