/** Runs a `gort` subcommand in-process, capturing what it prints (console.log and console.error). */
import type { Subcommand } from '../../src/cli/subcommand.js'

export async function runCaptured(command: Subcommand, argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log
  const error = console.error
  let out = ''
  let err = ''
  console.log = (...args: unknown[]) => void (out += args.join(' ') + '\n')
  console.error = (...args: unknown[]) => void (err += args.join(' ') + '\n')
  try {
    const code = await command.run(argv)
    return { code, out, err }
  } finally {
    console.log = log
    console.error = error
  }
}
