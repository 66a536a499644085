// Payloads beyond the G record: the arena (src/scheduler/shared/arena.ts), moving ArrayBuffers
// (goWith's transfer, large buffer results) and handles (src/scheduler/shared/handles.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serialize } from 'node:v8'
import { deadline } from '../_support/deadline.js'
import { HandleNotRegisteredError, Runtime, SchedulerArgError, UncloneableArgError, goWith, registerHandle } from '../../src/scheduler/index.js'
import { Arena } from '../../src/scheduler/shared/arena.js'
import { encodeArgs, readPayload } from '../../src/scheduler/shared/codec.js'
import { handlesIn } from '../../src/scheduler/shared/handles.js'
import { ARENA_SLOT, G_KIND, INLINE_BYTES, K_ARENA, K_BYTES, K_REMOTE, computeLayout, gOff } from '../../src/scheduler/shared/layout.js'
import {
  SharedCounter, Tag, bump, bumpViaChild, describeTag, echoInside, echoP, lastBufLength, makeBuf, makeBufInside, makeCounter, relayWhileMainBlocked,
  sumBytes, transferInside,
} from './fixtures/payload.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** A flag for relayWhileMainBlocked that does not wait for the main thread. */
function released(): Int32Array {
  const f = new Int32Array(new SharedArrayBuffer(12))
  f[2] = 1
  return f
}

/** A one-string argument list whose v8 serialization is exactly `bytes` long. */
function argsOfSize(bytes: number): [string] {
  for (let n = 0; n <= bytes; n++) {
    const args: [string] = ['s'.repeat(n)]
    if (serialize(args).byteLength === bytes) return args
  }
  throw new Error(`no string argument serializes to ${bytes} bytes`)
}

test('codec: 32 bytes inline, 33 to one slot in the arena, one byte over a slot by message', () => {
  const l = computeLayout(1, 2, 16, 16)
  const sab = new SharedArrayBuffer(l.words * 4)
  const I = new Int32Array(sab)
  const F = new Float64Array(sab)
  const U8 = new Uint8Array(sab)
  const arena = new Arena(I, U8, l, 0)
  const go = gOff(l, 3)
  assert.is(encodeArgs(argsOfSize(INLINE_BYTES)).kind, K_BYTES)
  for (const size of [INLINE_BYTES + 1, 100, ARENA_SLOT]) {
    const args = argsOfSize(size)
    const enc = encodeArgs(args)
    assert.is(enc.kind, K_REMOTE, `${size} bytes are over the record`)
    assert.ok(arena.put(go, enc.bytes!), `${size} bytes fit a slot`)
    assert.is(I[go + G_KIND], K_ARENA)
    assert.is(arena.inUse(), 1)
    assert.equal(readPayload(I, F, U8, go, true, arena), args, `${size} bytes round-trip`)
    assert.is(arena.inUse(), 0, 'the reader frees the slot')
  }
  const over = encodeArgs(argsOfSize(ARENA_SLOT + 1))
  assert.not.ok(arena.put(go, over.bytes!), 'a slot and one byte go by message')
  assert.is(arena.inUse(), 0)
  // A full slab refuses, and a freed slot is found again.
  const small = encodeArgs(argsOfSize(100)).bytes!
  for (let i = 0; i < l.arenaMain; i++) assert.ok(arena.put(gOff(l, i), small))
  assert.not.ok(arena.put(go, small), 'every slot in use')
  arena.free(gOff(l, 5))
  assert.ok(arena.put(go, small), 'the freed slot is taken again')
})

test('arguments and results at the slot boundary and just over arrive intact, from main and inside tasks', deadline('boundary', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    for (const size of [INLINE_BYTES, INLINE_BYTES + 1, 100, ARENA_SLOT, ARENA_SLOT + 1, 4096]) {
      const [s] = argsOfSize(size)
      assert.is(await rt.go(echoP, s), s, `main, ${size} bytes`)
      assert.is(await rt.go(echoInside, s), s, `inside a task, ${size} bytes`)
      const obj = { path: '/var/data/part-00017.bin', offset: size, length: 65536, s }
      assert.equal(await rt.go(echoInside, obj), obj, `an object around ${size} bytes`)
    }
  } finally {
    await rt.close()
  }
}))

test('a task passes a 100-byte argument to its child and gets a 100-byte result while the main thread is blocked', deadline('main blocked', async () => {
  const rt = await Runtime.start({ procs: 2, handoffMs: 0 })
  try {
    // Warm the task module on both Ms first: an import is not what this test is about.
    await Promise.all([rt.go(echoInside, 'warm'), rt.go(echoInside, 'warm'), rt.go(relayWhileMainBlocked, released())])
    const flag = new Int32Array(new SharedArrayBuffer(12))
    const p = rt.go(relayWhileMainBlocked, flag)
    p.catch(() => {}) // if an assertion below fails, close() rejects it: report the assertion, not that
    await turn() // the G is published
    // From here the main thread is blocked: a payload that needed it (by message) could not
    // arrive before the wait times out. The task starts its child only now.
    Atomics.store(flag, 2, 1)
    Atomics.notify(flag, 2)
    const r = Atomics.wait(flag, 0, 0, 5000)
    assert.is.not(r, 'timed-out', 'the task finished while the main thread was blocked')
    assert.is(flag[1], 1, "the child's result was right")
    assert.is(await p, 1)
  } finally {
    await rt.close()
  }
}))

test('more 100-byte payloads than arena slots: the rest go by message, none lost', deadline('arena full', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const n = 3000 // the main thread's slab has 1024 slots
    const list = Array.from({ length: n }, (_, i): [string] => [`${payloadOf(90)}${i}`])
    const got = await rt.goAll(echoP, list)
    assert.equal(got, list.map(([s]) => s))
    const inside = await Promise.all(Array.from({ length: 600 }, (_, i) => rt.go(echoInside, `${payloadOf(90)}${i}`)))
    assert.equal(inside, Array.from({ length: 600 }, (_, i) => `${payloadOf(90)}${i}`))
  } finally {
    await rt.close()
  }
}))

function payloadOf(n: number): string {
  return 'q'.repeat(n)
}

test('goWith transfer: the buffer is detached at the call and intact in the task, from main and inside tasks', deadline('transfer', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const u8 = new Uint8Array(100_000).fill(2)
    const p = rt.goWith({ transfer: [u8.buffer] }, sumBytes, u8)
    assert.is(u8.byteLength, 0, "detached on the caller's side at once")
    assert.equal(await p, [200_000, 100_000], "intact on the task's side")
    // A small one moves too (the caller asked), and the free goWith does the same.
    const small = new Uint8Array(8).fill(1)
    const q = goWith({ transfer: [small.buffer] }, sumBytes, small)
    assert.is(small.byteLength, 0)
    assert.equal(await q, [8, 8])
    assert.equal(await rt.go(transferInside, 50_000), [true, 150_000, 50_000], 'inside a task')
    const plain = new Uint8Array(16).fill(1)
    assert.equal(await rt.go(sumBytes, plain), [16, 16])
    assert.is(plain.byteLength, 16, 'without transfer the caller keeps its buffer')
  } finally {
    await rt.close()
  }
}))

test('goWith transfer: bad lists throw at the call and move nothing', deadline('transfer args', async () => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const u8 = new Uint8Array(64)
    assert.throws(() => rt.goWith({ transfer: u8.buffer as never }, sumBytes, u8), (e: unknown) => e instanceof SchedulerArgError && /transfer/.test((e as Error).message))
    assert.throws(() => rt.goWith({ transfer: [u8 as never] }, sumBytes, u8), (e: unknown) => e instanceof SchedulerArgError && /ArrayBuffers only/.test((e as Error).message))
    assert.throws(() => rt.goWith({ transfer: [new SharedArrayBuffer(8) as never] }, sumBytes, u8), (e: unknown) => e instanceof SchedulerArgError)
    assert.throws(() => rt.goWith({ transfer: [u8.buffer, u8.buffer] }, sumBytes, u8), (e: unknown) => e instanceof UncloneableArgError, 'a duplicate')
    assert.is(u8.byteLength, 64, 'nothing moved')
    assert.equal(await rt.go(sumBytes, u8), [0, 64])
  } finally {
    await rt.close()
  }
}))

test('a large buffer result moves to the caller (the task keeps a detached one); a small one is copied', deadline('result transfer', async () => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const big = await rt.go(makeBuf, 100_000)
    assert.instance(big, Uint8Array)
    assert.is(big.byteLength, 100_000)
    let ok = true
    for (let i = 0; i < big.length; i++) if (big[i] !== (i & 0xff)) ok = false
    assert.ok(ok, 'intact')
    assert.is(await rt.go(lastBufLength), 0, "moved: the task's reference is detached")
    const small = await rt.go(makeBuf, ARENA_SLOT - 64)
    assert.is(small.byteLength, ARENA_SLOT - 64)
    assert.is(await rt.go(lastBufLength), ARENA_SLOT - 64, 'copied: the task keeps its buffer')
  } finally {
    await rt.close()
  }
  const rt2 = await Runtime.start({ procs: 2 })
  try {
    assert.equal(await Promise.all([rt2.go(makeBufInside, 70_000), rt2.go(makeBufInside, 70_000), rt2.go(makeBufInside, 300)]), [true, true, true], 'task to task')
  } finally {
    await rt2.close()
  }
}))

test('handles: an object over shared memory crosses main -> task, task -> task and back as the same memory', deadline('handles', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const c = SharedCounter.create('main')
    assert.equal(await rt.go(bump, c, 1), [true, 'main', 1], 'main -> task: a SharedCounter')
    assert.is(c.value, 1, "the task's add is visible here: same memory")
    const back = await rt.go(bumpViaChild, c)
    assert.instance(back, SharedCounter, 'the result is a SharedCounter again')
    assert.is(c.value, 11, "the grandchild's add is visible here")
    back.add(100)
    assert.is(c.value, 111, 'the returned object is over the same memory')
    const made = await rt.go(makeCounter, 'made on an M')
    assert.instance(made, SharedCounter)
    assert.is(made.label, 'made on an M')
    assert.is(made.value, 5)
    assert.is(await rt.go(describeTag, new Tag(7), 1), 'tag#7 1', 'a handle without shared memory (record or arena)')
    assert.is(await rt.go(echoInside, new Tag(8)).then((t) => (t as Tag).describe()), 'tag#8', 'as a result, through a child')
    const many = await rt.goAll(bump, Array.from({ length: 200 }, (): [SharedCounter, number] => [c, 1]))
    assert.ok(many.every(([isCounter]) => isCounter))
    assert.is(c.value, 311)
  } finally {
    await rt.close()
  }
}))

test('handles: registration errors, and a handle whose name is not registered here', () => {
  class A {}
  class B {}
  registerHandle('test.A', A, { encode: () => 1, decode: () => new A() })
  registerHandle('test.A', A, { encode: () => 1, decode: () => new A() }) // the same pair again: a no-op
  assert.throws(() => registerHandle('test.A', B, { encode: () => 1, decode: () => new B() }), (e: unknown) => e instanceof SchedulerArgError)
  assert.throws(() => registerHandle('test.A2', A, { encode: () => 1, decode: () => new A() }), (e: unknown) => e instanceof SchedulerArgError)
  assert.throws(() => registerHandle('', B, { encode: () => 1, decode: () => new B() }), (e: unknown) => e instanceof SchedulerArgError)
  assert.throws(() => registerHandle('test.B', B, {} as never), (e: unknown) => e instanceof SchedulerArgError)
  assert.throws(
    () => handlesIn([{ __gortHandle: 'test.Nobody', state: 1 }]),
    (e: unknown) => e instanceof HandleNotRegisteredError && e.code === 'ERR_HANDLE_NOT_REGISTERED' && e.handle === 'test.Nobody',
  )
})

test.run()
