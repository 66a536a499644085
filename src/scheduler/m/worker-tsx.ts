// Worker entry when the runtime runs from built JavaScript (dist/) but the program's task modules
// are TypeScript run under tsx: `--import tsx` does not reach workers, so register tsx's hooks in
// the worker, then load the M (worker.js). worker-bootstrap.mjs does the same for the .ts sources.
import { workerData } from 'node:worker_threads'

const { register } = await import('tsx/esm/api')
register()
await import((workerData as { entry: string }).entry)
