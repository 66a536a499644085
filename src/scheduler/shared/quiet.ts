/**
 * Is this thread quiet? What the cross-thread deadlock check (main/checkdead.ts) asks each thread:
 * could code run here on its own, without another thread acting first? Timers, immediates, I/O
 * and open handles can wake a thread; gort's own keep-alives (a ref'd interval that holds a thread
 * open for its sleeping channel ops, the runtime's while main awaits a G) and ports cannot, so
 * the caller names them and they are discounted.
 *
 * Invariants:
 * - Only ref'd timers and handles are seen (Node lists no others): an unref'd timer or handle is
 *   invisible here, so a program whose only hope is one is reported (docs/sharedchan.md, limits).
 * - Node lists no Worker as a handle (an idle one that keeps the process alive shows nowhere), so
 *   every thread tracks the Workers it starts (process 'worker' event, from this module's first
 *   import): a live Worker that is not one of the runtime's Ms counts as pending work, whether
 *   ref'd or not, since it may send on a channel at any time. Plain Workers started before gort's
 *   scheduler was imported on that thread are invisible.
 * - Anything unknown counts as pending work: a request of any kind, an immediate, a handle that is
 *   neither stdout/stderr nor one the caller owns. A wrong "busy" only delays a report; a wrong
 *   "quiet" would be a false deadlock.
 */

import type { Worker } from 'node:worker_threads'
import { parkedList } from '../../chan/park.js'
import type { DeadOp } from './protocol.js'
import { keepAliveTimers, sleepingOps } from './sharedchan-wait.js'

interface NodeInternals {
  _getActiveHandles?: () => unknown[]
  _getActiveRequests?: () => unknown[]
}

/** Workers started on this thread that have not exited. */
const workers = new Set<Worker>()
process.on('worker', (w: Worker) => {
  workers.add(w)
  w.once('exit', () => workers.delete(w))
})

/**
 * Why this thread may still run code by itself, or null when it cannot. `ownTimers`: ref'd timers
 * gort holds on this thread; `isOwn`: the handles gort holds here (a worker's parent port);
 * `isM`: whether a Worker's threadId is one of the runtime's Ms.
 */
export function pendingWork(ownTimers: number, isOwn: (h: unknown) => boolean = () => false, isM: (threadId: number) => boolean = () => false): string | null {
  for (const w of workers) if (!isM(w.threadId)) return `a plain Worker (threadId ${w.threadId})`
  let timers = 0
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'Timeout') timers++
    else if (r === 'Immediate') return 'an immediate'
  }
  if (timers > ownTimers) return `${timers - ownTimers} timer(s)`
  const p = process as unknown as NodeInternals
  // Both are in every Node release gort supports; without them nothing can be known.
  if (typeof p._getActiveRequests !== 'function' || typeof p._getActiveHandles !== 'function') return 'no way to list handles'
  const reqs = p._getActiveRequests()
  if (reqs.length > 0) return `${reqs.length} I/O request(s)`
  for (const h of p._getActiveHandles()) {
    if (h === process.stdout || h === process.stderr || isOwn(h)) continue
    return `a handle (${(h as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof h})`
  }
  return null
}

/**
 * Why this thread (main or an M) may run code by itself, null when quiet: a sleeping op whose
 * wake-up is on its way, one that an AbortSignal may end, or pending work (timers beyond the
 * `ownTimers` gort holds here besides sharedchan-wait's keep-alive, handles beyond `isOwn`'s).
 */
export function threadBusy(ownTimers: number, isOwn?: (h: unknown) => boolean, isM?: (threadId: number) => boolean): string | null {
  for (const s of sleepingOps()) {
    if (s.woken) return `a wake-up on its way (${s.info?.what() ?? 'a channel'})`
    if (s.info?.cancellable === true) return `an op with an AbortSignal (${s.info.what()})`
  }
  return pendingWork(keepAliveTimers() + ownTimers, isOwn, isM)
}

/** Every op blocked on this thread: sleeping shared ops, then local Chan ops, each oldest first. */
export function blockedOps(): DeadOp[] {
  const out: DeadOp[] = []
  for (const s of sleepingOps()) {
    if (s.info?.listed !== false) out.push({ reason: s.info?.reason ?? 'chan op', what: s.info?.what() ?? 'a SharedChan', g: s.info?.g ?? -1, name: s.info?.name })
  }
  for (const p of parkedList()) {
    out.push({ reason: p.waitReason(), what: p.detail(), g: -1, local: p.g === null ? 'goroutine ?' : `goroutine ${p.g.id} (${p.g.name})` })
  }
  return out
}
