// poolifier's worker: the same work as piscina's, behind poolifier's ThreadWorker.
import { ThreadWorker } from 'poolifier'
import { add, serialFib, spin, timedSpin } from './work.mjs'

function run(msg) {
  if (msg.k === 'add') return add(msg.a, msg.b)
  if (msg.k === 'spin') return spin(msg.n)
  if (msg.k === 'tspin') return timedSpin(msg.n)
  return serialFib(msg.n)
}

export default new ThreadWorker(run)
