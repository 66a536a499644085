// Loads the M's TypeScript entry inside a worker when gort runs from .ts sources (tests, tsx):
// `--import tsx` in execArgv does not reach workers, so register tsx's ESM hooks here first.
// From the built dist/ the runtime starts worker.js directly and never uses this file.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
// Not a top-level await: a thread ended while V8 evaluates an async module can abort the whole
// process (nodejs/node#43182, #53238). A failed import is the thread's uncaught error, as before.
import(workerData.entry).catch((e) => process.nextTick(() => { throw e }))
