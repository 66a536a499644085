/**
 * Runs a scenario under one mode: the simulator, the invariant checker after
 * every step, the results after sweep, and (optionally) one frame per step for
 * the terminal trace and the HTML page.
 *
 * Invariants:
 * - A run is a pure function of (scenario, mode): same input, same frames.
 * - A violation is recorded at the step where an invariant goes from holding
 *   to broken (again, if it healed in between), with the first violating edge;
 *   frames carry the state after every step, broken or not.
 * - Frame 0 is the initial state; frame i+1 is the state after steps[i].
 */
import { isMode, MODES, type ModeName } from './barriers.js'
import { checkInvariants, formatEdge, type Edge } from './checker.js'
import { Simulation, type Metrics, type Phase } from './collector.js'
import { dict } from './dict.js'
import { UnknownModeError } from './errors.js'
import type { Color, Heap, StackColor } from './heap.js'
import { buildHeap, type Scenario } from './scenario.js'

export interface Violation {
  /** Index into `steps`. */
  readonly step: number
  readonly invariant: 'strong' | 'weak'
  /** `G1.s2 -> B` */
  readonly edge: string
}

/** The `--json` shape: one per mode. */
export interface RunResult {
  readonly mode: ModeName
  readonly freed: string[]
  readonly lost: string[]
  readonly floating: string[]
  readonly violations: Violation[]
  readonly stw: number
  readonly pauses: number
  readonly maxPause: number
  readonly markWork: number
  readonly barrierCalls: number
  readonly barrierShades: number
}

export interface FrameObject {
  readonly color: Color
  readonly freed: boolean
  readonly root: boolean
  readonly fields: [string, string | null][]
}

export interface FrameStack {
  readonly color: StackColor
  readonly slots: [string, string | null][]
}

export interface Frame {
  /** -1 for the initial state. */
  readonly step: number
  readonly text: string
  readonly phase: Phase
  readonly objects: Record<string, FrameObject>
  readonly stacks: Record<string, FrameStack>
  readonly strong: Edge | null
  readonly weak: Edge | null
  readonly pause: number
  readonly note: string
  readonly metrics: Metrics
  /** Cumulative sweep results so far. */
  readonly freed: string[]
  readonly lost: string[]
  readonly floating: string[]
}

export interface Run {
  readonly result: RunResult
  /** Present when asked for with `frames: true`. */
  readonly frames?: Frame[]
}

export interface RunOptions {
  /** Record one frame per step (for traces and HTML). Default false. */
  readonly frames?: boolean
  /** Check the invariants after every step. Default true. */
  readonly check?: boolean
}

export function parseMode(name: string): ModeName {
  if (!isMode(name)) throw new UnknownModeError(name, MODES)
  return name
}

/** `all`, one mode name, or a comma-separated list (`none,go1.5,hybrid`). */
export function parseModes(spec: string): ModeName[] {
  if (spec === 'all') return [...MODES]
  const modes = spec.split(',').map((name) => parseMode(name.trim()))
  return [...new Set(modes)]
}

export function runScenario(scenario: Scenario, mode: ModeName | string, options: RunOptions = {}): Run {
  const sim = new Simulation(buildHeap(scenario), parseMode(mode))
  const check = options.check ?? true
  const frames: Frame[] | undefined = options.frames === true ? [] : undefined
  const violations: Violation[] = []
  let state = check ? checkInvariants(sim.heap) : { strong: null, weak: null }
  frames?.push(frame(sim, -1, '(initial state)', state, 0, ''))
  scenario.steps.forEach((step, index) => {
    const event = sim.apply(step, index)
    const previous = state
    state = check ? checkInvariants(sim.heap) : state
    if (state.strong !== null && previous.strong === null) violations.push({ step: index, invariant: 'strong', edge: formatEdge(state.strong) })
    if (state.weak !== null && previous.weak === null) violations.push({ step: index, invariant: 'weak', edge: formatEdge(state.weak) })
    frames?.push(frame(sim, index, event.text, state, event.pause, event.note))
  })
  const m = sim.metrics
  const result: RunResult = {
    mode: sim.mode,
    freed: [...sim.freed],
    lost: [...sim.lost],
    floating: [...sim.floating],
    violations,
    stw: m.stw,
    pauses: m.pauses,
    maxPause: m.maxPause,
    markWork: m.markWork,
    barrierCalls: m.barrierCalls,
    barrierShades: m.barrierShades,
  }
  return frames === undefined ? { result } : { result, frames }
}

function frame(sim: Simulation, step: number, text: string, state: { strong: Edge | null; weak: Edge | null }, pause: number, note: string): Frame {
  return {
    step,
    text,
    phase: sim.phase,
    objects: snapshotObjects(sim.heap),
    stacks: snapshotStacks(sim.heap),
    strong: state.strong,
    weak: state.weak,
    pause,
    note,
    metrics: { ...sim.metrics },
    freed: [...sim.freed],
    lost: [...sim.lost],
    floating: [...sim.floating],
  }
}

function snapshotObjects(heap: Heap): Record<string, FrameObject> {
  const out = dict<FrameObject>()
  for (const o of heap.objects.values()) out[o.name] = { color: o.color, freed: o.freed, root: o.root, fields: [...o.fields] }
  return out
}

function snapshotStacks(heap: Heap): Record<string, FrameStack> {
  const out = dict<FrameStack>()
  for (const s of heap.stacks.values()) out[s.name] = { color: s.color, slots: [...s.slots] }
  return out
}
