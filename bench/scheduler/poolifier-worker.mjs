// poolifier's worker: the same work as piscina's, behind poolifier's ThreadWorker.
import { ThreadWorker } from 'poolifier'
import { add, ioThenSpin, serialFib, spin, startedAfter, timedSpin } from './work.mjs'

function run(msg) {
  if (msg.k === 'add') return add(msg.a, msg.b)
  if (msg.k === 'spin') return spin(msg.n)
  if (msg.k === 'tspin') return timedSpin(msg.n)
  if (msg.k === 'started') return startedAfter(msg.a)
  return serialFib(msg.n)
}

// (g)'s I/O task is async: poolifier runs a task function as async only if it is declared so (a
// sync one returning a promise fails to clone), so it is a task function of its own, and `run`
// stays sync for every other shape.
async function io(msg) {
  return ioThenSpin(msg.n, msg.a)
}

export default new ThreadWorker({ run, io })
