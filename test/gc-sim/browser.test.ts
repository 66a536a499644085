// The HTML page in a real browser: Debian's chromium driven by playwright-core.
// CHROMIUM when set, else chromium on the PATH; npm test checks (or installs) it
// first, so a missing browser fails here with one line instead of skipping.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MODES } from '../../src/gc-sim/barriers.js'
import { renderHtml } from '../../src/gc-sim/html.js'
import { runScenario } from '../../src/gc-sim/run.js'
import { parseScenario } from '../../src/gc-sim/scenario.js'
import { builtinScenario } from '../../src/gc-sim/scenarios.js'
import { deadline } from '../_support/deadline.js'
import { CHROMIUM as CHROMIUM_PROGRAM, locate, missingMessage } from '../_support/system-deps.js'

const CHROMIUM = locate(CHROMIUM_PROGRAM).path
const SCREENSHOT = resolve('.tmp/gc-sim.png')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

test(
  'the page steps to the violation, highlights the flagged edge, marks the lost object, and computes the pacer goal',
  deadline(
    'gc-sim html in chromium',
    async () => {
      if (CHROMIUM === null) throw new Error(missingMessage(CHROMIUM_PROGRAM))
      const dir = await mkdtemp(join(tmpdir(), 'gort-gc-sim-html-'))
      let browser: Browser | undefined
      try {
        const scenario = builtinScenario('insertion-no-rescan')
        const file = join(dir, 'page.html')
        await writeFile(file, renderHtml(scenario, MODES.map((m) => runScenario(scenario, m, { frames: true }))))
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
        const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } })
        const errors: string[] = []
        const requests: string[] = []
        page.on('pageerror', (e) => errors.push(e.message))
        // Offline: anything but the page itself is refused and recorded.
        await page.route('**/*', (route) => {
          const url = route.request().url()
          if (url.startsWith('file:')) return route.continue()
          requests.push(url)
          return route.abort()
        })
        await page.goto(pathToFileURL(file).href)

        const edge = (mode: string) => page.locator(`#panel-${mode.replace('.', '\\.')} path.edge[data-edge="G1.s2"]`)
        assert.is(await page.getAttribute('body', 'data-frame'), '0')
        assert.is(await page.locator('path.violation').count(), 0, 'nothing is flagged in the initial state')

        // Keyboard stepping: frame 4 is the state after steps[3] (clear G1 A.x),
        // where dijkstra-norescan breaks the weak invariant at G1.s2 -> B.
        for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight')
        assert.is(await page.getAttribute('body', 'data-frame'), '4')
        assert.match((await page.textContent('#step-label')) ?? '', 'after steps[3] clear G1 A.x')
        assert.match((await edge('dijkstra-norescan').getAttribute('class')) ?? '', /\bviolation\b/)
        assert.is(await edge('dijkstra-norescan').getAttribute('data-violation'), 'weak')
        assert.match((await page.textContent('#panel-dijkstra-norescan .status')) ?? '', 'weak broken: G1.s2 -> B')
        assert.ok(await page.locator('#panel-dijkstra-norescan').evaluate((el) => el.classList.contains('broken')))
        assert.not.match((await edge('go1.5').getAttribute('class')) ?? '', /violation/, 'go1.5 keeps the invariant (its stack turned grey)')
        assert.match((await page.textContent('#panel-go1\\.5 .status')) ?? '', 'weak holds')

        // Back one step: strong broken, weak not yet.
        await page.keyboard.press('ArrowLeft')
        assert.is(await edge('dijkstra-norescan').getAttribute('data-violation'), 'strong')

        // The slider and the first-violation button drive the same state.
        await page.locator('#step-slider').fill('0')
        assert.is(await page.getAttribute('body', 'data-frame'), '0')
        await page.click('#btn-violation')
        assert.is(await page.getAttribute('body', 'data-frame'), '4')

        // After sweep: B is freed while G1.s2 still points to it.
        await page.keyboard.press('End')
        assert.is(await page.getAttribute('body', 'data-frame'), String(scenario.steps.length))
        assert.match((await page.locator('#panel-dijkstra-norescan [data-node="B"]').getAttribute('class')) ?? '', /\blost\b/)
        assert.is(await page.locator('#panel-hybrid [data-node="B"]').getAttribute('data-color'), 'white')
        assert.match((await page.textContent('#panel-none .status')) ?? '', 'lost B')

        // Pacer panel: the GC guide's example, then GOGC=50.
        assert.is(await page.textContent('#pacer-go118'), '18 MiB')
        assert.is(await page.textContent('#pacer-pre118'), '16 MiB')
        await page.locator('#pacer-gogc').fill('50')
        assert.is(await page.textContent('#pacer-go118'), '13 MiB')

        // Screenshot at the violation, for a human to look at.
        await page.click('#btn-violation')
        await page.evaluate('window.scrollTo(0, 0)')
        await mkdir(resolve('.tmp'), { recursive: true })
        await page.screenshot({ path: SCREENSHOT, fullPage: true })
        assert.equal(errors, [], 'no script errors')
        assert.equal(requests, [], 'no network requests')
      } finally {
        await browser?.close()
        await rm(dir, { recursive: true, force: true })
      }
    },
    90_000,
  ),
)

test(
  'the page draws objects, slots and globals named __proto__ like any other',
  deadline(
    'gc-sim html names in chromium',
    async () => {
      if (CHROMIUM === null) throw new Error(missingMessage(CHROMIUM_PROGRAM))
      const dir = await mkdtemp(join(tmpdir(), 'gort-gc-sim-html-'))
      let browser: Browser | undefined
      try {
        const scenario = parseScenario(
          JSON.parse(
            '{"heap": {"__proto__": {"__proto__": "B"}, "B": {}, "C": {}}, "stacks": {"G1": {"__proto__": "__proto__"}}, "globals": {"__proto__": "C"}, "steps": [["gcStart"], ["scanStack", "G1"], ["drain"], ["markTerm"], ["sweep"]]}',
          ),
        )
        const file = join(dir, 'page.html')
        await writeFile(file, renderHtml(scenario, ['stw', 'hybrid'].map((m) => runScenario(scenario, m, { frames: true }))))
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
        const page = await browser.newPage()
        const errors: string[] = []
        page.on('pageerror', (e) => errors.push(e.message))
        await page.goto(pathToFileURL(file).href)
        await page.keyboard.press('End')
        const panel = page.locator('#panel-stw')
        assert.is(await panel.locator('[data-node="__proto__"]').getAttribute('data-color'), 'white', 'the object is drawn (swept back to white)')
        for (const edge of ['G1.__proto__', 'globals.__proto__', '__proto__.__proto__']) {
          assert.is(await panel.locator(`path.edge[data-edge="${edge}"]`).count(), 1, `edge ${edge} is drawn`)
        }
        assert.not.match((await panel.locator('.graph').textContent()) ?? '', '(gone)', 'no slot shows as gone')
        assert.match((await panel.locator('.status').textContent()) ?? '', 'lost -')
        assert.equal(errors, [], 'no script errors')
      } finally {
        await browser?.close()
        await rm(dir, { recursive: true, force: true })
      }
    },
    90_000,
  ),
)

test.run()
