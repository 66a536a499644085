import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { Runtime } from '../../src/scheduler/index.js'
import { prestartM, specOf, waitingCount } from '../../src/scheduler/main/prestart.js'
import { where, youngMb } from './fixtures/tasks.js'

test('a Runtime with the same worker options takes the prestarted thread as its first M', deadline('taken', async () => {
  const first = prestartM(specOf({ loader: 'auto', youngMb: 16, stdout: 'stdout' }))
  assert.ok(first.threadId > 0)
  assert.is(waitingCount(), 1)
  const rt = await Runtime.start({ procs: 1, spares: 0, mYoungMb: 16 })
  try {
    assert.is(waitingCount(), 0, 'taken')
    assert.is(await rt.go(where), first.threadId, 'the only M is the prestarted thread')
    assert.is(await rt.go(youngMb), 16, 'with the heap limits it was started with')
    await first.discard() // a taken thread is the Runtime's: discarding it does nothing
    assert.is(await rt.go(where), first.threadId, 'still serving after discard')
  } finally {
    await rt.close()
  }
}))

test('a thread prestarted with other options is not taken, and discard ends it', deadline('mismatch', async () => {
  const other = prestartM(specOf({ loader: 'auto', youngMb: 24, stdout: 'stdout' }))
  const rt = await Runtime.start({ procs: 1, spares: 0, mYoungMb: 16 })
  try {
    assert.is(waitingCount(), 1, 'not taken by a Runtime with another young-generation cap')
    assert.is(await rt.go(youngMb), 16)
  } finally {
    await rt.close()
  }
  await other.discard()
  await other.discard() // idempotent
  assert.is(waitingCount(), 0)
}))

test('a prestarted thread discarded before any Runtime starts leaves nothing behind', deadline('discarded', async () => {
  const h = prestartM(specOf({ loader: 'auto', youngMb: 16, stdout: 'stdout' }))
  await h.discard()
  assert.is(waitingCount(), 0)
  // The next Runtime spawns its own thread and works.
  const rt = await Runtime.start({ procs: 1, spares: 0, mYoungMb: 16 })
  try {
    assert.is.not(await rt.go(where), h.threadId)
  } finally {
    await rt.close()
  }
}))

test.run()
