/**
 * Wire types between the main thread and the Ms. Queues, G records and results go through shared
 * memory; messages carry only control and payloads too large for a G record.
 */

import type { MessagePort } from 'node:worker_threads'
import type { ActorToM, ActorToMain } from './actor-protocol.js'
import type { PlainError, RemotePayload } from './codec.js'

/** Main -> M. */
export type ToM =
  | { readonly t: 'payload'; readonly gid: number; readonly payload: RemotePayload } // reply to 'fetch'
  | { readonly t: 'result'; readonly gid: number; readonly payload: RemotePayload; readonly err: boolean } // large result (or one holding shared memory) for a G this M owns
  | { readonly t: 'fail'; readonly gid: number; readonly error: PlainError | { readonly value: unknown } } // a G this M owns died with its M
  | { readonly t: 'sharedbuf'; readonly id: number; readonly buf: SharedArrayBuffer | undefined } // reply to 'sharedbuf?'
  | ActorToM // a call port for an actor (actor-protocol.ts)
  | { readonly t: 'dead?'; readonly round: number } // the deadlock check asks what this M waits on (main/checkdead.ts)
  | { readonly t: 'flush' } // the runtime is closing: answer 'flushed' once this thread's stdout and stderr are through (m/stdio.ts)

/** M -> main. */
export type FromM =
  | { readonly t: 'ready' }
  | { readonly t: 'flushed'; readonly left: number } // reply to 'flush': bytes still not taken by main (0: all through)
  | { readonly t: 'stash'; readonly gid: number; readonly payload: RemotePayload } // large/shared args of a G this M spawned
  | { readonly t: 'fetch'; readonly gid: number; readonly m: number } // this M started a G whose args were stashed
  | { readonly t: 'result'; readonly gid: number; readonly payload: RemotePayload; readonly err: boolean } // large result (or one holding shared memory), for the G's owner
  | { readonly t: 'sharedbuf?'; readonly id: number; readonly m: number } // this M started after a shared buffer was announced (sharedbufs.ts)
  | { readonly t: 'kill'; readonly gid: number; readonly gen: number } // a G this M spawned with killAfterMs still runs after its cancel (main/kill.ts)
  | { readonly t: 'retiring' } // a task retired this M (retireThisM): its replacement may start now
  | { readonly t: 'released'; readonly p: number } // the retired M gave up P `p` (P_OWNER 0): hand it on
  | ActorToMain // an actor is up, or a caller here wants a call port (actor-protocol.ts)
  | { readonly t: 'dead'; readonly m: number; readonly round: number; readonly answer: DeadAnswer } // reply to 'dead?'

/** One blocked op as a thread reports it to the deadlock check. */
export interface DeadOp {
  /** Go's wait reason: `chan send`, `chan receive`, `select`, `sync.Mutex.Lock`. */
  readonly reason: string
  /** What it waits on (a channel's description). */
  readonly what: string
  /** The G (a gid on an M, a local goroutine id on main) that started it, -1 when unknown. */
  readonly g: number
  /** The goroutine's name when its thread knows it. */
  readonly name?: string | undefined
  /** A local Chan op: its goroutine as src/chan names it (`goroutine 3 (worker)`, `goroutine ?`). */
  readonly local?: string | undefined
}

/** An M's answer to the deadlock check's 'dead?'. */
export interface DeadAnswer {
  /** Why this M may still run code by itself (a timer, a wake-up on its way, work to run), null when quiet. */
  readonly busy: string | null
  /** The M's progress epoch: equal in two answers means no sleep began or ended and no message arrived in between. */
  readonly epoch: number
  /** The worker's threadId, for the report. */
  readonly threadId: number
  /** Its blocked ops, oldest first. */
  readonly ops: readonly DeadOp[]
}

/**
 * The buffers a message moves instead of copying: those of its payload (goWith's `transfer`, a
 * large buffer result), on every hop, so a payload that goes M -> main -> M is never copied.
 */
export function transferOf(msg: ToM | FromM): (ArrayBuffer | MessagePort)[] | undefined {
  if (msg.t === 'actor') {
    const port = msg.k === 'ready' ? msg.ctl : msg.k === 'port' ? msg.conn.port : undefined
    return port !== undefined ? [port] : undefined
  }
  return 'payload' in msg ? msg.payload.transfer : undefined
}
