/**
 * Scenario JSON: the contract that tests, the CLI and outside checks share.
 *
 *   { "heap":    { "A": { "x": "B" }, "B": {} },
 *     "stacks":  { "G1": { "s1": "A", "s2": null } },
 *     "globals": { "g": "A" },                          (optional)
 *     "steps":   [["gcStart"], ["scanStack","G1"], ["load","G1","s2","A","x"], …] }
 *
 * Invariants:
 * - `parseScenario` either returns a scenario whose heap, stacks and globals
 *   refer only to declared objects, or throws a ScenarioError naming the path
 *   (`heap.A.x`) or the step (`steps[3] […]`). Step names are checked again
 *   when the step runs, against the heap at that point.
 * - Names are plain identifiers (no dots or spaces), because edges are named
 *   `A.x` and `G1.s2`; goroutine and object names never collide; `globals` is
 *   reserved for the globals block.
 * - Unknown top-level keys are rejected, so a typo ("stack") is not silently ignored.
 * - Every record keyed by a name is null-prototype (dict.ts), so `__proto__`
 *   is a name like any other.
 */
import { dict } from './dict.js'
import { ScenarioError } from './errors.js'
import { GLOBALS, Heap } from './heap.js'
import { parseStep, type Step } from './steps.js'

export type PointerMap = Readonly<Record<string, string | null>>

export interface Scenario {
  readonly name?: string
  readonly description?: string
  readonly heap: Readonly<Record<string, PointerMap>>
  readonly stacks: Readonly<Record<string, PointerMap>>
  readonly globals?: PointerMap
  readonly steps: readonly Step[]
}

const KEYS = new Set(['name', 'description', 'heap', 'stacks', 'globals', 'steps', 'expect'])
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fail(where: string, message: string): never {
  throw new ScenarioError(-1, where, message)
}

function checkName(where: string, name: string): void {
  if (!NAME.test(name)) fail(where, `${JSON.stringify(name)} is not a valid name (letters, digits and _, not starting with a digit)`)
}

function pointerMap(where: string, value: unknown, objects: ReadonlySet<string>): Record<string, string | null> {
  if (!isRecord(value)) fail(where, `must be an object of name -> object name or null, got ${JSON.stringify(value)}`)
  const out = dict<string | null>()
  for (const [key, target] of Object.entries(value)) {
    checkName(`${where}.${key}`, key)
    if (target !== null && typeof target !== 'string') fail(`${where}.${key}`, `must be an object name or null, got ${JSON.stringify(target)}`)
    if (target !== null && !objects.has(target)) fail(`${where}.${key}`, `unknown object ${JSON.stringify(target)}`)
    out[key] = target
  }
  return out
}

/** Validates parsed JSON into a Scenario (the `expect` key of built-ins is accepted and ignored). */
export function parseScenario(json: unknown): Scenario {
  if (!isRecord(json)) fail('scenario', `must be a JSON object with heap, stacks and steps, got ${JSON.stringify(json)}`)
  for (const key of Object.keys(json)) {
    if (!KEYS.has(key)) fail(`scenario.${key}`, `unknown key; valid keys: ${[...KEYS].join(', ')}`)
  }
  const heapJson = json['heap'] ?? {}
  const stacksJson = json['stacks']
  const stepsJson = json['steps']
  if (!isRecord(heapJson)) fail('heap', `must be an object of object name -> fields, got ${JSON.stringify(heapJson)}`)
  if (!isRecord(stacksJson)) fail('stacks', `must be an object of goroutine name -> slots, got ${JSON.stringify(stacksJson)}`)
  if (!Array.isArray(stepsJson)) fail('steps', `must be an array of steps, got ${JSON.stringify(stepsJson)}`)
  const objects = new Set(Object.keys(heapJson))
  for (const name of objects) {
    checkName(`heap.${name}`, name)
    if (name === GLOBALS) fail(`heap.${name}`, `"${GLOBALS}" is reserved for the globals block; use the top-level "globals" key`)
  }
  const heap = dict<PointerMap>()
  for (const [name, fields] of Object.entries(heapJson)) heap[name] = pointerMap(`heap.${name}`, fields, objects)
  const stacks = dict<PointerMap>()
  for (const [name, slots] of Object.entries(stacksJson)) {
    checkName(`stacks.${name}`, name)
    if (objects.has(name) || name === GLOBALS) fail(`stacks.${name}`, `goroutine name ${JSON.stringify(name)} collides with an object name`)
    stacks[name] = pointerMap(`stacks.${name}`, slots, objects)
  }
  const steps = stepsJson.map((raw, i) => parseStep(raw, i))
  const scenario: { -readonly [K in keyof Scenario]: Scenario[K] } = { heap, stacks, steps }
  if (json['globals'] !== undefined) scenario.globals = pointerMap('globals', json['globals'], objects)
  for (const key of ['name', 'description'] as const) {
    const value = json[key]
    if (value === undefined) continue
    if (typeof value !== 'string') fail(`scenario.${key}`, `must be a string, got ${JSON.stringify(value)}`)
    scenario[key] = value
  }
  return scenario
}

/** A fresh heap in the scenario's initial state: everything white, stacks grey. */
export function buildHeap(scenario: Scenario): Heap {
  const heap = new Heap()
  if (scenario.globals !== undefined) heap.addObject(GLOBALS, Object.entries(scenario.globals), true)
  for (const [name, fields] of Object.entries(scenario.heap)) heap.addObject(name, Object.entries(fields))
  for (const [name, slots] of Object.entries(scenario.stacks)) heap.addStack(name, Object.entries(slots))
  return heap
}

/** The scenario as plain JSON (what `--fuzz` prints and `--scenario file.json` reads back). */
export function scenarioJson(scenario: Scenario): string {
  const out: Record<string, unknown> = {}
  if (scenario.name !== undefined) out['name'] = scenario.name
  if (scenario.description !== undefined) out['description'] = scenario.description
  out['heap'] = scenario.heap
  out['stacks'] = scenario.stacks
  if (scenario.globals !== undefined) out['globals'] = scenario.globals
  out['steps'] = scenario.steps
  return JSON.stringify(out)
}
