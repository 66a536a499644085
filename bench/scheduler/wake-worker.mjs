// The other half of (d)'s floor: answers each round trip number the main thread posts in word 0
// by writing it to word 1, parking in Atomics.wait in between. -1 in word 0 ends it.
import { workerData } from 'node:worker_threads'

const I = new Int32Array(workerData)
for (let i = 1; ; i++) {
  let v
  while ((v = Atomics.load(I, 0)) !== i) {
    if (v === -1) process.exit(0)
    Atomics.wait(I, 0, v)
  }
  Atomics.store(I, 1, i)
  Atomics.notify(I, 1)
}
