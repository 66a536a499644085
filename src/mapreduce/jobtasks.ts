/**
 * A job's map and reduce tasks, as the Ms import them: one instance of this module per job, its
 * URL carrying `?job=<job URL>` (tasks.ts's jobTasks names the tasks by it), so an M imports the
 * instance before it runs the job's first task, and the instance imports the job module and the
 * attempts' code (tasks.ts) at its top level. So when a task's body is called, its job is loaded
 * already (loadedJob), the body runs the user's `map` without an `await` first, and a hung `map`
 * is inside the synchronous body, the one place where the scheduler can end its M (goWith's
 * killAfterMs).
 *
 * Only Ms import this module (the main thread names it, never loads it): its top-level await
 * stays out of gort/mapreduce, which a program that tsx loads as CommonJS must be able to import.
 * Without `?job=` (streaming mode, no job module) it imports nothing more.
 */
import { onM, task } from '../scheduler/task.js'
import { loadForJob, mapTask, reduceTask } from './tasks.js'

const jobParam = new URL(import.meta.url).searchParams.get('job')
// A failed import is reported by the task that needs the job (loadJob rejects again there).
if (jobParam !== null && onM()) await loadForJob(jobParam).catch(() => undefined)

task(import.meta.url, mapTask)
task(import.meta.url, reduceTask)
