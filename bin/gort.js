#!/usr/bin/env node
// The CLI runs from the compiled output so that it starts fast and needs no loader.
// `npm run build` (or `npm ci`, through `prepare`) produces dist/.
import { main } from '../dist/cli/main.js'

// A reader that stops early (`gort sched | head -3`) closes the pipe: stop quietly, as Unix
// tools do on SIGPIPE, instead of dying on an unhandled EPIPE with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

process.exitCode = await main(process.argv.slice(2))
