/**
 * Input patterns to input files. Node 20 has no fs.glob, and the need is small, so this is a
 * matcher of its own rather than a dependency: `{a,b}` alternatives (expandBraces), `*` and `?`
 * within one path segment, `[abc]` and `[a-z]` classes (`[!a]` negated), and `**` for any number
 * of directories (a final one: every file below but for `_` and `.` names, as for a directory).
 * A name that starts with a dot or `_` matches only a pattern segment that starts with one (the
 * dot as in the shell, `_` as Hadoop's input filter drops `_SUCCESS` and `_logs` from glob
 * results). `**` does not descend into `.` or `_` directories, nor into symbolic links to
 * directories (as bash's globstar and node-glob do not: a link to a parent would make it endless); a link named by a literal or wildcard segment is followed, and
 * a link that cannot be resolved (a loop, a missing target) names nothing. A pattern
 * without those characters names a file, or a directory whose files (not sub-directories, and
 * not names starting with `_` or `.`, as Hadoop skips `_SUCCESS` and hidden files) are the input;
 * so does a pattern with them that matches nothing (`data[1].txt`, as the shell leaves it). A
 * pattern that names nothing and holds commas outside braces is Hadoop's comma-separated list
 * (`-input a/,b/`): each part is a pattern of its own.
 *
 * Invariant: the result is sorted by path and holds each file once, however many patterns name
 * it, so the split list (and with it every task id) is the same on every run over the same files.
 */

import { accessSync, closeSync, constants, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs'
import path from 'node:path'
import { codecByName, COMMANDS, findCommand } from './codec.js'
import { InputNotFoundError, InputUnreadableError } from './errors.js'

export interface InputFile {
  /** Absolute path. */
  readonly path: string
  /** As the pattern matched it (relative when the pattern was): the key `map` gets. */
  readonly name: string
  readonly size: number
  /** A decompressed copy's (codec.ts expandCompressed): the compressed file's size, which its splits count as theirs. */
  readonly stored?: number
  /** A compressed file's text size, as its format records it (codec.ts recordTextSizes), where it does. */
  readonly text?: number
}

const GLOB = /[*?[]/

/**
 * Every file the patterns name, sorted by name; throws InputNotFoundError for a pattern that names
 * none, and InputUnreadableError for a file this process may not read.
 */
export function expandInputs(patterns: readonly string[], cwd = process.cwd()): InputFile[] {
  const byPath = new Map<string, InputFile>()
  const add = (pattern: string): void => {
    let found = expandBraces(pattern).flatMap((p) => expandOne(p, cwd))
    // A name with braces in it, as written (as a glob that matches nothing is).
    if (found.length === 0 && pattern.includes('{')) found = literal(pattern, cwd)
    if (found.length === 0) {
      // Hadoop's -input takes a comma-separated list (commas inside braces are the braces'):
      // `a,b` names a and b, unless a file is named `a,b`.
      const parts = commaList(pattern)
      if (parts.length > 1) return parts.forEach(add)
      throw new InputNotFoundError(pattern)
    }
    for (const f of found) if (!byPath.has(f.path)) byPath.set(f.path, f)
  }
  patterns.forEach(add)
  const files = [...byPath.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  /** Whether each decompressing command is on the PATH, looked up once. */
  const found = new Map<string, boolean>()
  for (const f of files) {
    try {
      accessSync(f.path, constants.R_OK)
    } catch (e) {
      throw new InputUnreadableError(f.name, (e as NodeJS.ErrnoException).code ?? String(e))
    }
    const codec = codecByName(f.name)
    if (codec !== undefined && codec.codec === undefined) {
      // Hadoop would decompress it (by this extension); read as text it would be garbage in, garbage out.
      throw new InputNotFoundError(f.name, `is ${codec.name}-compressed in Hadoop's own framing, which gort does not read (it decompresses gzip, deflate, bzip2 and zstd, as Hadoop does by the name's extension): decompress it first, or leave it out of the input`)
    }
    const command = codec?.codec === undefined ? undefined : COMMANDS[codec.codec]
    if (command !== undefined) {
      let onPath = found.get(command)
      if (onPath === undefined) found.set(command, (onPath = findCommand(command) !== undefined))
      if (!onPath) throw new InputUnreadableError(f.name, `it is ${codec!.name}-compressed, which gort decompresses with the ${command} command, and no ${command} is on the PATH: install it (apt-get install ${command}), or decompress the file first`)
    }
    if (f.size === 0 && holdsBytes(f.path)) {
      // Splits are byte ranges of the size the file reports: this one would read as empty.
      throw new InputNotFoundError(f.name, 'reports a size of 0 but has content (a /proc or /sys file?): copy it to a regular file first')
    }
  }
  return files
}

/** Whether a file that reports a size of 0 gives bytes when read (procfs and sysfs files do). */
function holdsBytes(p: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(p, 'r')
    return readSync(fd, Buffer.alloc(1), 0, 1, 0) > 0
  } catch {
    return false // what cannot be read is read (and reported) by its map task
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Brace expansion, as bash and Hadoop's globs do it: `logs/2024-{01,02}/*.log` is
 * `logs/2024-01/*.log` and `logs/2024-02/*.log`, nested braces too (`{a,b{1,2}}`), in order. A
 * brace with no comma at its own level (`{x}`), or one never closed, is taken as it is.
 */
export function expandBraces(p: string): string[] {
  for (let i = p.indexOf('{'); i >= 0; i = p.indexOf('{', i + 1)) {
    let depth = 0
    let close = -1
    const commas: number[] = []
    for (let j = i; j < p.length && close < 0; j++) {
      const c = p[j]
      if (c === '{') depth++
      else if (c === '}' && --depth === 0) close = j
      else if (c === ',' && depth === 1) commas.push(j)
    }
    if (close < 0) return [p]
    if (commas.length === 0) continue
    const out: string[] = []
    let start = i + 1
    for (const end of [...commas, close]) {
      out.push(...expandBraces(p.slice(0, i) + p.slice(start, end) + p.slice(close + 1)))
      start = end + 1
    }
    return out
  }
  return [p]
}

/** `p` cut at its commas outside braces, as Hadoop cuts a comma-separated input list (empty parts dropped). */
export function commaList(p: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < p.length; i++) {
    const c = p[i]
    if (c === '{') depth++
    else if (c === '}' && depth > 0) depth--
    else if (c === ',' && depth === 0) {
      out.push(p.slice(start, i))
      start = i + 1
    }
  }
  out.push(p.slice(start))
  return out.filter((x) => x !== '')
}

/** What `p` is, following links; undefined when it does not exist or cannot be resolved (a link loop, an unreadable directory on the way). */
function statOf(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ELOOP' || code === 'EACCES' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined
    throw e
  }
}

function expandOne(pattern: string, cwd: string): InputFile[] {
  const segs = pattern.split('/')
  const first = segs.findIndex((s) => GLOB.test(s))
  if (first < 0) return literal(pattern, cwd)
  const base = first === 1 && segs[0] === '' ? '/' : segs.slice(0, first).join('/')
  const out: InputFile[] = []
  walk(path.resolve(cwd, base || '.'), base, segs.slice(first), out)
  // A pattern that matches nothing names the path as written, as in the shell: `data[1].txt`.
  return out.length > 0 ? out : literal(pattern, cwd)
}

/** The file the path names, or a directory's files (see the header); [] when there is neither. */
function literal(pattern: string, cwd: string): InputFile[] {
  const abs = path.resolve(cwd, pattern)
  const st = statOf(abs)
  if (st === undefined) return []
  if (st.isFile()) return [{ path: abs, name: pattern, size: Number(st.size) }]
  // Splits are byte ranges of a file whose size is known: a FIFO, socket or device has none.
  if (!st.isDirectory()) throw new InputNotFoundError(pattern, 'is not a regular file or a directory (a FIFO, socket or device)')
  const out: InputFile[] = []
  for (const d of readdirSync(abs, { withFileTypes: true })) {
    if (d.name.startsWith('_') || d.name.startsWith('.')) continue
    const f = fileOf(abs, d, path.join(pattern, d.name))
    if (f !== undefined) out.push(f)
  }
  return out
}

/** A directory entry as an input file, or undefined when it is not a file (symlinks are followed). */
function fileOf(dir: string, d: Dirent, name: string): InputFile | undefined {
  const abs = path.join(dir, d.name)
  const st = d.isFile() ? statOf(abs) : d.isSymbolicLink() ? statOf(abs) : undefined
  return st?.isFile() === true ? { path: abs, name, size: Number(st.size) } : undefined
}

function walk(dir: string, shown: string, segs: readonly string[], out: InputFile[]): void {
  const [seg, ...rest] = segs
  if (seg === undefined) return
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return // not a directory, or unreadable: it matches nothing
  }
  const join = (name: string): string => (shown === '' ? name : shown.endsWith('/') ? shown + name : `${shown}/${name}`)
  if (seg === '**') {
    // Zero directories; a final `**` names the files at every depth (as bash's globstar does),
    // but for `_` and `.` names, as a directory given as input does.
    walk(dir, shown, rest.length === 0 ? ['*'] : rest, out)
    for (const d of entries) {
      // Not into `_logs/` or `_temporary/` (a Hadoop output's), as Hadoop's recursive listing.
      if (d.name.startsWith('.') || d.name.startsWith('_')) continue
      if (d.isDirectory()) walk(path.join(dir, d.name), join(d.name), segs, out) // not through links
    }
    return
  }
  const re = segmentRegExp(seg)
  for (const d of entries) {
    if (!re.test(d.name)) continue
    if (rest.length === 0) {
      const f = fileOf(dir, d, join(d.name))
      if (f !== undefined) out.push(f)
    } else if (isDir(dir, d)) {
      walk(path.join(dir, d.name), join(d.name), rest, out)
    }
  }
}

function isDir(dir: string, d: Dirent): boolean {
  return d.isDirectory() || (d.isSymbolicLink() && statOf(path.join(dir, d.name))?.isDirectory() === true)
}

/** One path segment of a glob as an anchored RegExp. */
export function segmentRegExp(seg: string): RegExp {
  // A dot name only for a segment that starts with a dot, as in the shell; a `_` name only for one
  // that starts with `_`, as Hadoop's input filter drops `_` names from glob results too
  // (`out/*` is not `out/_SUCCESS`).
  let re = (seg.startsWith('.') ? '' : '(?!\\.)') + (seg.startsWith('_') ? '' : '(?!_)')
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2)
      if (close < 0) {
        re += '\\['
        continue
      }
      let body = seg.slice(i + 1, close)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`
      i = close
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 'u')
}
