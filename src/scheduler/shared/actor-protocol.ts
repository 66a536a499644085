/**
 * Wire types of actors (src/scheduler/actor.ts), kept apart from their logic as comlink keeps its
 * protocol: what crosses between the actor's M, the main thread and the callers' threads, besides
 * comlink's own call and reply messages.
 *
 * Three kinds of port carry them:
 * - the scheduler's worker ports (main <-> each M), for the few messages that must cross to or from
 *   a thread that has no port to the actor yet (`ActorToMain`, `ActorToM`);
 * - one control port per actor instance, main <-> the actor's M (`ActorCtl`);
 * - one call port per caller endpoint, caller <-> the actor's M: comlink's messages one way, its
 *   replies and `ActorNotice`s the other.
 */

import type { MessagePort } from 'node:worker_threads'
import type { PlainError } from './codec.js'

/** The state a reference to an actor crosses threads as (the ActorRef handle's state). */
export interface ActorInfo {
  /** Process-wide number of the actor (not of an instance: a restarted actor keeps it). */
  readonly id: number
  /** `Name#id`, for errors. */
  readonly label: string
}

/** Why calls to an actor cannot be answered; turned into ActorDiedError or ActorStoppedError on the caller's side. */
export type ActorGone =
  | { readonly stopped: false; readonly actor: string; readonly m: number; readonly reason: string }
  | { readonly stopped: true; readonly actor: string }

/** An actor's M -> main, on the worker port: an instance is up, here is its control port. */
export interface ActorReady {
  readonly t: 'actor'
  readonly k: 'ready'
  readonly id: number
  readonly inst: number
  readonly m: number
  readonly ctl: MessagePort
}

/** A caller's M -> main, on the worker port: give this thread a call port to actor `id`. */
export interface ActorConnect {
  readonly t: 'actor'
  readonly k: 'connect'
  readonly id: number
  readonly req: number
  readonly m: number
  /** The instance this caller's last call port went to, if that port closed unannounced (it died); else 0. */
  readonly dead: number
}

/** A task's M -> main, on the worker port: spawnActor inside a task (the main thread's host starts it). */
export interface ActorSpawn {
  readonly t: 'actor'
  readonly k: 'spawn'
  readonly key: string
  readonly args: readonly unknown[]
  readonly restart: 'never' | 'always' | 'on-failure'
  readonly maxRestarts: number
  readonly req: number
  readonly m: number
}

export type ActorToMain = ActorReady | ActorConnect | ActorSpawn

/** Main -> a caller's M, on the worker port: the answer to 'connect'. */
export interface ActorPort {
  readonly t: 'actor'
  readonly k: 'port'
  readonly req: number
  readonly conn: Connection
}

/** Main -> a task's M: the answer to 'spawn', the new actor or why it failed. */
export interface ActorSpawned {
  readonly t: 'actor'
  readonly k: 'spawned'
  readonly req: number
  readonly info?: ActorInfo
  readonly error?: PlainError | { readonly value: unknown }
}

export type ActorToM = ActorPort | ActorSpawned

/** A call port to the actor's current instance and the M it lives on, or why there is none. */
export type Connection =
  | { readonly port: MessagePort; readonly m: number; readonly inst: number; readonly gone?: undefined }
  | { readonly port?: undefined; readonly gone: ActorGone }

/** Main -> the actor's M, on its control port. */
export type ActorCtl =
  | { readonly k: 'attach'; readonly port: MessagePort } // serve calls arriving on this port
  | { readonly k: 'stop' } // finish the call in progress, refuse the queued ones, end

/**
 * The actor's M -> a caller, on a call port, besides comlink's replies: the actor stopped (the
 * port closes right after). A port that closes without it closed because the M died.
 */
export interface ActorNotice {
  readonly gortActor: 'stopped'
}

export function isNotice(v: unknown): v is ActorNotice {
  return typeof v === 'object' && v !== null && (v as ActorNotice).gortActor === 'stopped'
}

/**
 * The name of the comlink transfer handler that turns an ActorGone into a rejection: a reply built
 * with it (by the caller's endpoint, or by the actor when it refuses queued calls) rejects the call
 * with a typed error on the caller's thread.
 */
export const GONE_HANDLER = 'gort.actorGone'

/** A comlink reply to call `id` that rejects it with `gone`. */
export function goneReply(id: string, gone: ActorGone): { id: string; type: 'HANDLER'; name: string; value: ActorGone } {
  return { id, type: 'HANDLER', name: GONE_HANDLER, value: gone }
}
