// Type-level checks of the scheduler API: `npm run typecheck` compiles them (tsc --noEmit), so a
// regression in the types fails the build; the uvu body only keeps the file a runnable suite.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { go, goAll, goAllSettled, task, type Runtime, type Task } from '../../src/scheduler/index.js'
import { add, echo, fib } from './fixtures/tasks.js'

function typeChecks(rt: Runtime): void {
  const sum: Promise<number> = rt.go(add, 1, 2)
  const f: Promise<number> = go(fib, 10, 5)
  const e: Promise<unknown> = rt.go(echo, { a: 1 }) // generic tasks are erased to unknown
  // @ts-expect-error wrong argument type
  void rt.go(add, 1, 'two')
  // @ts-expect-error missing argument
  void rt.go(add, 1)
  // @ts-expect-error the result is a number, not a string
  const s: Promise<string> = rt.go(add, 1, 2)
  // @ts-expect-error a plain value is not a task
  void rt.go(42)
  const t: Task<[number, number], number> = add
  const all: Promise<number[]> = rt.goAll(add, [[1, 2], [3, 4]])
  const allInside: Promise<number[]> = goAll(fib, [[10, 5]])
  // @ts-expect-error each tuple must match the task's parameters
  void rt.goAll(add, [[1, 'two']])
  // @ts-expect-error goAll takes a list of tuples, not one tuple
  void goAll(add, [1, 2])
  const settled: Promise<PromiseSettledResult<number>[]> = rt.goAllSettled(add, [[1, 2], [3, 4]])
  const settledInside: Promise<PromiseSettledResult<number>[]> = goAllSettled(fib, [[10, 5]])
  // @ts-expect-error outcomes, not bare results
  const bare: Promise<number[]> = rt.goAllSettled(add, [[1, 2]])
  // @ts-expect-error each tuple must match the task's parameters
  void goAllSettled(add, [[1, 'two']])
  void [sum, f, e, s, t, all, allInside, settled, settledInside, bare]
}

test('the task reference carries its types (checked by tsc)', () => {
  const square = task(import.meta.url, function square(x: number): number {
    return x * x
  })
  assert.is(square.name, 'square')
  assert.is(square.key, `${import.meta.url}#square`)
  assert.type(typeChecks, 'function')
})

test('task() rejects what other threads could not find', () => {
  assert.throws(() => task('not a url', function x() {}), /import\.meta\.url/)
  assert.throws(() => task(import.meta.url, (() => () => 1)()), /named function/)
  assert.throws(() => task(import.meta.url, 5 as never), /needs a function/)
})

test.run()
