/**
 * The simulated heap: objects with named pointer fields, goroutine stacks with
 * named slots, and an optional globals block. Pointers are object names; null is nil.
 *
 * Invariants:
 * - Every non-null pointer names an entry of `objects`. The entry may be freed:
 *   a pointer to a freed object is exactly the dangling pointer a lost object
 *   leaves behind, and the simulator shows it instead of hiding it.
 * - `globals` (when the scenario has one) is a root object: it is coloured and
 *   scanned like an object and its writes go through the write barrier (Go
 *   treats data and bss like heap), but sweep never frees it.
 * - Stacks are roots without a barrier. A stack is grey until scanned, black
 *   after; only modes that re-scan (go1.5) turn a black stack grey again.
 * - Maps iterate in insertion (declaration) order, which makes "the first
 *   violating edge" and every trace deterministic.
 */

export type Color = 'white' | 'grey' | 'black'
export type StackColor = 'grey' | 'black'

/** The reserved name of the globals root object. */
export const GLOBALS = 'globals'

export interface HeapObject {
  readonly name: string
  readonly fields: Map<string, string | null>
  color: Color
  /** The globals block: a root, never freed. */
  readonly root: boolean
  /** Set by sweep. A freed object that is still pointed to was lost. */
  freed: boolean
}

export interface Stack {
  readonly name: string
  readonly slots: Map<string, string | null>
  color: StackColor
}

export class Heap {
  /** Every object ever created, including freed ones and the globals root. */
  readonly objects = new Map<string, HeapObject>()
  readonly stacks = new Map<string, Stack>()

  addObject(name: string, fields: Iterable<readonly [string, string | null]>, root = false): HeapObject {
    const object: HeapObject = { name, fields: new Map(fields), color: 'white', root, freed: false }
    this.objects.set(name, object)
    return object
  }

  addStack(name: string, slots: Iterable<readonly [string, string | null]>): Stack {
    const stack: Stack = { name, slots: new Map(slots), color: 'grey' }
    this.stacks.set(name, stack)
    return stack
  }

  get globals(): HeapObject | undefined {
    return this.objects.get(GLOBALS)
  }

  /**
   * What goroutine `g` may touch: everything reachable from its own stack slots
   * or from the globals. This is the fuzzer's legality rule and the check that
   * rejects a scripted step reaching into another goroutine's stack.
   */
  reachableFrom(g: string): Set<string> {
    const seeds: string[] = []
    const stack = this.stacks.get(g)
    if (stack !== undefined) for (const target of stack.slots.values()) if (target !== null) seeds.push(target)
    if (this.objects.has(GLOBALS)) seeds.push(GLOBALS)
    return this.#closure(seeds)
  }

  /** Everything reachable from any root: what a perfect collector keeps. */
  reachable(): Set<string> {
    const seeds: string[] = []
    for (const stack of this.stacks.values()) for (const target of stack.slots.values()) if (target !== null) seeds.push(target)
    if (this.objects.has(GLOBALS)) seeds.push(GLOBALS)
    return this.#closure(seeds)
  }

  #closure(seeds: string[]): Set<string> {
    const seen = new Set<string>()
    const todo = seeds
    while (todo.length > 0) {
      const name = todo.pop() as string
      if (seen.has(name)) continue
      seen.add(name)
      const object = this.objects.get(name)
      if (object === undefined) continue
      for (const target of object.fields.values()) if (target !== null && !seen.has(target)) todo.push(target)
    }
    return seen
  }

  /** A deep copy, so a trace can keep one frame per step. */
  clone(): Heap {
    const copy = new Heap()
    for (const o of this.objects.values()) {
      const c = copy.addObject(o.name, o.fields, o.root)
      c.color = o.color
      c.freed = o.freed
    }
    for (const s of this.stacks.values()) copy.addStack(s.name, s.slots).color = s.color
    return copy
  }
}
