/**
 * What every `gort` subcommand is, and the one place that turns what its body throws into an
 * exit code.
 *
 * Invariants:
 * - A thrown error is printed once, as `gort NAME: message`, on stderr.
 * - Exit 2 for the caller's mistakes (an unknown or malformed option, or whatever `isUsage`
 *   accepts), 1 for anything else, as Go's flag package does. A malformed option is followed by
 *   a pointer to `--help`, not the help itself: fifty lines of it buried the one that said what
 *   was wrong.
 */

export interface Subcommand {
  readonly summary: string
  run(argv: readonly string[]): Promise<number>
}

export function subcommand(
  name: string,
  summary: string,
  isUsage: (error: unknown) => boolean,
  body: (argv: readonly string[]) => Promise<number>,
): Subcommand {
  return {
    summary,
    async run(argv) {
      try {
        return await body(argv)
      } catch (error) {
        const code = (error as { code?: unknown }).code
        const badArgs = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
        console.error(`gort ${name}: ${(error as Error).message}`)
        if (badArgs) console.error(`(gort ${name} --help lists the options)`)
        return badArgs || isUsage(error) ? 2 : 1
      }
    },
  }
}
