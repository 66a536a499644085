// Type-level checks of gort/mapreduce's errors (job types: options.test.ts): `npm run typecheck`
// compiles them (tsc --noEmit), so a regression in the types fails the build; the uvu body only
// keeps the file a runnable suite.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MapReduceArgError, OutputExistsError, TaskFailedError } from '../../src/mapreduce/index.js'

function typeChecks(): void {
  // An error's code narrows a union of them to its class.
  const describe = (e: TaskFailedError | MapReduceArgError | OutputExistsError): string => {
    if (e.code === 'ERR_MR_TASK_FAILED') return e.task
    if (e.code === 'ERR_INVALID_ARG') return e.option
    return e.path
  }
  void describe
}

test('the types above compile (npm run typecheck)', () => {
  assert.type(typeChecks, 'function')
})

test.run()
