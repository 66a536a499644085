/**
 * Making directories. Not `mkdirSync(dir, { recursive: true })`: Node's recursive mkdir spins
 * forever, at 100 % CPU and deaf to signals (it is one synchronous call), when the filesystem
 * answers ENOENT for a child of a parent that exists, as procfs does (`--output /proc/x/out`, a
 * cache directory under /proc) and as a stale mount can. Here a parent that exists and a child
 * that still cannot be made is that child's error.
 */

import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'

/** `dir` and any parents it lacks (mkdir -p); throws when one of them cannot be made. */
export function makeDirs(dir: string): void {
  if (makeDir(dir, true)) return
  makeDirs(path.dirname(dir))
  // Once more, the parent now there: a missing parent now is this directory's error.
  makeDir(dir, false)
}

/**
 * Makes `dir`, or finds it made (by a racing maker too): true. False when its parent is missing
 * and `parentMayLack`; any other failure throws.
 */
function makeDir(dir: string, parentMayLack: boolean): boolean {
  try {
    mkdirSync(dir)
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true) return true
    if (code === 'ENOENT' && parentMayLack && path.dirname(dir) !== dir) return false
    throw e
  }
}
