// piscina's worker: one exported function, dispatched on the message's kind.
import { add, ioThenSpin, serialFib, spin, startedAfter, timedSpin } from './work.mjs'

export default function run(msg) {
  if (msg.k === 'add') return add(msg.a, msg.b)
  if (msg.k === 'sadd') return Atomics.add(msg.view, msg.a, msg.b)
  if (msg.k === 'spin') return spin(msg.n)
  if (msg.k === 'tspin') return timedSpin(msg.n)
  if (msg.k === 'io') return ioThenSpin(msg.n, msg.a)
  if (msg.k === 'started') return startedAfter(msg.a)
  return serialFib(msg.n)
}
