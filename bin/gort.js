#!/usr/bin/env node
// The CLI runs from the compiled output so that it starts fast and needs no loader.
// `npm run build` (or `npm ci`, through `prepare`) produces dist/.
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
