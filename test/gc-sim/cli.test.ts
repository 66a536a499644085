import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { command, gcSimCommand } from '../../src/cli/gc-sim.js'
import { runCaptured } from '../_support/cli.js'
import { main } from '../../src/cli/main.js'
import { MODES } from '../../src/gc-sim/barriers.js'
import { deadline } from '../_support/deadline.js'

const cli = (...argv: string[]): ReturnType<typeof runCaptured> => runCaptured(command, argv)

let dir = ''
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gort-gc-sim-'))
})
test.after(async () => {
  await rm(dir, { recursive: true, force: true })
})

test(
  'gort gc-sim is registered in the CLI table',
  deadline('registered', async () => {
    const log = console.log
    let out = ''
    console.log = (...args: unknown[]) => void (out += args.join(' ') + '\n')
    try {
      assert.is(await main(['gc-sim', '--list']), 0)
    } finally {
      console.log = log
    }
    assert.match(out, 'hybrid-two-goroutines')
  }),
)

test(
  '--json for one mode prints the documented object',
  deadline('json one', async () => {
    const { code, out } = await cli('--scenario', 'insertion-no-rescan', '--mode', 'dijkstra-norescan', '--json')
    assert.is(code, 0)
    const r = JSON.parse(out)
    assert.equal(Object.keys(r).slice(0, 8), ['mode', 'freed', 'lost', 'floating', 'violations', 'stw', 'pauses', 'maxPause'])
    for (const key of ['markWork', 'barrierCalls']) assert.type(r[key], 'number')
    assert.equal(r.lost, ['B'])
    assert.equal(r.violations[1], { step: 3, invariant: 'weak', edge: 'G1.s2 -> B' })
  }),
)

test(
  '--mode all --json prints one result per mode; --mode all prints the matrix',
  deadline('all', async () => {
    const json = JSON.parse((await cli('--scenario', 'hybrid-two-goroutines', '--json')).out)
    assert.equal(json.map((r: { mode: string }) => r.mode), [...MODES])
    const { out } = await cli('--scenario', 'hybrid-two-goroutines', '--mode', 'all', '--no-color')
    const rows = out.trim().split('\n')
    assert.match(rows[0]!, /^mode\s+freed\s+lost\s+floating\s+STW/)
    assert.is(rows.length, 1 + MODES.length)
    assert.match(out, /yuasa\s+D E\s+D\s+-\s+2/)
  }),
)

test(
  'one mode prints the step trace with the invariant state; colour only when asked',
  deadline('trace', async () => {
    const plain = (await cli('--scenario', 'insertion-no-rescan', '--mode', 'none', '--no-color')).out
    assert.match(plain, /\[ 3\] clear G1 A\.x\s+mark\s+●G1\s+◐A ○B\s+strong ✗ G1\.s2->B\s+weak ✗ G1\.s2->B/)
    assert.match(plain, 'lost B')
    assert.not.match(plain, '\u001b[')
    const colored = (await cli('--scenario', 'insertion-no-rescan', '--mode', 'none', '--color')).out
    assert.match(colored, '\u001b[31m')
  }),
)

async function bad(file: string, json: unknown, ...pattern: RegExp[]): Promise<void> {
  const path = join(dir, file)
  await writeFile(path, typeof json === 'string' ? json : JSON.stringify(json))
  const { code, err, out } = await cli('--scenario', path, '--mode', 'hybrid')
  assert.is(code, 2, err)
  assert.is(out, '')
  for (const p of pattern) assert.match(err, p)
}

test(
  'bad scenario files get a clear error naming the place or the step (index and text)',
  deadline('bad files', async () => {
    await bad('unknown.json', { heap: { A: { x: 'Z' } }, stacks: { G1: { s1: 'A' } }, steps: [] }, /unknown\.json: heap\.A\.x: unknown object "Z"/)
    await bad(
      'unknown-step-object.json',
      { heap: { A: {} }, stacks: { G1: { s1: 'A' } }, steps: [['gcStart'], ['scan', 'Q']] },
      /steps\[1\] \["scan","Q"\]: unknown object "Q"/,
    )
    await bad(
      'unreachable.json',
      { heap: { A: { x: null }, B: {} }, stacks: { G1: { s1: 'A' }, G2: { s1: 'B' } }, steps: [['gcStart'], ['store', 'G1', 'B', 'x', 's1']] },
      /unreachable\.json: steps\[1\] \["store","G1","B","x","s1"\]: object B is not reachable from goroutine G1/,
    )
    await bad('malformed.json', { heap: {}, stacks: {}, steps: [['gcStart'], ['copy', 'G1', 'A', 'x']] }, /steps\[1\] \["copy","G1","A","x"\]: copy takes 5 argument\(s\): copy G X field Y field/)
    await bad('notjson.json', '{ heap: ', /notjson\.json: not valid JSON/)
  }),
)

test(
  'unknown mode and scenario names list the valid ones; a missing file exits 1',
  deadline('names', async () => {
    const mode = await cli('--scenario', 'alloc-white', '--mode', 'go1.9')
    assert.is(mode.code, 2)
    assert.match(mode.err, /unknown mode "go1\.9"; valid modes: stw, none, dijkstra-norescan, go1\.5, yuasa, yuasa-satb, hybrid, hybrid-uncond, all/)
    const scenario = await cli('--scenario', 'no-such')
    assert.is(scenario.code, 2)
    assert.match(scenario.err, /unknown scenario "no-such"; built-in scenarios: lost-no-barrier/)
    const missing = await cli('--scenario', join(dir, 'missing.json'))
    assert.is(missing.code, 1)
    assert.match(missing.err, /cannot read scenario file/)
    const none = await cli()
    assert.is(none.code, 2)
    assert.match(none.err, /one of --scenario, --fuzz, --pacer or --list is required/)
    // One line for the mistake and a pointer to --help, not the whole help.
    const flag = await cli('--bogus')
    assert.is(flag.code, 2)
    assert.match(flag.err, /Unknown option '--bogus'\n\(gort gc-sim --help lists the options\)\n$/)
    assert.not.match(flag.err, /usage:/)
  }),
)

test(
  '--fuzz prints a counterexample that replays with --scenario file.json',
  deadline('fuzz replay', async () => {
    const { code, out } = await cli('--fuzz', '500', '--seed', '1', '--mode', 'dijkstra-norescan', '--no-color')
    assert.is(code, 0, 'an unsafe mode losing objects is the expected outcome')
    assert.match(out, /dijkstra-norescan\s+500 schedules/)
    const line = out.split('\n').find((l) => l.trim().startsWith('{'))
    assert.ok(line !== undefined, out)
    const path = join(dir, 'counterexample.json')
    await writeFile(path, line.trim())
    const replay = JSON.parse((await cli('--scenario', path, '--mode', 'dijkstra-norescan', '--json')).out)
    assert.ok(replay.lost.length > 0)
    const safe = JSON.parse((await cli('--scenario', path, '--mode', 'hybrid', '--json')).out)
    assert.equal(safe.lost, [])
  }),
)

test(
  '--fuzz --json over all modes: safe modes clean, exit 0',
  deadline('fuzz json', async () => {
    const { code, out } = await cli('--fuzz', '300', '--seed', '2', '--large', '--json')
    assert.is(code, 0)
    const reports = JSON.parse(out)
    assert.is(reports.length, MODES.length)
    for (const r of reports) if (r.claimedSafe) assert.is(r.losingSchedules, 0, r.mode)
  }),
)

test(
  '--html writes the page for the chosen modes',
  deadline('html', async () => {
    const path = join(dir, 'out.html')
    const { code, out } = await cli('--scenario', 'alloc-white', '--mode', 'none,go1.5,hybrid', '--html', path)
    assert.is(code, 0)
    assert.match(out, /wrote .*out\.html \(3 mode\(s\), 6 steps\)/)
    const html = await readFile(path, 'utf8')
    for (const m of ['none', 'go1.5', 'hybrid']) assert.ok(html.includes(`id="panel-${m}"`))
    assert.not.ok(html.includes('id="panel-yuasa"'))
  }),
)

test(
  '--pacer reproduces the GC guide example',
  deadline('pacer', async () => {
    const { code, out } = await cli('--pacer')
    assert.is(code, 0)
    assert.match(out, /Go 1\.18\+.*: 18 MiB/)
    assert.match(out, /before Go 1\.18.*16 MiB/)
    const json = JSON.parse((await cli('--pacer', '--gogc', '50', '--json')).out)
    assert.is(json.go118, 13 * 1024 ** 2)
  }),
)

test(
  'options the chosen action would ignore are usage errors (exit 2), as is more than one action',
  deadline('ignored options', async () => {
    // Before, each of these ran and silently dropped the extra option.
    const cases: [string[], RegExp][] = [
      [['--scenario', 'alloc-white', '--fuzz', '10'], /--scenario and --fuzz cannot be used together: give one of --scenario, --fuzz, --pacer or --list/],
      [['--list', '--json'], /--json does not apply to --list \(only to --scenario, --fuzz, --pacer\)/],
      [['--list', '--pacer'], /--pacer and --list cannot be used together/],
      [['--fuzz', '10', '--html', join(dir, 'never.html')], /--html does not apply to --fuzz \(only to --scenario\)/],
      [['--scenario', 'alloc-white', '--seed', '3'], /--seed does not apply to --scenario \(only to --fuzz\)/],
      [['--pacer', '--mode', 'hybrid'], /--mode does not apply to --pacer \(only to --scenario, --fuzz\)/],
    ]
    for (const [argv, message] of cases) {
      const { code, out, err } = await cli(...argv)
      assert.is(code, 2, argv.join(' '))
      assert.match(err, message)
      assert.is(out, '', `${argv.join(' ')} printed no result`)
    }
    // Colour flags apply to any action.
    assert.is((await cli('--list', '--no-color')).code, 0)
  }),
)

test(
  '--fuzz shows its progress on stderr only when stderr is a terminal, and erases it',
  deadline('fuzz progress', async () => {
    const run = async (isTTY: boolean): Promise<{ code: number; out: string; written: string }> => {
      let written = ''
      const stderr = { isTTY, write: (text: string) => void (written += text) }
      const { code, out } = await runCaptured(gcSimCommand(stderr), ['--fuzz', '300', '--mode', 'stw,hybrid', '--no-color'])
      return { code, out, written }
    }
    const tty = await run(true)
    assert.is(tty.code, 0)
    assert.match(tty.written, '\r\x1b[Kfuzz: mode 1/2 (stw): 100/300 schedules', 'a progress line, rewritten in place')
    assert.match(tty.written, '(hybrid): 300/300 schedules')
    assert.ok(tty.written.endsWith('\r\x1b[K'), 'the line is erased at the end')
    assert.not.match(tty.out, 'schedules\r', 'stdout has only the report')
    const piped = await run(false)
    assert.is(piped.written, '', 'quiet when stderr is not a terminal')
    assert.match(piped.out, /hybrid\s+300 schedules/)
  }),
)

test.run()
