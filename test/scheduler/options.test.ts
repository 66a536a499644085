// Runtime.start's option bounds (src/scheduler/options.ts), without starting a runtime.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MAX_PROCS, Runtime, SchedulerArgError } from '../../src/scheduler/index.js'
import { MAX_SHARED_BYTES, defaultProcs, resolveOptions } from '../../src/scheduler/main/options.js'

function withGomaxprocs<T>(value: string | undefined, body: () => T): T {
  const before = process.env['GOMAXPROCS']
  if (value === undefined) delete process.env['GOMAXPROCS']
  else process.env['GOMAXPROCS'] = value
  try {
    return body()
  } finally {
    if (before === undefined) delete process.env['GOMAXPROCS']
    else process.env['GOMAXPROCS'] = before
  }
}

test('the default procs (GOMAXPROCS, else the CPUs) is capped at MAX_PROCS, not refused', () => {
  assert.is(MAX_PROCS, 256)
  assert.is(withGomaxprocs('1000', defaultProcs), MAX_PROCS)
  assert.is(withGomaxprocs('3', defaultProcs), 3)
  assert.ok(withGomaxprocs(undefined, defaultProcs) <= MAX_PROCS)
})

test('the largest options each allows, with the defaults, fit the layout', () => {
  const r = resolveOptions({ procs: MAX_PROCS })
  assert.ok(r.layout.words * 4 <= MAX_SHARED_BYTES)
  assert.is(r.maxThreads, 2 * MAX_PROCS + 2)
  assert.ok(resolveOptions({ procs: 1, mainSlots: 1 << 22, mSlots: 1 << 20 }).layout.words * 4 <= MAX_SHARED_BYTES)
})

test('new Runtime(options) from plain JavaScript says how a runtime starts, and starts nothing', () => {
  const Ctor = Runtime as unknown as new (o: unknown) => unknown
  try {
    new Ctor({ procs: 2 })
    assert.unreachable('it must throw')
  } catch (e) {
    assert.instance(e, SchedulerArgError)
    assert.match((e as Error).message, 'await Runtime.start(options)')
  }
})

test.run()
