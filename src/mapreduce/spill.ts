/**
 * The map side's buffer: emitted pairs grouped by key in memory until the task's share of the
 * memory budget fills, then spilled: keys bucketed by partition (one partitioner call per distinct
 * key and spill, not per emit), per partition sorted, the combiner run over the values of each key
 * that has several (repeats of one value folded: #folded), and the result written as one sorted
 * run file (a value repeated a few times without combining: one record with a count).
 *
 * Layout: a hash table from key to a slot number (one lookup per emit: string keys in an
 * open-addressing table of int32s, number keys in a Map), the string keys' UTF-8 one after
 * another in one byte array (slot s's from #kOff[s] to #kOff[s + 1]), per-slot int32 arrays (the first and
 * last entry of the slot's value list and how many entries it has), and one arena of values for
 * all keys: per entry a float64 (number values), a string (string values, kept in a JS array), a
 * type byte, a repeat count and an int32 link to the key's next entry. An entry stands for its
 * value `rep` times in a row: a value equal to the last one of its key (the same string, or the
 * same number, -0 and 0 apart) only counts up the key's last entry. So an emit allocates nothing
 * (a new string key only its bytes, a number key its Map entries), however many values a key
 * gets, neither the keys nor the number values of word count become heap objects, and a key
 * emitted with 1 each time holds one entry, read back from one place. The arrays double as they
 * fill, give back what they drop at once (memory.ts), and pass, when the task is done, to the
 * thread's next buffer (`spare`). Rejected: an array of values per key (what this was): a JS
 * array per distinct key, most of them holding one value, and regrown after every early
 * combine; a JS string per key (what this was until 2026-12-06): 40 bytes a word where its UTF-8
 * takes 8, 854k strings for the collector to mark in a 64 MiB split, and each spill sorting,
 * hashing and encoding them again.
 *
 * With a combiner, a key whose list reaches COMBINE_AT entries (repeats take none) is combined
 * early, between records (the task calls `combineReady()` when `ready` is set): its list is detached (its entries become
 * dead) and what combine emits for it starts the key's new list. So a frequent key holds a few
 * values, not one per emit, and the buffer spills later. Combine may thus see a key several
 * times, on consecutive batches of its values and then on what those batches became, as
 * Hadoop's combiner may run on each spill and again on merges: valid for the commutative and
 * associative functions a combiner must be. It may also see a value never: a key that holds one
 * value when the buffer spills is written as it is (Hadoop's combiner may run zero times too), so
 * reduce must take map output and combine output alike, as it must in Hadoop; so is a key whose
 * only value repeats fewer than FOLD_AT times (one record with a count: the reducer's await per
 * value costs what combine's would, without the call). When the arena is full it is compacted (the live
 * lists copied, slot by slot, into fresh arrays) if at least half its entries are dead, else
 * grown.
 *
 * Invariants:
 * - Keys live in the key table or the number Map, never as object properties (a key `__proto__` is
 *   an ordinary key; 1 and '1' are different keys, in different tables).
 * - Within a key, values keep their emit order, in memory and in the run (an early combine's
 *   output takes the place of the batch it combined, ahead of the values emitted after it). A
 *   repeat count only merges equal neighbours, which are indistinguishable, so the values read
 *   back are the ones emitted, in order.
 * - The arena's arrays are never written below `#used` except by compaction, which writes fresh
 *   arrays: a detached list stays readable, through the arrays it was taken from, while the
 *   combine that iterates it emits (and so grows or compacts the arena).
 * - `bytes` is an estimate of the heap the buffer holds (slots, keys, the arena's used entries,
 *   dead ones included until a compaction, and their strings), checked between records: a single
 *   map call that emits more than the share still goes to memory first.
 * - After `spill()`, the buffer is empty and every pair emitted so far is in exactly one run of
 *   the partition its key hashes to (combine must not move a key to another partition: checked,
 *   early combines too).
 * - A string key's bytes are the UTF-8 of its well-formed text, so their order is the key order
 *   (keys.ts) and, for the default partitioner, its table hash is its partition's hash.
 * - A spill that fails (its combine threw) leaves the buffer unusable (its key table holds the
 *   sort's ranges, its tail array the partitions): the task fails with it.
 */

import path from 'node:path'
import { InternalError } from '../errors.js'
import { AfterReturnError, CombineKeyError } from './errors.js'
import type { Scalar, TaskContext } from './job.js'
import { checkKey, checkValue, compareKeys, textOf } from './keys.js'
import { releaseSpareTable, sortByBytes, type ByteTable } from './bytetable.js'
import { FNV_OFFSET as OFFSET, FNV_PRIME as PRIME, type BytePartitioner, type Partitioner } from './partition.js'
import { release, ThreadSpare, withRoom } from './memory.js'
import { keyText, RunWriter } from './runfile.js'

/** An estimate of V8's heap bytes for a string or number held in an array or a Map. */
function sizeOf(v: Scalar): number {
  return typeof v === 'number' ? 16 : 24 + v.length * 2
}

/** Arena entries of one key that make it combined early (between records); repeats of a value add none. */
export const COMBINE_AT = 64

/** Repeats of one value from which a combine folds them (#folded) rather than iterating each. */
export const FOLD_AT = 32

export type Combine = (key: Scalar, values: AsyncIterable<Scalar>, emit: (k: Scalar, v: Scalar) => void, ctx: TaskContext) => void | Promise<void>

export interface SpillCounters {
  spills: number
  spilledRecords: number
  combineInputRecords: number
  combineOutputRecords: number
}

export class MapBuffer {
  /**
   * String keys to their slots, all partitions together (a key's partition is computed once per
   * spill, not once per emit): an open-addressing table probed linearly, two int32s a cell, the
   * key's hash (hashKey: FNV-1a of its UTF-8) and its slot + 1 (0: empty), at most MAX_LOAD full.
   * Not a `Map`: a `Map` lookup of a string fresh from `split` took twice as long (word count's
   * map tasks spent 60 % of their time in it) and 28-56 bytes a key against 16-32 here
   * (bench/NOTES.md).
   */
  #table = new Int32Array(INIT_CELLS * 2)
  #mask = INIT_CELLS - 1
  #strings = 0
  /** Number keys to their slots (SameValueZero: NaN is one key, -0 and 0 are one key), and back. */
  #numbers = new Map<number, number>()
  #numKeys = new Map<number, number>()
  /** Slots in use; they are numbered in first-emit order from 0 after each spill. */
  #slots = 0
  /**
   * The string keys' UTF-8, slot after slot: slot s's key is #kb[#kOff[s], #kOff[s + 1]) (#kOff[0]
   * is 0 and stays 0; a number key's slot holds no bytes). Not a JS string per key: 8-9 bytes a word
   * of word count against 40 (a string and its pointer), no object for the GC to mark, and the
   * spill sorts, partitions and writes the bytes as they are (bench/NOTES.md).
   */
  #kb = Buffer.allocUnsafeSlow(INIT_KEY_BYTES)
  #kbUsed = 0
  #kOff = new Int32Array(INIT_SLOTS)
  /** Per slot: the first and last arena entry of its value list (valid while #ents > 0) and how many entries it has (0: the list was taken by a combine; how many values it holds is the sum of their repeats, #values). */
  #head = new Int32Array(INIT_SLOTS)
  #tail = new Int32Array(INIT_SLOTS)
  #ents = new Int32Array(INIT_SLOTS)
  /** The value arena: entries below #used, each a number (#num) or a string (#str, when #isStr) repeated #rep times, chained per slot by #next (-1 ends a list). */
  #arena = new Arena(INIT_VALUES)
  #used = 0
  /** Entries in no slot's list (combined early); the arena is compacted rather than grown when they are half of it. */
  #dead = 0
  /** The slots' share of `bytes` (keys included); the rest is the arena's entries, dead ones too, and their strings. */
  #slotBytes = 0
  readonly #reducers: number
  bytes = 0
  /** The run files written so far: runs[p] lists partition p's, oldest first. */
  readonly runs: string[][]
  readonly counters: SpillCounters = { spills: 0, spilledRecords: 0, combineInputRecords: 0, combineOutputRecords: 0 }
  readonly #limit: number
  readonly #dir: string
  readonly #partition: Partitioner
  /** The partitioner of a string key's bytes and hash, when it needs no key text (partition.ts). */
  readonly #bytePartition: BytePartitioner | undefined
  readonly #combine: Combine | undefined
  readonly #ctx: TaskContext
  /** Slots whose values reached COMBINE_AT since their last combine; `ready` says the list is not empty. */
  #ready: number[] = []
  ready = false
  /** Early combining stays on while it shrinks what it combines (a combine that does not, e.g. one that passes values through, would only cost). */
  #early: boolean
  /** Whether add() may mark a slot ready (off while a combine's output is being added back). */
  #mark: boolean
  #released = false
  /** True while combineReady's combines run: their output comes back through add(), which may replace the arena they read. */
  #combining = false
  /** Whether repeated values are folded before a combine (#folded); off for good once a combine does not allow it. */
  #fold = true
  /** What the combine in progress got: its key and partition, and where its output goes. */
  #cKey: Scalar = ''
  #cPart = 0
  #cOut: (k: Scalar, v: Scalar) => void = () => {}
  #cEmitted = 0
  /** A combine is running (between #begin and #end): only then may its emit be called. */
  #cOpen = false
  /** The first emit of a combine after it returned (AfterReturnError), for the task to fail with. */
  late: Error | undefined
  #cMoved = false
  readonly #emit = (k: unknown, v: unknown): void => this.#combineEmit(k, v)
  /** The slot of the key an early combine got. */
  #cSlot = 0
  /** An early combine's output, back into the buffer: the usual pair, of the key it got, without a Map lookup. */
  readonly #readd = (k: Scalar, v: Scalar): void => {
    if (k === this.#cKey) this.#append(this.#cSlot, v)
    else this.add(k, v)
  }

  constructor(o: { reducers: number; limit: number; dir: string; partition: Partitioner; bytePartition?: BytePartitioner | undefined; combine: Combine | undefined; ctx: TaskContext }) {
    this.#reducers = o.reducers
    this.runs = Array.from({ length: o.reducers }, () => [])
    this.#limit = o.limit
    this.#dir = o.dir
    this.#partition = o.partition
    this.#bytePartition = o.bytePartition
    this.#combine = o.combine
    this.#early = o.combine !== undefined
    this.#mark = this.#early
    this.#ctx = o.ctx
    const a = spare.take()
    if (a !== undefined) {
      this.#table = a.table
      this.#mask = a.table.length / 2 - 1
      this.#kb = a.kb
      this.#kOff = a.kOff
      this.#head = a.head
      this.#tail = a.tail
      this.#ents = a.ents
      this.#arena = a.arena
    }
  }

  /**
   * Buffers one pair (its partition is checked when it spills). The value is checked; the key is
   * a number or a string that need not be well-formed: it is hashed and compared as its UTF-8,
   * where a lone surrogate is U+FFFD's bytes, which is the UTF-8 of the key checkKey makes of it.
   */
  add(key: Scalar, value: Scalar): void {
    if (typeof key === 'string') {
      const h = hashKey(key)
      const s = this.#find(key, h)
      if (s >= 0) this.#append(s, value)
      else this.#newString(checkKey(key) as string, h, value)
      return
    }
    const k = checkKey(key) as number
    const s = this.#numbers.get(k)
    if (s !== undefined) {
      this.#append(s, value)
      return
    }
    const e = this.#entry(value)
    this.#numbers.set(k, this.#slots)
    this.#numKeys.set(this.#slots, k)
    this.#newSlot(e, NUM_KEY_BYTES)
  }

  /** The slot of string key `k` (hash `h`, just computed by hashKey), or -1. */
  #find(k: string, h: number): number {
    const t = this.#table
    const mask = this.#mask
    for (let i = cellOf(h, mask); ; i = (i + 1) & mask) {
      const s1 = t[2 * i + 1]!
      if (s1 === 0) return -1
      if (t[2 * i] === h && this.#same(k, s1 - 1)) return s1 - 1
    }
  }

  /** Whether slot s (a string key's) holds the key hashKey hashed last, `k`. */
  #same(k: string, s: number): boolean {
    const b = this.#kb
    const start = this.#kOff[s]!
    const n = this.#kOff[s + 1]! - start
    if (wideLen < 0) {
      // ASCII: its units are its bytes.
      if (n !== k.length) return false
      for (let i = 0; i < n; i++) if (b[start + i] !== k.charCodeAt(i)) return false
      return true
    }
    if (n !== wideLen) return false
    for (let i = 0; i < n; i++) if (b[start + i] !== wideBytes[i]) return false
    return true
  }

  /** A slot for string key `k` (hash `h`, not in the table, hashed last by hashKey or its ill-formed original was), its first value `value`. */
  #newString(k: string, h: number, value: Scalar): void {
    const e = this.#entry(value)
    const s = this.#slots
    if (++this.#strings > (this.#mask + 1) * MAX_LOAD) this.#growTable()
    const t = this.#table
    const i = freeCell(t, h, this.#mask)
    t[2 * i] = h
    t[2 * i + 1] = s + 1
    const n = wideLen < 0 ? k.length : wideLen
    const b = (this.#kb = withRoom(this.#kb, this.#kbUsed, n))
    const at = this.#kbUsed
    if (wideLen < 0) for (let j = 0; j < n; j++) b[at + j] = k.charCodeAt(j)
    else wideBytes.copy(b, at, 0, n)
    this.#kbUsed = at + n
    this.#newSlot(e, n)
  }

  /** Doubles the table, its cells placed again by their hashes. */
  #growTable(): void {
    const old = this.#table
    const cells = old.length
    const t = new Int32Array(cells * 2)
    const mask = cells - 1
    for (let j = 0; j < cells; j += 2) {
      const s1 = old[j + 1]!
      if (s1 === 0) continue
      const h = old[j]!
      const i = freeCell(t, h, mask)
      t[2 * i] = h
      t[2 * i + 1] = s1
    }
    release(old)
    this.#table = t
    this.#mask = mask
  }

  /**
   * Appends `value` to slot s's list: one more repeat of its last entry when that holds the same
   * value (Object.is but for NaN, which is never repeated: equal by === and, for 0, of the same
   * sign), else a new entry.
   */
  #append(s: number, value: Scalar): void {
    if (this.#ents[s]! > 0) {
      const a = this.#arena
      const t = this.#tail[s]!
      const same = typeof value === 'number' ? a.isStr[t] === 0 && a.num[t] === value && (value !== 0 || 1 / a.num[t]! === 1 / value) : a.isStr[t] === 1 && a.str[t] === value
      if (same && a.rep[t]! < MAX_REP) {
        // A repeat takes no memory: it never makes the key ready for an early combine.
        a.rep[t]!++
        return
      }
    }
    this.#link(s, this.#entry(value))
  }

  #markReady(s: number): void {
    this.#ready.push(s)
    this.ready = true
  }

  /** A new arena entry holding `value`, linked to nothing yet. */
  #entry(value: Scalar): number {
    let e = this.#used
    if (e === this.#arena.next.length) e = this.#makeRoom()
    this.#used = e + 1
    const a = this.#arena
    a.next[e] = -1
    a.rep[e] = 1
    if (typeof value === 'number') {
      a.num[e] = value
      a.isStr[e] = 0
      this.bytes += ENTRY_BYTES
    } else {
      a.str[e] = value
      a.isStr[e] = 1
      this.bytes += ENTRY_BYTES + sizeOf(value)
    }
    return e
  }

  /** Appends entry e (one value) to slot s's list. */
  #link(s: number, e: number): void {
    if (this.#ents[s] === 0) {
      this.#head[s] = e
      this.#ents[s] = 1
    } else {
      this.#arena.next[this.#tail[s]!] = e
      if (++this.#ents[s]! === COMBINE_AT && this.#mark) this.#markReady(s)
    }
    this.#tail[s] = e
  }

  /** The next slot, its list entry e, its key's bytes (in #kb up to #kbUsed) `keyBytes` long. */
  #newSlot(e: number, keyBytes: number): void {
    const s = this.#slots++
    if (s === this.#head.length) {
      this.#head = grown(this.#head)
      this.#tail = grown(this.#tail)
      this.#ents = grown(this.#ents)
    }
    if (s + 1 === this.#kOff.length) this.#kOff = grown(this.#kOff)
    this.#kOff[s + 1] = this.#kbUsed
    this.#head[s] = e
    this.#tail[s] = e
    this.#ents[s] = 1
    const b = SLOT_BYTES + keyBytes
    this.#slotBytes += b
    this.bytes += b
  }

  /** Slot s's key when it is a number, else undefined. */
  #numKey(s: number): number | undefined {
    return this.#numKeys.size === 0 ? undefined : this.#numKeys.get(s)
  }

  /** Slot s's key: its number, or the text of its bytes. */
  #keyOf(s: number): Scalar {
    const n = this.#numKey(s)
    if (n !== undefined) return n
    const start = this.#kOff[s]!
    return keyText(this.#kb, start, this.#kOff[s + 1]! - start)
  }

  /** Sets slot s's key as the key of w's next records. */
  #writeKey(w: RunWriter, s: number): void {
    const n = this.#numKey(s)
    if (n !== undefined) {
      w.key(n)
      return
    }
    const start = this.#kOff[s]!
    w.keyBytes(this.#kb, start, this.#kOff[s + 1]! - start)
  }

  /**
   * The arena is full: compacts it when at least half its entries are dead, else grows it;
   * returns the entry to use next.
   */
  #makeRoom(): number {
    if (this.#dead * 2 < this.#used) this.#setArena(this.#arena.grown(this.#arena.next.length * 2))
    else this.#compact()
    return this.#used
  }

  /** Replaces the arena, giving the old one's memory back unless a combine may still read it (ListIterator). */
  #setArena(a: Arena): void {
    if (!this.#combining) this.#arena.release()
    this.#arena = a
  }

  /**
   * The task is done with the buffer (spilled, or failed): its arrays become this thread's spare,
   * for the next task's buffer, or, when there is one already, their memory is given back at once
   * (memory.ts). Nothing may be added after; a second call does nothing.
   */
  release(): void {
    if (this.#released) return
    this.#released = true
    const arrays: BufferArrays = { table: this.#table, kb: this.#kb, kOff: this.#kOff, head: this.#head, tail: this.#tail, ents: this.#ents, arena: this.#arena }
    if (this.#combining) releaseArrays(arrays)
    else spare.give(arrays, emptied)
  }

  /**
   * Copies the live lists, slot by slot, into fresh arrays of the same capacity, and recounts
   * `bytes`. Fresh arrays, never in place: a combine in progress iterates a detached list through
   * the arrays it started with (ListIterator), and those must stay as they were.
   */
  #compact(): void {
    const old = this.#arena
    const a = new Arena(old.next.length)
    let n = 0
    let strBytes = 0
    for (let s = 0; s < this.#slots; s++) {
      const c = this.#ents[s]!
      if (c === 0) continue
      let e = this.#head[s]!
      this.#head[s] = n
      for (let i = 0; i < c; i++, e = old.next[e]!) {
        a.next[n] = n + 1
        a.rep[n] = old.rep[e]!
        if (old.isStr[e] === 0) {
          a.num[n] = old.num[e]!
        } else {
          const v = old.str[e]!
          a.str[n] = v
          a.isStr[n] = 1
          strBytes += sizeOf(v)
        }
        n++
      }
      a.next[n - 1] = -1
      this.#tail[s] = n - 1
    }
    this.#setArena(a)
    this.#used = n
    this.#dead = 0
    this.bytes = this.#slotBytes + n * ENTRY_BYTES + strBytes
  }

  /** True when the buffer should spill: its estimate reached the limit, even after dropping what early combines left dead. */
  get full(): boolean {
    if (this.bytes < this.#limit) return false
    if (this.#dead * 2 >= this.#used) this.#compact()
    return this.bytes >= this.#limit
  }

  get empty(): boolean {
    return this.#used === 0
  }

  /** How many values slot s's list holds (0 once taken). */
  #values(s: number): number {
    const a = this.#arena
    let n = 0
    for (let e = this.#head[s]!, i = this.#ents[s]!; i > 0; i--, e = a.next[e]!) n += a.rep[e]!
    return n
  }

  /** Detaches slot s's value list (its entries become dead) and returns an iterable over it. */
  #take(s: number): ListValues {
    const vs = new ListValues(this.#arena, this.#head[s]!, this.#ents[s]!)
    this.#dead += this.#ents[s]!
    this.#ents[s] = 0
    return vs
  }

  /** Combines the slots whose values reached COMBINE_AT, each in place (precondition: a combiner). */
  async combineReady(): Promise<void> {
    const slots = this.#ready
    this.#ready = []
    this.ready = false
    this.#mark = false // what combine emits goes back through add(): no key becomes ready meanwhile
    this.#combining = true
    let got = 0
    let gave = 0
    try {
      for (const s of slots) {
        const c = this.#values(s)
        if (c === 0) continue
        const k = this.#keyOf(s)
        got += c
        this.#cSlot = s
        const r = this.#combineSlot(s, k, this.#partition(k), this.#readd, c)
        if (r !== undefined) await r
        gave += this.#end()
      }
    } finally {
      this.#combining = false
      this.#early = this.#early && gave * 2 <= got
      this.#mark = this.#early
    }
  }

  /**
   * Writes a chunk job's byte table as a spill of its own (one run per non-empty partition, a
   * record per key with its sum) and empties the table, without a string per key: its keys are
   * well-formed UTF-8 (the caller checked `table.wellFormed()`) and `partition` gives each the
   * partition the buffer's partitioner gives its text. Nothing goes through the combiner: the
   * table already summed each key, and a combiner may run zero times.
   */
  spillTable(table: ByteTable, partition: BytePartitioner): void {
    if (table.size === 0) return
    const n = this.counters.spills++
    const lists = table.sorted(this.#reducers, partition)
    const a = table.arena
    for (let p = 0; p < this.#reducers; p++) {
      const ids = lists[p]!
      if (ids.length === 0) continue
      const w = new RunWriter(this.#runPath(n, p))
      try {
        for (let i = 0; i < ids.length; i++) {
          const e = ids[i]!
          w.bytesRecord(a, table.keyStart(e), table.keyLength(e), table.sum(e))
        }
      } finally {
        w.close()
      }
      this.#keep(p, w)
    }
    release(...lists)
    table.clear()
  }

  /** The file of spill n's run for partition p (`suffix`: a second run of that spill). */
  #runPath(n: number, p: number, suffix = ''): string {
    return path.join(this.#dir, `spill-${n}-p${p}${suffix}.run`)
  }

  /** Counts a closed run's records and adds it to partition p's runs. */
  #keep(p: number, w: RunWriter): void {
    this.counters.spilledRecords += w.records
    this.runs[p]!.push(w.path)
  }

  /** Writes everything buffered as one run per non-empty partition, and empties the buffer. */
  async spill(): Promise<void> {
    if (this.empty) return
    const n = this.counters.spills++
    const lists = this.#sortedByPartition()
    for (let p = 0; p < this.#reducers; p++) {
      const slots = lists[p]!
      if (slots.length === 0) continue
      const w = new RunWriter(this.#runPath(n, p))
      let second: RunWriter | undefined
      try {
        if (this.#combine === undefined) {
          const a = this.#arena
          for (let i = 0; i < slots.length; i++) {
            const s = slots[i]!
            this.#writeKey(w, s)
            for (let e = this.#head[s]!, j = this.#ents[s]!; j > 0; j--, e = a.next[e]!) {
              const v = a.isStr[e] === 0 ? a.num[e]! : a.str[e]!
              w.value(v, a.rep[e]!)
            }
          }
        } else {
          second = await this.#combineInto(w, p, slots, this.#runPath(n, p, '-moved'))
        }
      } finally {
        w.close()
      }
      this.#keep(p, w)
      if (second !== undefined) this.#keep(p, second)
    }
    // This spill's own arrays, proportional to the keys, go at once (memory.ts).
    release(...lists)
    // A table that filled once fills again to about the same size: kept, emptied (it held the
    // sort's key ranges); so are the slot arrays, the key bytes and the arena (no combine reads
    // it now).
    this.#table.fill(0)
    this.#strings = 0
    this.#slots = 0
    this.#kbUsed = 0
    this.#numbers = new Map()
    this.#numKeys = new Map()
    this.#arena.str.length = 0
    this.#used = 0
    this.#dead = 0
    this.#slotBytes = 0
    this.#ready = []
    this.ready = false
    this.bytes = 0
  }

  /**
   * The slots that hold values, by partition, each list in key order. A string key's partition
   * comes from its bytes and the hash its table cell keeps, when the partitioner needs no text
   * (else from its text), and string keys sort by their bytes; number keys (rare) make the sort
   * compare keys as keys (compareKeys: a number before the string of its text).
   */
  #sortedByPartition(): Int32Array[] {
    const n = this.#slots
    const reducers = this.#reducers
    // Each slot's partition (-1: no values), in the slots' tail array: nothing is appended to a
    // list while the buffer spills, and the spill's end empties the slots.
    const part = this.#tail.subarray(0, n).fill(-1)
    const bp = this.#bytePartition
    const kb = this.#kb
    const kOff = this.#kOff
    if (bp !== undefined) {
      const t = this.#table
      for (let j = 0; j < t.length; j += 2) {
        const s = t[j + 1]! - 1
        if (s < 0 || this.#ents[s] === 0) continue
        part[s] = bp(t[j]!, kb, kOff[s]!, kOff[s + 1]! - kOff[s]!)
      }
      for (const [s, k] of this.#numKeys) if (this.#ents[s] !== 0) part[s] = this.#partition(k)
    } else {
      for (let s = 0; s < n; s++) if (this.#ents[s] !== 0) part[s] = this.#partition(this.#keyOf(s))
    }
    const sizes = new Int32Array(reducers)
    for (let s = 0; s < n; s++) {
      const p = part[s]!
      if (p < 0) continue
      if (!(p < reducers)) throw new InternalError('the partitioner returned an unchecked partition')
      sizes[p]!++
    }
    const lists = Array.from(sizes, (m) => new Int32Array(m))
    const fill = new Int32Array(reducers)
    for (let s = 0; s < n; s++) {
      const p = part[s]!
      if (p >= 0) lists[p]![fill[p]!++] = s
    }
    if (this.#numKeys.size === 0) {
      // The keys' (start, length) pairs, in the key table's array: the spill empties it anyway,
      // and it has room (more than one cell, two int32s, a key).
      const ranges = this.#table.subarray(0, 2 * n)
      for (let s = 0; s < n; s++) {
        ranges[2 * s] = kOff[s]!
        ranges[2 * s + 1] = kOff[s + 1]! - kOff[s]!
      }
      for (const ids of lists) sortByBytes(ids, kb, ranges)
    } else {
      const keys = Array.from({ length: n }, (_, s) => this.#keyOf(s))
      for (const ids of lists) ids.set(Array.from(ids).sort((a, b) => compareKeys(keys[a]!, keys[b]!)))
    }
    return lists
  }

  /**
   * Combines partition p's keys (slots in key order) into the run `w`. What combine emits goes
   * straight into `w` while every pair has the key its combine got; from the first pair that
   * moved to another key of the partition on, every pair is collected instead, and written,
   * stably sorted, as a second run of this spill (returned). Equal keys merge run by run, so a
   * key's values still come back in the order they were emitted.
   */
  async #combineInto(w: RunWriter, p: number, slots: Int32Array, second: string): Promise<RunWriter | undefined> {
    const outK: Scalar[] = []
    const outV: Scalar[] = []
    /** The key w's records have now, when a combine's output set it (undefined after a key written from its bytes). */
    let last: Scalar | undefined
    const out = (k: Scalar, v: Scalar, reps = 1): void => {
      if (this.#cMoved) {
        for (let i = 0; i < reps; i++) {
          outK.push(k)
          outV.push(v)
        }
        return
      }
      if (k !== last) {
        w.key(k)
        last = k
      }
      w.value(v, reps)
    }
    this.#cMoved = false
    const a = this.#arena
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!
      const e = this.#head[s]!
      const one = this.#ents[s] === 1
      const c = one ? a.rep[e]! : this.#values(s)
      if (one && c < FOLD_AT) {
        // Combine may run zero times on a key: one value, or one value a few times over, is
        // written as it is (one record with a count), without an async call for each of the Zipf
        // tail's many keys seen once or a few times; the reducer reads the value that many
        // times. As if combine had emitted it unchanged: behind any pair moved to its key before.
        const v = a.isStr[e] === 0 ? a.num[e]! : a.str[e]!
        if (this.#cMoved) {
          out(this.#keyOf(s), v, c)
        } else {
          this.#writeKey(w, s)
          last = undefined
          w.value(v, c)
        }
        continue
      }
      const r = this.#combineSlot(s, this.#keyOf(s), p, out, c)
      if (r !== undefined) await r
      this.#end()
    }
    if (outK.length === 0) return undefined
    const order = outK.map((_, i) => i).sort((a, b) => compareKeys(outK[a]!, outK[b]!))
    const w2 = new RunWriter(second)
    try {
      for (const i of order) w2.add(outK[i]!, outV[i]!)
    } finally {
      w2.close()
    }
    return w2
  }

  /**
   * Starts combining slot s's values (`n` of them; key `k`, partition `p`), its checked output to
   * `out`; the caller awaits what this returns, if anything, then calls #end. The list is
   * detached first, so what combine emits may go back into the buffer. Values repeated FOLD_AT
   * times or more are folded first (#folded). Not async itself: a combine that finishes
   * synchronously costs no promise here, and an async one only its own.
   */
  #combineSlot(s: number, k: Scalar, p: number, out: (k: Scalar, v: Scalar) => void, n: number): void | Promise<void> {
    const list = this.#take(s)
    this.#begin(k, p, out, n)
    if (this.#fold && list.maxRep() >= FOLD_AT) return this.#combineFolded(k, list)
    return this.#combine!(k, list, this.#emit as never, this.#ctx)
  }

  async #combineFolded(k: Scalar, list: ListValues): Promise<void> {
    const folded = await this.#folded(k, list)
    if (folded !== undefined && folded.length === 1) {
      // Combine's own output for all the values: written as combine would have emitted it.
      this.#emit(k, folded[0])
      return
    }
    const r = this.#combine!(k, folded === undefined ? list : new ArrayValues(folded), this.#emit as never, this.#ctx)
    if (r !== undefined) await r
  }

  /**
   * A key's list with each value repeated FOLD_AT times or more replaced by what combine makes of
   * those repeats, in O(log reps) combines of two values: c0 = v, c(i+1) = combine(k, [ci, ci])
   * stands for 2^(i+1) copies of v, and the copies' count in binary picks the ci that stand for
   * all of them. Valid for what a combiner must be (commutative, associative, and applicable to
   * its own output: Hadoop's contract, the one documented), and word count's 1s cost a few
   * combines per key instead of an await per emit. Undefined (and folding stays off for the
   * rest of the task) when a combine of two equal values does not give exactly one pair of its
   * key: then the caller combines the list as it is. Nothing a trial combine emits reaches the
   * buffer or the run.
   */
  async #folded(k: Scalar, list: ListValues): Promise<Scalar[] | undefined> {
    const out: Scalar[] = []
    for (const [v, reps] of list.entries()) {
      if (reps < FOLD_AT) {
        for (let i = 0; i < reps; i++) out.push(v)
        continue
      }
      let c = v
      for (let left = reps; ; ) {
        if ((left & 1) === 1) out.push(c)
        left = Math.floor(left / 2)
        if (left === 0) break
        const twice = await this.#twice(k, c)
        if (twice === undefined) {
          this.#fold = false
          return undefined
        }
        c = twice
      }
    }
    return out
  }

  /** combine(k, [x, x]) when it emits exactly one pair of key k: that pair's value (checked). */
  async #twice(k: Scalar, x: Scalar): Promise<Scalar | undefined> {
    let pairs = 0
    let got: Scalar = x
    let sameKey = true
    const capture = (ek: unknown, ev: unknown): void => {
      pairs++
      if (ek !== k && !(Number.isNaN(ek) && Number.isNaN(k))) sameKey = false
      got = checkValue(ev)
    }
    const r = this.#combine!(k, new ArrayValues([x, x]), capture as never, this.#ctx)
    if (r !== undefined) await r
    return pairs === 1 && sameKey ? got : undefined
  }

  /** Sets up a combine of key `k` (partition `p`, `n` values), its checked output to `out`. */
  #begin(k: Scalar, p: number, out: (k: Scalar, v: Scalar) => void, n: number): void {
    this.#cKey = k
    this.#cPart = p
    this.#cOut = out
    this.#cEmitted = 0
    this.#cOpen = true
    this.counters.combineInputRecords += n
  }

  /** Ends the combine that #begin set up; returns how many pairs it emitted. */
  #end(): number {
    this.#cOpen = false
    this.counters.combineOutputRecords += this.#cEmitted
    return this.#cEmitted
  }

  #combineEmit(ek0: unknown, ev0: unknown): void {
    // After its combine returned: the pair would land under the key combined now, or nowhere.
    // Recorded for the task to fail with, not thrown: thrown from a timer's callback it would end
    // the thread, and the attempt would fail as "its thread exited", saying nothing of why.
    if (!this.#cOpen) {
      this.late ??= new AfterReturnError('combine', 'emit', textOf(this.#cKey))
      return
    }
    const k = this.#cKey
    // The key combine got is checked already: the usual emit needs no second check.
    const ek = ek0 === k ? k : checkKey(ek0)
    const ev = checkValue(ev0)
    if (ek !== k && !(Number.isNaN(ek) && Number.isNaN(k))) {
      const q = this.#partition(ek)
      if (q !== this.#cPart) throw new CombineKeyError(textOf(ek), textOf(k), q, this.#cPart)
      this.#cMoved = true
    }
    this.#cEmitted++
    this.#cOut(ek, ev)
  }
}

const INIT_SLOTS = 1 << 10
/** Key bytes of a new buffer (it doubles). */
const INIT_KEY_BYTES = 1 << 13
/** Estimated bytes of a number key: its entries in the two number Maps. */
const NUM_KEY_BYTES = 48
/** A buffer's arrays, as MapBuffer.release passes them to the thread's next buffer. */
interface BufferArrays {
  readonly table: Int32Array<ArrayBuffer>
  readonly kb: Buffer<ArrayBuffer>
  readonly kOff: Int32Array<ArrayBuffer>
  readonly head: Int32Array<ArrayBuffer>
  readonly tail: Int32Array<ArrayBuffer>
  readonly ents: Int32Array<ArrayBuffer>
  readonly arena: Arena
}

function releaseArrays(a: BufferArrays): void {
  release(a.table, a.head, a.tail, a.ents, a.kOff, a.kb)
  a.arena.release()
}

/** A released buffer's arrays as a new buffer expects them: an empty key table (a failed task may leave keys in it) and no string values. */
function emptied(a: BufferArrays): void {
  a.table.fill(0)
  a.arena.str.length = 0
}

/** The arrays of the last buffer released on this thread, for the next one (memory.ts). */
const spare = new ThreadSpare<BufferArrays>(releaseArrays)

/** Gives this thread's spare buffer and byte table arrays back (memory.ts), if it has any: no map task is expected on it for now. */
export function releaseSpare(): void {
  releaseSpareTable()
  spare.drop()
}

/** Cells of a new key table (a power of two). */
const INIT_CELLS = 1 << 11
/**
 * The most keys per cell before the key table doubles: bytetable.ts's LOAD, for its reasons (most
 * lookups are hits, probes are adjacent cells, a smaller table misses the cache less). Against
 * 0.5, a 64 MiB split of the bench's corpus (854k keys: a million cells, not two) mapped in 5.22 s
 * instead of 5.51 and its table took 8 MB instead of 16 (bench/NOTES.md).
 */
const MAX_LOAD = 0.85

/**
 * The default partitioner's FNV-1a constants (partition.ts), as this module's own: V8 folds a
 * module's const into the hashing loops, but loads an imported binding each time (a hashing loop
 * over short words took 1.5x as long that way).
 */
const FNV_OFFSET = OFFSET
const FNV_PRIME = PRIME

/**
 * The UTF-8 of the last key hashKey hashed, when it had a unit from U+0080 up: wideBytes[0,
 * wideLen). wideLen is -1 when that key was ASCII (its units are its bytes). Set by hashKey and
 * read by the #find and #newString of the same add(), which nothing runs between.
 */
let wideBytes = Buffer.allocUnsafeSlow(256)
let wideLen = -1

/**
 * A string key's hash for the key table: FNV-1a over its UTF-8 bytes, a lone surrogate counting
 * as U+FFFD (what checkKey makes of it), as a signed int32: the default partitioner's hash
 * (partition.ts, before its mask), so a spill partitions without hashing again. Computed in JS on
 * purpose: `Map.get` computes V8's own hash of a fresh string through a call into the runtime,
 * and this loop, inlined at the emit, costs less on the short keys of text jobs.
 */
function hashKey(k: string): number {
  let h = FNV_OFFSET
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i)
    if (c >= 0x80) return hashWide(k)
    h = Math.imul(h ^ c, FNV_PRIME)
  }
  wideLen = -1
  return h
}

/** hashKey of a key that is not ASCII: its UTF-8 (Buffer's encoder writes a lone surrogate as U+FFFD) into wideBytes, then hashed. */
function hashWide(k: string): number {
  if (wideBytes.length < 3 * k.length) wideBytes = Buffer.allocUnsafeSlow(Math.max(3 * k.length, 2 * wideBytes.length))
  const n = wideBytes.write(k, 0, 'utf8')
  let h = FNV_OFFSET
  for (let i = 0; i < n; i++) h = Math.imul(h ^ wideBytes[i]!, FNV_PRIME)
  wideLen = n
  return h
}

/** The first cell to probe for hash h: its high bits folded into the low ones the mask keeps. */
function cellOf(h: number, mask: number): number {
  return (h ^ (h >>> 16)) & mask
}

/** The first free cell of key table `t` on hash h's probe sequence. */
function freeCell(t: Int32Array, h: number, mask: number): number {
  let i = cellOf(h, mask)
  while (t[2 * i + 1] !== 0) i = (i + 1) & mask
  return i
}

const INIT_VALUES = 1 << 12
/** Estimated bytes per slot besides its key's bytes: its key table cells (1.2 to 2.4, 9-19 bytes), the slot arrays (16 bytes), and their slack. */
const SLOT_BYTES = 40
/** Bytes per arena entry: a float64, an int32 link, an int32 repeat count and a type byte. */
const ENTRY_BYTES = 17

/** The most repeats one arena entry counts (an int32): one more equal value starts a new entry. */
const MAX_REP = 2 ** 30

/** A copy of `a` twice as long; `a`'s memory is given back. */
function grown<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(a: A): A {
  const b = new (a.constructor as new (n: number) => A)(a.length * 2)
  b.set(a)
  release(a)
  return b
}

/** The value arena's arrays, replaced as a whole when it grows or is compacted. */
class Arena {
  readonly num: Float64Array
  readonly next: Int32Array
  /** How many times in a row the entry's value stands in its key's list (at least 1). */
  readonly rep: Int32Array
  readonly isStr: Uint8Array
  /** String values by entry; holes where the entry holds a number. */
  readonly str: (string | undefined)[]

  constructor(cap: number, str: (string | undefined)[] = []) {
    this.num = new Float64Array(cap)
    this.next = new Int32Array(cap)
    this.rep = new Int32Array(cap)
    this.isStr = new Uint8Array(cap)
    this.str = str
  }

  /** Gives the arrays' memory back (memory.ts); the arena is not read after. */
  release(): void {
    release(this.num, this.next, this.rep, this.isStr)
  }

  /** A copy with room for `cap` entries. */
  grown(cap: number): Arena {
    const a = new Arena(cap, this.str.slice())
    a.num.set(this.num)
    a.next.set(this.next)
    a.rep.set(this.rep)
    a.isStr.set(this.isStr)
    return a
  }
}

/** A detached value list of the arena, as the AsyncIterable combine takes (may be iterated more than once). */
class ListValues implements AsyncIterable<Scalar> {
  readonly #a: Arena
  readonly #head: number
  readonly #n: number

  constructor(a: Arena, head: number, n: number) {
    this.#a = a
    this.#head = head
    this.#n = n
  }

  [Symbol.asyncIterator](): AsyncIterator<Scalar> {
    return new ListIterator(this.#a, this.#head, this.#n)
  }

  /** The most repeats of any entry. */
  maxRep(): number {
    const a = this.#a
    let m = 0
    for (let e = this.#head, i = this.#n; i > 0; i--, e = a.next[e]!) m = Math.max(m, a.rep[e]!)
    return m
  }

  /** The entries as [value, repeats], in order. */
  *entries(): Generator<[Scalar, number]> {
    const a = this.#a
    for (let e = this.#head, i = this.#n; i > 0; i--, e = a.next[e]!) yield [a.isStr[e] === 0 ? a.num[e]! : a.str[e]!, a.rep[e]!]
  }
}

/** What an iterator's next() gives at the end: one settled promise for all (its result is frozen). */
export const DONE: Promise<IteratorResult<never>> = Promise.resolve(Object.freeze({ done: true, value: undefined }))

let lastValue: Scalar | undefined
let lastResult: Promise<IteratorResult<Scalar>> = DONE

/**
 * The settled promise of one frozen result for `value`: the last one made, when it was for the
 * same value (Object.is), so word count's 1s share one promise across all keys.
 */
export function repeated(value: Scalar): Promise<IteratorResult<Scalar>> {
  if (!Object.is(value, lastValue) || lastResult === DONE) {
    lastValue = value
    lastResult = Promise.resolve(Object.freeze({ done: false, value }))
  }
  return lastResult
}

/**
 * Reads a list of `n` entries, each entry's value `rep` times. An entry that repeats gives the
 * same settled promise of one frozen result for each of its repeats: for-await reads `value` and
 * `done` from it at once, and a consumer calling next() itself can neither change it nor tell it
 * from a fresh one except by identity. So a value repeated n times costs one promise, not n.
 */
class ListIterator implements AsyncIterator<Scalar> {
  readonly #a: Arena
  /** The next entry to read once the current one's repeats are done. */
  #e: number
  /** Entries not yet started. */
  #left: number
  /** The current entry's result, and how many of its repeats are still to come. */
  #p: Promise<IteratorResult<Scalar>> = DONE
  #reps = 0

  constructor(a: Arena, head: number, n: number) {
    this.#a = a
    this.#e = head
    this.#left = n
  }

  next(): Promise<IteratorResult<Scalar>> {
    if (this.#reps === 0) {
      if (this.#left === 0) return DONE
      const a = this.#a
      const e = this.#e
      this.#left--
      this.#e = a.next[e]!
      const value = a.isStr[e] === 0 ? a.num[e]! : a.str[e]!
      const reps = a.rep[e]!
      if (reps === 1) return Promise.resolve({ done: false, value })
      this.#p = repeated(value)
      this.#reps = reps
    }
    this.#reps--
    return this.#p
  }
}

/** An array as the AsyncIterable combine and reduce take (classes, so the iteration sites stay monomorphic). */
export class ArrayValues<T> implements AsyncIterable<T> {
  readonly #xs: readonly T[]

  constructor(xs: readonly T[]) {
    this.#xs = xs
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new ArrayValuesIterator(this.#xs)
  }
}

class ArrayValuesIterator<T> implements AsyncIterator<T> {
  readonly #xs: readonly T[]
  #i = 0

  constructor(xs: readonly T[]) {
    this.#xs = xs
  }

  next(): Promise<IteratorResult<T>> {
    const xs = this.#xs
    return this.#i < xs.length ? Promise.resolve({ done: false, value: xs[this.#i++]! }) : DONE
  }
}
