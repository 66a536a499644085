/**
 * `npm run bench`: every `bench/*.bench.ts`, one child process each.
 *
 * A child per file keeps each benchmark's JIT state, heap and worker threads
 * apart, so one file's warm-up or leftover garbage never skews the next.
 * Extra arguments (e.g. `--quick`) pass through to every file; `--only NAME`
 * runs just `bench/NAME.bench.ts`. Each file writes its own bench/results/*.json.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const onlyAt = args.indexOf('--only')
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined
const passThrough = onlyAt >= 0 ? args.filter((_, i) => i !== onlyAt && i !== onlyAt + 1) : args

const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only === undefined || name === `${only}.bench.ts`)
  .sort()

if (files.length === 0) {
  console.error(only === undefined ? 'no bench/*.bench.ts files' : `no benchmark named ${JSON.stringify(only)} in bench/`)
  process.exit(2)
}

let failures = 0
for (const name of files) {
  console.log(`\n=== ${name} ===`)
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${benchDir}${name}`, ...passThrough], { stdio: 'inherit' })
  if (result.status !== 0) {
    failures++
    console.error(`${name} exited with ${result.status ?? result.signal}`)
  }
}
process.exit(failures === 0 ? 0 : 1)
