/**
 * Shared buffers as task arguments without a message per spawn: a registry of SharedArrayBuffers
 * by id, the same on every thread of a Runtime.
 *
 * Why: a G record holds 32 bytes of arguments, and a SharedArrayBuffer must stay shared (tasks
 * synchronise through it), so it cannot be serialized into the record. Before, such arguments
 * went to the main thread by message and the M that started the G fetched them by message: two
 * messages a spawn, and the main thread had to be free to answer. Node 20's v8.Deserializer
 * cannot read a SharedArrayBuffer by id (`_getSharedArrayBufferId` writes one; reading it fails
 * with "Unable to deserialize cloned data"), so the registry is ours.
 *
 * How: the first time a thread spawns with a buffer it takes a slot (an id) and announces
 * {id, buffer} on a BroadcastChannel that every thread of the runtime listens on. postMessage on
 * a BroadcastChannel puts the message in every listener's queue before it returns, so a G
 * published after it finds the announcement already queued on whichever M takes it: that M reads
 * its queue synchronously (receiveMessageOnPort) if its event loop has not yet. An M started after
 * the announcement asks the main thread, which heard every one (the slow path, once per buffer).
 * Later spawns with the same buffer object write only its id, type, offset and length.
 *
 * Arguments that take this path: numbers and shared buffers or views on them (typed arrays,
 * DataView), at most 3, fitting the record's 8 words (a view takes 4, a number 2): for example
 * (view), (view, start, end) or (view, view) (K_SHARED). Arguments with shared views anywhere
 * inside them (`{ view, from, to }`, an array of views) are serialized with each view written as
 * its id, type, offset and length, into a payload-arena slot (K_ARENA_SHARED, writeNested): the
 * same ids and references, found by reading the bytes. What fits neither (a raw
 * SharedArrayBuffer nested in a value, more than an arena slot of bytes, a full registry or
 * arena) goes by message as before.
 *
 * Invariants:
 * - A slot's generation is odd while it holds a buffer and even while free; an id names a slot
 *   and the generation it had when the buffer was registered, so a stale id never matches a
 *   reused slot.
 * - SB_PENDING counts the Gs spawned with the id that no M has decoded (or dropped, if cancelled).
 *   Only the registering thread increments it, and only while it holds the buffer object.
 * - A slot is freed (generation + 1, by CAS, so once) when SB_PENDING is 0 and SB_ORPHAN is set:
 *   the registering thread's buffer object was collected (a FinalizationRegistry) or that thread
 *   died. Until then every thread that heard the announcement keeps the buffer, so a G never
 *   finds its id gone; after it, each thread drops the buffer at its next sweep.
 * - The registering thread keeps each such G's arguments until the G settles (Owner.keep), so its
 *   own buffer object cannot be collected while one of its Gs may still run on its own thread.
 * - A K_ARENA_SHARED record holds one reference per view its bytes name (a view named twice, two),
 *   released once all together: when its G is called, or skipped, or its record taken back. Its
 *   bytes are read for the ids each time (readNested, dropNested): nothing else records them.
 * - A shared result's reference is released exactly once: by its owner reading it, or, when the
 *   owner died, by whoever claims the record first (takeResult / dropResult CAS its kind).
 */

import { InternalError } from '../../errors.js'
import { performance } from 'node:perf_hooks'
import { DefaultDeserializer, DefaultSerializer } from 'node:v8'
import type { Arena } from './arena.js'
import { BroadcastChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { isShared, smi, type SerializerWithHooks } from './codec.js'
import { G_DATA, G_KIND, G_LEN, K_ARENA_SHARED, K_SHARED, K_UNDEF, SB_GEN, SB_ORPHAN, SB_OWNER, SB_PENDING, SB_SLOTS, SBW, type Layout } from './layout.js'

/** The buffer types a view may have; an argument of another class (a subclass) goes by message. */
const VIEW_TYPES = [
  undefined, // 0: the SharedArrayBuffer itself
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
] as const
const TYPE_OF = new Map<unknown, number>(VIEW_TYPES.map((c, i) => [c, i] as const).filter(([c]) => c !== undefined))
const SLOT_BITS = 8 // SB_SLOTS = 256
const GEN_MASK = (1 << (31 - SLOT_BITS)) - 1
const WORDS = 8 // the record's inline area
const SWEEP_MS = 10 // an idle thread drops freed buffers at most this often

interface Announce {
  readonly id: number
  readonly buf: SharedArrayBuffer
}

export class SharedBufs {
  readonly #I: Int32Array
  readonly #base: number
  readonly #me: number
  /** The BroadcastChannel's name, the same on every thread of the runtime. */
  readonly channel: string
  readonly #bc: BroadcastChannel
  /** Buffers this thread registered, by object: their current id. */
  readonly #ids = new WeakMap<SharedArrayBuffer, number>()
  /** The same, by id, held weakly (Owner.keep holds them while a G of ours may need them). */
  readonly #own = new Map<number, WeakRef<SharedArrayBuffer>>()
  /** Buffers other threads registered, held until their slot is freed. */
  readonly #heard = new Map<number, SharedArrayBuffer>()
  readonly #gone = new FinalizationRegistry<number>((id) => this.orphan(id))
  #nextSlot = 0
  #sweptAt = 0

  constructor(I: Int32Array, l: Layout, me: number, channel: string) {
    this.#I = I
    this.#base = l.sbBase
    this.#me = me
    this.channel = channel
    this.#bc = new BroadcastChannel(channel)
    this.#bc.onmessage = (e: unknown): void => this.#hear((e as { data: Announce }).data)
    // The registry must not keep a thread alive: Ms end with the runtime, the main thread with the program.
    this.#bc.unref()
  }

  close(): void {
    this.#bc.close()
    this.#heard.clear()
    this.#own.clear()
  }

  // ---- the spawning side ----

  /**
   * Writes `args` into the record at word offset `go` as K_SHARED, taking one pending reference
   * per buffer. False, with nothing written or taken, when the arguments do not fit this form or
   * the registry is full: the caller sends them by message instead.
   */
  tryWrite(I: Int32Array, F: Float64Array, go: number, args: readonly unknown[]): boolean {
    const n = args.length
    if (n === 0 || n > 3) return false
    let words = 0
    let mask = 0
    for (let i = 0; i < n; i++) {
      const a = args[i]
      if (typeof a === 'number') words += 2
      else if (sharedType(a) >= 0) {
        words += 4
        mask |= 1 << i
      } else return false
    }
    if (mask === 0 || words > WORDS) return false
    const ids: number[] = []
    for (let i = 0; i < n; i++) {
      if ((mask & (1 << i)) === 0) continue
      const id = this.#ref(bufferOf(args[i]))
      if (id < 0) {
        for (const taken of ids) this.release(taken)
        return false
      }
      ids.push(id)
    }
    let w = go + G_DATA
    let k = 0
    for (let i = 0; i < n; i++) {
      const a = args[i]
      if (typeof a === 'number') {
        F[w >> 1] = a
      } else {
        const t = sharedType(a)
        const v = a as ArrayBufferView
        I[w] = ids[k++]!
        I[w + 1] = t
        I[w + 2] = t === 0 ? 0 : v.byteOffset
        I[w + 3] = t === 0 ? 0 : t === 12 ? v.byteLength : (v as Int8Array).length
        w += 2
      }
      w += 2
    }
    I[go + G_KIND] = K_SHARED
    I[go + G_LEN] = n | (mask << 4)
    return true
  }

  /** An id with one more pending G: the buffer's current one, or a new one (announced); -1 when full. */
  #ref(buf: SharedArrayBuffer): number {
    const I = this.#I
    const known = this.#ids.get(buf)
    if (known !== undefined) {
      const o = this.#slotOff(known)
      // Only this thread increments it, and it holds `buf`, so the slot cannot be freed meanwhile
      // (freeing needs the orphan mark, which needs `buf` collected).
      if (Atomics.load(I, o + SB_GEN) === genOf(known)) {
        Atomics.add(I, o + SB_PENDING, 1)
        return known
      }
    }
    for (let i = 0; i < SB_SLOTS; i++) {
      const slot = (this.#nextSlot + i) % SB_SLOTS
      const o = this.#base + slot * SBW
      const gen = Atomics.load(I, o + SB_GEN)
      if ((gen & 1) !== 0) continue
      const live = (gen + 1) & GEN_MASK
      if (Atomics.compareExchange(I, o + SB_GEN, gen, live) !== gen) continue
      this.#nextSlot = slot + 1
      Atomics.store(I, o + SB_PENDING, 1)
      Atomics.store(I, o + SB_ORPHAN, 0)
      Atomics.store(I, o + SB_OWNER, this.#me)
      const id = (live << SLOT_BITS) | slot
      this.#ids.set(buf, id)
      this.#own.set(id, new WeakRef(buf))
      this.#gone.register(buf, id)
      // Before the G that uses it is published: see the module comment.
      this.#bc.postMessage({ id, buf } satisfies Announce)
      this.#sweep()
      return id
    }
    return -1
  }

  /**
   * Serializes `args` (handles already replaced: codec.ts) with every shared view inside written
   * by id, taking a reference per view, into a payload-arena slot of this thread named in record
   * `go` (K_ARENA_SHARED). False, with no reference kept and nothing written, when they hold no
   * shared view, hold a raw SharedArrayBuffer, cannot be cloned, do not fit a slot, or the
   * registry or the slab is full: the caller sends them by message instead.
   */
  writeNested(arena: Arena, go: number, args: unknown): boolean {
    const ids: number[] = []
    const ser = new NestedSerializer((buf) => {
      const id = this.#ref(buf)
      if (id >= 0) ids.push(id)
      return id
    })
    let bytes: Uint8Array | undefined
    try {
      ser.writeHeader()
      ser.writeValue(args)
      bytes = ser.releaseBuffer()
    } catch {
      bytes = undefined
    }
    if (bytes !== undefined && ids.length > 0 && arena.put(go, bytes, K_ARENA_SHARED)) return true
    for (const id of ids) this.release(id)
    return false
  }

  // ---- the running side ----

  /** The buffer registered as `id`, if this thread has it (reading its announcements first). */
  lookup(id: number): SharedArrayBuffer | undefined {
    const got = this.#heard.get(id) ?? this.#own.get(id)?.deref()
    if (got !== undefined) return got
    for (;;) {
      // Node reads a BroadcastChannel like a port (its typings say MessagePort only).
      const m = receiveMessageOnPort(this.#bc as unknown as MessagePort) as { message: Announce } | undefined
      if (m === undefined) return undefined
      this.#hear(m.message)
      if (m.message.id === id) return m.message.buf
    }
  }

  /**
   * The value of K_ARENA_SHARED `bytes` (see writeNested), its views over this thread's objects
   * for their buffers; undefined, with no reference released, when this thread lacks one of them
   * (`missingNested` names it). Releases the bytes' references unless `keep` (as `decode`); on a
   * throw it releases none (the caller drops them: dropNested).
   */
  readNested(bytes: Uint8Array, keep = false): unknown {
    const ids: number[] = []
    let missing = false
    const d = new NestedDeserializer(bytes, (id) => {
      ids.push(id)
      const buf = this.lookup(id)
      if (buf === undefined) missing = true
      return buf
    })
    d.readHeader()
    const v = d.readValue()
    if (missing) return undefined
    if (!keep) for (const id of ids) this.release(id)
    return v
  }

  /** The first id K_ARENA_SHARED `bytes` name that this thread does not have, or -1. */
  missingNested(bytes: Uint8Array): number {
    for (const id of nestedIds(bytes)) if (this.lookup(id) === undefined) return id
    return -1
  }

  /** Releases the references of K_ARENA_SHARED `bytes`: its G was skipped, failed before its call, or decoded with `keep` and is now called. */
  dropNested(bytes: Uint8Array): void {
    for (const id of nestedIds(bytes)) this.release(id)
  }

  /** Adds a buffer that the main thread sent to this M (the slow path, see the module comment). */
  install(id: number, buf: SharedArrayBuffer): void {
    this.#hear({ id, buf })
  }

  #hear(a: Announce): void {
    if (this.#own.has(a.id)) return
    this.#heard.set(a.id, a.buf)
    this.#sweep()
  }

  /**
   * The ids of K_SHARED record `go`, or the first one this thread does not have as `missing`.
   * Takes no reference: call `decode` (or `drop`) once every id is here.
   */
  missing(I: Int32Array, go: number): number {
    const { n, mask } = header(I, go)
    let w = go + G_DATA
    for (let i = 0; i < n; i++) {
      if ((mask & (1 << i)) !== 0 && this.lookup(I[w]!) === undefined) return I[w]!
      w += (mask & (1 << i)) !== 0 ? 4 : 2
    }
    return -1
  }

  /**
   * The arguments of K_SHARED record `go` (every id present: see `missing`). Releases its
   * references unless `keep`: a G decoded ahead of its call (the slow path) releases them with
   * `drop` when it is called, since an M that dies in between has its G run again elsewhere.
   */
  decode(I: Int32Array, F: Float64Array, go: number, keep = false): unknown[] {
    const { n, mask } = header(I, go)
    const args = new Array<unknown>(n)
    let w = go + G_DATA
    for (let i = 0; i < n; i++) {
      if ((mask & (1 << i)) === 0) {
        args[i] = smi(F[w >> 1]!)
        w += 2
        continue
      }
      const id = I[w]!
      const buf = this.lookup(id)
      if (buf === undefined) throw new InternalError(`shared buffer ${id} is not registered on this thread`)
      const t = I[w + 1]!
      const Ctor = VIEW_TYPES[t] as (new (b: SharedArrayBuffer, offset: number, length: number) => unknown) | undefined
      // Offset and length are stored as 32-bit words: read back unsigned (a view over 2 GB).
      args[i] = Ctor === undefined ? buf : new Ctor(buf, I[w + 2]! >>> 0, I[w + 3]! >>> 0)
      if (!keep) this.release(id)
      w += 4
    }
    return args
  }

  /**
   * The shared result in record `go` (one value), or undefined when another thread claimed it
   * first. The record's kind goes K_SHARED -> K_UNDEF by CAS, so of the owner reading it and a
   * thread dropping it for a dead owner (`dropResult`) exactly one releases its reference.
   */
  takeResult(I: Int32Array, F: Float64Array, go: number): unknown {
    if (Atomics.compareExchange(I, go + G_KIND, K_SHARED, K_UNDEF) !== K_SHARED) return undefined
    return this.decode(I, F, go)[0]
  }

  /** Releases the reference of a shared result whose owner died, unless another thread claimed it first (see takeResult). */
  dropResult(I: Int32Array, go: number): void {
    if (Atomics.compareExchange(I, go + G_KIND, K_SHARED, K_UNDEF) === K_SHARED) this.drop(I, go)
  }

  /** Releases the references of a K_SHARED record: its G was cancelled, or decoded with `keep` and is now called. */
  drop(I: Int32Array, go: number): void {
    const { n, mask } = header(I, go)
    let w = go + G_DATA
    for (let i = 0; i < n; i++) {
      if ((mask & (1 << i)) !== 0) this.release(I[w]!)
      w += (mask & (1 << i)) !== 0 ? 4 : 2
    }
  }

  // ---- freeing slots ----

  /** One pending G of `id` was decoded or dropped. */
  release(id: number): void {
    const o = this.#slotOff(id)
    if (Atomics.sub(this.#I, o + SB_PENDING, 1) === 1 && Atomics.load(this.#I, o + SB_ORPHAN) === 1) this.#free(id)
  }

  /** The registering thread's buffer object is gone (or the thread died): free the slot once no G needs it. */
  orphan(id: number): void {
    const I = this.#I
    const o = this.#slotOff(id)
    if (Atomics.load(I, o + SB_GEN) !== genOf(id)) return
    Atomics.store(I, o + SB_ORPHAN, 1)
    if (Atomics.load(I, o + SB_PENDING) === 0) this.#free(id)
  }

  /** Orphans every slot that thread `owner` registered (it died: its finalizers will never run). */
  orphanAllOf(owner: number): void {
    const I = this.#I
    for (let slot = 0; slot < SB_SLOTS; slot++) {
      const o = this.#base + slot * SBW
      const gen = Atomics.load(I, o + SB_GEN)
      if ((gen & 1) !== 0 && Atomics.load(I, o + SB_OWNER) === owner) this.orphan((gen << SLOT_BITS) | slot)
    }
  }

  #free(id: number): void {
    const gen = genOf(id)
    Atomics.compareExchange(this.#I, this.#slotOff(id) + SB_GEN, gen, (gen + 1) & GEN_MASK)
  }

  /**
   * Drops the buffers whose slots were freed. A buffer held here keeps its memory alive on every
   * thread, and a freed one may be large, so this runs on every announcement (the tables hold at
   * most the 256 live slots plus the ones freed since) and from `idle`.
   */
  #sweep(): void {
    const I = this.#I
    for (const id of this.#heard.keys()) if (Atomics.load(I, this.#slotOff(id) + SB_GEN) !== genOf(id)) this.#heard.delete(id)
    for (const id of this.#own.keys()) if (Atomics.load(I, this.#slotOff(id) + SB_GEN) !== genOf(id)) this.#own.delete(id)
  }

  /** Called when the thread goes idle: sweeps at most every SWEEP_MS, and only if it holds buffers. */
  idle(): void {
    if (this.#heard.size + this.#own.size === 0) return
    const now = performance.now()
    if (now - this.#sweptAt < SWEEP_MS) return
    this.#sweptAt = now
    this.#sweep()
  }

  /** Slots in use now (stats). */
  live(): number {
    let n = 0
    for (let slot = 0; slot < SB_SLOTS; slot++) if ((Atomics.load(this.#I, this.#base + slot * SBW + SB_GEN) & 1) !== 0) n++
    return n
  }

  #slotOff(id: number): number {
    return this.#base + (id & (SB_SLOTS - 1)) * SBW
  }
}

const genOf = (id: number): number => id >>> SLOT_BITS

function header(I: Int32Array, go: number): { n: number; mask: number } {
  const h = I[go + G_LEN]!
  return { n: h & 15, mask: h >> 4 }
}

/**
 * The type code of a shared buffer or view (see VIEW_TYPES), -1 for anything else: also for a
 * view whose offset or length does not fit the record's 32-bit words.
 */
function sharedType(v: unknown): number {
  if (v instanceof SharedArrayBuffer) return 0
  if (!ArrayBuffer.isView(v) || !(v.buffer instanceof SharedArrayBuffer)) return -1
  if (v.byteOffset > 0xffffffff || v.byteLength > 0xffffffff) return -1
  return TYPE_OF.get(v.constructor) ?? -1
}

function bufferOf(v: unknown): SharedArrayBuffer {
  return (v instanceof SharedArrayBuffer ? v : (v as ArrayBufferView).buffer) as SharedArrayBuffer
}

// ---- nested views (K_ARENA_SHARED) ----

/** Node's deserializer hook (documented in the v8 module; @types/node leaves it out). */
type HookedDeserializer = new (bytes: Uint8Array) => DefaultDeserializer & { _readHostObject(): unknown }

/**
 * The first word of each host object (an ArrayBufferView: Node's serializer treats every view as
 * one) in writeNested's bytes: a view by id (then id, type, offset, length), or a copied one
 * (then Node's own format).
 */
const HOST_COPIED = 0
const HOST_SHARED = 1

/** What a view whose buffer this thread lacks reads as (the value is then not used). */
const NO_VIEW = Object.freeze({})

/** Thrown out of NestedSerializer: the value cannot go this way. */
const NOT_NESTED = Symbol('gort: not for the registry')

class NestedSerializer extends (DefaultSerializer as unknown as SerializerWithHooks) {
  readonly #ref: (buf: SharedArrayBuffer) => number

  constructor(ref: (buf: SharedArrayBuffer) => number) {
    super()
    this.#ref = ref
  }

  override _writeHostObject(v: object): void {
    const t = sharedType(v)
    if (t <= 0) {
      // An unshared view (copied as Node copies it), or a shared one of a type the registry does not name.
      if (isShared(v)) throw NOT_NESTED
      this.writeUint32(HOST_COPIED)
      super._writeHostObject(v)
      return
    }
    const id = this.#ref(bufferOf(v))
    if (id < 0) throw NOT_NESTED // the registry is full
    const view = v as ArrayBufferView
    this.writeUint32(HOST_SHARED)
    this.writeUint32(id)
    this.writeUint32(t)
    this.writeUint32(view.byteOffset)
    this.writeUint32(t === 12 ? view.byteLength : (view as Int8Array).length)
  }

  /** A raw SharedArrayBuffer inside a value: V8 would write it by an id Node 20 cannot read back. */
  override _getSharedArrayBufferId(): number {
    throw NOT_NESTED
  }
}

class NestedDeserializer extends (DefaultDeserializer as unknown as HookedDeserializer) {
  /** The buffer of `id`, or undefined (the view then reads as NO_VIEW: a host object must be an object). */
  readonly #buf: (id: number) => SharedArrayBuffer | undefined

  constructor(bytes: Uint8Array, buf: (id: number) => SharedArrayBuffer | undefined) {
    super(bytes)
    this.#buf = buf
  }

  override _readHostObject(): unknown {
    if (this.readUint32() === HOST_COPIED) return super._readHostObject()
    const id = this.readUint32()
    const t = this.readUint32()
    const offset = this.readUint32()
    const length = this.readUint32()
    const buf = this.#buf(id)
    if (buf === undefined) return NO_VIEW
    const Ctor = VIEW_TYPES[t] as new (b: SharedArrayBuffer, offset: number, length: number) => unknown
    return new Ctor(buf, offset, length)
  }
}

/** The ids K_ARENA_SHARED `bytes` name, in order (a view named twice, twice). */
function nestedIds(bytes: Uint8Array): number[] {
  const ids: number[] = []
  const d = new NestedDeserializer(bytes, (id) => {
    ids.push(id)
    return undefined
  })
  d.readHeader()
  d.readValue()
  return ids
}
