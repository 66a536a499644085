import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MODES } from '../../src/gc-sim/barriers.js'
import { UnknownScenarioError } from '../../src/gc-sim/errors.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { parseScenario, scenarioJson } from '../../src/gc-sim/scenario.js'
import { builtinScenario, SCENARIOS } from '../../src/gc-sim/scenarios.js'

for (const s of SCENARIOS) {
  for (const mode of MODES) {
    test(`${s.name} under ${mode}: freed, lost and floating as stated`, () => {
      const { result } = runScenario(s, mode)
      const e = s.expect[mode]
      assert.equal({ freed: result.freed, lost: result.lost, floating: result.floating }, { freed: [...e.freed], lost: [...e.lost], floating: [...e.floating] })
    })
  }
}

test('the built-ins cover what the issue asks for', () => {
  const lostIn = (name: string) => MODES.filter((m) => builtinScenario(name).expect[m].lost.length > 0)
  assert.equal(lostIn('lost-no-barrier'), ['none'], 'the lost object with no barrier')
  assert.equal(lostIn('insertion-no-rescan'), ['none', 'dijkstra-norescan'], 'insertion without re-scan loses a stack-held object')
  assert.equal(lostIn('alloc-white'), ['none', 'dijkstra-norescan'], 'a white allocation during marking is lost')
  const floating = builtinScenario('deletion-floating').expect
  assert.ok(floating.yuasa.floating.length > 0 && floating.yuasa.lost.length === 0, 'deletion barrier: safe but floating')
  const two = builtinScenario('hybrid-two-goroutines')
  assert.is(Object.keys(two.stacks).length, 2)
  assert.equal(two.expect.hybrid.lost, [])
})

test('no safe mode loses anything in any built-in scenario; every unsafe mode loses in one', () => {
  for (const mode of MODES) {
    const losses = SCENARIOS.filter((s) => s.expect[mode].lost.length > 0).map((s) => s.name)
    const safe = !['none', 'dijkstra-norescan', 'yuasa'].includes(mode)
    assert.is(losses.length === 0, safe, `${mode}: ${losses.join(', ')}`)
  }
})

test('go1.5 saves the stack-held object with a longer pause than the hybrid barrier', () => {
  const s = builtinScenario('insertion-no-rescan')
  const go15 = runScenario(s, 'go1.5').result
  const hybrid = runScenario(s, 'hybrid').result
  const norescan = runScenario(s, 'dijkstra-norescan').result
  assert.equal(go15.lost, [])
  assert.ok(go15.maxPause > norescan.maxPause, `go1.5 max pause ${go15.maxPause} vs ${norescan.maxPause}`)
  assert.ok(go15.stw > hybrid.stw, `go1.5 STW ${go15.stw} vs hybrid ${hybrid.stw}`)
  assert.is(hybrid.stw, 2, 'hybrid: two pauses with nothing to scan inside them')
})

test('violations are reported at the step that breaks the invariant, with the first violating edge', () => {
  const { result } = runScenario(builtinScenario('insertion-no-rescan'), 'dijkstra-norescan')
  assert.equal(result.violations, [
    { step: 2, invariant: 'strong', edge: 'G1.s2 -> B' },
    { step: 3, invariant: 'weak', edge: 'G1.s2 -> B' },
  ])
  const safe = runScenario(builtinScenario('insertion-no-rescan'), 'go1.5').result
  assert.equal(safe.violations, [])
})

test('every built-in round-trips through scenarioJson and parseScenario', () => {
  for (const s of SCENARIOS) {
    const copy = parseScenario(JSON.parse(scenarioJson(s)))
    for (const mode of MODES) assert.equal(runScenario(copy, mode).result, runScenario(s, mode).result, `${s.name} ${mode}`)
  }
})

test('an unknown scenario name lists the built-ins', () => {
  try {
    builtinScenario('nope')
    assert.unreachable()
  } catch (error) {
    assert.instance(error, UnknownScenarioError)
    assert.match((error as Error).message, /unknown scenario "nope"; built-in scenarios: lost-no-barrier, insertion-no-rescan/)
  }
})

test('parseScenario rejects unknown objects, bad names, malformed steps and unknown keys, naming the place', () => {
  const cases: [unknown, RegExp][] = [
    [{ heap: { A: { x: 'Z' } }, stacks: {}, steps: [] }, /^heap\.A\.x: unknown object "Z"/],
    [{ heap: {}, stacks: { G1: { s1: 'Q' } }, steps: [] }, /^stacks\.G1\.s1: unknown object "Q"/],
    [{ heap: { A: {} }, stacks: { A: {} }, steps: [] }, /collides with an object name/],
    [{ heap: { 'a.b': {} }, stacks: {}, steps: [] }, /not a valid name/],
    [{ heap: { globals: {} }, stacks: {}, steps: [] }, /reserved for the globals block/],
    [{ heap: {}, stack: {}, stacks: {}, steps: [] }, /^scenario\.stack: unknown key/],
    [{ heap: {}, stacks: {}, steps: [['gcStart'], ['load', 'G1']] }, /^steps\[1\] \["load","G1"\]: load takes 4 argument\(s\): load G slot X field/],
    [{ heap: {}, stacks: {}, steps: [['gcstart']] }, /^steps\[0\] \["gcstart"\]: unknown step "gcstart"; valid steps: gcStart, scanStack/],
    [{ heap: {}, stacks: {}, steps: ['gcStart'] }, /^steps\[0\] "gcStart": a step is a non-empty array/],
    [{ heap: {}, stacks: {}, steps: [['scan', 3]] }, /argument 1 \(X\) must be a non-empty string, got 3/],
    [{ heap: {}, stacks: {} }, /^steps: must be an array/],
  ]
  for (const [json, pattern] of cases) assert.throws(() => parseScenario(json), pattern, JSON.stringify(json))
})

test.run()
