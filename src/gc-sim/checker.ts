/**
 * The tri-color invariants, checked on a heap after every step.
 *
 * - Strong: no black object or black stack points to a white object.
 * - Weak: every white object pointed to by a black object or black stack is
 *   grey-protected: reachable from a grey object or a grey stack through a
 *   chain of white objects.
 *
 * Invariants of this module:
 * - Stacks are coloured roots: a scanned stack is black, an unscanned (or, in
 *   go1.5, dirtied) stack is grey. Counting grey stacks as protectors is what
 *   Go's hybrid-barrier proposal does; it also makes the weak invariant break
 *   exactly at the step that makes a loss inevitable (a drop from a grey stack,
 *   a clear of the last heap pointer), which is where a learner should look.
 * - Freed objects are ignored as sources; as targets they are white, so a
 *   dangling pointer left by a lost object stays flagged until the end.
 * - "First" means declaration order: stacks, then objects, each in insertion order.
 */
import type { Heap } from './heap.js'

export interface Edge {
  /** `G1.s2` for a stack slot, `A.x` for a field, `globals.g` for a global. */
  readonly from: string
  readonly to: string
  readonly kind: 'stack' | 'heap'
}

export interface InvariantState {
  readonly strong: Edge | null
  readonly weak: Edge | null
}

const OK: InvariantState = { strong: null, weak: null }

export function checkInvariants(heap: Heap): InvariantState {
  const blackToWhite: Edge[] = []
  for (const stack of heap.stacks.values()) {
    if (stack.color !== 'black') continue
    for (const [slot, target] of stack.slots) {
      if (target !== null && isWhite(heap, target)) blackToWhite.push({ from: `${stack.name}.${slot}`, to: target, kind: 'stack' })
    }
  }
  for (const object of heap.objects.values()) {
    if (object.color !== 'black' || object.freed) continue
    for (const [field, target] of object.fields) {
      if (target !== null && isWhite(heap, target)) blackToWhite.push({ from: `${object.name}.${field}`, to: target, kind: 'heap' })
    }
  }
  const first = blackToWhite[0]
  if (first === undefined) return OK
  const protectedSet = greyProtected(heap)
  const weak = blackToWhite.find((edge) => !protectedSet.has(edge.to)) ?? null
  return { strong: first, weak }
}

function isWhite(heap: Heap, name: string): boolean {
  const object = heap.objects.get(name)
  return object === undefined || object.freed || object.color === 'white'
}

/** White objects reachable from a grey object or grey stack through white objects only. */
function greyProtected(heap: Heap): Set<string> {
  const todo: string[] = []
  for (const stack of heap.stacks.values()) {
    if (stack.color === 'grey') for (const target of stack.slots.values()) if (target !== null) todo.push(target)
  }
  for (const object of heap.objects.values()) {
    if (object.color === 'grey' && !object.freed) for (const target of object.fields.values()) if (target !== null) todo.push(target)
  }
  const seen = new Set<string>()
  while (todo.length > 0) {
    const name = todo.pop() as string
    if (seen.has(name) || !isWhite(heap, name)) continue
    seen.add(name)
    const object = heap.objects.get(name)
    if (object !== undefined) for (const target of object.fields.values()) if (target !== null) todo.push(target)
  }
  return seen
}

export function formatEdge(edge: Edge): string {
  return `${edge.from} -> ${edge.to}`
}
