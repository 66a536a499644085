/**
 * The collector and the mutator operations: one `apply` per step.
 *
 * Phases: off → (gcStart, STW) mark → (markTerm, STW) marked → (sweep) off.
 *
 * Invariants:
 * - Only `scan`, stack scans, `drain` and the pauses blacken; only shading (by
 *   scans, barriers, root marking) makes an object grey. A grey object is on
 *   `#work` (which may also hold stale names that were blackened since).
 * - Write barriers run only in the mark phase; after markTerm every reachable
 *   object is black unless something was already lost, so none is needed.
 * - Allocation colour: white outside a cycle, the mode's colour while marking,
 *   black between markTerm and sweep (the object is live for this cycle).
 * - markTerm always scans every grey stack (never scanned, or dirtied in go1.5)
 *   and drains every grey object inside its pause: a cycle cannot end with
 *   work left. Each stack or object scanned inside a pause costs one STW unit.
 * - stw mode does no concurrent work. In Go ≤ 1.4 the world stopped at GC start;
 *   here the whole mark runs in the markTerm pause instead, so every mode runs
 *   the same trace (mutator steps before markTerm behave as if they came before
 *   the GC) and stw is the reference answer for what was garbage at that point.
 * - Validation (unknown names, unreachable objects, freed objects, wrong phase)
 *   throws a ScenarioError naming the step before anything changes.
 */
import type { Barrier, ModeName } from './barriers.js'
import { barrierFor } from './barriers.js'
import { ScenarioError } from './errors.js'
import type { Heap, HeapObject, Stack } from './heap.js'
import { GLOBALS } from './heap.js'
import { formatStep, stepPlace, type MutatorStep, type Step } from './steps.js'

export type Phase = 'off' | 'mark' | 'marked'

export interface Metrics {
  /** STW units: one per pause plus one per stack or object scanned inside it. */
  stw: number
  pauses: number
  /** The largest single pause, in the same units. */
  maxPause: number
  /** Stacks and objects scanned, concurrently or not. */
  markWork: number
  barrierCalls: number
  /** Barrier calls that turned a white object grey. */
  barrierShades: number
}

/** What one step did, for traces. */
export interface StepEvent {
  readonly index: number
  readonly text: string
  /** STW units of the pause this step was, 0 if it was not a pause. */
  pause: number
  readonly shaded: string[]
  readonly scanned: string[]
  note: string
}

export class Simulation {
  readonly heap: Heap
  readonly barrier: Barrier
  phase: Phase = 'off'
  readonly metrics: Metrics = { stw: 0, pauses: 0, maxPause: 0, markWork: 0, barrierCalls: 0, barrierShades: 0 }
  /** Objects freed by sweeps, in sweep order; `lost` ⊆ `freed`. */
  readonly freed: string[] = []
  readonly lost: string[] = []
  readonly floating: string[] = []
  /** Grey objects in shading order; may hold stale entries (already black). */
  #work: string[] = []
  /** The event of the step being applied, so helpers can record into it. */
  #event: StepEvent | null = null

  constructor(heap: Heap, mode: ModeName) {
    this.heap = heap
    this.barrier = barrierFor(mode)
  }

  get mode(): ModeName {
    return this.barrier.mode
  }

  apply(step: Step, index: number): StepEvent {
    const event: StepEvent = { index, text: formatStep(step), pause: 0, shaded: [], scanned: [], note: '' }
    this.#event = event
    const fail = (message: string): never => {
      throw new ScenarioError(index, stepPlace(index, step), message)
    }
    const needPhase = (phase: Phase, hint: string): void => {
      if (this.phase !== phase) fail(`${step[0]} needs the ${phase} phase but the collector is in phase ${this.phase} (${hint})`)
    }
    try {
      switch (step[0]) {
        case 'gcStart':
          needPhase('off', 'a cycle is already running')
          this.#gcStart()
          break
        case 'scanStack': {
          const stack = this.#stack(step[1], fail)
          needPhase('mark', 'scanStack runs between gcStart and markTerm')
          if (!this.barrier.concurrent) event.note = 'stw: the collector does nothing until the markTerm pause'
          else if (stack.color === 'black') event.note = `${stack.name} is already black`
          else this.#scanStack(stack)
          break
        }
        case 'scan': {
          const object = this.#object(step[1], fail)
          needPhase('mark', 'scan runs between gcStart and markTerm')
          if (!this.barrier.concurrent) event.note = 'stw: the collector does nothing until the markTerm pause'
          else if (object.color !== 'grey') event.note = `${object.name} is ${object.color}, not grey: nothing to scan in this mode`
          else this.#scanObject(object)
          break
        }
        case 'drain':
          needPhase('mark', 'drain runs between gcStart and markTerm')
          if (!this.barrier.concurrent) event.note = 'stw: the collector does nothing until the markTerm pause'
          else this.#drain()
          break
        case 'markTerm':
          needPhase('mark', 'run gcStart first')
          this.#markTerm()
          break
        case 'sweep':
          needPhase('marked', 'sweep comes after markTerm')
          this.#sweep()
          break
        default:
          this.#mutate(step, fail)
      }
    } finally {
      this.#event = null
    }
    return event
  }

  #gcStart(): void {
    this.phase = 'mark'
    if (!this.barrier.concurrent) {
      this.#note('stw: marking waits for the markTerm pause')
      return
    }
    this.#pause(() => {
      // Root marking of the globals block is queued, not scanned: Go scans
      // data and bss concurrently, and their writes have barriers.
      const globals = this.heap.globals
      if (globals !== undefined) this.#shade(globals.name)
      if (this.barrier.scanStacksAtStart) for (const stack of this.heap.stacks.values()) this.#scanStack(stack)
    })
  }

  #markTerm(): void {
    this.#pause(() => {
      if (!this.barrier.concurrent) {
        const globals = this.heap.globals
        if (globals !== undefined) this.#shade(globals.name)
      }
      for (const stack of this.heap.stacks.values()) if (stack.color === 'grey') this.#scanStack(stack)
      this.#drain()
    })
    this.phase = 'marked'
  }

  #sweep(): void {
    const live = this.heap.reachable()
    const freed: string[] = []
    for (const object of this.heap.objects.values()) {
      if (object.root || object.freed) continue
      if (object.color === 'white') {
        object.freed = true
        freed.push(object.name)
        this.freed.push(object.name)
        if (live.has(object.name)) this.lost.push(object.name)
      } else {
        if (!live.has(object.name)) this.floating.push(object.name)
        object.color = 'white'
      }
    }
    const globals = this.heap.globals
    if (globals !== undefined) globals.color = 'white'
    for (const stack of this.heap.stacks.values()) stack.color = 'grey'
    this.#work = []
    this.phase = 'off'
    this.#note(freed.length === 0 ? 'freed nothing' : `freed ${freed.join(' ')}`)
  }

  #note(text: string): void {
    const event = this.#event!
    event.note = event.note === '' ? text : `${event.note}; ${text}`
  }

  /** Runs `body` as one stop-the-world pause and charges its STW units. */
  #pause(body: () => void): void {
    const before = this.metrics.markWork
    body()
    const units = 1 + this.metrics.markWork - before
    this.metrics.stw += units
    this.metrics.pauses += 1
    this.metrics.maxPause = Math.max(this.metrics.maxPause, units)
    this.#event!.pause = units
  }

  /** Turns a white object grey. Returns whether it did. */
  #shade(name: string | null): boolean {
    if (name === null) return false
    const object = this.heap.objects.get(name)
    if (object === undefined || object.freed || object.color !== 'white') return false
    object.color = 'grey'
    this.#work.push(name)
    this.#event?.shaded.push(name)
    return true
  }

  #scanStack(stack: Stack): void {
    for (const target of stack.slots.values()) this.#shade(target)
    stack.color = 'black'
    this.metrics.markWork += 1
    this.#event?.scanned.push(stack.name)
  }

  #scanObject(object: HeapObject): void {
    for (const target of object.fields.values()) this.#shade(target)
    object.color = 'black'
    this.metrics.markWork += 1
    this.#event?.scanned.push(object.name)
  }

  #drain(): void {
    // FIFO, so the order objects turn black follows the order they were found.
    for (let i = 0; i < this.#work.length; i++) {
      const object = this.heap.objects.get(this.#work[i] as string)
      if (object !== undefined && object.color === 'grey') this.#scanObject(object)
    }
    this.#work = []
  }

  #stack(name: string, fail: (m: string) => never): Stack {
    const stack = this.heap.stacks.get(name)
    if (stack === undefined) fail(`unknown goroutine ${JSON.stringify(name)}; goroutines: ${[...this.heap.stacks.keys()].join(', ') || '(none)'}`)
    return stack as Stack
  }

  #object(name: string, fail: (m: string) => never): HeapObject {
    const object = this.heap.objects.get(name)
    if (object === undefined) fail(`unknown object ${JSON.stringify(name)}`)
    return object as HeapObject
  }

  #slot(stack: Stack, slot: string, fail: (m: string) => never): void {
    if (!stack.slots.has(slot)) {
      fail(`goroutine ${stack.name} has no slot ${JSON.stringify(slot)}; its slots: ${[...stack.slots.keys()].join(', ') || '(none)'}`)
    }
  }

  /** An object goroutine `g` is about to touch: it must exist, be reachable by g, and not be freed. */
  #touch(g: Stack, name: string, reach: Set<string>, fail: (m: string) => never): HeapObject {
    const object = this.#object(name, fail)
    if (object.freed) fail(`object ${name} was freed by an earlier sweep while still reachable (lost): this use is a use-after-free`)
    if (!reach.has(name)) fail(`object ${name} is not reachable from goroutine ${g.name} (its stack slots and the globals)`)
    return object
  }

  #field(object: HeapObject, field: string, fail: (m: string) => never): string | null {
    if (!object.fields.has(field)) fail(`object ${object.name} has no field ${JSON.stringify(field)}`)
    return object.fields.get(field) as string | null
  }

  /** Heap objects are open records (a store may add a field); the globals block is a fixed set of variables. */
  #declared(object: HeapObject, field: string, fail: (m: string) => never): void {
    if (object.root && !object.fields.has(field)) {
      fail(`the globals block has no variable ${JSON.stringify(field)}; declare it under "globals"`)
    }
  }

  #mutate(step: MutatorStep, fail: (m: string) => never): void {
    const g = this.#stack(step[1], fail)
    const reach = this.heap.reachableFrom(g.name)
    // Validate everything first, so a bad step changes nothing.
    let write: (() => void) | undefined
    switch (step[0]) {
      case 'load': {
        this.#slot(g, step[2], fail)
        const from = this.#touch(g, step[3], reach, fail)
        const value = this.#field(from, step[4], fail)
        write = () => g.slots.set(step[2], value)
        break
      }
      case 'store': {
        const into = this.#touch(g, step[2], reach, fail)
        this.#declared(into, step[3], fail)
        this.#slot(g, step[4], fail)
        const value = g.slots.get(step[4]) as string | null
        write = () => this.#heapWrite(g, into, step[3], value)
        break
      }
      case 'copy': {
        const into = this.#touch(g, step[2], reach, fail)
        this.#declared(into, step[3], fail)
        const from = this.#touch(g, step[4], reach, fail)
        const value = this.#field(from, step[5], fail)
        write = () => this.#heapWrite(g, into, step[3], value)
        break
      }
      case 'clear': {
        const into = this.#touch(g, step[2], reach, fail)
        this.#field(into, step[3], fail)
        write = () => this.#heapWrite(g, into, step[3], null)
        break
      }
      case 'drop':
        this.#slot(g, step[2], fail)
        write = () => g.slots.set(step[2], null)
        break
      case 'alloc': {
        this.#slot(g, step[2], fail)
        const name = step[3]
        if (this.heap.objects.has(name) || name === GLOBALS || this.heap.stacks.has(name)) {
          fail(`alloc needs a new name; ${JSON.stringify(name)} is already taken`)
        }
        write = () => {
          const color = this.phase === 'mark' ? this.barrier.allocColor : this.phase === 'marked' ? 'black' : 'white'
          this.heap.addObject(name, []).color = color
          g.slots.set(step[2], name)
          this.#note(`allocated ${name} ${color}`)
        }
        break
      }
    }
    if (this.phase === 'mark' && this.barrier.rescanStacksThatRan && g.color === 'black') {
      // Go 1.5: a goroutine that runs after its stack was scanned may have
      // written its stack with no barrier, so the stack must be scanned again.
      g.color = 'grey'
      this.#note(`${g.name} ran: its stack turns grey until markTerm re-scans it`)
    }
    write!()
  }

  #heapWrite(g: Stack, object: HeapObject, field: string, value: string | null): void {
    if (this.phase === 'mark' && this.barrier.hasBarrier) {
      const old = object.fields.get(field) ?? null
      this.metrics.barrierCalls += 1
      this.barrier.write(old, value, g.color === 'grey', (name) => {
        if (this.#shade(name)) this.metrics.barrierShades += 1
      })
      const shaded = this.#event!.shaded
      this.#note(shaded.length > 0 ? `barrier shaded ${shaded.join(' ')}` : 'barrier ran, shaded nothing')
    }
    object.fields.set(field, value)
  }
}
