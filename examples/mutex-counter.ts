// 1000 goroutines increment a shared counter under a Mutex; a WaitGroup waits
// for all of them. The read-modify-write spans an await, so without the lock
// increments would be lost; with it the result is exactly 1000.
//
// Run: npx tsx examples/mutex-counter.ts
import { Mutex, WaitGroup, go } from '../src/index.js'

const mu = new Mutex()
const wg = new WaitGroup()
let counter = 0

for (let i = 0; i < 1000; i++) {
  wg.add(1)
  go(async () => {
    await mu.lock()
    const seen = counter
    await Promise.resolve() // another goroutine could run here
    counter = seen + 1
    mu.unlock()
    wg.done()
  })
}

await wg.wait()
console.log(`counter = ${counter}`)
