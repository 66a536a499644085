// Small builders shared by the gc-sim tests.
import type { ModeName } from '../../src/gc-sim/barriers.js'
import { runScenario, type RunResult } from '../../src/gc-sim/run.js'
import { parseScenario, type Scenario } from '../../src/gc-sim/scenario.js'

/** Parses a scenario literal through the same validation files go through. */
export function scenario(json: unknown): Scenario {
  return parseScenario(json)
}

export function result(json: unknown, mode: ModeName): RunResult {
  return runScenario(scenario(json), mode).result
}
