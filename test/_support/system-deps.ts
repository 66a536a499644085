/**
 * The programs test suites drive for real: `redis-server` (the Redis lock),
 * Chromium (the gc-sim page), and `bzip2` and `zstd` (gort mapreduce reads
 * .bz2 and .zst input through them). `npm test` runs this file first, so the
 * README's two commands are the whole set-up on a fresh Debian-like machine.
 *
 * Invariants:
 * - A program is found by its variable (REDIS_SERVER, CHROMIUM) when it has one
 *   and that is set, else on the PATH (`redis-server`, `chromium`, `bzip2`,
 *   `zstd`: gort itself finds those two on the PATH only). The suites resolve
 *   them with the same functions, so what is checked here is what they run.
 * - A variable that names a missing program is the user's own setting: it is
 *   reported, never worked around by installing something else.
 * - Missing programs are installed with apt-get only when that can succeed
 *   without asking (root, or sudo without a password) and apt-get exists;
 *   otherwise, and when the install did not produce them, it stops at once
 *   with one line saying what to install or which variable to set.
 * - When nothing is missing it runs nothing (no apt, no network): a warm
 *   machine pays only a few stat calls.
 *
 * Usage: tsx test/_support/system-deps.ts  (exit 0: all present; 1: the line on stderr)
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Program {
  /** The variable that overrides the lookup, for a program that has one. */
  readonly variable?: string
  /** The command looked up on the PATH, and the Debian package that has it. */
  readonly command: string
  readonly aptPackage: string
  /** What needs it, for the message. */
  readonly usedBy: string
}

export const REDIS: Program = { variable: 'REDIS_SERVER', command: 'redis-server', aptPackage: 'redis-server', usedBy: 'the Redis lock tests' }
export const CHROMIUM: Program = { variable: 'CHROMIUM', command: 'chromium', aptPackage: 'chromium', usedBy: 'the gc-sim page test' }
export const BZIP2: Program = { command: 'bzip2', aptPackage: 'bzip2', usedBy: 'the compressed-input tests' }
export const ZSTD: Program = { command: 'zstd', aptPackage: 'zstd', usedBy: 'the compressed-input tests' }
export const PROGRAMS: readonly Program[] = [REDIS, CHROMIUM, BZIP2, ZSTD]

type Env = Readonly<Record<string, string | undefined>>

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** `command` on the PATH (or `command` itself when it is a path), or null. */
export function which(command: string, env: Env = process.env): string | null {
  if (command.includes('/')) return isExecutable(command) ? command : null
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue
    const path = join(dir, command)
    if (isExecutable(path)) return path
  }
  return null
}

/** Where `program` is: its variable's value if set (present or not), else the PATH's match, else null. */
export function locate(program: Program, env: Env = process.env): { path: string | null; fromVariable: boolean } {
  const set = program.variable === undefined ? undefined : env[program.variable]
  if (set !== undefined && set !== '') {
    const path = isAbsolute(set) || set.includes('/') ? (isExecutable(set) ? set : null) : which(set, env)
    return { path, fromVariable: true }
  }
  return { path: which(program.command, env), fromVariable: false }
}

/** The program's path for a suite to run; the bare command when it is missing (the suite's spawn then fails). */
export function programPath(program: Program, env: Env = process.env): string {
  return locate(program, env).path ?? (program.variable === undefined ? undefined : env[program.variable]) ?? program.command
}

export type Plan =
  | { readonly action: 'ok' }
  | { readonly action: 'install'; readonly packages: readonly string[]; readonly sudo: boolean }
  | { readonly action: 'fail'; readonly message: string }

export interface Host {
  readonly env: Env
  /** Can install without a prompt: 'root', 'sudo' (passwordless), or null. */
  readonly privilege: 'root' | 'sudo' | null
  readonly hasApt: boolean
}

/** `, or set VAR=/path/to/cmd ...` for the programs that have a variable; '' when none has. */
function orSet(programs: readonly Program[]): string {
  const vars = programs.filter((p) => p.variable !== undefined).map((p) => `${p.variable}=/path/to/${p.command}`)
  return vars.length === 0 ? '' : `, or set ${vars.join(' ')}`
}

/** What to do about the programs, as a pure function of the host (tested without touching the machine). */
export function plan(host: Host, programs: readonly Program[] = PROGRAMS): Plan {
  const wrongVariable = programs.filter((p) => {
    const found = locate(p, host.env)
    return found.fromVariable && found.path === null
  })
  if (wrongVariable.length > 0) {
    const what = wrongVariable.map((p) => `${p.variable}=${host.env[p.variable!] ?? ''} is not an executable (${p.usedBy})`).join('; ')
    return { action: 'fail', message: `npm test: ${what}: point ${wrongVariable.length > 1 ? 'them' : 'it'} at ${wrongVariable.map((p) => p.command).join(' and ')}, or unset ${wrongVariable.length > 1 ? 'them' : 'it'} to use the PATH` }
  }
  const missing = programs.filter((p) => locate(p, host.env).path === null)
  if (missing.length === 0) return { action: 'ok' }
  if (host.privilege !== null && host.hasApt) {
    return { action: 'install', packages: missing.map((p) => p.aptPackage), sudo: host.privilege === 'sudo' }
  }
  const names = missing.map((p) => p.command).join(' and ')
  const why = host.hasApt ? 'not root and no passwordless sudo' : 'no apt-get here'
  return {
    action: 'fail',
    message: `npm test needs ${names} (${[...new Set(missing.map((p) => p.usedBy))].join(', ')}) and cannot install them (${why}): run \`sudo apt-get install ${missing.map((p) => p.aptPackage).join(' ')}\` or your system's equivalent${orSet(missing)}`,
  }
}

function probeHost(): Host {
  const root = process.getuid?.() === 0
  const sudo = !root && which('sudo') !== null && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
  return { env: process.env, privilege: root ? 'root' : sudo ? 'sudo' : null, hasApt: which('apt-get') !== null }
}

function apt(sudo: boolean, args: readonly string[]): boolean {
  const [cmd, argv] = sudo ? ['sudo', ['-n', 'apt-get', ...args]] : ['apt-get', [...args]]
  const r = spawnSync(cmd as string, argv as string[], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  return r.status === 0
}

function main(): number {
  const first = plan(probeHost())
  if (first.action === 'ok') return 0
  if (first.action === 'fail') {
    console.error(first.message)
    return 1
  }
  const needed = [...new Set(PROGRAMS.filter((p) => locate(p).path === null).map((p) => p.usedBy))].join(', ')
  console.error(`npm test: installing ${first.packages.join(' ')} with apt-get (missing; needed by ${needed})`)
  const installed = apt(first.sudo, ['update', '-qq']) && apt(first.sudo, ['install', '-y', '-qq', '--no-install-recommends', ...first.packages])
  const after = plan({ ...probeHost(), privilege: null })
  if (after.action === 'ok') return 0
  const still = PROGRAMS.filter((p) => locate(p).path === null)
  console.error(
    `npm test: apt-get ${installed ? 'ran' : 'failed (see above)'} and ${still.map((p) => p.command).join(' and ') || 'a program'} ${still.length > 1 ? 'are' : 'is'} still missing: install ${still.length > 1 ? 'them' : 'it'} by hand${orSet(still)}`,
  )
  return 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main()

/** One line for a suite that finds `program` missing anyway (run by hand, without npm test's check). */
export function missingMessage(program: Program): string {
  const set = program.variable === undefined ? undefined : process.env[program.variable]
  const where = set !== undefined && set !== '' ? `not found at ${program.variable}=${set}` : 'not found on the PATH'
  return `${program.command} ${where} (needed by ${program.usedBy}): run npm test (it installs ${program.aptPackage} where it can) or apt-get install ${program.aptPackage}${orSet([program])}`
}
