/**
 * Giving typed arrays' memory back at once. A map task's buffer (spill.ts) and byte table
 * (bytetable.ts) double their arrays as keys arrive; the arrays they drop have lived long enough
 * to be in V8's old generation, and their memory (outside the JS heap) goes back only when a full
 * collection finds them dead. With the keys as bytes in those arrays the JS heap hardly grows, so
 * full collections are rare, and dropped arrays piled up: a Worker's array buffers held 111 MB at
 * the end of a 64 MiB word count map whose arrays were 57 MB (bench/NOTES.md).
 *
 * `release` moves an array's memory into a fresh ArrayBuffer that nothing references
 * (structuredClone with transfer moves the backing store, it does not copy it) and detaches the
 * array. The fresh buffer is in the young generation, so the next scavenge, a few megabytes of
 * allocation later, frees the memory.
 *
 * Precondition: nothing reads the array afterwards (a detached array reads as empty, and one
 * under RELEASE_MIN bytes is left as it is). An array that is a view of part of its buffer (a Buffer from Node's pool, say) is left alone, as is one
 * over shared memory: others may use the rest.
 */
export function release(...arrays: ArrayBufferView[]): void {
  for (const a of arrays) {
    const b = a.buffer
    if (b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength && b.byteLength >= RELEASE_MIN) structuredClone(b, { transfer: [b] })
  }
}

/** Smaller arrays are left to the collector: a move costs a few microseconds, more than they hold is worth. */
const RELEASE_MIN = 1 << 16

/**
 * `b` when `n` more bytes fit after its first `used`, else a copy of those bytes in a buffer
 * twice as large (or just large enough), `b`'s memory given back: the byte arenas of the map
 * buffer and the byte table grow by this.
 */
export function withRoom(b: Buffer<ArrayBuffer>, used: number, n: number): Buffer<ArrayBuffer> {
  if (used + n <= b.length) return b
  const bigger = Buffer.allocUnsafeSlow(Math.max(b.length * 2, used + n))
  b.copy(bigger, 0, 0, used)
  release(b)
  return bigger
}

/**
 * One set of arrays a thread keeps between tasks (the map buffer's, the byte table's): a task
 * that is done gives its arrays, and the next task takes them instead of growing its own from
 * nothing. Freeing them and growing again left the freed blocks in glibc's arena, and a second
 * wave of 64 MiB map tasks peaked 25-35 MiB a thread above the first (bench/NOTES.md).
 */
export class ThreadSpare<T> {
  #kept: T | undefined
  readonly #free: (t: T) => void

  /** `free` gives a set's memory back (release). */
  constructor(free: (t: T) => void) {
    this.#free = free
  }

  /** The kept set, now the caller's, when there is one and `fits` it; else undefined. */
  take(fits: (t: T) => boolean = () => true): T | undefined {
    const t = this.#kept
    if (t === undefined || !fits(t)) return undefined
    this.#kept = undefined
    return t
  }

  /** Keeps `t` (`empty` makes it as a new task expects it) when no set is kept, else frees it. */
  give(t: T, empty: (t: T) => void): void {
    if (this.#kept !== undefined) {
      this.#free(t)
      return
    }
    empty(t)
    this.#kept = t
  }

  /** Frees the kept set, if any: no task is expected to take it for now. */
  drop(): void {
    if (this.#kept === undefined) return
    this.#free(this.#kept)
    this.#kept = undefined
  }
}
