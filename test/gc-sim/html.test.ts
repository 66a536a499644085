import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MODES } from '../../src/gc-sim/barriers.js'
import { renderHtml } from '../../src/gc-sim/html.js'
import { computeLayout } from '../../src/gc-sim/layout.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { parseScenario } from '../../src/gc-sim/scenario.js'
import { builtinScenario } from '../../src/gc-sim/scenarios.js'

const runsFor = (name: string, modes: readonly (typeof MODES)[number][] = MODES) => {
  const s = builtinScenario(name)
  return { s, runs: modes.map((m) => runScenario(s, m, { frames: true })) }
}

test('the page is self-contained: no URL, one panel per mode, the data embedded', () => {
  const { s, runs } = runsFor('hybrid-two-goroutines')
  const html = renderHtml(s, runs)
  assert.not.match(html, /https?:|\/\/cdn|<link|src=/i)
  for (const mode of MODES) assert.ok(html.includes(`id="panel-${mode}"`), mode)
  assert.match(html, '<script type="application/json" id="gc-data">')
  assert.match(html, 'id="step-slider" type="range" min="0" max="11"')
  assert.match(html, 'id="pacer-go118"')
})

test('embedded data cannot close its script element', () => {
  const s = parseScenario({ description: '</script><script>alert(1)</script>', heap: { A: {} }, stacks: { G1: { s1: 'A' } }, steps: [['gcStart'], ['markTerm'], ['sweep']] })
  const html = renderHtml(s, [runScenario(s, 'hybrid', { frames: true })])
  assert.is(html.split('</script>').length - 1, 2, 'only the two real script elements close')
  assert.not.match(html, '<script>alert')
})

test('renderHtml refuses runs without frames', () => {
  const s = builtinScenario('alloc-white')
  assert.throws(() => renderHtml(s, [runScenario(s, 'none')]), /needs frames/)
})

test('layout: every object of every frame has a place; roots in a row above the heap', () => {
  const { runs } = runsFor('alloc-white')
  const layout = computeLayout(runs.flatMap((r) => r.frames!))
  assert.equal(Object.keys(layout.nodes).sort(), ['A', 'N'], 'N exists only in later frames but is placed')
  assert.equal(layout.roots.map((r) => r.name), ['G1'])
  const rootBottom = Math.max(...layout.roots.map((r) => r.y + r.h))
  for (const p of Object.values(layout.nodes)) {
    assert.ok(p.y > rootBottom)
    assert.ok(p.x > 0 && p.x < layout.width && p.y < layout.height)
  }
})

test('layout: globals get a root box; unreachable objects go below the reachable ones', () => {
  const s = parseScenario({ heap: { A: { x: 'B' }, B: {}, J: {} }, stacks: { G1: { s1: 'A' } }, globals: { g: 'B' }, steps: [] })
  const layout = computeLayout(runScenario(s, 'none', { frames: true }).frames!)
  assert.equal(layout.roots.map((r) => [r.name, r.kind]), [['G1', 'stack'], ['globals', 'globals']])
  assert.ok(layout.nodes['J']!.y > layout.nodes['A']!.y)
})

test.run()
