/**
 * V8's heap growth for the MapReduce commands. By default V8 lets a heap grow to up to four
 * times what survived its last full GC before the next one: a map task's buffer (a Map of
 * hundreds of thousands of keys) and the previous task's garbage then share an M's heap, and
 * `gort mapreduce` peaked at 560-590 MiB on word count where the live data is a third of that.
 * Growing by 10-25 % took that to 380-410 MiB at the same CPU, within the noise; 50 % left
 * 450 MiB (bench/NOTES.md, 2026-12-06). Since the buffers keep keys as bytes (spill.ts), word
 * count's heaps stay small and the flag no longer changes its peak; it still bounds the heaps
 * of jobs that hold much in JS objects (string values, state kept by map or reduce).
 *
 * V8 flags belong to the process (every isolate reads them), so only the commands, which own
 * their process, set this one; a program calling `runJob` chooses for itself (docs/mapreduce.md).
 * A value the user gave (`node --heap-growing-percent=N bin/gort.js ...`) is kept. Node refuses
 * this flag in NODE_OPTIONS, so the command line is the only place to look.
 */
import { setFlagsFromString } from 'node:v8'

export const HEAP_GROWING_PERCENT = 20

/** The flag to set, or undefined when the process was started with its own (`given`: its execArgv, joined). */
export function heapGrowthFlag(given: string): string | undefined {
  return /--heap[-_]growing[-_]percent/.test(given) ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`
}

export function tightenHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv.join(' '))
  if (flag !== undefined) setFlagsFromString(flag)
}
