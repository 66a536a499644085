// piscina's worker: one exported function, dispatched on the message's kind.
import { add, serialFib, spin } from './work.mjs'

export default function run(msg) {
  if (msg.k === 'add') return add(msg.a, msg.b)
  if (msg.k === 'spin') return spin(msg.n)
  return serialFib(msg.n)
}
