/**
 * Streaming commands: the `--mapper 'CMD ARGS'` text to a program and its arguments, resolved
 * before anything runs.
 *
 * As Hadoop Streaming's PipeMapRed does, and unlike a shell: the text is split at spaces, a
 * single- or double-quoted run is one argument (quotes removed, nothing escaped inside), and the
 * program is started directly, with no shell: no pipes, redirections, globs or `$VAR`s (write a
 * script for those, as on a cluster). A program name without a `/` is looked up in the working
 * directory first, then on PATH (Hadoop prepends the task's directory to PATH, where `-files`
 * puts scripts); one with a `/` is a path relative to the working directory.
 *
 * Unlike Hadoop, whose splitArgs takes the rest of the line as the last argument, an unterminated
 * quote is an error: `'unterminated` would otherwise run a program named `unterminated`. A
 * backslash is an ordinary character (Hadoop escapes nothing), a trailing one too.
 *
 * Invariant: a Command's `file` was an executable regular file when it was resolved, and when it
 * is a script, its `#!` line's interpreter (an absolute path) was an executable too, so a missing
 * or non-executable program or interpreter is an error before the output directory exists, not a
 * failed attempt four times over (an interpreter's ENOENT reads as if the script were missing).
 */

import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs'
import path from 'node:path'
import { StreamCommandError } from '../errors.js'

/** A resolved streaming command. */
export interface Command {
  /** As the user wrote it, for messages. */
  readonly text: string
  /** The program, absolute. */
  readonly file: string
  /** Its arguments (without the program). */
  readonly args: readonly string[]
}

/**
 * Splits a command line as Hadoop's PipeMapRed.splitArgs does: an unquoted space ends an
 * argument, and so does every quote that opens or closes a quoted run (`a'b c'd` is three
 * arguments: a, b c, d); a quote of the other kind inside a quoted run is an ordinary character;
 * empty arguments are dropped (`''` gives none). A quote left open at the end throws
 * StreamCommandError (for `option`, as resolveCommand reports it).
 */
export function splitCommand(text: string, option: string): string[] {
  const out: string[] = []
  let cur = ''
  let quote: '"' | "'" | undefined
  const end = (): void => {
    if (cur !== '') out.push(cur)
    cur = ''
  }
  for (const c of text) {
    if (c === quote) {
      quote = undefined
      end()
    } else if (quote === undefined && (c === '"' || c === "'")) {
      quote = c
      end()
    } else if (quote === undefined && c === ' ') {
      end()
    } else {
      cur += c
    }
  }
  if (quote !== undefined) throw new StreamCommandError(option, text, `an unterminated ${quote} quote`)
  end()
  return out
}

function executable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The most of a script's first line read for its `#!` (Linux reads 256 bytes since 5.1). */
const SHEBANG_BYTES = 256

/**
 * The interpreter a script's `#!` line names (its first word, as the kernel splits it: at spaces
 * and tabs, so a `\r` of a CRLF line stays part of it, as it does for the kernel), or undefined
 * when `file` does not start with `#!`, cannot be read, or its first word runs past what is read.
 */
export function interpreterOf(file: string): string | undefined {
  const buf = Buffer.alloc(SHEBANG_BYTES)
  let n: number
  try {
    const fd = openSync(file, 'r')
    try {
      n = readSync(fd, buf, 0, SHEBANG_BYTES, 0)
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined // unreadable: the spawn will say what is wrong
  }
  if (n < 2 || buf[0] !== 0x23 || buf[1] !== 0x21) return undefined // not `#!`
  const nl = buf.subarray(0, n).indexOf(0x0a)
  const line = buf.subarray(2, nl < 0 ? n : nl).toString('utf8')
  const m = /^[ \t]*([^ \t]+)([ \t]|$)/.exec(line)
  if (m === null) return undefined // `#!` and nothing: not ours to judge
  if (nl < 0 && n === SHEBANG_BYTES && m[2] === '') return undefined // cut off: its end is unknown
  if (m[1]!.includes('\ufffd')) return undefined // not UTF-8: no string names that path
  return m[1]
}

/**
 * Throws when `file` is a script whose `#!` interpreter is an absolute path that is not an
 * executable. A relative one (rare) is the kernel's to resolve, against the process's working
 * directory; `#!/usr/bin/env python3` checks /usr/bin/env only, not what env will look up.
 */
function checkInterpreter(option: string, text: string, file: string): void {
  const interp = interpreterOf(file)
  if (interp === undefined || !interp.startsWith('/') || executable(interp)) return
  if (interp.endsWith('\r')) {
    throw new StreamCommandError(option, text, `its #! line ends in a carriage return (Windows line endings), so its interpreter is ${JSON.stringify(interp)}, which is not an executable (dos2unix fixes the script)`)
  }
  throw new StreamCommandError(option, text, `its interpreter ${interp} (from its #! line) is not an executable`)
}

/** Resolves `text` to a program and arguments, or throws StreamCommandError saying why it cannot run. */
export function resolveCommand(option: string, text: string, cwd = process.cwd(), envPath = process.env['PATH'] ?? ''): Command {
  const argv = splitCommand(text, option)
  const [prog, ...args] = argv
  if (prog === undefined || prog === '') throw new StreamCommandError(option, text, 'no program to run')
  if (prog.includes('/')) {
    const file = path.resolve(cwd, prog)
    const st = statSync(file, { throwIfNoEntry: false })
    if (st === undefined) throw new StreamCommandError(option, text, `${prog} does not exist`)
    if (!st.isFile()) throw new StreamCommandError(option, text, `${prog} is not a file`)
    if (!executable(file)) throw new StreamCommandError(option, text, `${prog} is not executable (chmod +x ${prog})`)
    checkInterpreter(option, text, file)
    return { text, file, args }
  }
  const file = findExecutable(prog, [cwd, ...envPath.split(path.delimiter)], cwd)
  if (file !== undefined) {
    checkInterpreter(option, text, file)
    return { text, file, args }
  }
  throw new StreamCommandError(option, text, `${prog} is not an executable in the working directory or on PATH`)
}

/** The first `dirs/prog` that is an executable file (dirs relative to `cwd`; empty ones skipped), or undefined. */
export function findExecutable(prog: string, dirs: readonly string[], cwd = process.cwd()): string | undefined {
  for (const dir of dirs) {
    if (dir === '') continue
    const file = path.resolve(cwd, dir, prog)
    if (executable(file)) return file
  }
  return undefined
}
