// 10 goroutines race for a lock with tryLock; only the winners increment.
// Each arrives after a random delay; a winner holds the lock for 2 ms, so those
// arriving meanwhile find it taken and give up instead of waiting. How many win
// varies from run to run; the counter always equals the number of winners.
//
// Run: npx tsx examples/trylock.ts
import { Mutex, WaitGroup, go, sleep } from '../src/index.js'

const mu = new Mutex()
const wg = new WaitGroup()
let counter = 0
let winners = 0

for (let i = 0; i < 10; i++) {
  wg.add(1)
  go(async (id: number) => {
    await sleep(Math.random() * 10)
    if (mu.tryLock()) {
      winners++
      counter++
      console.log(`goroutine ${id} got the lock`)
      await sleep(2) // hold it a while
      mu.unlock()
    } else {
      console.log(`goroutine ${id} could not get the lock`)
    }
    wg.done()
  }, i)
}

await wg.wait()
console.log(`winners = ${winners}, counter = ${counter}`)
