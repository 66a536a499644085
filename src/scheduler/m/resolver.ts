/**
 * Finds the function behind a task id on this thread: first in this thread's registry (filled by
 * `task()` when a module is evaluated), else by importing the task's module once.
 *
 * Invariant: a module URL is imported at most once per thread; the lookup of a resolved id is
 * one array read.
 */

import { RuntimeOnMError, TaskNotFoundError } from '../errors.js'
import { registry } from '../task.js'
import type { TaskTable } from '../shared/tasktable.js'

export type Fn = (...args: unknown[]) => unknown

export class TaskResolver {
  readonly #tasks: TaskTable
  readonly #fns: (Fn | undefined)[] = []
  readonly #imports = new Map<string, Promise<unknown>>()

  constructor(tasks: TaskTable) {
    this.#tasks = tasks
  }

  /** The function for `tid` if this thread already has it (no import needed). */
  get(tid: number): Fn | undefined {
    const fn = this.#fns[tid]
    if (fn !== undefined) return fn
    const found = registry().get(this.#tasks.keyOf(tid)) as Fn | undefined
    if (found !== undefined) this.#fns[tid] = found
    return found
  }

  /** Imports the task's module if needed; rejects with TaskNotFoundError naming the task. */
  async load(tid: number): Promise<Fn> {
    const have = this.get(tid)
    if (have !== undefined) return have
    const key = this.#tasks.keyOf(tid)
    const url = key.slice(0, key.lastIndexOf('#'))
    let p = this.#imports.get(url)
    if (p === undefined) {
      p = import(url)
      this.#imports.set(url, p)
    }
    try {
      await p
    } catch (e) {
      // The module starts a runtime (tasks declared in the entry script): say so, naming the task.
      if ((e as { code?: unknown } | null)?.code === 'ERR_RUNTIME_ON_M') throw new RuntimeOnMError(key, { cause: e })
      throw new TaskNotFoundError(key, `importing its module failed: ${(e as Error)?.message ?? String(e)}`, { cause: e })
    }
    const fn = this.get(tid)
    if (fn === undefined) {
      throw new TaskNotFoundError(key, 'its module does not declare it (export it as task(import.meta.url, function <name>...))')
    }
    return fn
  }
}
