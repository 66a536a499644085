// Names come from users' files, and `__proto__`, `constructor` or `toString`
// are valid ones: each must be an object, field, slot or goroutine like any other.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MODES } from '../../src/gc-sim/barriers.js'
import { renderHtml } from '../../src/gc-sim/html.js'
import { computeLayout } from '../../src/gc-sim/layout.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { parseScenario, scenarioJson } from '../../src/gc-sim/scenario.js'
import { formatTrace } from '../../src/gc-sim/trace.js'

// The issue's case: A.__proto__ -> B, A held by a stack; B must survive.
const ISSUE = '{"heap": {"A": {"__proto__": "B"}, "B": {}}, "stacks": {"G1": {"s1": "A"}}, "steps": [["gcStart"], ["scanStack", "G1"], ["drain"], ["markTerm"], ["sweep"]]}'

// A goroutine named __proto__ whose slot __proto__ holds A; A and B must survive.
const GOROUTINE = '{"heap": {"A": {"x": "B"}, "B": {}}, "stacks": {"__proto__": {"__proto__": "A"}}, "steps": [["gcStart"], ["scanStack", "__proto__"], ["drain"], ["markTerm"], ["sweep"]]}'

// Every kind of name at once: an object, a field, a goroutine, a slot and a
// globals field named after Object.prototype's keys.
const ALL = `{
  "heap": { "__proto__": { "constructor": "A" }, "A": { "__proto__": "B", "toString": null }, "B": {}, "hasOwnProperty": {} },
  "stacks": { "constructor": { "__proto__": "__proto__" }, "valueOf": { "s": null } },
  "globals": { "__proto__": "hasOwnProperty" },
  "steps": [["gcStart"], ["scanStack", "constructor"], ["scanStack", "valueOf"], ["scan", "globals"], ["drain"], ["markTerm"], ["sweep"]]
}`

test('an object reached through a field or a goroutine named __proto__ is kept (the issue: "freed B")', () => {
  const s = parseScenario(JSON.parse(ISSUE))
  assert.equal(Object.entries(s.heap['A']!), [['__proto__', 'B']])
  const g = parseScenario(JSON.parse(GOROUTINE))
  assert.equal(Object.keys(g.stacks), ['__proto__'])
  for (const scenario of [s, g]) {
    for (const mode of MODES) {
      const r = runScenario(scenario, mode).result
      assert.equal(r.freed, [], `${mode} frees nothing`)
      assert.equal(r.lost, [], `${mode} loses nothing`)
    }
    assert.match(formatTrace(scenario, runScenario(scenario, 'stw', { frames: true }), { color: false }), 'freed - · lost -')
  }
})

test('objects, fields, goroutines, slots and globals named after Object.prototype keys all count', () => {
  const s = parseScenario(JSON.parse(ALL))
  assert.equal(Object.keys(s.heap), ['__proto__', 'A', 'B', 'hasOwnProperty'])
  assert.equal(Object.keys(s.stacks), ['constructor', 'valueOf'])
  assert.equal(Object.entries(s.globals!), [['__proto__', 'hasOwnProperty']])
  for (const mode of MODES) {
    const run = runScenario(s, mode, { frames: true })
    assert.equal(run.result.freed, [], `${mode}: everything is reachable`)
    const last = run.frames!.at(-1)!
    assert.equal(Object.keys(last.objects), ['globals', '__proto__', 'A', 'B', 'hasOwnProperty'])
    assert.equal(Object.keys(last.stacks), ['constructor', 'valueOf'])
  }
  // A name that is not declared is still refused, even when Object.prototype has it.
  const bad = JSON.parse(ALL)
  bad.heap.A.toString = 'constructor'
  assert.throws(() => parseScenario(bad), /heap\.A\.toString: unknown object "constructor"/)
})

test('such names survive scenarioJson, the layout and the page data', () => {
  const s = parseScenario(JSON.parse(ALL))
  // (compared as JSON text: uvu's deep equality trips over a key named hasOwnProperty)
  const text = scenarioJson(s)
  assert.is(scenarioJson(parseScenario(JSON.parse(text))), text)
  assert.match(text, '"A":{"__proto__":"B","toString":null}')
  const runs = MODES.map((m) => runScenario(s, m, { frames: true }))
  const layout = computeLayout(runs.flatMap((r) => r.frames!))
  assert.equal(Object.keys(layout.nodes).sort(), ['A', 'B', '__proto__', 'hasOwnProperty'])
  assert.equal(layout.roots.map((r) => r.name), ['constructor', 'valueOf', 'globals'])
  const html = renderHtml(s, runs)
  const data = JSON.parse(/<script type="application\/json" id="gc-data">([^]*?)<\/script>/.exec(html)![1]!)
  assert.ok(Object.hasOwn(data.layout.nodes, '__proto__'), 'the page places the object named __proto__')
  assert.ok(Object.hasOwn(data.modes[0].frames[0].objects, '__proto__'))
})

test.run()
