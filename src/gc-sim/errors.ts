/**
 * Errors of the GC simulator. All are GortError subclasses with a stable code.
 *
 * Invariants:
 * - A ScenarioError always names the offending place: `steps[i]` plus the step's
 *   JSON text, or the path into the scenario (`heap.A.x`), so a learner can find
 *   the typo without reading the simulator.
 * - Name errors (unknown mode, unknown scenario) echo the bad value and list the
 *   valid ones.
 * - src/gc-sim runs in browsers too: this file imports only the foundation's
 *   error base, which uses no Node API.
 */
import { GortError } from '../errors.js'

/** A scenario (built-in, file, or fuzzer output) that cannot be run as written. */
export class ScenarioError extends GortError {
  /** Index into `steps`, or -1 when the problem is in heap/stacks/globals. */
  readonly step: number

  constructor(step: number, where: string, message: string) {
    super('ERR_GCSIM_SCENARIO', `${where}: ${message}`)
    this.step = step
  }
}

/** `--mode` (or `runScenario(…, mode)`) names no mode. */
export class UnknownModeError extends GortError {
  constructor(mode: string, valid: readonly string[]) {
    super('ERR_GCSIM_UNKNOWN_MODE', `unknown mode ${JSON.stringify(mode)}; valid modes: ${valid.join(', ')}, all`)
  }
}

/** `--scenario NAME` names no built-in scenario (and is not a .json file). */
export class UnknownScenarioError extends GortError {
  constructor(name: string, valid: readonly string[]) {
    super(
      'ERR_GCSIM_UNKNOWN_SCENARIO',
      `unknown scenario ${JSON.stringify(name)}; built-in scenarios: ${valid.join(', ')} (or pass a path ending in .json)`,
    )
  }
}
