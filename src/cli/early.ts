/**
 * `gort mapreduce`'s threads, started by bin/gort.js before the CLI's own modules load. An M
 * spends 130-140 ms in Node's start-up and its modules before it runs a task, and the CLI's
 * imports and option parsing took the prestart in runJob (mapreduce/prestart.ts) 40-60 ms into
 * the process, on the critical path of a short job. Here the arguments are only scanned for what
 * the threads depend on (`--job` or `--mapper`, `--procs`, `--json`); the CLI parses them as
 * usual, and runJob takes these threads when its options ask for the same kind, or ends them.
 * A scan that reads the arguments wrong costs a thread's start, never a wrong job.
 */
import { prestartEarly, type PrestartOptions } from '../mapreduce/prestart.js'
import { tightenHeapGrowth } from './heap.js'

/** `argv`: the process's arguments after `gort`. */
export function prestartFromArgv(argv: readonly string[]): void {
  if (argv[0] !== 'mapreduce') return
  const o: { -readonly [K in keyof PrestartOptions]: PrestartOptions[K] } = {}
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') return
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const value = (): string => (eq > 0 ? arg.slice(eq + 1) : argv[++i] ?? '')
    if (flag === '--job') o.job = value()
    else if (flag === '--mapper') o.mapper = value()
    else if (flag === '--procs') o.procs = Number(value())
    else if (flag === '--json') o.taskStdout = 'stderr'
  }
  // As the CLI does before runJob: each M's heap reads the flag as it starts (heap.ts).
  tightenHeapGrowth()
  prestartEarly(o)
}
