/**
 * The shrinker: turns a losing schedule into a small one that still loses.
 *
 * Invariants:
 * - Every candidate is re-run from scratch under the same mode; it is kept only
 *   if all its steps are still legal (the simulator validates reachability and
 *   names) and it still loses at least one object. So the output is always a
 *   valid, replayable counterexample, never a simplification that cheats.
 * - Greedy and deterministic: remove runs of steps (halving sizes), then
 *   simplify the heap (drop a goroutine, slot, object, field, global, or null
 *   out a pointer, removing the steps that named what was dropped), and repeat
 *   until nothing more can go. The result is 1-minimal for these moves.
 */
import type { ModeName } from './barriers.js'
import { ScenarioError } from './errors.js'
import { GLOBALS } from './heap.js'
import type { PointerMap, Scenario } from './scenario.js'
import { runScenario } from './run.js'
import { isMutator, type Step } from './steps.js'

export function shrink(scenario: Scenario, mode: ModeName): Scenario {
  const loses = (candidate: Scenario): boolean => {
    try {
      return runScenario(candidate, mode, { check: false }).result.lost.length > 0
    } catch (error) {
      if (error instanceof ScenarioError) return false
      throw error
    }
  }
  let best = scenario
  for (let changed = true; changed; ) {
    changed = false
    for (let size = Math.max(1, best.steps.length >> 1); size >= 1; size = size === 1 ? 0 : Math.max(1, size >> 1)) {
      for (let start = 0; start + size <= best.steps.length; ) {
        const candidate = { ...best, steps: [...best.steps.slice(0, start), ...best.steps.slice(start + size)] }
        if (loses(candidate)) {
          best = candidate
          changed = true
        } else {
          start += 1
        }
      }
    }
    for (const candidate of heapCandidates(best)) {
      if (loses(candidate)) {
        best = candidate
        changed = true
        break
      }
    }
  }
  return best
}

type Names = { readonly goroutine?: string; readonly object?: string; readonly slot?: readonly [string, string] }

/** Whether a step names the goroutine, object or slot. */
function mentions(step: Step, names: Names): boolean {
  const [op] = step
  if (names.goroutine !== undefined && (op === 'scanStack' || isMutator(step)) && step[1] === names.goroutine) return true
  if (names.object !== undefined) {
    const objects: string[] = []
    if (op === 'scan' || op === 'clear' || op === 'store') objects.push(op === 'scan' ? step[1] : step[2])
    if (op === 'load') objects.push(step[3])
    if (op === 'copy') objects.push(step[2], step[4])
    if (objects.includes(names.object)) return true
  }
  if (names.slot !== undefined) {
    const [g, s] = names.slot
    if ((op === 'load' || op === 'drop' || op === 'alloc') && step[1] === g && step[2] === s) return true
    if (op === 'store' && step[1] === g && step[4] === s) return true
  }
  return false
}

const without = (steps: readonly Step[], names: Names): Step[] => steps.filter((step) => !mentions(step, names))

function omit<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _, ...rest } = record
  return rest
}

function nullOut(map: PointerMap, target: string): PointerMap {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v === target ? null : v]))
}

/** Smaller variants of the heap, most aggressive first. */
function* heapCandidates(s: Scenario): Generator<Scenario> {
  for (const g of Object.keys(s.stacks)) {
    yield { ...s, stacks: omit(s.stacks, g), steps: without(s.steps, { goroutine: g }) }
  }
  for (const x of Object.keys(s.heap)) {
    const heap: Record<string, PointerMap> = {}
    for (const [name, fields] of Object.entries(s.heap)) if (name !== x) heap[name] = nullOut(fields, x)
    const stacks = Object.fromEntries(Object.entries(s.stacks).map(([g, slots]) => [g, nullOut(slots, x)]))
    const next: Scenario = { ...s, heap, stacks, steps: without(s.steps, { object: x }) }
    yield s.globals === undefined ? next : { ...next, globals: nullOut(s.globals, x) }
  }
  if (s.globals !== undefined && !s.steps.some((step) => mentions(step, { object: GLOBALS }))) {
    const { globals: _, ...rest } = s
    yield rest
  }
  for (const [g, slots] of Object.entries(s.stacks)) {
    for (const [slot, target] of Object.entries(slots)) {
      yield { ...s, stacks: { ...s.stacks, [g]: omit(slots, slot) }, steps: without(s.steps, { slot: [g, slot] }) }
      if (target !== null) yield { ...s, stacks: { ...s.stacks, [g]: { ...slots, [slot]: null } } }
    }
  }
  for (const [x, fields] of Object.entries(s.heap)) {
    for (const [field, target] of Object.entries(fields)) {
      yield { ...s, heap: { ...s.heap, [x]: omit(fields, field) } }
      if (target !== null) yield { ...s, heap: { ...s.heap, [x]: { ...fields, [field]: null } } }
    }
  }
  if (s.globals !== undefined) {
    for (const [field, target] of Object.entries(s.globals)) {
      yield { ...s, globals: omit(s.globals, field) }
      if (target !== null) yield { ...s, globals: { ...s.globals, [field]: null } }
    }
  }
}
