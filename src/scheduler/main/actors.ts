/**
 * The main thread's side of actors, one ActorHost per Runtime: starts each actor's instance as a G
 * (the `gortActor` task), holds its control port, hands out call ports, restarts it under a
 * supervisor, stops it.
 *
 * An actor's life, by `state`:
 *
 *   starting ──ready──▶ live ──control port closes──▶ down ──G fails──▶ starting (supervisor) or ended
 *       │                 │                                  
 *       └── G fails ──────┴── G settles ──▶ ended (first start: spawnActor rejects with the G's error)
 *
 * Invariants:
 * - Only the newest instance counts: messages and outcomes of an older `inst` are ignored (their
 *   control port, if any, is closed).
 * - A call port is opened only to a live instance; connects that come while it starts or is down
 *   (its M died, recovery has not failed its G yet) wait in `waiters` and are answered when an
 *   instance is ready, or told why none will be.
 * - The host learns of a death from the instance's G, which the runtime's recovery fails with
 *   MDiedError when the M dies (the same path as any G's); callers learn of it from their own call
 *   port closing (shared/actor-endpoint.ts), so no thread waits on another to be told.
 * - An ended actor answers every later connect with the same ActorGone; a stop and the runtime's
 *   close never restart.
 * - Actor Gs are daemons: they do not keep the process alive (a pending call does, through its
 *   call port).
 */

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { MDiedError, RuntimeClosedError } from '../errors.js'
import { actorGlobals, actorTask, makeRemote, type ActorClass, type ActorRemote } from '../actor.js'
import type { ActorEndpoint } from '../shared/actor-endpoint.js'
import { errorToPlain } from '../shared/codec.js'
import type { ActorGone, ActorInfo, ActorToMain, Connection } from '../shared/actor-protocol.js'
import type { ToM } from '../shared/protocol.js'
import type { AnyTask } from '../task.js'

export interface SpawnOptions {
  readonly restart: 'never' | 'always' | 'on-failure'
  readonly maxRestarts: number
}

export interface HostDeps {
  /** Starts a G the main thread does not wait on (see Runtime.spawnDaemon). */
  spawnDaemon(ref: AnyTask, args: readonly unknown[]): Promise<unknown>
  post(m: number, msg: ToM): void
}

interface Entry {
  readonly info: ActorInfo
  readonly key: string
  readonly args: readonly unknown[]
  readonly restart: 'never' | 'always' | 'on-failure'
  readonly maxRestarts: number
  restarts: number
  inst: number
  state: 'starting' | 'live' | 'down' | 'ended'
  stopAsked: boolean
  ctl: MessagePort | undefined
  m: number
  waiters: ((c: Connection) => void)[]
  /** spawnActor's promise, until the first instance is ready. */
  started: { resolve: () => void; reject: (e: unknown) => void } | undefined
  stopped: (() => void)[]
  /** The main thread's own endpoints (closed with the runtime). */
  readonly endpoints: Set<ActorEndpoint>
}

export class ActorHost {
  readonly #deps: HostDeps
  readonly #entries = new Map<number, Entry>()
  #closed = false
  /**
   * Ref'd while someone waits for an instance to come up (spawnActor, or a call during a restart)
   * or to end (stopActor): the news arrives on a worker's port or the G's completion, neither of
   * which keeps the process alive.
   */
  #keepAlive: NodeJS.Timeout | undefined

  constructor(deps: HostDeps) {
    this.#deps = deps
  }

  spawn<T>(def: ActorClass<never>, args: readonly unknown[], o: SpawnOptions): Promise<ActorRemote<T>> {
    return this.#spawn(def.key, args, o).then((info) => this.remote<T>(info.id))
  }

  /** Starts actor class `key` (`url#Name`); resolves once its first instance is up. */
  #spawn(key: string, args: readonly unknown[], o: SpawnOptions): Promise<ActorInfo> {
    const g = actorGlobals()
    const id = g.nextId++
    const info: ActorInfo = { id, label: `${key.slice(key.lastIndexOf('#') + 1)}#${id}` }
    const e: Entry = {
      info, key, args, restart: o.restart, maxRestarts: o.maxRestarts, restarts: 0, inst: 0, state: 'starting', stopAsked: false,
      ctl: undefined, m: 0, waiters: [], started: undefined, stopped: [], endpoints: new Set(),
    }
    this.#entries.set(id, e)
    g.mainHosts.set(id, this)
    return new Promise<ActorInfo>((resolve, reject) => {
      e.started = { resolve: () => resolve(info), reject }
      this.#start(e)
      this.#hold()
    })
  }

  /** A Remote on the main thread for actor `id` (a fresh endpoint). */
  remote<T>(id: number): ActorRemote<T> {
    const e = this.#entries.get(id)
    const info = e?.info ?? { id, label: `actor#${id}` }
    return makeRemote<T>(info, (dead) => this.connect(id, dead), (ep) => e?.endpoints.add(ep))
  }

  #start(e: Entry): void {
    const inst = ++e.inst
    e.state = 'starting'
    let p: Promise<unknown>
    try {
      p = this.#deps.spawnDaemon(actorTask, [e.key, e.info.id, e.info.label, inst, e.args])
    } catch (err) {
      queueMicrotask(() => this.#settled(e, inst, err, true))
      return
    }
    p.then(
      () => this.#settled(e, inst, undefined, false),
      (err: unknown) => this.#settled(e, inst, err, true),
    )
  }

  onMessage(msg: ActorToMain): void {
    if (msg.k === 'ready') {
      const e = this.#entries.get(msg.id)
      if (e === undefined || e.inst !== msg.inst || e.state !== 'starting') {
        msg.ctl.close()
        return
      }
      const ctl = msg.ctl
      e.ctl = ctl
      ctl.unref()
      // Its M died (the G's failure comes later, through recovery): no more call ports to it.
      ctl.on('close', () => {
        if (e.ctl !== ctl || e.state !== 'live') return
        e.ctl = undefined
        e.state = 'down'
      })
      e.m = msg.m
      e.state = 'live'
      if (e.stopAsked) ctl.postMessage({ k: 'stop' })
      const started = e.started
      e.started = undefined
      started?.resolve()
      const waiters = e.waiters
      e.waiters = []
      for (const w of waiters) w(this.#open(e))
      this.#hold()
      return
    }
    if (msg.k === 'spawn') {
      // spawnActor inside a task on M msg.m.
      const { m, req } = msg
      this.#spawn(msg.key, msg.args, msg).then(
        (info) => this.#deps.post(m, { t: 'actor', k: 'spawned', req, info }),
        (err: unknown) => this.#deps.post(m, { t: 'actor', k: 'spawned', req, error: errorToPlain(err) }),
      )
      return
    }
    // 'connect': a caller on M msg.m wants a call port.
    void this.connect(msg.id, msg.dead).then((conn) => this.#deps.post(msg.m, { t: 'actor', k: 'port', req: msg.req, conn }))
  }

  /**
   * A call port to actor `id`, once it has a live instance. `dead`: the instance the caller's last
   * port went to, which closed unannounced: that instance's M died, maybe before the host heard
   * (its control port's close, or its G's failure, can come after the caller's port closed).
   */
  connect(id: number, dead = 0): Promise<Connection> {
    const e = this.#entries.get(id)
    if (e !== undefined && dead === e.inst && e.state === 'live') {
      e.ctl = undefined
      e.state = 'down'
    }
    if (e === undefined) return Promise.resolve({ gone: actorGlobals().gone.get(id) ?? { stopped: true, actor: `actor#${id}` } })
    if (e.state === 'live' && !e.stopAsked) return Promise.resolve(this.#open(e))
    return new Promise((resolve) => {
      e.waiters.push(resolve)
      this.#hold()
    })
  }

  /** Keeps the process alive exactly while some start or stop is awaited (see #keepAlive). */
  #hold(): void {
    let awaited = false
    if (!this.#closed) {
      for (const e of this.#entries.values()) {
        if (e.stopped.length > 0 || e.started !== undefined || e.waiters.length > 0) awaited = true
      }
    }
    if (awaited && this.#keepAlive === undefined) this.#keepAlive = setInterval(() => {}, 1 << 30)
    else if (!awaited && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = undefined
    }
  }

  /** A new call port to `e`'s live instance: one end to the actor (through its control port), one to the caller. */
  #open(e: Entry): Connection {
    if (e.stopAsked) return { gone: { stopped: true, actor: e.info.label } }
    const { port1, port2 } = new MessageChannel()
    e.ctl!.postMessage({ k: 'attach', port: port1 }, [port1])
    return { port: port2, m: e.m, inst: e.inst }
  }

  /** Stops actor `id`: the call in progress finishes, queued and later calls reject with ActorStoppedError. */
  stop(id: number): Promise<void> {
    const e = this.#entries.get(id)
    if (e === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      e.stopped.push(resolve)
      this.#hold()
      if (e.stopAsked) return
      e.stopAsked = true
      if (e.state === 'live') e.ctl!.postMessage({ k: 'stop' })
      // Starting: the stop goes out when it is ready (or the start fails and ends it).
    })
  }

  /** Instance `inst` of `e` ended: its G returned (`failed` false) or failed with `err`. */
  #settled(e: Entry, inst: number, err: unknown, failed: boolean): void {
    if (inst !== e.inst || e.state === 'ended') return
    e.ctl?.close()
    e.ctl = undefined
    const label = e.info.label
    if (e.stopAsked || this.#closed || !failed) {
      e.started?.reject(this.#closed ? new RuntimeClosedError() : err)
      this.#end(e, { stopped: true, actor: label })
      return
    }
    if (e.started !== undefined) {
      // The first instance never came up (its class or constructor failed, or its M died): spawnActor fails.
      e.started.reject(err)
      e.started = undefined
      this.#end(e, gone(label, e.m, err))
      return
    }
    const died = err instanceof MDiedError
    if (e.restart !== 'never' && e.restarts < e.maxRestarts && (died || e.restart === 'always')) {
      e.restarts++
      this.#start(e)
      return
    }
    this.#end(e, gone(label, e.m, err))
  }

  #end(e: Entry, g: ActorGone): void {
    e.state = 'ended'
    this.#entries.delete(e.info.id)
    const globals = actorGlobals()
    globals.mainHosts.delete(e.info.id)
    globals.gone.set(e.info.id, g)
    for (const w of e.waiters) w({ gone: g })
    e.waiters = []
    for (const ep of e.endpoints) ep.close(g)
    e.endpoints.clear()
    for (const s of e.stopped) s()
    e.stopped = []
    this.#hold()
  }

  /** The runtime closes: every actor ends (pending calls reject with ActorStoppedError). */
  close(): void {
    this.#closed = true
    for (const e of [...this.#entries.values()]) {
      e.ctl?.close()
      e.ctl = undefined
      e.started?.reject(new RuntimeClosedError())
      e.started = undefined
      this.#end(e, { stopped: true, actor: e.info.label })
    }
  }
}

function gone(actor: string, m: number, err: unknown): ActorGone {
  if (err instanceof MDiedError) return { stopped: false, actor, m: err.m, reason: err.reason }
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return { stopped: false, actor, m, reason: msg }
}
