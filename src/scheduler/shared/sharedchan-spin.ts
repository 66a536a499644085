/**
 * How long a blocked SharedChan op spins before it sleeps: one budget per thread, adapted from
 * what the thread's recent sleeps show about its partners.
 *
 * Why adapt: a sleep costs a wake-up through the event loop (Atomics.waitAsync), and on an M the
 * wake-up also turns the M's schedule loop. Two threads that ping-pong have two steady states:
 * in step, each finds the other's answer within its spin (a few microseconds a round); out of
 * step, each sleeps every round, since each waits for the other's wake-up, which is longer than
 * its own spin, so the other's spin misses too. A fixed spin is wrong in both directions: out of
 * step it only burns CPU (on a machine with no core to spare it takes the core the partner needs,
 * and the kernel then treats both threads as CPU hogs and wakes them late); in step, a spin too
 * short to outlast a wake-up never gets back in step.
 *
 * Rule: three budgets. SHORT_US, to start with: a partner in step answers within it. LONG_US,
 * a probe: longer than a partner's wake-up on a quiet machine. NONE, out of step: no spin at all,
 * so that a thread whose partner keeps missing its spins costs what a message would.
 * - SHORT_US: a hit keeps it; after DROP_AFTER misses in a row (out of step), NONE.
 * - NONE and SHORT_US: a miss whose partner, on another thread, came within NEAR_MS (a spin of
 *   LONG_US would have caught it) counts towards a probe; every `probeEvery`-th such miss
 *   switches to LONG_US.
 * - LONG_US: a hit means the pair is in step again: SHORT_US, and the next probe comes at the
 *   first near miss (probeEvery = 1). A miss (the partner was not running: no core free, or it
 *   computes) means NONE, and doubles probeEvery, up to PROBE_MAX: on a busy machine a long
 *   spin takes the core the partner needs, so it is tried rarely.
 * - A partner on the same thread can never be caught by spinning (it runs only once this op has
 *   slept): such a miss never counts towards a probe.
 *
 * Invariants:
 * - One spin blocks this thread's event loop for at most LONG_US (plus one batch of polls).
 * - The budget is this thread's only (module state; every thread has its own copy).
 *
 * Rejected: a poll-count budget halved after every miss (it shrank in exactly the steady state
 * above, see bench/NOTES.md, 2026-12-05); a per-channel budget (a select waits on several, and a
 * ping-pong's two channels each see only half of the rounds).
 */

import { performance } from 'node:perf_hooks'

/** The short spin (µs): a partner in step on another core answers within it. */
export const SHORT_US = 12
/** The long spin (µs): beyond a waitAsync wake-up plus an M's loop turn on a quiet machine. */
export const LONG_US = 200
/** A partner that came within this after a miss (ms) would have been caught by a longer spin. */
const NEAR_MS = 0.5
/** Misses in a row at SHORT_US before it stops spinning. */
const DROP_AFTER = 8
/** Near misses between two probes, at most. */
const PROBE_MAX = 64
/** Polls between two reads of the clock (about a microsecond). */
const POLLS = 128

const SHORT_MS = SHORT_US / 1000
const LONG_MS = LONG_US / 1000
/** `GORT_SC_SPIN=fixed`: SHORT_US always, as before adaptation (A/B runs only). */
const adaptive = process.env['GORT_SC_SPIN'] !== 'fixed'
let budgetMs = SHORT_MS
let missRun = 0
let probeEvery = 1
let nearMisses = 0
/** Spins that missed and spins that hit, this thread (diagnostics, tests). */
let misses = 0
let hits = 0
let probes = 0
let longHits = 0
let longMisses = 0

/**
 * Spins while I[at] === v for at most this thread's budget; the value last read. A miss (the
 * value returned is still `v`) is followed by a sleep; report its end with `judgeMiss`.
 */
export function spinFor(I: Int32Array, at: number, v: number): number {
  let s = Atomics.load(I, at)
  if (s !== v || budgetMs === 0) return s
  const until = performance.now() + budgetMs
  for (;;) {
    for (let i = 0; i < POLLS; i++) {
      s = Atomics.load(I, at)
      if (s !== v) {
        hits++
        missRun = 0
        if (budgetMs === LONG_MS) {
          budgetMs = SHORT_MS
          probeEvery = 1
          longHits++
        }
        return s
      }
    }
    if (performance.now() >= until) break
  }
  misses++
  if (adaptive && budgetMs === SHORT_MS && ++missRun >= DROP_AFTER) budgetMs = 0
  return s
}

/** A spin that missed: when, and whether it was a long one. */
export interface Miss {
  readonly at: number
  readonly long: boolean
}

/** The miss just made, for `judgeMiss` (call right after spinFor returned `v`). */
export const missed = (): Miss => ({ at: performance.now(), long: budgetMs === LONG_MS })

/**
 * A sleeping op was completed: `sameThread` when its partner ran on this thread. Adapts the
 * budget (see the rule in the header).
 */
export function judgeMiss(miss: Miss, sameThread: boolean): void {
  if (!adaptive) return
  if (miss.long) {
    // A long spin missed: the partner was not running.
    longMisses++
    budgetMs = 0
    if (!sameThread) probeEvery = Math.min(PROBE_MAX, probeEvery * 2)
    nearMisses = 0
    return
  }
  if (sameThread || budgetMs === LONG_MS || performance.now() - miss.at >= NEAR_MS) return
  if (++nearMisses >= probeEvery) {
    nearMisses = 0
    probes++
    budgetMs = LONG_MS
  }
}

/** This thread's spin budget (µs) and its spins so far (tests, diagnostics). */
export function spinStats(): { budgetUs: number; hits: number; misses: number; probes: number; longHits: number; longMisses: number; probeEvery: number } {
  return { budgetUs: budgetMs * 1000, hits, misses, probes, longHits, longMisses, probeEvery }
}
