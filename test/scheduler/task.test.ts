// Which runtime a free go() uses on the main thread (src/scheduler/task.ts). Every suite before
// this one closed its runtimes, so none is open when it starts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { NoRuntimeError, Runtime, go, goAll } from '../../src/scheduler/index.js'
import { add } from './fixtures/tasks.js'

/** Runs one free go() and says which of `open` ran it (by their run counters). */
async function whoRuns(open: Runtime[]): Promise<number> {
  const before = open.map((r) => r.stats().total.runs)
  assert.is(await go(add, 2, 3), 5)
  const ran = open.map((r, i) => r.stats().total.runs - before[i]!)
  assert.is(ran.reduce((a, b) => a + b, 0), 1, `runs ${ran.join(',')}`)
  return ran.indexOf(1)
}

test('free go uses the most recently started runtime still open; closing one falls back to the newest left', deadline('which-runtime', async () => {
  assert.throws(() => go(add, 1, 1), (e: unknown) => e instanceof NoRuntimeError && e.code === 'ERR_NO_RUNTIME')
  assert.throws(() => goAll(add, [[1, 1]]), (e: unknown) => e instanceof NoRuntimeError)
  const a = await Runtime.start({ procs: 1, spares: 0 })
  const b = await Runtime.start({ procs: 1, spares: 0 })
  let c: Runtime | undefined
  try {
    assert.is(await whoRuns([a, b]), 1, 'the later one, b')
    await b.close()
    assert.is(await whoRuns([a]), 0, 'b closed: a, still open')
    c = await Runtime.start({ procs: 1, spares: 0 })
    assert.is(await whoRuns([a, c]), 1, 'the newest, c')
    await a.close()
    assert.is(await whoRuns([c]), 0, 'closing an older one leaves c')
    await c.close()
    assert.throws(() => go(add, 1, 1), (e: unknown) => e instanceof NoRuntimeError, 'none open')
  } finally {
    await Promise.all([a.close(), b.close(), c?.close()])
  }
}))

test.run()
