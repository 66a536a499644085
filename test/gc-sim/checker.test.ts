import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkInvariants, formatEdge } from '../../src/gc-sim/checker.js'
import { Heap, type Color } from '../../src/gc-sim/heap.js'

/** A heap from a compact description: objects with colours and fields, stacks with colours. */
function heap(objects: Record<string, [Color, Record<string, string | null>]>, stacks: Record<string, ['grey' | 'black', Record<string, string | null>]>): Heap {
  const h = new Heap()
  for (const [name, [color, fields]] of Object.entries(objects)) h.addObject(name, Object.entries(fields)).color = color
  for (const [name, [color, slots]] of Object.entries(stacks)) h.addStack(name, Object.entries(slots)).color = color
  return h
}

test('all white (before marking) satisfies both invariants', () => {
  const state = checkInvariants(heap({ A: ['white', { x: 'B' }], B: ['white', {}] }, { G1: ['grey', { s: 'A' }] }))
  assert.equal(state, { strong: null, weak: null })
})

test('a black object pointing to a white one breaks the strong invariant', () => {
  const state = checkInvariants(heap({ A: ['black', { x: 'B' }], B: ['white', {}], C: ['grey', { y: 'B' }] }, {}))
  assert.equal(state.strong, { from: 'A.x', to: 'B', kind: 'heap' })
  assert.is(state.weak, null, 'B is still pointed to by the grey C')
})

test('weak: protection through a chain of white objects from a grey object', () => {
  const h = heap({ A: ['black', { x: 'C' }], G: ['grey', { y: 'B' }], B: ['white', { z: 'C' }], C: ['white', {}] }, {})
  assert.is(checkInvariants(h).weak, null)
  h.objects.get('B')!.color = 'black' // the chain now passes through a black object: no protection
  const state = checkInvariants(h)
  assert.equal(state.weak, { from: 'A.x', to: 'C', kind: 'heap' })
})

test('a grey stack protects what its slots point to; a black one does not', () => {
  const h = heap({ A: ['black', { x: 'B' }], B: ['white', {}] }, { G1: ['grey', { s: 'B' }] })
  assert.is(checkInvariants(h).weak, null)
  h.stacks.get('G1')!.color = 'black'
  const state = checkInvariants(h)
  assert.equal(state.strong, { from: 'G1.s', to: 'B', kind: 'stack' }, 'stack edges are checked first')
  assert.equal(state.weak, { from: 'G1.s', to: 'B', kind: 'stack' })
})

test('the first violating edge follows declaration order', () => {
  const h = heap({ A: ['black', { x: 'C', y: 'D' }], C: ['white', {}], D: ['white', {}] }, {})
  assert.is(formatEdge(checkInvariants(h).weak!), 'A.x -> C')
})

test('a pointer to a freed object counts as pointing to white (the dangling pointer stays flagged)', () => {
  const h = heap({ A: ['black', { x: 'B' }], B: ['white', {}] }, {})
  h.objects.get('B')!.freed = true
  assert.equal(checkInvariants(h).weak, { from: 'A.x', to: 'B', kind: 'heap' })
})

test.run()
