// "Docs with examples that run": every `ts` block in README.md and docs/*.md
// type-checks under the repository's strict settings and runs to exit code 0,
// importing gort by its public names, as a user would. The convention (markers,
// output blocks) is described in ./markdown.ts. New pages are picked up by themselves.
//
// Needs dist/ (package self-reference resolves 'gort' there): `npm test` builds it
// first; by hand, run `npx tsc -p tsconfig.json` before this suite.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { type RedisServer, startRedis } from '../_support/redis-server.js'
import { type ChildResult, judge, limiter, REPO, runChild, runExample, typecheck, type Workspace, writeWorkspace } from './harness.js'
import { type Example, gortCommands, parseDoc, TS_LANGS } from './markdown.js'

/** Per example; below the test deadline so a hung example is killed and named. */
const RUN_MS = 20_000
const TEST_MS = 30_000

function pages(): string[] {
  const docs = existsSync(join(REPO, 'docs')) ? readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')) : []
  return ['README.md', ...docs.sort().map((f) => `docs/${f}`)].filter((p) => existsSync(join(REPO, p)))
}

const parsed = pages().map((doc) => {
  const markdown = readFileSync(join(REPO, doc), 'utf8')
  return { doc, markdown, ...parseDoc(doc, markdown) }
})
const examples = parsed.flatMap((p) => p.examples)
const checked = examples.filter((e) => e.mode !== 'not-run')
const needsRedis = (e: Example): boolean => e.mode === 'run' && e.code.includes('REDIS_URL')

interface Setup {
  readonly ws: Workspace
  readonly redis: RedisServer | undefined
  readonly types: ReturnType<typeof typecheck>
  readonly runs: ReadonlyMap<Example, Promise<ChildResult>>
  readonly help: Promise<ChildResult>
}
let setup: Setup | undefined
// uvu swallows an error thrown by a `before` hook (it only counts the tests as
// failed), so setup keeps its error and every test reports it.
let setupError: unknown

function ready(): Setup {
  if (setup === undefined) throw setupError instanceof Error ? setupError : new Error(`setup failed: ${String(setupError)}`)
  return setup
}

const docs = suite('docs examples')

docs.before(async () => {
  let ws: Workspace | undefined
  let redis: RedisServer | undefined
  try {
    if (!existsSync(join(REPO, 'dist/index.js'))) {
      throw new Error("dist/ is missing: examples import 'gort', which resolves to dist/. Run `npx tsc -p tsconfig.json` (npm test does).")
    }
    ws = await writeWorkspace(checked)
    if (examples.some(needsRedis)) redis = await startRedis()
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...(redis === undefined ? {} : { REDIS_URL: redis.url }) }
    const workspace = ws
    const limit = limiter(Math.max(1, Math.min(4, availableParallelism())))
    const runs = new Map<Example, Promise<ChildResult>>()
    for (const e of checked) if (e.mode === 'run') runs.set(e, limit(() => runExample(workspace, e, env, RUN_MS)))
    const types = typecheck(ws)
    const help = runChild(process.execPath, [join(REPO, 'bin/gort.js'), '--help'], { cwd: REPO, timeoutMs: RUN_MS })
    setup = { ws, redis, types, runs, help }
  } catch (err) {
    setupError = err
    await redis?.stop()
    await ws?.remove()
  }
})

docs.after(async () => {
  if (setup === undefined) return
  // Every child has exited once its promise settles (they never reject).
  await Promise.all([...setup.runs.values(), setup.types, setup.help])
  await setup.redis?.stop()
  if (process.env['GORT_DOCS_KEEP'] === undefined) await setup.ws.remove()
  else console.log(`docs examples kept in ${setup.ws.dir}`)
})

docs('every page parses: fences closed, markers and output blocks well-formed', () => {
  const errors = parsed.flatMap((p) => p.errors)
  assert.ok(errors.length === 0, errors.join('\n'))
})

docs('examples import gort by its public names, not by paths into the repository', () => {
  // Relative imports may only name a `file:` module of the same page.
  const bad = examples.flatMap((e) => {
    const modules = new Set(examples.filter((m) => m.doc === e.doc && m.name !== undefined).map((m) => `./${m.name?.replace(/\.ts$/, '.js')}`))
    return [...e.code.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)]
      .map((m) => m[1] ?? '')
      .filter((spec) => (spec.startsWith('.') || spec.startsWith('/')) && !modules.has(spec))
      .map((spec) => `${e.doc}:${e.line}: import '${spec}' (write 'gort', 'gort/<area>', or a file: module of this page)`)
  })
  assert.ok(bad.length === 0, bad.join('\n'))
})

docs('every ts fence on a page is found (the extractor misses none)', () => {
  // An independent count by a plainer rule, so a parser bug that drops blocks fails here.
  for (const p of parsed) {
    const raw = p.markdown.split(/\r?\n/).filter((l) => {
      const m = /^\s*(?:`{3,}|~{3,})\s*([A-Za-z]+)/.exec(l)
      return m !== null && TS_LANGS.has((m[1] ?? '').toLowerCase())
    }).length
    assert.is(p.examples.length, raw, `${p.doc}: ${raw} ts fences, ${p.examples.length} extracted`)
  }
  assert.ok(checked.length > 0, 'no checked examples at all: the docs have none, or discovery is broken')
})

docs(
  'tsc reports nothing outside the examples (tsconfig, missing dist types)',
  deadline('tsc outside examples', async () => {
    const { other } = await ready().types
    assert.ok(other.length === 0, other.join('\n'))
  }, TEST_MS),
)

for (const e of checked) {
  const what = e.mode === 'run' ? 'type-checks and runs' : `type-checks (${e.mode === 'module' ? `module ${e.name ?? ''}` : 'typecheck-only'})`
  docs(
    `${e.doc}:${e.line} ${what}`,
    deadline(`${e.doc}:${e.line}`, async () => {
      const s = ready()
      const errors = (await s.types).byExample.get(e) ?? []
      const run = s.runs.get(e)
      const failure = run === undefined ? undefined : judge(e, await run, RUN_MS)
      const problems = [...(errors.length > 0 ? [`type errors:\n${errors.join('\n')}`] : []), ...(failure === undefined ? [] : [failure])]
      assert.ok(problems.length === 0, problems.join('\n\n'))
    }, TEST_MS),
  )
}

docs(
  'shell blocks name only gort subcommands that exist',
  deadline('gort subcommands', async () => {
    const help = await ready().help
    assert.is(help.code, 0, `gort --help: ${help.stderr}`)
    const known = new Set([...help.stdout.matchAll(/^\s+gort (\S+)/gm)].map((m) => m[1]))
    assert.ok(known.size > 0, `no commands in gort --help:\n${help.stdout}`)
    const unknown = parsed.flatMap((p) =>
      gortCommands(p.fences)
        .filter((u) => !known.has(u.command) && u.command !== 'help')
        .map((u) => `${p.doc}:${u.line}: gort ${u.command} (known: ${[...known].join(', ')})`),
    )
    assert.ok(unknown.length === 0, unknown.join('\n'))
  }, TEST_MS),
)

docs.run()
