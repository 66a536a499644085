/**
 * rt.stats(): a snapshot of the scheduler's shared counters. Counters are read without a lock,
 * each atomically; a snapshot taken while Ms run is not one consistent instant.
 */

import {
  H_NMSPINNING, H_NPIDLE, P_GLOBAL_PULLS, P_IDLE, P_HANDOFFS, P_INLINED, P_OWNER, P_PARKS, P_SPAWNS, P_STEAL_ATTEMPTS, P_STEAL_TASKS, pOff, runsOff,
} from '../shared/layout.js'
import type { Sched } from '../shared/sched.js'

export interface ProcStats {
  readonly id: number
  /** M currently holding this P (0: none). */
  readonly m: number
  /** `threadId` of that M's worker thread (0: none), as `worker_threads.threadId` gives it inside a task. */
  readonly thread: number
  /** Its M is parked: no user code runs there now (an M that resumes a task after an await is not idle). */
  readonly idle: boolean
  readonly runs: number
  /** Gs this P stole from other Ps. */
  readonly steals: number
  /** Victims probed while stealing. */
  readonly stealAttempts: number
  /** Gs this P took from the global queue. */
  readonly globalPulls: number
  readonly parks: number
  /** Gs created by tasks running on this P. */
  readonly spawns: number
  /** go() calls in tasks on this P that ran inline, not as Gs: the M had no free G record (see `mSlots`). */
  readonly inlined: number
  /** Times this P was handed to another M (stuck or dead M). */
  readonly handoffs: number
  /** Gs waiting in its ring and runnext now. */
  readonly runqueue: number
}

export interface SchedStats {
  readonly procs: number
  /** Live threads: the Ms plus the main thread. */
  readonly threads: number
  readonly idleProcs: number
  readonly spinning: number
  readonly globalQueue: number
  /** Ms that died and were replaced. */
  readonly mDeaths: number
  /** Ms that retired (a task called retireThisM) and were replaced. */
  readonly mRetired: number
  /** Times the monitor found work waiting with every P asleep and no M woken and runnable, and rang them (a lost wake-up; should be 0). */
  readonly rescues: number
  /** The main thread's polls for results before it waits (see RuntimeOptions.mainSpinUs): `hits` found one, `misses` waited after all. */
  readonly mainPolls: { readonly hits: number; readonly misses: number }
  /**
   * The main thread's batched waits (see RuntimeOptions.resultBatchUs): `waits` it took by timer,
   * taking results in batches while many Gs were awaited and every P was busy; `cut`: those that
   * a wake-up ended early because an M went idle.
   */
  readonly mainBatches: { readonly waits: number; readonly cut: number }
  /** Shared buffers registered for task arguments (sharedbufs.ts) and not yet freed: at most 256; beyond that, such arguments go by message. */
  readonly sharedBuffers: number
  readonly total: Omit<ProcStats, 'id' | 'm' | 'thread' | 'idle'>
  readonly perP: readonly ProcStats[]
}

export function collectStats(
  s: Sched, threads: number, threadOf: (m: number) => number, mDeaths: number, mRetired: number, rescues: number, mainPolls: SchedStats['mainPolls'], mainBatches: SchedStats['mainBatches'],
): SchedStats {
  const I = s.I
  const perP: ProcStats[] = []
  for (let p = 0; p < s.l.procs; p++) {
    const po = pOff(s.l, p)
    const at = (w: number): number => Atomics.load(I, po + w)
    const m = at(P_OWNER)
    perP.push({
      id: p, m, thread: m === 0 ? 0 : threadOf(m), idle: at(P_IDLE) !== 0, runs: runsOf(s, p), steals: at(P_STEAL_TASKS), stealAttempts: at(P_STEAL_ATTEMPTS),
      globalPulls: at(P_GLOBAL_PULLS), parks: at(P_PARKS), spawns: at(P_SPAWNS), inlined: at(P_INLINED), handoffs: at(P_HANDOFFS),
      runqueue: s.q.localSize(p),
    })
  }
  const sum = (k: keyof SchedStats['total']): number => perP.reduce((a, x) => a + x[k], 0)
  return {
    procs: s.l.procs,
    threads,
    idleProcs: Atomics.load(I, H_NPIDLE),
    spinning: Atomics.load(I, H_NMSPINNING),
    globalQueue: s.q.globalSize(),
    mDeaths,
    mRetired,
    rescues,
    mainPolls: { hits: mainPolls.hits, misses: mainPolls.misses },
    mainBatches: { waits: mainBatches.waits, cut: mainBatches.cut },
    sharedBuffers: s.bufs.live(),
    total: {
      runs: sum('runs'), steals: sum('steals'), stealAttempts: sum('stealAttempts'), globalPulls: sum('globalPulls'),
      parks: sum('parks'), spawns: sum('spawns'), inlined: sum('inlined'), handoffs: sum('handoffs'), runqueue: sum('runqueue'),
    },
    perP,
  }
}

/** The Gs run from P `p`: the sum of every M's count for it (see runsOff). */
function runsOf(s: Sched, p: number): number {
  let n = 0
  for (let m = 1; m <= s.l.maxM; m++) n += Atomics.load(s.I, runsOff(s.l, m, p))
  return n
}
