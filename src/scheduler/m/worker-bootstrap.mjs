// Loads the M's TypeScript entry inside a worker when gort runs from .ts sources (tests, tsx):
// `--import tsx` in execArgv does not reach workers, so register tsx's ESM hooks here first.
// From the built dist/ the runtime starts worker.js directly and never uses this file.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
