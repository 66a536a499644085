// piscina's worker: one exported function, dispatched on the message's kind.
import { add, serialFib, spin, timedSpin } from './work.mjs'

export default function run(msg) {
  if (msg.k === 'add') return add(msg.a, msg.b)
  if (msg.k === 'sadd') return Atomics.add(msg.view, msg.a, msg.b)
  if (msg.k === 'spin') return spin(msg.n)
  if (msg.k === 'tspin') return timedSpin(msg.n)
  return serialFib(msg.n)
}
