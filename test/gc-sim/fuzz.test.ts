import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { barrierFor, MODES } from '../../src/gc-sim/barriers.js'
import { fuzz, generate } from '../../src/gc-sim/fuzz.js'
import { Rng, scheduleSeed } from '../../src/gc-sim/rng.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { parseScenario, scenarioJson } from '../../src/gc-sim/scenario.js'
import { shrink } from '../../src/gc-sim/shrink.js'
import { isMutator } from '../../src/gc-sim/steps.js'

// The bar: at least 20,000 schedules per mode. Time is measured in bench/gc-sim.bench.ts.
const SCHEDULES = 20_000
const SAFE = MODES.filter((m) => barrierFor(m).safe)
const UNSAFE = MODES.filter((m) => !barrierFor(m).safe)

test('the safety claims: five safe modes, three unsafe', () => {
  assert.equal(SAFE, ['stw', 'go1.5', 'yuasa-satb', 'hybrid', 'hybrid-uncond'])
  assert.equal(UNSAFE, ['none', 'dijkstra-norescan', 'yuasa'])
})

for (const mode of SAFE) {
  test(`${mode}: ${SCHEDULES} seeded schedules, no lost object and the weak invariant never breaks`, () => {
    const report = fuzz({ mode, schedules: SCHEDULES, seed: 1 })
    assert.is(report.schedules, SCHEDULES)
    assert.is(report.losingSchedules, 0)
    assert.is(report.weakViolationSchedules, 0)
    assert.is(report.counterexample, null)
  })
}

for (const mode of UNSAFE) {
  test(`${mode}: the fuzzer finds a loss and shrinks it to a replayable scenario of at most 10 steps`, () => {
    const report = fuzz({ mode, schedules: SCHEDULES, seed: 1 })
    assert.ok(report.losingSchedules > 0)
    const c = report.counterexample
    assert.ok(c !== null)
    assert.ok(c.scenario.steps.length <= 10, `${c.scenario.steps.length} steps: ${scenarioJson(c.scenario)}`)
    assert.ok(c.scenario.steps.length <= c.originalSteps)
    // Replay from the printed JSON, as a user would with --scenario file.json.
    const replayed = parseScenario(JSON.parse(scenarioJson(c.scenario)))
    const result = runScenario(replayed, mode).result
    assert.equal(result.lost, c.lost)
    assert.ok(result.lost.length > 0)
    assert.ok(result.violations.some((v) => v.invariant === 'weak'), 'a loss is preceded by a weak-invariant violation')
    // The same schedule is harmless under the safe modes.
    for (const safe of SAFE) assert.equal(runScenario(replayed, safe).result.lost, [], `${safe} on ${mode}'s counterexample`)
  })
}

test('large schedules: safe modes still lose nothing, unsafe ones still shrink to at most 10 steps', () => {
  for (const mode of ['hybrid', 'go1.5'] as const) assert.is(fuzz({ mode, schedules: 3000, seed: 5, size: 'large' }).losingSchedules, 0, mode)
  const report = fuzz({ mode: 'dijkstra-norescan', schedules: 500, seed: 5, size: 'large' })
  assert.ok(report.counterexample !== null && report.counterexample.originalSteps > 10)
  assert.ok(report.counterexample.scenario.steps.length <= 10)
})

test('same seed, same schedules; different seed, different schedules', () => {
  const a = fuzz({ mode: 'none', schedules: 300, seed: 7 })
  const b = fuzz({ mode: 'none', schedules: 300, seed: 7 })
  const c = fuzz({ mode: 'none', schedules: 300, seed: 8 })
  assert.is(a.steps, b.steps)
  assert.is(a.losingSchedules, b.losingSchedules)
  assert.equal(a.counterexample, b.counterexample)
  assert.ok(a.steps !== c.steps || a.losingSchedules !== c.losingSchedules)
})

test('generated mutator steps only touch what the goroutine can reach (replay validates every step)', () => {
  let mutators = 0
  let multiGoroutine = 0
  for (let i = 0; i < 2000; i++) {
    const { scenario } = generate(new Rng(scheduleSeed(3, i)), 'hybrid')
    if (Object.keys(scenario.stacks).length > 1) multiGoroutine++
    mutators += scenario.steps.filter(isMutator).length
    // Replaying through the validating simulator throws on any illegal step.
    runScenario(scenario, 'none', { check: false })
  }
  assert.ok(mutators > 2000 * 3, `only ${mutators} mutator steps`)
  assert.ok(multiGoroutine > 500, `only ${multiGoroutine} schedules with several goroutines`)
})

test('the shrinker keeps a loss and only valid steps', () => {
  for (let i = 0; i < 200; i++) {
    const out = generate(new Rng(scheduleSeed(11, i)), 'dijkstra-norescan')
    if (out.lost.length === 0) continue
    const small = shrink(out.scenario, 'dijkstra-norescan')
    assert.ok(small.steps.length <= out.scenario.steps.length)
    assert.ok(runScenario(small, 'dijkstra-norescan').result.lost.length > 0)
  }
})

test('the shrinker reduces a padded version of a known counterexample to its core', () => {
  const padded = parseScenario({
    heap: { A: { x: 'B' }, B: {}, C: { x: 'A' }, D: {} },
    stacks: { G1: { s1: 'A', s2: null, s3: 'C' }, G2: { s1: 'D' } },
    steps: [
      ['drop', 'G2', 's1'],
      ['gcStart'],
      ['scanStack', 'G2'],
      ['scanStack', 'G1'],
      ['scan', 'C'],
      ['load', 'G1', 's2', 'A', 'x'],
      ['drop', 'G1', 's3'],
      ['clear', 'G1', 'A', 'x'],
      ['drain'],
      ['markTerm'],
      ['sweep'],
    ],
  })
  assert.equal(runScenario(padded, 'dijkstra-norescan').result.lost, ['B'])
  const small = shrink(padded, 'dijkstra-norescan')
  assert.equal(
    small.steps.map((s) => s[0]),
    ['gcStart', 'scanStack', 'load', 'clear', 'markTerm', 'sweep'],
  )
  assert.equal(Object.keys(small.stacks), ['G1'])
})

test.run()
