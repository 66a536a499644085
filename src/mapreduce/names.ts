/**
 * How a job names its tasks and their part files, as Hadoop does: task `m-00012`, part file
 * `part-r-00003`. A module of its own, with no imports, so the coordinator names tasks without
 * loading the tasks' code.
 */

/** `m-00012` / `r-00003`. */
export function taskId(kind: 'm' | 'r', n: number): string {
  return `${kind}-${String(n).padStart(5, '0')}`
}

/** `part-r-00003` / `part-m-00012`. */
export function partName(kind: 'r' | 'm', n: number): string {
  return `part-${kind}-${String(n).padStart(5, '0')}`
}
