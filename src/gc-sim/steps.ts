/**
 * Steps of a schedule, in the JSON form scenarios are written in.
 *
 * Invariants:
 * - A parsed Step is the same array as its JSON form (`["load","G1","s2","A","x"]`),
 *   so a fuzzer schedule prints as a replayable scenario with no conversion.
 * - `parseStep` checks shape only (op name, arity, strings). Whether the names
 *   exist and are reachable depends on the heap at that point, so the simulator
 *   checks that when it runs the step.
 */
import { ScenarioError } from './errors.js'

export type CollectorStep =
  | readonly ['gcStart']
  | readonly ['scanStack', string]
  | readonly ['scan', string]
  | readonly ['drain']
  | readonly ['markTerm']
  | readonly ['sweep']

export type MutatorStep =
  /** G.slot = X.field (a stack write: no barrier) */
  | readonly ['load', string, string, string, string]
  /** X.field = G.slot (a heap write: barrier) */
  | readonly ['store', string, string, string, string]
  /** X.field = Y.field2 (a heap write: barrier) */
  | readonly ['copy', string, string, string, string, string]
  /** X.field = nil (a heap write: barrier) */
  | readonly ['clear', string, string, string]
  /** G.slot = nil (a stack write: no barrier) */
  | readonly ['drop', string, string]
  /** G.slot = new object N */
  | readonly ['alloc', string, string, string]

export type Step = CollectorStep | MutatorStep
export type Op = Step[0]

/** Argument names per op, used for arity checks and for usage text in errors. */
export const STEP_SYNTAX: Readonly<Record<Op, readonly string[]>> = {
  gcStart: [],
  scanStack: ['G'],
  scan: ['X'],
  drain: [],
  markTerm: [],
  sweep: [],
  load: ['G', 'slot', 'X', 'field'],
  store: ['G', 'X', 'field', 'slot'],
  copy: ['G', 'X', 'field', 'Y', 'field'],
  clear: ['G', 'X', 'field'],
  drop: ['G', 'slot'],
  alloc: ['G', 'slot', 'N'],
}

export const OPS = Object.keys(STEP_SYNTAX) as Op[]

export function isMutator(step: Step): step is MutatorStep {
  const op = step[0]
  return op === 'load' || op === 'store' || op === 'copy' || op === 'clear' || op === 'drop' || op === 'alloc'
}

/** `steps[3] ["load","G1","s2","A","x"]`: how every error names a step. */
export function stepPlace(index: number, raw: unknown): string {
  let text: string
  try {
    text = JSON.stringify(raw) ?? String(raw)
  } catch {
    text = String(raw)
  }
  return `steps[${index}] ${text}`
}

export function parseStep(raw: unknown, index: number): Step {
  const place = stepPlace(index, raw)
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ScenarioError(index, place, 'a step is a non-empty array such as ["scanStack","G1"]')
  }
  const [op, ...args] = raw as unknown[]
  if (typeof op !== 'string' || !Object.hasOwn(STEP_SYNTAX, op)) {
    throw new ScenarioError(index, place, `unknown step ${JSON.stringify(op)}; valid steps: ${OPS.join(', ')}`)
  }
  const syntax = STEP_SYNTAX[op as Op]
  if (args.length !== syntax.length) {
    throw new ScenarioError(index, place, `${op} takes ${syntax.length} argument(s): ${usage(op as Op)}`)
  }
  args.forEach((arg, i) => {
    if (typeof arg !== 'string' || arg === '') {
      throw new ScenarioError(index, place, `argument ${i + 1} (${syntax[i]}) must be a non-empty string, got ${JSON.stringify(arg)}`)
    }
  })
  return raw as unknown as Step
}

export function usage(op: Op): string {
  return [op, ...STEP_SYNTAX[op]].join(' ')
}

/** Human text: `load G1 s2 A.x`, `store G1 A.x s1`, `copy G1 C.f A.x`. */
export function formatStep(step: Step): string {
  switch (step[0]) {
    case 'load':
      return `load ${step[1]} ${step[2]} ${step[3]}.${step[4]}`
    case 'store':
      return `store ${step[1]} ${step[2]}.${step[3]} ${step[4]}`
    case 'copy':
      return `copy ${step[1]} ${step[2]}.${step[3]} ${step[4]}.${step[5]}`
    case 'clear':
      return `clear ${step[1]} ${step[2]}.${step[3]}`
    default:
      return step.join(' ')
  }
}
