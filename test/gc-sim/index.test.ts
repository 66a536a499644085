import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as gcSim from '../../src/gc-sim/index.js'

const SRC = new URL('../../src/gc-sim/', import.meta.url)

test('the public surface: running, fuzzing, rendering, the pacer', () => {
  for (const name of ['runScenario', 'parseScenario', 'builtinScenario', 'fuzz', 'shrink', 'renderHtml', 'heapGoals', 'checkInvariants', 'Simulation', 'MODES', 'SCENARIOS']) {
    assert.ok(name in gcSim, name)
  }
})

test('src/gc-sim is browser-safe: no Node API, and no imports outside itself but the error base', () => {
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, SRC), 'utf8')
    assert.not.match(text, /from ['"]node:|require\(|\bprocess\.|\bBuffer\b/, file)
    for (const [, spec] of text.matchAll(/from ['"]([^'"]+)['"]/g)) {
      assert.ok(spec!.startsWith('./') || spec === '../errors.js', `${file} imports ${spec}`)
    }
  }
})

test.run()
