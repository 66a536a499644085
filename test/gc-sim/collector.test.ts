import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MODES } from '../../src/gc-sim/barriers.js'
import { Simulation } from '../../src/gc-sim/collector.js'
import { ScenarioError } from '../../src/gc-sim/errors.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { buildHeap } from '../../src/gc-sim/scenario.js'
import type { Step } from '../../src/gc-sim/steps.js'
import { result, scenario } from './_helpers.js'

const base = { heap: { A: { x: 'B' }, B: {}, C: { f: null } }, stacks: { G1: { s1: 'A', s2: 'C' }, G2: { s1: null } } }

function sim(mode: (typeof MODES)[number], steps: Step[] = [], json: object = base): Simulation {
  const s = new Simulation(buildHeap(scenario({ ...json, steps: [] })), mode)
  steps.forEach((step, i) => s.apply(step, i))
  return s
}

const color = (s: Simulation, name: string): string => s.heap.objects.get(name)!.color

test('gcStart is a pause of one unit; scanning a stack shades its slots and blackens it', () => {
  const s = sim('hybrid', [['gcStart']])
  assert.is(s.metrics.stw, 1)
  assert.is(s.phase, 'mark')
  s.apply(['scanStack', 'G1'], 1)
  assert.is(s.heap.stacks.get('G1')!.color, 'black')
  assert.is(color(s, 'A'), 'grey')
  assert.is(color(s, 'C'), 'grey')
  assert.is(color(s, 'B'), 'white')
  assert.is(s.metrics.markWork, 1)
  assert.is(s.metrics.stw, 1, 'a concurrent stack scan costs no STW')
})

test('markTerm scans grey stacks and drains inside its pause, one STW unit each', () => {
  const s = sim('hybrid', [['gcStart'], ['markTerm']])
  // G1, G2 scanned (2), A, C, B scanned (3), plus the pause itself.
  assert.is(s.metrics.stw, 1 + 1 + 2 + 3)
  assert.is(s.metrics.maxPause, 6)
  assert.is(s.metrics.pauses, 2)
  assert.is(s.phase, 'marked')
})

test('yuasa-satb scans every stack inside the gcStart pause', () => {
  const s = sim('yuasa-satb', [['gcStart']])
  assert.is(s.metrics.stw, 1 + 2)
  for (const g of ['G1', 'G2']) assert.is(s.heap.stacks.get(g)!.color, 'black')
  const e = s.apply(['scanStack', 'G1'], 1)
  assert.match(e.note, 'already black')
})

test('go1.5: a goroutine that runs after its scan turns its stack grey; markTerm re-scans it', () => {
  const s = sim('go1.5', [['gcStart'], ['scanStack', 'G1'], ['scanStack', 'G2']])
  s.apply(['drop', 'G2', 's1'], 3)
  assert.is(s.heap.stacks.get('G2')!.color, 'grey')
  assert.is(s.heap.stacks.get('G1')!.color, 'black')
  const e = s.apply(['markTerm'], 4)
  assert.equal(e.scanned.slice(0, 1), ['G2'], 're-scans only the stack that ran')
})

test('other modes never turn a scanned stack grey again', () => {
  for (const mode of MODES.filter((m) => m !== 'go1.5')) {
    const s = sim(mode, [['gcStart'], ['scanStack', 'G1'], ['load', 'G1', 's2', 'A', 'x']])
    if (mode !== 'stw') assert.is(s.heap.stacks.get('G1')!.color, 'black', mode)
  }
})

test('barriers: Dijkstra shades the new value, Yuasa the old one', () => {
  const steps: Step[] = [['gcStart'], ['scanStack', 'G1'], ['scanStack', 'G2'], ['copy', 'G1', 'C', 'f', 'A', 'x']]
  // Before the copy: C.f = nil, new value B.
  const d = sim('dijkstra-norescan', steps)
  assert.is(color(d, 'B'), 'grey')
  const y = sim('yuasa', steps)
  assert.is(color(y, 'B'), 'white', 'the old value was nil: nothing to shade')
  y.apply(['clear', 'G1', 'C', 'f'], steps.length)
  assert.is(color(y, 'B'), 'grey', 'clearing C.f shades the old value B')
  assert.is(y.metrics.barrierCalls, 2)
  assert.is(y.metrics.barrierShades, 1)
})

test('hybrid shades the new value only while the writer’s stack is grey; hybrid-uncond always', () => {
  const steps: Step[] = [['gcStart'], ['scanStack', 'G1'], ['copy', 'G1', 'C', 'f', 'A', 'x']]
  assert.is(color(sim('hybrid', steps), 'B'), 'white', 'G1 is black: the new value is not shaded')
  assert.is(color(sim('hybrid-uncond', steps), 'B'), 'grey')
  const greyWriter = { heap: base.heap, stacks: { G1: { s1: 'A', s2: 'C' }, G2: { s1: 'A', s2: 'C' } } }
  const s = sim('hybrid', [['gcStart'], ['scanStack', 'G1'], ['copy', 'G2', 'C', 'f', 'A', 'x']], greyWriter)
  assert.is(color(s, 'B'), 'grey', 'G2 is grey: the new value is shaded')
})

test('allocation colour: white outside a cycle, the mode’s colour while marking, black after markTerm', () => {
  const json = { heap: {}, stacks: { G1: { s1: null } } }
  assert.is(color(sim('hybrid', [['alloc', 'G1', 's1', 'N']], json), 'N'), 'white')
  assert.is(color(sim('hybrid', [['gcStart'], ['alloc', 'G1', 's1', 'N']], json), 'N'), 'black')
  assert.is(color(sim('yuasa', [['gcStart'], ['alloc', 'G1', 's1', 'N']], json), 'N'), 'black')
  assert.is(color(sim('go1.5', [['gcStart'], ['alloc', 'G1', 's1', 'N']], json), 'N'), 'white')
  assert.is(color(sim('none', [['gcStart'], ['markTerm'], ['alloc', 'G1', 's1', 'N']], json), 'N'), 'black')
})

test('barriers are off outside the mark phase', () => {
  const s = sim('hybrid-uncond', [['copy', 'G1', 'C', 'f', 'A', 'x'], ['gcStart'], ['markTerm'], ['clear', 'G1', 'C', 'f']])
  assert.is(s.metrics.barrierCalls, 0)
})

test('stw does nothing concurrently and marks everything in the markTerm pause', () => {
  const s = sim('stw', [['gcStart'], ['scanStack', 'G1'], ['drain']])
  assert.is(s.metrics.markWork, 0)
  assert.is(color(s, 'A'), 'white')
  s.apply(['markTerm'], 3)
  assert.is(s.metrics.pauses, 1)
  assert.is(s.metrics.stw, 1 + 2 + 3)
})

test('sweep frees white objects, reports lost (reachable) and floating (unreachable survivors)', () => {
  const r = result(
    { heap: { A: { x: 'B' }, B: { y: 'C' }, C: {}, D: {} }, stacks: { G1: { s1: 'A' } }, steps: [['gcStart'], ['scanStack', 'G1'], ['clear', 'G1', 'A', 'x'], ['markTerm'], ['sweep']] },
    'yuasa',
  )
  assert.equal(r.freed, ['D'])
  assert.equal(r.lost, [])
  assert.equal(r.floating, ['B', 'C'])
})

test('a second cycle starts from white and frees last cycle’s floating garbage', () => {
  const steps: Step[] = [['gcStart'], ['scanStack', 'G1'], ['clear', 'G1', 'A', 'x'], ['markTerm'], ['sweep'], ['gcStart'], ['markTerm'], ['sweep']]
  const r = result({ heap: { A: { x: 'B' }, B: {} }, stacks: { G1: { s1: 'A' } }, steps }, 'hybrid')
  assert.equal(r.floating, ['B'])
  assert.equal(r.freed, ['B'])
  assert.is(r.pauses, 4)
})

function throws(json: object, mode: (typeof MODES)[number], pattern: RegExp): ScenarioError {
  try {
    runScenario(scenario(json), mode)
  } catch (error) {
    assert.instance(error, ScenarioError)
    assert.match((error as Error).message, pattern)
    assert.is((error as ScenarioError).code, 'ERR_GCSIM_SCENARIO')
    return error as ScenarioError
  }
  assert.unreachable(`expected ${String(pattern)}`)
  throw new Error('unreachable')
}

test('a step touching an object its goroutine cannot reach is rejected, naming the step', () => {
  const e = throws({ ...base, steps: [['gcStart'], ['load', 'G2', 's1', 'A', 'x']] }, 'hybrid', /^steps\[1\] \["load","G2","s1","A","x"\]: object A is not reachable from goroutine G2/)
  assert.is(e.step, 1)
})

test('unknown objects, goroutines, slots and fields are rejected, naming the step', () => {
  throws({ ...base, steps: [['scan', 'Z']] }, 'none', /^steps\[0\] \["scan","Z"\]: unknown object "Z"/)
  throws({ ...base, steps: [['drop', 'G9', 's1']] }, 'none', /^steps\[0\] .*unknown goroutine "G9"; goroutines: G1, G2/)
  throws({ ...base, steps: [['drop', 'G1', 's9']] }, 'none', /goroutine G1 has no slot "s9"; its slots: s1, s2/)
  throws({ ...base, steps: [['load', 'G1', 's1', 'A', 'q']] }, 'none', /object A has no field "q"/)
  throws({ ...base, steps: [['alloc', 'G1', 's1', 'A']] }, 'none', /alloc needs a new name; "A" is already taken/)
})

test('steps in the wrong phase are rejected, naming the step', () => {
  throws({ ...base, steps: [['scanStack', 'G1']] }, 'hybrid', /^steps\[0\] \["scanStack","G1"\]: scanStack needs the mark phase but the collector is in phase off/)
  throws({ ...base, steps: [['gcStart'], ['gcStart']] }, 'hybrid', /^steps\[1\] .*a cycle is already running/)
  throws({ ...base, steps: [['gcStart'], ['sweep']] }, 'hybrid', /sweep comes after markTerm/)
})

test('a bad step changes nothing before it throws', () => {
  const s = sim('hybrid', [['gcStart'], ['scanStack', 'G1']])
  assert.throws(() => s.apply(['store', 'G2', 'A', 'x', 's1'], 2), /not reachable/)
  assert.is(s.heap.objects.get('A')!.fields.get('x'), 'B')
  assert.is(s.metrics.barrierCalls, 0)
})

test('touching an object that a sweep freed while reachable is a use-after-free error', () => {
  throws(
    { heap: { A: {} }, stacks: { G1: { s1: null } }, steps: [['gcStart'], ['scanStack', 'G1'], ['alloc', 'G1', 's1', 'N'], ['markTerm'], ['sweep'], ['store', 'G1', 'N', 'x', 's1']] },
    'none',
    /^steps\[5\] .*object N was freed by an earlier sweep while still reachable \(lost\)/,
  )
})

test('scan of an object that is not grey in this mode is a no-op with a note', () => {
  const s = sim('none', [['gcStart']])
  const e = s.apply(['scan', 'A'], 1)
  assert.match(e.note, 'A is white, not grey')
  assert.is(color(s, 'A'), 'white')
})

test('globals are a fixed set of variables: storing to an undeclared one is an error', () => {
  throws({ heap: { A: {} }, stacks: { G1: { s1: 'A' } }, globals: { g: null }, steps: [['store', 'G1', 'globals', 'h', 's1']] }, 'none', /the globals block has no variable "h"/)
})

test('store creates a missing field (objects are open records); load of a missing field is an error', () => {
  const r = runScenario(scenario({ heap: { A: {} }, stacks: { G1: { s1: 'A' } }, steps: [['store', 'G1', 'A', 'self', 's1'], ['load', 'G1', 's1', 'A', 'self']] }), 'none', {
    frames: true,
  })
  assert.equal(r.frames!.at(-1)!.objects['A']!.fields, [['self', 'A']])
})

test.run()
