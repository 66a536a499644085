import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runProgram, type ChildResult } from './_child.js'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { deadline } from '../_support/deadline.js'
import {
  ActorDiedError, ActorStoppedError, Runtime, RuntimeClosedError, SchedulerArgError, stopActor, type ActorRemote,
} from '../../src/scheduler/index.js'
import { Broken, Counter, Logger, LoggerActor, bump, echoRef, logFrom, spawnBroken, spawnHere } from './fixtures/actors.js'

// One runtime for the tests that kill no M (each Runtime.start costs worker boots).
let shared: Runtime | undefined
test.before(async () => {
  shared = await Runtime.start({ procs: 3 })
})
test.after(async () => {
  await shared?.close()
})

const settle = <T>(p: Promise<T>): Promise<{ ok: true; v: T } | { ok: false; e: unknown }> =>
  p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }))

test('calls are served one at a time, in each caller\'s order, from tasks on several Ms and from main', deadline('actor-order', async () => {
  const rt = shared!
  const logger = await rt.spawnActor(LoggerActor, 'log')
  const callers = ['a', 'b', 'c']
  const fromMs = callers.map((who) => rt.go(logFrom, logger, who, 250))
  const fromMain = (async () => {
    for (let i = 0; i < 250; i++) await logger.slowAppend(`main:${i}`)
  })()
  const threads = await Promise.all(fromMs)
  await fromMain
  const { log, overlaps, tag } = await logger.entries()
  assert.is(tag, 'log')
  assert.is(log.length, 1000)
  assert.is(overlaps, 0, 'an async method with an await inside never saw another call start')
  for (const who of [...callers, 'main']) {
    const mine = log.filter((e) => e.startsWith(`${who}:`)).map((e) => Number(e.slice(who.length + 1)))
    assert.equal(mine, Array.from({ length: 250 }, (_, i) => i), `${who}'s calls in its order`)
  }
  assert.ok(threads.every((t) => t !== threadId), 'the callers ran on Ms')
}, 60_000))

test('a method that throws rejects only that call; the actor keeps its state and serves on', deadline('actor-throw', async () => {
  const rt = shared!
  const c = await rt.spawnActor(Counter, 10)
  const [a, b, d] = await Promise.all([settle(c.inc()), settle(c.fail('boom')), settle(c.inc(5))])
  assert.equal(a, { ok: true, v: 11 })
  assert.ok(!b.ok && b.e instanceof Error && b.e.name === 'TypeError' && b.e.message === 'boom', String(!b.ok && b.e))
  assert.equal(d, { ok: true, v: 16 })
  assert.is(await c.n, 16, 'a property read goes through the mailbox too')
}, 30_000))

test('a constructor that throws fails spawnActor; an undeclared class or bad options throw at the call', deadline('actor-ctor', async () => {
  const rt = shared!
  const err = await rt.spawnActor(Broken).then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof Error && /no state for you/.test(err.message), String(err))
  class Undeclared {}
  assert.throws(() => rt.spawnActor(Undeclared), (e: unknown) => e instanceof SchedulerArgError && /class Undeclared|function Undeclared/.test((e as Error).message))
  // @ts-expect-error: not a restart policy
  assert.throws(() => rt.spawnActorWith({ supervisor: { restart: 'sometimes' } }, Counter, 1), (e: unknown) => e instanceof SchedulerArgError && /"sometimes"/.test((e as Error).message))
  assert.throws(() => rt.spawnActorWith({ supervisor: { restart: 'always', maxRestarts: -1 } }, Counter, 1), (e: unknown) => e instanceof SchedulerArgError)
  assert.is(await (await rt.spawnActor(Counter, 1)).inc(), 2, 'the runtime still serves actors')
}, 30_000))

test('an actor whose M dies rejects pending and later calls with ActorDiedError; other Gs go on', deadline('actor-died', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const c = await rt.spawnActor(Counter, 0)
    const actorThread = await c.where()
    const dying = settle(c.die())
    const queued = settle(c.inc()) // behind die() in the mailbox: pending when the M exits
    for (const r of [await dying, await queued]) {
      assert.ok(!r.ok && r.e instanceof ActorDiedError, String(!r.ok && r.e))
      const e = (r as { e: ActorDiedError }).e
      assert.match(e.actor, /^Counter#\d+$/)
      assert.ok(e.m > 0, 'names the M')
      assert.is(e.code, 'ERR_ACTOR_DIED')
    }
    const later = await settle(c.inc())
    assert.ok(!later.ok && later.e instanceof ActorDiedError, String(!later.ok && later.e))
    assert.ok(actorThread !== threadId)
    assert.is(await rt.go(bump, await rt.spawnActor(Counter, 1), 1).then((r) => r[0]), 2, 'the runtime goes on')
  } finally {
    await rt.close()
  }
}, 30_000))

test('a supervisor restarts a dead actor with fresh state on another M, up to maxRestarts', deadline('actor-restart', async () => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const c = await rt.spawnActorWith({ supervisor: { restart: 'on-failure', maxRestarts: 1 } }, Counter, 100)
    assert.is(await c.inc(), 101)
    const first = await c.where()
    const r = await settle(c.die())
    assert.ok(!r.ok && r.e instanceof ActorDiedError, 'the call in flight rejects')
    assert.is(await c.inc(), 101, 'a later call reaches the new instance, built from the same arguments')
    const second = await c.where()
    assert.ok(second !== first, 'on another thread: the old M is gone')
    // A reference that crossed to a task before the restart follows it too.
    assert.is((await rt.go(bump, c, 1))[0], 102)
    await settle(c.die())
    const after = await settle(c.inc())
    assert.ok(!after.ok && after.e instanceof ActorDiedError, 'maxRestarts reached: it stays dead')
    assert.match((after as { e: ActorDiedError }).e.reason, /exit code 7/)
  } finally {
    await rt.close()
  }
}, 30_000))

test('a Remote passed as a task argument calls the actor from another M, and crosses back as a result', deadline('actor-ref', async () => {
  const rt = shared!
  const c = await rt.spawnActor(Counter, 0)
  const [v, caller, at] = await rt.go(bump, c, 5)
  assert.is(v, 5)
  assert.ok(caller !== threadId, 'called from an M')
  assert.is(at, await c.where(), 'the same instance')
  const back: ActorRemote<Counter> = await rt.go(echoRef, c)
  assert.is(await back.inc(), 6)
  assert.is(await c.inc(), 7)
}, 30_000))

test('spawnActor inside a task starts an actor the task and the main thread can both call', deadline('actor-spawn-in-task', async () => {
  const rt = shared!
  const c = await rt.go(spawnHere, 10)
  assert.is(await c.inc(), 12, 'the task\'s call came first')
  assert.match(await rt.go(spawnBroken), /no state for you/)
  await stopActor(c)
}, 30_000))

test('stopActor: later calls reject with ActorStoppedError, through every reference', deadline('actor-stop', async () => {
  const rt = shared!
  const c = await rt.spawnActor(Counter, 0)
  assert.is(await c.inc(), 1)
  await stopActor(c)
  const r = await settle(c.inc())
  assert.ok(!r.ok && r.e instanceof ActorStoppedError, String(!r.ok && r.e))
  const fromM = await settle(rt.go(bump, c, 1))
  assert.ok(!fromM.ok && fromM.e instanceof Error && fromM.e.name === 'ActorStoppedError', String(!fromM.ok && fromM.e))
  await stopActor(c) // stopping a stopped actor is a no-op
  assert.throws(() => stopActor({}), (e: unknown) => e instanceof SchedulerArgError)
}, 30_000))

test('rt.close() ends actors: a pending call rejects, nothing is left alive', deadline('actor-close', async () => {
  const rt = await Runtime.start({ procs: 2 })
  const c = await rt.spawnActor(Counter, 0)
  const l: ActorRemote<Logger> = await rt.spawnActor(Logger, 'x')
  await l.slowAppend('one')
  assert.is(await c.inc(), 1)
  const hung = settle(c.hang()) // never answered
  const queued = settle(c.inc()) // waits behind it in the mailbox
  await rt.close()
  for (const r of [await hung, await queued]) assert.ok(!r.ok && r.e instanceof ActorStoppedError, String(!r.ok && r.e))
  assert.throws(() => rt.spawnActor(Counter, 1), (e: unknown) => e instanceof RuntimeClosedError)
}, 30_000))

// Type-level checks (compiled by tsconfig.check.json, never run): the Remote is typed by the class.
export async function typeChecks(rt: Runtime): Promise<void> {
  // @ts-expect-error: Counter's constructor takes a number
  await rt.spawnActor(Counter, 'one')
  const c = await rt.spawnActor(Counter, 1)
  const n: number = await c.inc(2)
  // @ts-expect-error: inc takes a number
  await c.inc('2')
  // @ts-expect-error: no such method
  await c.dec()
  void n
}

/** Runs fixtures/actor-program.ts in a child; killed (code null) if it outlives 40 s (a loaded machine boots tsx workers slowly). */
const runActorProgram = (mode: string): Promise<ChildResult> => runProgram(fileURLToPath(new URL('./fixtures/actor-program.ts', import.meta.url)), [mode], {}, 40_000)

test('a program whose actor idles exits by itself; after close no worker or port is left', deadline('actor-exit', async () => {
  const [forget, close] = await Promise.all([runActorProgram('forget'), runActorProgram('close')])
  assert.is(forget.code, 0, forget.err)
  assert.equal(JSON.parse(forget.out.trim().split('\n')[0]!), { v: 42 })
  assert.is(close.code, 0, close.err)
  const after = (JSON.parse(close.out.trim().split('\n')[1]!) as { after: string[] }).after
  assert.not.ok(after.some((r) => /Worker|MessagePort|Timeout/.test(r)), `left: ${after.join(',')}`)
}, 60_000))

test.run()
