#!/usr/bin/env node
// The CLI runs from the compiled output so that it starts fast and needs no loader.
// `npm run build` (or `npm ci`, through `prepare`) produces dist/.
// `gort mapreduce`'s threads start first, while the CLI's modules load (src/cli/early.ts).
if (process.argv[2] === 'mapreduce') (await import('../dist/cli/early.js')).prestartFromArgv(process.argv.slice(2))
const { main } = await import('../dist/cli/main.js')
const { outputFailed } = await import('../dist/cli/output.js')

// A reader that stops early (`gort sched | head -3`) closes the pipe: stop quietly, as Unix
// tools do on SIGPIPE, instead of dying on an unhandled EPIPE with a stack trace. A subcommand
// with work to stop first (a MapReduce job) takes the error while it runs (src/cli/output.ts).
const onError = (error) => {
  if (outputFailed(error)) return
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
}
process.stdout.on('error', onError)
process.stderr.on('error', onError)

process.exitCode = await main(process.argv.slice(2))
