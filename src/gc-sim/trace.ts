/**
 * Terminal output: the step-by-step trace of one mode, the results matrix of
 * several modes, and the fuzzer report.
 *
 * Invariants:
 * - Colour is optional decoration: every colour also has a symbol
 *   (○ white, ◐ grey, ● black, × freed), so `--no-color`, NO_COLOR and piped
 *   output lose nothing.
 * - Pure string builders: no console, no process; the CLI decides where text goes.
 */
import { barrierFor } from './barriers.js'
import type { Edge } from './checker.js'
import type { FuzzReport } from './fuzz.js'
import type { Frame, Run, RunResult } from './run.js'
import { scenarioJson, type Scenario } from './scenario.js'

export interface Style {
  readonly color: boolean
}

const ESC = '\u001b['
function paint(style: Style, code: string, text: string): string {
  return style.color ? `${ESC}${code}m${text}${ESC}0m` : text
}
const red = (s: Style, t: string): string => paint(s, '31', t)
const green = (s: Style, t: string): string => paint(s, '32', t)
const yellow = (s: Style, t: string): string => paint(s, '33', t)
const bold = (s: Style, t: string): string => paint(s, '1', t)
const dim = (s: Style, t: string): string => paint(s, '2', t)

/** Visible width, ignoring ANSI escapes, so columns line up in colour too. */
function width(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}
function pad(text: string, n: number): string {
  return text + ' '.repeat(Math.max(0, n - width(text)))
}

function objectToken(style: Style, name: string, frame: Frame): string {
  const o = frame.objects[name]!
  if (o.freed) return frame.lost.includes(name) ? red(style, `×${name}`) : dim(style, `×${name}`)
  if (o.color === 'black') return bold(style, `●${name}`)
  if (o.color === 'grey') return yellow(style, `◐${name}`)
  return `○${name}`
}

function stackToken(style: Style, name: string, frame: Frame): string {
  return frame.stacks[name]!.color === 'black' ? bold(style, `●${name}`) : yellow(style, `◐${name}`)
}

function invariant(style: Style, label: string, edge: Edge | null): string {
  return edge === null ? `${label} ${green(style, 'ok')}` : `${label} ${red(style, `✗ ${edge.from}->${edge.to}`)}`
}

/** One line per step: state after the step, invariants, pause and what happened. */
export function formatTrace(scenario: Scenario, run: Run, style: Style): string {
  const frames = run.frames ?? []
  const barrier = barrierFor(run.result.mode)
  const textWidth = Math.max(15, ...frames.map((f) => f.text.length))
  const heapWidth = Math.max(...frames.map((f) => Object.keys(f.objects).length * 3 + 2))
  const stackWidth = Math.max(...frames.map((f) => Object.keys(f.stacks).length * 4 + 2))
  const lines = [
    bold(style, `gc-sim ${scenario.name ?? 'scenario'} · mode ${barrier.mode}${barrier.safe ? '' : ' (unsafe)'}`),
    dim(style, barrier.title),
    dim(style, '○ white  ◐ grey  ● black  × freed (red: lost)'),
    '',
  ]
  for (const frame of frames) {
    const index = frame.step < 0 ? '    ' : `[${String(frame.step).padStart(2)}]`
    const stacks = Object.keys(frame.stacks).map((g) => stackToken(style, g, frame)).join(' ')
    const objects = Object.keys(frame.objects).map((x) => objectToken(style, x, frame)).join(' ')
    const pause = frame.pause > 0 ? yellow(style, `STW ${frame.pause}`) : ''
    lines.push(
      [
        index,
        pad(frame.text, textWidth),
        pad(frame.phase, 6),
        pad(stacks, stackWidth),
        pad(objects, heapWidth),
        pad(invariant(style, 'strong', frame.strong), 18),
        pad(invariant(style, 'weak', frame.weak), 16),
        pad(pause, 6),
        frame.note === '' ? '' : dim(style, frame.note),
      ]
        .join(' ')
        .trimEnd(),
    )
  }
  lines.push('', summary(style, run.result))
  return lines.join('\n')
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(' ')
}

export function summary(style: Style, r: RunResult): string {
  const lost = r.lost.length > 0 ? red(style, list(r.lost)) : list(r.lost)
  return `result: freed ${list(r.freed)} · lost ${lost} · floating ${list(r.floating)} · STW ${r.stw} in ${r.pauses} pause(s), max ${r.maxPause} · mark work ${r.markWork} · barrier calls ${r.barrierCalls} (${r.barrierShades} shaded)`
}

/** The `--mode all` matrix: one row per mode. */
export function formatMatrix(results: readonly RunResult[], style: Style): string {
  const header = ['mode', 'freed', 'lost', 'floating', 'STW', 'pauses', 'max pause', 'mark work', 'barrier calls', 'first weak violation']
  const rows = results.map((r) => {
    const weak = r.violations.find((v) => v.invariant === 'weak')
    return [
      r.mode,
      list(r.freed),
      r.lost.length > 0 ? red(style, list(r.lost)) : '-',
      list(r.floating),
      String(r.stw),
      String(r.pauses),
      String(r.maxPause),
      String(r.markWork),
      String(r.barrierCalls),
      weak === undefined ? '-' : `steps[${weak.step}] ${weak.edge}`,
    ]
  })
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((row) => width(row[i]!))))
  const line = (cells: readonly string[]): string => cells.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd()
  return [bold(style, line(header)), ...rows.map(line)].join('\n')
}

/** The `--fuzz` report: one paragraph per mode, counterexamples as replayable JSON. */
export function formatFuzz(reports: readonly FuzzReport[], style: Style): string {
  const lines: string[] = []
  for (const r of reports) {
    const verdict =
      r.losingSchedules === 0
        ? green(style, 'no losses')
        : red(style, `${r.losingSchedules} losing schedule(s)`)
    const claim = r.claimedSafe ? 'claimed safe' : 'claimed unsafe'
    const mismatch = r.claimedSafe && r.losingSchedules > 0 ? red(style, '  ← CLAIM REFUTED') : ''
    lines.push(
      `${bold(style, pad(r.mode, 18))} ${r.schedules} schedules (${r.steps} steps) in ${r.ms.toFixed(0)} ms · ${verdict} · weak invariant broken in ${r.weakViolationSchedules} · ${claim}${mismatch}`,
    )
    const c = r.counterexample
    if (c !== null) {
      lines.push(`  counterexample from schedule ${c.schedule}, shrunk ${c.originalSteps} → ${c.scenario.steps.length} steps, loses ${c.lost.join(' ')}:`)
      lines.push(`  ${scenarioJson(c.scenario)}`)
    }
  }
  return lines.join('\n')
}

