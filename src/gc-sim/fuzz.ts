/**
 * The fuzzer: seeded random schedules of legal mutator and collector steps,
 * run under one mode, with a shrinker for the first schedule that loses an object.
 *
 * Invariants:
 * - Every generated mutator step is legal under the model's rule: goroutine G
 *   touches only objects reachable from its own stack slots or the globals,
 *   writes only its own stack, and allocates fresh names. The generator picks
 *   from exactly the set the simulator validates against (Heap.reachableFrom),
 *   and the simulator re-validates every step, so an illegal step would throw
 *   instead of producing a bogus "loss".
 * - Schedule i of a run is a pure function of (seed, i, mode): the report names
 *   (seed, i) and the counterexample replays with `--scenario file.json`.
 * - Collector choices follow the mode's own state (it scans objects that are
 *   grey in this mode), so each mode is fuzzed with schedules that make sense
 *   for it; a printed counterexample still runs under every mode (a `scan` of
 *   an object that is not grey there is a no-op).
 * - No Node API: `performance.now()` exists in browsers and Node alike.
 */
import { barrierFor, type ModeName } from './barriers.js'
import { checkInvariants } from './checker.js'
import { Simulation } from './collector.js'
import { GLOBALS } from './heap.js'
import { Rng, scheduleSeed } from './rng.js'
import { runScenario } from './run.js'
import { buildHeap, type PointerMap, type Scenario } from './scenario.js'
import { shrink } from './shrink.js'
import type { Step } from './steps.js'

export interface FuzzOptions {
  readonly mode: ModeName
  readonly schedules: number
  readonly seed: number
  /** Shrink the first losing schedule. Default true. */
  readonly shrink?: boolean
  /** Check the weak invariant after every step. Default true. */
  readonly check?: boolean
  /** Schedule size: `small` (default) or `large` (more objects, goroutines and steps). */
  readonly size?: ScheduleSize
  /**
   * Called with the number of schedules run so far, every PROGRESS_EVERY
   * schedules and once at the end (before shrinking). For progress displays;
   * it must not throw.
   */
  readonly onProgress?: (done: number) => void
}

/** How many schedules run between two `onProgress` calls. */
export const PROGRESS_EVERY = 100

export type ScheduleSize = 'small' | 'large'

/** Bounds of a random schedule; `large` stretches every one of them. */
const SIZES: Record<ScheduleSize, { objects: number; goroutines: number; slots: number; markSteps: number }> = {
  small: { objects: 6, goroutines: 3, slots: 3, markSteps: 14 },
  large: { objects: 10, goroutines: 5, slots: 4, markSteps: 40 },
}

export interface Counterexample {
  /** Which schedule of the run lost something first. */
  readonly schedule: number
  readonly originalSteps: number
  /** The shrunk (or, with shrink off, original) schedule, replayable. */
  readonly scenario: Scenario
  readonly lost: string[]
}

export interface FuzzReport {
  readonly mode: ModeName
  /** The mode's claim (barriers.ts); the fuzzer tests it. */
  readonly claimedSafe: boolean
  readonly schedules: number
  readonly seed: number
  readonly steps: number
  /** Schedules that ended with at least one lost object. */
  readonly losingSchedules: number
  /** Schedules in which the weak tri-color invariant broke at some step. */
  readonly weakViolationSchedules: number
  readonly ms: number
  readonly counterexample: Counterexample | null
}

const FIELDS = ['x', 'y'] as const

export function fuzz(options: FuzzOptions): FuzzReport {
  const started = performance.now()
  const check = options.check ?? true
  let steps = 0
  let losing = 0
  let weakBroken = 0
  let first: { schedule: number; scenario: Scenario; lost: string[] } | null = null
  const onProgress = options.onProgress
  for (let i = 0; i < options.schedules; i++) {
    if (onProgress !== undefined && i > 0 && i % PROGRESS_EVERY === 0) onProgress(i)
    const outcome = generate(new Rng(scheduleSeed(options.seed, i)), options.mode, check, options.size ?? 'small')
    steps += outcome.scenario.steps.length
    if (outcome.weakBroken) weakBroken += 1
    if (outcome.lost.length > 0) {
      losing += 1
      if (first === null) first = { schedule: i, scenario: outcome.scenario, lost: outcome.lost }
    }
  }
  onProgress?.(options.schedules)
  let counterexample: Counterexample | null = null
  if (first !== null) {
    const small = options.shrink === false ? first.scenario : shrink(first.scenario, options.mode)
    counterexample = {
      schedule: first.schedule,
      originalSteps: first.scenario.steps.length,
      scenario: { ...small, name: `fuzz-${options.mode}-seed${options.seed}-schedule${first.schedule}` },
      lost: runScenario(small, options.mode, { check: false }).result.lost,
    }
  }
  return {
    mode: options.mode,
    claimedSafe: barrierFor(options.mode).safe,
    schedules: options.schedules,
    seed: options.seed,
    steps,
    losingSchedules: losing,
    weakViolationSchedules: weakBroken,
    ms: performance.now() - started,
    counterexample,
  }
}

interface Outcome {
  readonly scenario: Scenario
  readonly lost: string[]
  readonly weakBroken: boolean
}

/** Builds one random schedule while running it, so choices see the live state. */
export function generate(rng: Rng, mode: ModeName, check = true, size: ScheduleSize = 'small'): Outcome {
  const bounds = SIZES[size]
  const initial = randomHeap(rng, bounds)
  const sim = new Simulation(buildHeap(initial), mode)
  const steps: Step[] = []
  let weakBroken = false
  let fresh = 0
  const run = (step: Step): void => {
    sim.apply(step, steps.length)
    steps.push(step)
    if (check && !weakBroken && sim.phase !== 'off') weakBroken = checkInvariants(sim.heap).weak !== null
  }
  const mutate = (): void => {
    const step = randomMutatorStep(rng, sim, () => `N${++fresh}`)
    if (step !== null) run(step)
  }
  for (let n = rng.int(3); n > 0; n--) mutate()
  run(['gcStart'])
  for (let n = 3 + rng.int(bounds.markSteps - 2); n > 0; n--) {
    if (rng.chance(0.35)) {
      const step = randomCollectorStep(rng, sim)
      if (step !== null) run(step)
    } else {
      mutate()
    }
  }
  run(['markTerm'])
  if (rng.chance(0.2)) mutate()
  run(['sweep'])
  return { scenario: { ...initial, steps }, lost: [...sim.lost], weakBroken }
}

function randomHeap(rng: Rng, bounds: (typeof SIZES)[ScheduleSize]): Scenario {
  const names = 'ABCDEFGHIJ'.split('').slice(0, 2 + rng.int(bounds.objects - 1))
  const pointer = (p: number): string | null => (rng.chance(p) ? rng.pick(names) : null)
  const heap: Record<string, PointerMap> = {}
  for (const name of names) {
    const fields: Record<string, string | null> = {}
    for (const field of FIELDS) if (rng.chance(0.6)) fields[field] = pointer(0.75)
    heap[name] = fields
  }
  const stacks: Record<string, PointerMap> = {}
  for (let g = 1, n = 1 + rng.int(bounds.goroutines); g <= n; g++) {
    const slots: Record<string, string | null> = {}
    for (let s = 1, m = 1 + rng.int(bounds.slots); s <= m; s++) slots[`s${s}`] = pointer(0.7)
    stacks[`G${g}`] = slots
  }
  if (!rng.chance(0.4)) return { heap, stacks, steps: [] }
  const globals: Record<string, string | null> = { g1: pointer(0.7) }
  if (rng.chance(0.5)) globals['g2'] = pointer(0.7)
  return { heap, stacks, globals, steps: [] }
}

function randomCollectorStep(rng: Rng, sim: Simulation): Step | null {
  const choices: Step[] = []
  for (const stack of sim.heap.stacks.values()) if (stack.color === 'grey') choices.push(['scanStack', stack.name])
  for (const object of sim.heap.objects.values()) if (object.color === 'grey') choices.push(['scan', object.name])
  if (rng.chance(0.15)) return ['drain']
  return choices.length === 0 ? null : rng.pick(choices)
}

type MutatorOp = 'load' | 'store' | 'copy' | 'clear' | 'drop' | 'alloc'
const OP_WEIGHTS: readonly MutatorOp[] = ['load', 'load', 'load', 'store', 'store', 'store', 'copy', 'clear', 'clear', 'drop', 'drop', 'alloc']

function randomMutatorStep(rng: Rng, sim: Simulation, freshName: () => string): Step | null {
  const heap = sim.heap
  const g = rng.pick([...heap.stacks.keys()])
  const stack = heap.stacks.get(g)!
  const slots = [...stack.slots.keys()]
  if (slots.length === 0) return null
  const reach = [...heap.reachableFrom(g)].filter((name) => !heap.objects.get(name)!.freed)
  const withFields = reach.filter((name) => heap.objects.get(name)!.fields.size > 0)
  const fieldOf = (name: string): string => rng.pick([...heap.objects.get(name)!.fields.keys()])
  // The globals block has fixed fields; heap objects may grow an x or y field.
  const storeField = (name: string): string => (name === GLOBALS ? fieldOf(name) : rng.pick(FIELDS))
  const writable = reach.filter((name) => name !== GLOBALS || heap.objects.get(name)!.fields.size > 0)
  for (let attempt = 0; attempt < 4; attempt++) {
    switch (rng.pick(OP_WEIGHTS)) {
      case 'load':
        if (withFields.length === 0) continue
        {
          const x = rng.pick(withFields)
          return ['load', g, rng.pick(slots), x, fieldOf(x)]
        }
      case 'store':
        if (writable.length === 0) continue
        {
          const x = rng.pick(writable)
          return ['store', g, x, storeField(x), rng.pick(slots)]
        }
      case 'copy':
        if (writable.length === 0 || withFields.length === 0) continue
        {
          const x = rng.pick(writable)
          const y = rng.pick(withFields)
          return ['copy', g, x, storeField(x), y, fieldOf(y)]
        }
      case 'clear':
        if (withFields.length === 0) continue
        {
          const x = rng.pick(withFields)
          return ['clear', g, x, fieldOf(x)]
        }
      case 'drop':
        return ['drop', g, rng.pick(slots)]
      case 'alloc':
        return ['alloc', g, rng.pick(slots), freshName()]
    }
  }
  return null
}
