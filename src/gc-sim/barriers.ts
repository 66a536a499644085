/**
 * Collector modes as small strategy objects: which write barrier runs on heap
 * writes, what colour allocation gets during marking, and how stacks are handled.
 *
 * Invariants:
 * - Barriers run only on heap writes (store, copy, clear, including writes to
 *   the globals block) and only while marking. Stack writes (load, drop, alloc)
 *   never run a barrier: that is the cost model that makes Go's design hard.
 * - `write` shades through the callback and never touches the heap itself; the
 *   simulator performs the write after the barrier, as the runtime does.
 * - `safe` is a claim the fuzzer checks, under the legality rule of the model:
 *   a goroutine only touches objects reachable from its own stack or the
 *   globals, stacks are scanned one goroutine at a time with that goroutine
 *   stopped, and no goroutine writes into another goroutine's stack.
 */

export const MODES = [
  'stw',
  'none',
  'dijkstra-norescan',
  'go1.5',
  'yuasa',
  'yuasa-satb',
  'hybrid',
  'hybrid-uncond',
] as const

export type ModeName = (typeof MODES)[number]

export interface Barrier {
  readonly mode: ModeName
  readonly title: string
  /** false only for stw: the collector does nothing while the mutator runs. */
  readonly concurrent: boolean
  /** Colour of objects allocated while marking (after mark termination: black). */
  readonly allocColor: 'white' | 'black'
  /** Scan every stack inside the gcStart pause (snapshot at the beginning). */
  readonly scanStacksAtStart: boolean
  /** A black stack whose goroutine runs turns grey and is re-scanned at markTerm. */
  readonly rescanStacksThatRan: boolean
  /** Whether heap writes call a barrier at all (counted as barrier calls). */
  readonly hasBarrier: boolean
  /** The claim the fuzzer checks; `why` says under which assumptions. */
  readonly safe: boolean
  readonly why: string
  /** Called before `slot = value` replaces `old`; shades what this barrier shades. */
  write(old: string | null, value: string | null, writerStackGrey: boolean, shade: (name: string | null) => void): void
}

const noBarrier = (): void => {}

// Dijkstra 1978: shade the pointer being installed, so a black object never
// points to a white one (the strong invariant) for heap edges.
const insertion: Barrier['write'] = (_old, value, _grey, shade) => shade(value)
// Yuasa 1990: shade the pointer being overwritten, so nothing reachable when
// marking began escapes through a heap deletion (snapshot at the beginning).
const deletion: Barrier['write'] = (old, _value, _grey, shade) => shade(old)

const MODE_TABLE: Record<ModeName, Barrier> = {
  stw: {
    mode: 'stw',
    title: 'stop the world (Go ≤ 1.4): the whole mark runs inside one pause',
    concurrent: false,
    allocColor: 'white',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: false,
    safe: true,
    why: 'the mutator never runs while marking, so nothing can hide an object',
    write: noBarrier,
  },
  none: {
    mode: 'none',
    title: 'concurrent mark with no write barrier',
    concurrent: true,
    allocColor: 'white',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: false,
    safe: false,
    why: 'moving a pointer from a white-reachable place into a black object and deleting the original hides the object',
    write: noBarrier,
  },
  'dijkstra-norescan': {
    mode: 'dijkstra-norescan',
    title: 'Dijkstra insertion barrier on heap writes, stacks scanned once, no re-scan',
    concurrent: true,
    allocColor: 'white',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: true,
    safe: false,
    why: 'stack writes have no barrier: a black stack can load a white object whose last heap pointer is then deleted, and a white allocation on a black stack is never found',
    write: insertion,
  },
  'go1.5': {
    mode: 'go1.5',
    title: 'Go 1.5–1.7: Dijkstra insertion barrier, white allocation, re-scan of stacks that ran at mark termination',
    concurrent: true,
    allocColor: 'white',
    scanStacksAtStart: false,
    rescanStacksThatRan: true,
    hasBarrier: true,
    safe: true,
    why: 'heap edges keep the strong invariant; every stack that changed after its scan is scanned again with the world stopped (a longer pause)',
    write: insertion,
  },
  yuasa: {
    mode: 'yuasa',
    title: 'Yuasa deletion barrier, stacks scanned concurrently one by one, black allocation',
    concurrent: true,
    allocColor: 'black',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: true,
    safe: false,
    why: 'a deletion barrier keeps a snapshot only if the roots are snapshotted: a not-yet-scanned stack can store its pointer into a black object and then drop it with no barrier',
    write: deletion,
  },
  'yuasa-satb': {
    mode: 'yuasa-satb',
    title: 'Yuasa deletion barrier with every stack scanned inside the start pause (snapshot at the beginning)',
    concurrent: true,
    allocColor: 'black',
    scanStacksAtStart: true,
    rescanStacksThatRan: false,
    hasBarrier: true,
    safe: true,
    why: 'everything reachable at gcStart is marked (roots in the pause, heap deletions shaded), everything newer is allocated black; costs a start pause that grows with the number of stacks, and floating garbage',
    write: deletion,
  },
  hybrid: {
    mode: 'hybrid',
    title: 'Go 1.8 hybrid barrier as proposed: shade the old value; shade the new one if the writer’s stack is grey; allocate black',
    concurrent: true,
    allocColor: 'black',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: true,
    safe: true,
    why: 'a black stack can only hold pointers it loaded from the heap, which stay grey-protected because every heap deletion shades; a grey stack shades what it publishes. No stack re-scan',
    write(old, value, writerStackGrey, shade) {
      shade(old)
      if (writerStackGrey) shade(value)
    },
  },
  'hybrid-uncond': {
    mode: 'hybrid-uncond',
    title: 'Go 1.8+ as shipped: shade both the old and the new value, allocate black',
    concurrent: true,
    allocColor: 'black',
    scanStacksAtStart: false,
    rescanStacksThatRan: false,
    hasBarrier: true,
    safe: true,
    why: 'shades a superset of what hybrid shades (the runtime cannot cheaply ask whether the current stack is grey)',
    write(old, value, _grey, shade) {
      shade(old)
      shade(value)
    },
  },
}

export function barrierFor(mode: ModeName): Barrier {
  return MODE_TABLE[mode]
}

export function isMode(name: string): name is ModeName {
  return (MODES as readonly string[]).includes(name)
}
