/**
 * `--html out.html`: one self-contained, offline page that steps through a
 * scenario under several modes side by side.
 *
 * Invariants:
 * - No external URL anywhere in the output (no fonts, scripts, styles or
 *   images from the network): the test greps for "http" and loads the page
 *   with every request other than the file itself refused.
 * - Data is embedded as JSON inside a non-executed script element with `<`
 *   escaped, so names can never close the element or inject markup; the
 *   client escapes every name it writes into the DOM.
 * - Every run passed in must have frames, all for the same scenario (so the
 *   slider index means the same step in every panel).
 */
import { barrierFor } from './barriers.js'
import { InternalError } from '../errors.js'
import { CLIENT_CSS, CLIENT_JS } from './html-client.js'
import { BOX_W, computeLayout, HEADER_H, ROW_H } from './layout.js'
import type { Run } from './run.js'
import type { Scenario } from './scenario.js'
import { formatStep } from './steps.js'

export interface HtmlOptions {
  /** Frame to show first (0 = initial state). */
  readonly start?: number
  readonly title?: string
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

export function renderHtml(scenario: Scenario, runs: readonly Run[], options: HtmlOptions = {}): string {
  const modes = runs.map((run) => {
    if (run.frames === undefined || run.frames.length !== scenario.steps.length + 1) {
      throw new InternalError(`renderHtml needs frames for every step of mode ${run.result.mode}`)
    }
    const barrier = barrierFor(run.result.mode)
    return { mode: run.result.mode, title: barrier.title, safe: barrier.safe, result: run.result, frames: run.frames }
  })
  const layout = computeLayout(modes.flatMap((m) => m.frames))
  const steps = scenario.steps.map(formatStep)
  const data = { steps, layout, dims: { header: HEADER_H, row: ROW_H, box: BOX_W }, modes, start: options.start ?? 0 }
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  const name = scenario.name ?? 'scenario'
  const title = options.title ?? `gc-sim: ${name}`
  const panels = modes
    .map(
      (m) => `<section class="panel" id="panel-${escapeHtml(m.mode)}" data-mode="${escapeHtml(m.mode)}">
  <h2>${escapeHtml(m.mode)}<span class="badge ${m.safe ? 'safe' : 'unsafe'}">${m.safe ? 'safe' : 'unsafe'}</span></h2>
  <div class="title">${escapeHtml(m.title)}</div>
  <div class="graph"></div>
  <div class="status"></div>
</section>`,
    )
    .join('\n')
  const stepList = ['<li class="initial">initial state</li>', ...steps.map((s, i) => `<li value="${i}">${escapeHtml(s)}</li>`)].join('')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CLIENT_CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="desc">${escapeHtml(scenario.description ?? '')}</p>
<div class="controls">
  <button id="btn-first" title="Home">|&lt;</button><button id="btn-prev" title="←">&lt; prev</button><button id="btn-next" title="→">next &gt;</button><button id="btn-last" title="End">&gt;|</button>
  <input id="step-slider" type="range" min="0" max="${steps.length}" value="0" aria-label="step">
  <button id="btn-violation" title="v">first violation</button>
  <span id="step-label"></span>
  <div class="legend">Keys: ← → step, Home/End, v = first violation. Objects: white ○, grey, black; dashed orange edge = black → white (strong invariant broken); thick red edge = the first edge breaking the weak invariant; red ring = lost (freed while reachable).</div>
</div>
<div class="layout">
<ol class="steps" start="0">${stepList}</ol>
<div class="panels">
${panels}
</div>
</div>
<section class="pacer">
  <h2>Pacer: heap goal</h2>
  <label>live heap <input id="pacer-live" type="number" min="0" step="any" value="8"> MiB</label>
  <label>stacks <input id="pacer-stacks" type="number" min="0" step="any" value="1"> MiB</label>
  <label>globals <input id="pacer-globals" type="number" min="0" step="any" value="1"> MiB</label>
  <label>GOGC <input id="pacer-gogc" type="text" value="100"></label>
  <p>Go 1.18+: live + (live + stacks + globals) × GOGC/100 = <output id="pacer-go118"></output><br>
  before 1.18: live × (1 + GOGC/100) = <output id="pacer-pre118"></output></p>
  <p class="legend">The Go GC guide's example: 8 MiB live heap, 1 MiB stacks, 1 MiB globals at GOGC=100 gives an 18 MiB goal.</p>
</section>
<script type="application/json" id="gc-data">${json}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`
}
