/**
 * `gort` command-line entry: dispatches to one module per subcommand.
 *
 * Invariants:
 * - Subcommand modules are imported lazily, so `gort gc-sim` never pays for
 *   loading the scheduler and vice versa.
 * - `main` returns the exit code instead of calling `process.exit`, so pending
 *   output is flushed and tests can call it in-process.
 * - Usage errors go to stderr with exit code 2 (as Go's flag package does).
 */
import { readFileSync } from 'node:fs'
import type { Subcommand } from './subcommand.js'

type Loader = () => Promise<Subcommand>

const COMMANDS: Record<string, Loader> = {
  'gc-sim': () => import('./gc-sim.js').then((m) => m.command),
  mapreduce: () => import('./mapreduce.js').then((m) => m.command),
  sched: () => import('./sched.js').then((m) => m.command),
  'stream-map': () => import('./stream.js').then((m) => m.streamMapCommand),
  'stream-reduce': () => import('./stream.js').then((m) => m.streamReduceCommand),
}

/** gort's version, from the package.json beside `src/` and `dist/` (the same path from both). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function usage(): string {
  const lines = Object.keys(COMMANDS)
    .sort()
    .map((name) => `  gort ${name}`)
  return ['usage: gort <command> [options]', '', 'commands:', ...lines, '', 'Run `gort <command> --help` for its options, `gort --version` for the version.'].join('\n')
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(`gort ${version()}`)
    return 0
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    console.error(`gort: unknown command ${JSON.stringify(name)}\n\n${usage()}`)
    return 2
  }
  const command = await load()
  return command.run(rest)
}
