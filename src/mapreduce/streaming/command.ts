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
 * Invariant: a Command's `file` was an executable regular file when it was resolved, so a
 * missing or non-executable program is an error before the output directory exists, not a
 * failed attempt four times over.
 */

import { accessSync, constants, statSync } from 'node:fs'
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
 * empty arguments are dropped (`''` gives none).
 */
export function splitCommand(text: string): string[] {
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

/** Resolves `text` to a program and arguments, or throws StreamCommandError saying why it cannot run. */
export function resolveCommand(option: string, text: string, cwd = process.cwd(), envPath = process.env['PATH'] ?? ''): Command {
  const argv = splitCommand(text)
  const [prog, ...args] = argv
  if (prog === undefined || prog === '') throw new StreamCommandError(option, text, 'no program to run')
  if (prog.includes('/')) {
    const file = path.resolve(cwd, prog)
    const st = statSync(file, { throwIfNoEntry: false })
    if (st === undefined) throw new StreamCommandError(option, text, `${prog} does not exist`)
    if (!st.isFile()) throw new StreamCommandError(option, text, `${prog} is not a file`)
    if (!executable(file)) throw new StreamCommandError(option, text, `${prog} is not executable (chmod +x ${prog})`)
    return { text, file, args }
  }
  for (const dir of [cwd, ...envPath.split(path.delimiter).filter((d) => d !== '')]) {
    const file = path.resolve(cwd, dir, prog)
    if (executable(file)) return { text, file, args }
  }
  throw new StreamCommandError(option, text, `${prog} is not an executable in the working directory or on PATH`)
}
