/**
 * The test runner behind `npm test`: uvu's suites, then a leak check.
 *
 * Why not the plain `uvu` CLI: it cannot tell us that a suite left a worker, a
 * timer or a socket alive, and such a leak either hangs CI or hides until a user's
 * program refuses to exit. This runner loads every `*.test.ts` under test/ the way
 * uvu's CLI does (sorted, in one process), runs them, prints a plain
 * "N passed, N failed" line, and then fails if anything still holds the event loop.
 *
 * Usage: tsx test/_support/run.ts [dir] [pattern]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse } from 'uvu/parse'

// uvu reports `true` for errors when a suite had none, else the formatted failures.
type UvuTest = () => Promise<[errors: string | true, ran: number, skipped: number, total: number]>
type UvuGroup = [name: string | null, ...tests: UvuTest[]]

declare global {
  // uvu's deferred-mode globals, set before any suite is imported.
  var UVU_DEFER: number | undefined
  var UVU_INDEX: number | undefined
  var UVU_QUEUE: UvuGroup[]
}

// Resource kinds that belong to the runner itself (stdio), not to a test.
const RUNNER_RESOURCES = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'FileHandle'])

// A test that awaits something nothing can settle (a promise whose resolver was lost, a park no
// one rings), with no timer left, lets the event loop run dry: Node then exits 0 in the middle of
// a suite. Make that a failure that says so.
let finished = false
process.on('exit', () => {
  if (finished) return
  process.stderr.write('\ntest run ended early: a test awaited something that can never settle, and nothing else was left to run\n')
  process.exitCode = 1
})

// The scheduler's state-machine assertions (src/scheduler/park.ts) are on in tests; the Ms'
// workers inherit the variable.
process.env['GORT_ASSERT'] ??= '1'

// The compile cache of TypeScript jobs (src/mapreduce/compile.ts) goes to a directory of this run,
// not the user's ~/.cache: a run starts cold and leaves nothing behind. Child processes inherit it.
if (process.env['GORT_CACHE_DIR'] === undefined) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gort-test-cache-'))
  process.env['GORT_CACHE_DIR'] = dir
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
}

async function main(): Promise<number> {
  const dir = process.argv[2] ?? 'test'
  const pattern = process.argv[3] ?? '\\.test\\.ts$'
  const { suites } = await parse(dir, pattern, {})

  globalThis.UVU_DEFER = 1
  globalThis.UVU_QUEUE = []
  await import('uvu')
  for (const [index, suite] of suites.entries()) {
    globalThis.UVU_INDEX = index
    globalThis.UVU_QUEUE.push([suite.name])
    await import(pathToFileURL(suite.file).href)
  }

  let passed = 0
  let failed = 0
  let skipped = 0
  for (const [name, ...tests] of globalThis.UVU_QUEUE) {
    if (tests.length === 0) continue
    process.stdout.write(`${name ?? ''}\n`)
    for (const runSuite of tests) {
      const [errors, ran, skips, total] = await runSuite()
      passed += ran
      skipped += skips
      failed += total - ran
      if (typeof errors === 'string') process.stdout.write(`\n${errors}\n`)
    }
    process.stdout.write('\n')
  }

  // Let close callbacks of the last test run before judging what is left.
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const leaked = process.getActiveResourcesInfo().filter((kind) => !RUNNER_RESOURCES.has(kind))

  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
  if (leaked.length > 0) {
    console.error(`leak check: the suites left live handles behind: ${leaked.join(', ')}`)
    return 1
  }
  return failed > 0 ? 1 : 0
}

// Exit explicitly: if a suite leaked a handle we have already reported it, and
// waiting for it would hang CI instead of failing it.
main().then(
  (code) => {
    finished = true
    process.exit(code)
  },
  (error: unknown) => {
    finished = true
    console.error(error)
    process.exit(1)
  },
)
