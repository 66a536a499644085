import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatSize, heapGoals, parseGogc, parseSize } from '../../src/gc-sim/pacer.js'

const MiB = 1024 ** 2

test('the Go GC guide example: 8 MiB live + 1 MiB stacks + 1 MiB globals at GOGC=100 → 18 MiB (16 MiB before 1.18)', () => {
  const goals = heapGoals({ liveHeap: 8 * MiB, stacks: MiB, globals: MiB, gogc: 100 })
  assert.is(goals.go118, 18 * MiB)
  assert.is(goals.pre118, 16 * MiB)
  assert.is(formatSize(goals.go118), '18 MiB')
})

test('GOGC scales the headroom; GOGC=off has no goal', () => {
  assert.is(heapGoals({ liveHeap: 8 * MiB, stacks: MiB, globals: MiB, gogc: 50 }).go118, 13 * MiB)
  assert.is(heapGoals({ liveHeap: 8 * MiB, stacks: MiB, globals: MiB, gogc: 0 }).go118, 8 * MiB)
  assert.is(heapGoals({ liveHeap: 8 * MiB, stacks: MiB, globals: MiB, gogc: parseGogc('off') }).go118, Infinity)
})

test('sizes parse with binary and decimal units; bad input echoes the value', () => {
  assert.is(parseSize('8MiB'), 8 * MiB)
  assert.is(parseSize('512KiB'), 512 * 1024)
  assert.is(parseSize('1.5GiB'), 1.5 * 1024 ** 3)
  assert.is(parseSize('1MB'), 1e6)
  assert.is(parseSize('4096'), 4096)
  assert.throws(() => parseSize('8 potatoes'), /cannot parse size "8 potatoes"/)
  assert.throws(() => parseGogc('-5'), /got "-5"/)
  assert.throws(() => heapGoals({ liveHeap: -1, stacks: 0, globals: 0, gogc: 100 }), /liveHeap must be a non-negative number, got -1/)
})

test.run()
