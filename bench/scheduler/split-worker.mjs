// A plain worker for (c)'s static-split peer: given its share of fib's leaves, returns their sum.
// No pool and no scheduler: what one message per thread with the work dealt out ahead of time
// reaches on this machine.
import { parentPort } from 'node:worker_threads'
import { serialFib } from './work.mjs'

parentPort.on('message', (ns) => {
  let s = 0
  for (const n of ns) s += serialFib(n)
  parentPort.postMessage(s)
})
