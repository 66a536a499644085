/**
 * `gort gc-sim`: run a GC scenario under one or all modes (trace, matrix, JSON,
 * HTML), fuzz the modes, or print the pacer's heap goal.
 *
 * Invariants:
 * - All simulation logic lives in src/gc-sim (browser-safe); this file only
 *   parses arguments, reads and writes files, and prints.
 * - Exit codes: 0 success; 1 when the fuzzer refutes a mode's safety claim or
 *   a file cannot be read or written; 2 for usage errors and invalid input
 *   (unknown mode or scenario, a malformed scenario file), with the reason on stderr.
 * - Exactly one action (--scenario, --fuzz, --pacer, --list) per run, and an
 *   option the chosen action does not read is a usage error, never ignored.
 * - stdout carries only results; a long --fuzz shows its progress on stderr,
 *   and only when stderr is a terminal, so pipes and logs stay clean.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { GortError } from '../errors.js'
import {
  barrierFor,
  builtinScenario,
  formatFuzz,
  formatMatrix,
  formatSize,
  formatTrace,
  fuzz,
  heapGoals,
  MODES,
  parseGogc,
  parseModes,
  parseScenario,
  parseSize,
  renderHtml,
  runScenario,
  SCENARIOS,
  type Scenario,
  type Style,
} from '../gc-sim/index.js'
import { subcommand, type Subcommand } from './subcommand.js'

const HELP = `usage:
  gort gc-sim --scenario NAME|file.json [--mode MODE|all] [--json] [--html out.html]
  gort gc-sim --fuzz N [--seed S] [--large] [--mode MODE|all] [--json]
  gort gc-sim --pacer [--live 8MiB] [--stacks 1MiB] [--globals 1MiB] [--gogc 100|off]
  gort gc-sim --list

options:
  --scenario   a built-in scenario name (see --list) or a scenario JSON file
  --mode       ${MODES.join(', ')}, a comma-separated list, or all (default all)
  --json       print results as JSON: one object for one mode, an array for all
  --html FILE  write a self-contained page stepping through the scenario
  --fuzz N     run N seeded random schedules per mode, shrink the first loss
  --seed S     fuzzer seed (default 1)
  --large      larger schedules: up to 10 objects, 5 goroutines, 40 marking steps
  --color, --no-color   force colours on or off (default: on for a terminal, off with NO_COLOR)

--fuzz shows its progress on stderr when stderr is a terminal.`

type Action = 'scenario' | 'fuzz' | 'pacer' | 'list'
const ACTIONS: readonly Action[] = ['scenario', 'fuzz', 'pacer', 'list']
/** The options each action reads, besides --color/--no-color/--help, which any may take. */
const READS: Readonly<Record<Action, readonly string[]>> = {
  scenario: ['mode', 'json', 'html'],
  fuzz: ['mode', 'json', 'seed', 'large'],
  pacer: ['json', 'live', 'stacks', 'globals', 'gogc'],
  list: [],
}
const ANY_ACTION = new Set(['color', 'no-color', 'help'])

/** Where --fuzz writes its progress: stderr, or a test's stand-in. */
export interface ProgressStream {
  readonly isTTY?: boolean | undefined
  write(text: string): unknown
}

class UsageError extends GortError {
  constructor(message: string) {
    super('ERR_GCSIM_USAGE', message)
  }
}

async function loadScenario(spec: string): Promise<Scenario> {
  if (!spec.endsWith('.json')) return builtinScenario(spec)
  let text: string
  try {
    text = await readFile(spec, 'utf8')
  } catch (error) {
    throw new Error(`cannot read scenario file ${spec}: ${(error as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${spec}: not valid JSON: ${(error as Error).message}`)
  }
  try {
    return parseScenario(json)
  } catch (error) {
    if (error instanceof GortError) throw new UsageError(`${spec}: ${error.message}`)
    throw error
  }
}

function positiveInt(name: string, text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`)
  return n
}

function listText(): string {
  const lines = ['built-in scenarios:']
  for (const s of SCENARIOS) lines.push(`  ${s.name.padEnd(24)} ${s.description}`)
  lines.push('', 'modes:')
  for (const m of MODES) {
    const b = barrierFor(m)
    lines.push(`  ${m.padEnd(18)} ${b.safe ? 'safe  ' : 'UNSAFE'} ${b.title}`)
  }
  return lines.join('\n')
}

/** The one action the options ask for; a usage error for none, several, or an option it does not read. */
function chooseAction(given: ReadonlySet<string>): Action {
  const actions = ACTIONS.filter((a) => given.has(a))
  if (actions.length === 0) throw new UsageError('one of --scenario, --fuzz, --pacer or --list is required')
  if (actions.length > 1) throw new UsageError(`${actions.map((a) => `--${a}`).join(' and ')} cannot be used together: give one of --scenario, --fuzz, --pacer or --list`)
  const action = actions[0]!
  for (const name of given) {
    if (name === action || ANY_ACTION.has(name) || READS[action].includes(name)) continue
    const users = ACTIONS.filter((a) => READS[a].includes(name)).map((a) => `--${a}`)
    throw new UsageError(`--${name} does not apply to --${action}${users.length > 0 ? ` (only to ${users.join(', ')})` : ''}`)
  }
  return action
}

/**
 * A progress line for --fuzz on a terminal, rewritten in place at most every
 * PROGRESS_MS and erased at the end; null when `stream` is not a terminal.
 */
export function fuzzProgress(stream: ProgressStream, modes: readonly string[], schedules: number): { mode(index: number): (done: number) => void; end(): void } | null {
  if (stream.isTTY !== true) return null
  let last = -Infinity
  let shown = false
  return {
    mode(index) {
      return (done) => {
        const now = performance.now()
        if (now - last < PROGRESS_MS && done < schedules) return
        last = now
        shown = true
        stream.write(`\r\x1b[Kfuzz: mode ${index + 1}/${modes.length} (${modes[index]}): ${done}/${schedules} schedules`)
      }
    },
    end() {
      if (shown) stream.write('\r\x1b[K')
    },
  }
}

const PROGRESS_MS = 100

async function run(argv: readonly string[], stderr: ProgressStream): Promise<number> {
  const { values, tokens } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    tokens: true,
    options: {
      scenario: { type: 'string' },
      mode: { type: 'string', default: 'all' },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
      fuzz: { type: 'string' },
      seed: { type: 'string', default: '1' },
      large: { type: 'boolean', default: false },
      pacer: { type: 'boolean', default: false },
      live: { type: 'string', default: '8MiB' },
      stacks: { type: 'string', default: '1MiB' },
      globals: { type: 'string', default: '1MiB' },
      gogc: { type: 'string', default: '100' },
      list: { type: 'boolean', default: false },
      color: { type: 'boolean', default: false },
      'no-color': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const action = chooseAction(new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []))))
  const style: Style = {
    color: values['no-color'] ? false : values.color || (process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined),
  }
  if (action === 'list') {
    console.log(listText())
    return 0
  }
  if (action === 'pacer') {
    let input
    try {
      input = { liveHeap: parseSize(values.live), stacks: parseSize(values.stacks), globals: parseSize(values.globals), gogc: parseGogc(values.gogc) }
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const goals = heapGoals(input)
    if (values.json) console.log(JSON.stringify({ ...input, ...goals }))
    else {
      console.log(`live heap ${formatSize(input.liveHeap)}, stacks ${formatSize(input.stacks)}, globals ${formatSize(input.globals)}, GOGC=${values.gogc}`)
      console.log(`heap goal, Go 1.18+ (live + (live + stacks + globals) × GOGC/100): ${formatSize(goals.go118)}`)
      console.log(`heap goal, before Go 1.18 (live × (1 + GOGC/100)):            ${formatSize(goals.pre118)}`)
    }
    return 0
  }
  const modes = parseModes(values.mode)
  if (action === 'fuzz') {
    const schedules = positiveInt('fuzz', values.fuzz!)
    const seed = positiveInt('seed', values.seed)
    const size = values.large ? 'large' : 'small'
    const progress = fuzzProgress(stderr, modes, schedules)
    let reports
    try {
      reports = modes.map((mode, i) => fuzz({ mode, schedules, seed, size, ...(progress !== null && { onProgress: progress.mode(i) }) }))
    } finally {
      progress?.end()
    }
    console.log(values.json ? JSON.stringify(modes.length === 1 ? reports[0] : reports) : formatFuzz(reports, style))
    return reports.some((r) => r.claimedSafe && r.losingSchedules > 0) ? 1 : 0
  }
  const scenario = await loadScenario(values.scenario!)
  let runs
  try {
    runs = modes.map((mode) => runScenario(scenario, mode, { frames: true }))
  } catch (error) {
    // Step errors surface when the step runs; name the file as parse errors do.
    if (error instanceof GortError) throw new UsageError(`${values.scenario}: ${error.message}`)
    throw error
  }
  if (values.html !== undefined) {
    await writeFile(values.html, renderHtml(scenario, runs))
    if (!values.json) console.log(`wrote ${values.html} (${modes.length} mode(s), ${scenario.steps.length} steps)`)
  }
  if (values.json) {
    const results = runs.map((r) => r.result)
    console.log(JSON.stringify(modes.length === 1 ? results[0] : results))
  } else if (modes.length === 1) {
    console.log(formatTrace(scenario, runs[0]!, style))
  } else {
    console.log(formatMatrix(runs.map((r) => r.result), style))
  }
  return 0
}

/** The subcommand, writing --fuzz progress to `stderr` (a stand-in in tests). */
export function gcSimCommand(stderr: ProgressStream = process.stderr): Subcommand {
  // Every GortError from the simulator is about the input it was given: a usage error.
  return subcommand('gc-sim', 'tri-color GC simulator: scenarios, barrier modes, fuzzer, HTML stepper', (error) => error instanceof GortError, (argv) => run(argv, stderr))
}

export const command = gcSimCommand()
