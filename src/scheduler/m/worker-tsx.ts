// Worker entry when the runtime runs from built JavaScript (dist/) but the program's task modules
// are TypeScript run under tsx: `--import tsx` does not reach workers, so register tsx's hooks in
// the worker, then load the M (worker.js). worker-bootstrap.mjs does the same for the .ts sources.
import { workerData } from 'node:worker_threads'

// Not top-level awaits: a thread ended while V8 evaluates an async module can abort the whole
// process (nodejs/node#43182, #53238). A failed import is the thread's uncaught error.
import('tsx/esm/api')
  .then(({ register }) => {
    register()
    return import((workerData as { entry: string }).entry)
  })
  .catch((e: unknown) => process.nextTick(() => { throw e }))
