// Type-level checks of gort/mapreduce's errors and runJob's options (job types: options.test.ts): `npm run typecheck`
// compiles them (tsc --noEmit), so a regression in the types fails the build; the uvu body only
// keeps the file a runnable suite.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MapReduceArgError, OutputExistsError, TaskFailedError, type RunJobOptions } from '../../src/mapreduce/index.js'

function typeChecks(): void {
  // An error's code narrows a union of them to its class.
  const describe = (e: TaskFailedError | MapReduceArgError | OutputExistsError): string => {
    if (e.code === 'ERR_MR_TASK_FAILED') return e.task
    if (e.code === 'ERR_INVALID_ARG') return e.option
    return e.path
  }
  void describe

  // A job is a module or streaming commands: never both, never neither (runJob also refuses
  // them at run time, for JavaScript callers: runjob.test.ts, streaming.test.ts).
  const module: RunJobOptions = { job: 'wc.ts', input: 'in', output: 'out' }
  const streaming: RunJobOptions = { mapper: 'cat', reducer: 'uniq -c', input: 'in', output: 'out' }
  // @ts-expect-error a module and a mapper
  const both: RunJobOptions = { job: 'wc.ts', mapper: 'cat', input: 'in', output: 'out' }
  // @ts-expect-error a module and a reducer command
  const mixed: RunJobOptions = { job: new URL('file:///wc.mjs'), reducer: 'cat', input: 'in', output: 'out' }
  // @ts-expect-error a reducer command without a mapper
  const noMapper: RunJobOptions = { reducer: 'cat', input: 'in', output: 'out' }
  // @ts-expect-error neither
  const neither: RunJobOptions = { input: 'in', output: 'out' }
  void [module, streaming, both, mixed, noMapper, neither]
}

test('the types above compile (npm run typecheck)', () => {
  assert.type(typeChecks, 'function')
})

test.run()
