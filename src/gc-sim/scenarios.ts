/**
 * Built-in named scenarios. Each states, per mode, the objects it expects to
 * be freed, lost (freed while still reachable) and floating (kept although
 * unreachable); the tests run every scenario under every mode against them.
 *
 * Invariants:
 * - Every expectation table has all eight modes, written out: a reader can
 *   check a row by hand against the mode's rules in barriers.ts.
 * - Sets are listed in heap declaration order (the order sweep visits objects).
 * - Each scenario is valid JSON for `--scenario file.json` as printed by
 *   `scenarioJson` (the `expect` key is accepted and ignored there).
 */
import type { ModeName } from './barriers.js'
import { UnknownScenarioError } from './errors.js'
import type { Scenario } from './scenario.js'

export interface Expectation {
  readonly freed: readonly string[]
  readonly lost: readonly string[]
  readonly floating: readonly string[]
}

export interface BuiltinScenario extends Scenario {
  readonly name: string
  readonly description: string
  readonly expect: Readonly<Record<ModeName, Expectation>>
}

const ok = (...freed: string[]): Expectation => ({ freed, lost: [], floating: [] })

export const SCENARIOS: readonly BuiltinScenario[] = [
  {
    name: 'lost-no-barrier',
    description:
      'The textbook loss: G1 copies A.x into C after C was scanned black, then clears A.x. With no barrier nothing ever shades B, sweep frees it, and C.f dangles. Any barrier saves it: insertion shades B on the copy, deletion shades it on the clear. D was garbage all along.',
    heap: { A: { x: 'B' }, B: {}, C: { f: null }, D: {} },
    stacks: { G1: { s1: 'A', s2: 'C' } },
    steps: [['gcStart'], ['scanStack', 'G1'], ['scan', 'C'], ['copy', 'G1', 'C', 'f', 'A', 'x'], ['clear', 'G1', 'A', 'x'], ['drain'], ['markTerm'], ['sweep']],
    expect: {
      stw: ok('D'),
      none: { freed: ['B', 'D'], lost: ['B'], floating: [] },
      'dijkstra-norescan': ok('D'),
      'go1.5': ok('D'),
      yuasa: ok('D'),
      'yuasa-satb': ok('D'),
      hybrid: ok('D'),
      'hybrid-uncond': ok('D'),
    },
  },
  {
    name: 'insertion-no-rescan',
    description:
      'G1 loads A.x into its already-scanned stack (a stack write: no barrier) and clears A.x. An insertion barrier has nothing to shade, so without a re-scan B is lost while G1 still holds it. go1.5 saves it by re-scanning G1 at mark termination, inside the pause (STW 4 instead of 2). Deletion barriers shade B on the clear.',
    heap: { A: { x: 'B' }, B: {} },
    stacks: { G1: { s1: 'A', s2: null } },
    steps: [['gcStart'], ['scanStack', 'G1'], ['load', 'G1', 's2', 'A', 'x'], ['clear', 'G1', 'A', 'x'], ['drain'], ['markTerm'], ['sweep']],
    expect: {
      stw: ok(),
      none: { freed: ['B'], lost: ['B'], floating: [] },
      'dijkstra-norescan': { freed: ['B'], lost: ['B'], floating: [] },
      'go1.5': ok(),
      yuasa: ok(),
      'yuasa-satb': ok(),
      hybrid: ok(),
      'hybrid-uncond': ok(),
    },
  },
  {
    name: 'deletion-floating',
    description:
      'G1 clears A.x during marking, so B and C become garbage. Insertion barriers (and stw) free them; every deletion-style barrier shades B as it is unlinked, so B and C survive this cycle as floating garbage: safe, but late.',
    heap: { A: { x: 'B' }, B: { y: 'C' }, C: {} },
    stacks: { G1: { s1: 'A' } },
    steps: [['gcStart'], ['scanStack', 'G1'], ['clear', 'G1', 'A', 'x'], ['drain'], ['markTerm'], ['sweep']],
    expect: {
      stw: ok('B', 'C'),
      none: ok('B', 'C'),
      'dijkstra-norescan': ok('B', 'C'),
      'go1.5': ok('B', 'C'),
      yuasa: { freed: [], lost: [], floating: ['B', 'C'] },
      'yuasa-satb': { freed: [], lost: [], floating: ['B', 'C'] },
      hybrid: { freed: [], lost: [], floating: ['B', 'C'] },
      'hybrid-uncond': { freed: [], lost: [], floating: ['B', 'C'] },
    },
  },
  {
    name: 'hybrid-two-goroutines',
    description:
      'Two goroutines, both failure shapes at once. G1 (already scanned, black) loads B from A.x and G2 clears A.x: only a deletion barrier or a re-scan saves B. Then G2 (not yet scanned, grey) stores D into the black A and drops it from its stack: only an insertion barrier or a start-pause stack scan saves D. The hybrid barrier saves both with no stack re-scan: 2 STW units, against 4 for go1.5 (which re-scans G1 and then marks B inside the pause). E is garbage.',
    heap: { A: { x: 'B' }, B: {}, D: {}, E: {} },
    stacks: { G1: { s1: 'A', s2: null }, G2: { s1: 'A', s2: 'D' } },
    steps: [
      ['gcStart'],
      ['scanStack', 'G1'],
      ['load', 'G1', 's2', 'A', 'x'],
      ['clear', 'G2', 'A', 'x'],
      ['scan', 'A'],
      ['store', 'G2', 'A', 'x', 's2'],
      ['drop', 'G2', 's2'],
      ['scanStack', 'G2'],
      ['drain'],
      ['markTerm'],
      ['sweep'],
    ],
    expect: {
      stw: ok('E'),
      none: { freed: ['B', 'D', 'E'], lost: ['B', 'D'], floating: [] },
      'dijkstra-norescan': { freed: ['B', 'E'], lost: ['B'], floating: [] },
      'go1.5': ok('E'),
      yuasa: { freed: ['D', 'E'], lost: ['D'], floating: [] },
      'yuasa-satb': ok('E'),
      hybrid: ok('E'),
      'hybrid-uncond': ok('E'),
    },
  },
  {
    name: 'alloc-white',
    description:
      'G1 allocates N during marking, after its stack was scanned, and keeps it only on its stack. Allocated white, N is never found unless the stack is scanned again (go1.5 re-scans it, at a longer pause). Allocating black (Yuasa, hybrid) keeps it without any re-scan.',
    heap: { A: {} },
    stacks: { G1: { s1: 'A', s2: null } },
    steps: [['gcStart'], ['scanStack', 'G1'], ['alloc', 'G1', 's2', 'N'], ['drain'], ['markTerm'], ['sweep']],
    expect: {
      stw: ok(),
      none: { freed: ['N'], lost: ['N'], floating: [] },
      'dijkstra-norescan': { freed: ['N'], lost: ['N'], floating: [] },
      'go1.5': ok(),
      yuasa: ok(),
      'yuasa-satb': ok(),
      hybrid: ok(),
      'hybrid-uncond': ok(),
    },
  },
  {
    name: 'yuasa-concurrent-stacks',
    description:
      'Why a deletion barrier needs its stacks snapshotted. The globals block is scanned black; G1, not yet scanned, stores its only pointer to B into globals.g (Yuasa shades the old value, nil) and drops B from its stack (no barrier on stack writes). B is lost. Scanning every stack in the start pause (yuasa-satb) or shading the new value while the writer is grey (hybrid) saves it.',
    heap: { B: {} },
    stacks: { G1: { s1: 'B' } },
    globals: { g: null },
    steps: [['gcStart'], ['scan', 'globals'], ['store', 'G1', 'globals', 'g', 's1'], ['drop', 'G1', 's1'], ['scanStack', 'G1'], ['markTerm'], ['sweep']],
    expect: {
      stw: ok(),
      none: { freed: ['B'], lost: ['B'], floating: [] },
      'dijkstra-norescan': ok(),
      'go1.5': ok(),
      yuasa: { freed: ['B'], lost: ['B'], floating: [] },
      'yuasa-satb': ok(),
      hybrid: ok(),
      'hybrid-uncond': ok(),
    },
  },
]

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name)

export function builtinScenario(name: string): BuiltinScenario {
  const found = SCENARIOS.find((s) => s.name === name)
  if (found === undefined) throw new UnknownScenarioError(name, SCENARIO_NAMES)
  return found
}
