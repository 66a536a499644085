// Run: npx tsx examples/scheduler/main.ts      (GODEBUG=schedtrace=1000 for the SCHED line)
import { Runtime } from '../../src/scheduler/index.js'
import { fib } from './fib.js'

await using rt = await Runtime.start({ procs: 2 }) // default: GOMAXPROCS, else os.availableParallelism()
console.log('fib(32) =', await rt.go(fib, 32))
console.log('fib(20..22) =', await rt.goAll(fib, [[20], [21], [22]])) // one G each, one promise for the batch
const s = rt.stats()
console.log(`runs ${s.total.runs}, spawns ${s.total.spawns}, steals ${s.total.steals} in ${s.total.stealAttempts} attempts, ` +
  `global pulls ${s.total.globalPulls}, parks ${s.total.parks}, hand-offs ${s.total.handoffs}`)
console.log(rt.schedtrace())
