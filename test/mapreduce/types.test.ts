// Type-level checks of the gort/mapreduce API: `npm run typecheck` compiles them (tsc --noEmit), so
// a regression in the types fails the build; the uvu body only keeps the file a runnable suite.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineJob, MapReduceArgError, OutputExistsError, TaskFailedError } from '../../src/mapreduce/index.js'

function typeChecks(): void {
  // Type arguments type emit and an unannotated reduce.
  defineJob<string, number>({
    map(_file, line, emit) {
      emit(line, 1)
      // @ts-expect-error a string value in a number job
      emit(line, 'x')
    },
    async reduce(word, values, emit) {
      let n = 0
      for await (const v of values) n += v
      emit(word.toUpperCase(), n)
    },
  })
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
