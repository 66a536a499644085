// Tasks for bench/sync.bench.ts: `k` lock/unlock pairs around a plain increment, by each kind of
// lock, after a gate that puts the two tasks of one sample on two Ms.
import { task, SharedChan, SharedMutex } from '../../src/scheduler/index.js'

export type LockKind = 'mutex' | 'chan' | 'spin'

/** Blocks this M until `parties` arrived (a started task stays on its M: the other goes elsewhere). */
function gather(G: Int32Array, parties: number): void {
  if (Atomics.add(G, 0, 1) + 1 === parties) Atomics.notify(G, 0)
  for (let g = Atomics.load(G, 0); g < parties; g = Atomics.load(G, 0)) Atomics.wait(G, 0, g)
}

/** The raw peer: a test-and-set spinlock on word 1 of the counter buffer, no queue, no sleeping. */
export function spinLock(I: Int32Array): void {
  while (Atomics.compareExchange(I, 1, 0, 1) !== 0);
}
export function spinUnlock(I: Int32Array): void {
  Atomics.store(I, 1, 0)
}

/** Go folklore's mutex: a SharedChan of capacity 1 (full = locked). */
export async function chanLock(ch: SharedChan<number>): Promise<void> {
  await ch.send(0)
}
export function chanUnlock(ch: SharedChan<number>): void {
  if (ch.tryRecv() === undefined) throw new Error('chan mutex: unlock of unlocked mutex')
}

export const lockLoop = task(import.meta.url, async function lockLoop(kind: LockKind, lock: SharedArrayBuffer, counter: SharedArrayBuffer, gate: SharedArrayBuffer, k: number): Promise<number> {
  const C = new Int32Array(counter)
  gather(new Int32Array(gate), 2)
  if (kind === 'mutex') {
    const mu = SharedMutex.from(lock)
    for (let i = 0; i < k; i++) {
      await mu.lock()
      C[0] = C[0]! + 1
      mu.unlock()
    }
  } else if (kind === 'chan') {
    const ch = SharedChan.from<number>(lock)
    for (let i = 0; i < k; i++) {
      await chanLock(ch)
      C[0] = C[0]! + 1
      chanUnlock(ch)
    }
  } else {
    const I = new Int32Array(lock)
    for (let i = 0; i < k; i++) {
      spinLock(I)
      C[0] = C[0]! + 1
      spinUnlock(I)
    }
  }
  return k
})
