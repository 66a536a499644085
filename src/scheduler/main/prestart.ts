/**
 * Ms' threads started before the Runtime that runs them exists. A Worker spends 100-150 ms in
 * Node's start-up and its own modules before it can run a G, and the main thread spends about as
 * long reading the Runtime's modules (and, for MapReduce, the coordinator's) before it can spawn
 * one: done one after the other, a short job waits for both. `prestartM` spawns the thread at
 * once, with no shared buffer yet: the worker loads its modules and then waits for its start-up
 * message (worker.ts). The Runtime that starts next with the same worker options takes it
 * (`Threads.start`) and posts it what `workerData` would have held, instead of spawning.
 *
 * Invariants:
 * - A prestarted worker is taken at most once, only by a start whose worker URL, entry, heap
 *   limits and stdout match, and only while it is alive; otherwise it stays here until its
 *   handle's `discard()` ends it. The caller of `prestartM` must call `discard()` once it has no
 *   more use for the thread (it is idempotent, and does nothing to a thread that was taken).
 * - It is unref'd from the start: an unused prestarted thread never keeps the process alive.
 * - Its 'error' and 'exit' before it is taken are kept here (an emitter with no 'error' listener
 *   would throw), and a dead one is never taken.
 * - Until it is taken it runs only gort's M modules and waits: it can touch no channel, so the
 *   deadlock check does not count it as a plain Worker (isPrestarted).
 */

import { isMainThread, Worker } from 'node:worker_threads'
import { workerUrl } from './options.js'

/** What must match between a prestarted thread and the start that takes it. */
export interface WorkerSpec {
  readonly url: URL
  readonly entry: string | undefined
  readonly limits: { readonly maxYoungGenerationSizeMb: number; readonly maxOldGenerationSizeMb?: number }
  /** The worker's stdout piped to this process's stderr (Runtime's mStdout 'stderr'). */
  readonly toStderr: boolean
}

/** The `workerData` of a prestarted worker: it waits for its Init as its first message. */
export interface DeferredInit {
  readonly deferred: true
  /** The entry a bootstrap (worker-bootstrap.mjs, worker-tsx.ts) imports, as in a direct start. */
  readonly entry: string | undefined
}

/** A prestarted thread, while it waits: taken, discarded or dead, it leaves `waiting`. */
interface Waiting {
  readonly worker: Worker
  readonly key: string
}

const waiting: Waiting[] = []
/** Prestarted threads a Runtime took, since the process started (tests). */
let taken = 0

function keyOf(spec: WorkerSpec): string {
  return JSON.stringify([spec.url.href, spec.entry ?? '', spec.limits.maxYoungGenerationSizeMb, spec.limits.maxOldGenerationSizeMb ?? 0, spec.toStderr])
}

export interface Prestarted {
  /** The thread's `threadId` (0 for a handle that started none). */
  readonly threadId: number
  /** Ends the thread unless a Runtime took it; resolves once it has ended. Idempotent. */
  discard(): Promise<void>
}

/** A handle that started no thread. */
export const NO_THREAD: Prestarted = { threadId: 0, discard: () => Promise.resolve() }

/** The worker of a Runtime started with these options: the Runtime's own (runtime.ts), and what a prestarted thread must match. */
export function specOf(o: { loader: 'auto' | 'tsx' | 'none'; youngMb: number; oldMb?: number | undefined; stdout: 'stdout' | 'stderr' }): WorkerSpec {
  const { url, entry } = workerUrl(o.loader)
  const limits = o.oldMb === undefined ? { maxYoungGenerationSizeMb: o.youngMb } : { maxYoungGenerationSizeMb: o.youngMb, maxOldGenerationSizeMb: o.oldMb }
  return { url, entry, limits, toStderr: o.stdout === 'stderr' }
}

/**
 * Spawns one M's thread now, for the next Runtime started with the same worker options (see
 * the module comment). Not on a worker thread (a Runtime starts only on the main thread): there
 * it returns a handle that does nothing.
 */
export function prestartM(spec: WorkerSpec): Prestarted {
  if (!isMainThread) return NO_THREAD
  const data: DeferredInit = { deferred: true, entry: spec.entry }
  const worker = new Worker(spec.url, { workerData: data, resourceLimits: spec.limits, stdout: spec.toStderr })
  const w: Waiting = { worker, key: keyOf(spec) }
  waiting.push(w)
  const gone = (): void => void forget(w)
  worker.on('error', gone)
  worker.on('exit', gone)
  worker.unref()
  let ended: Promise<void> = Promise.resolve()
  return {
    threadId: worker.threadId,
    discard() {
      // Still waiting: ended here. Taken, dead, or discarded before: nothing (more) to do.
      if (forget(w)) ended = worker.terminate().then(() => {})
      return ended
    },
  }
}

/** Takes `w` out of `waiting`; false when it was not there. */
function forget(w: Waiting): boolean {
  const i = waiting.indexOf(w)
  if (i < 0) return false
  waiting.splice(i, 1)
  return true
}

/**
 * A prestarted thread for a start with `spec`, now the caller's (it must post the worker its
 * Init), or undefined. Its listeners from here are removed: the caller attaches its own.
 */
export function takePrestarted(spec: WorkerSpec): Worker | undefined {
  const key = keyOf(spec)
  const w = waiting.find((x) => x.key === key)
  if (w === undefined) return undefined
  forget(w)
  taken++
  w.worker.removeAllListeners('error')
  w.worker.removeAllListeners('exit')
  return w.worker
}

/**
 * Whether `threadId` is a prestarted thread still waiting here. It runs no code but gort's until a
 * Runtime takes it, so the deadlock check counts it as it counts an M (checkdead.ts), not as a
 * plain Worker that may send on a channel at any time.
 */
export function isPrestarted(threadId: number): boolean {
  return waiting.some((w) => w.worker.threadId === threadId)
}

/** Prestarted threads not yet taken nor discarded (tests). */
export function waitingCount(): number {
  return waiting.length
}

/** Prestarted threads a Runtime has taken so far (tests). */
export function takenCount(): number {
  return taken
}
