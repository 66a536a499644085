// The `multithreading` 0.3 peer of bench/shared.bench.ts, run as a child process with
// `node --import ./node22-polyfill.mjs` (its workers inherit the flag): (a) a round trip through
// two channel(1)s to a spawned worker that echoes, (b) cap-1024 throughput from a spawned worker.
// Prints one JSON line: { us } for rt, { mps, inOrder, sumOk } for tp.
import { channel, move, shutdown, spawn } from 'multithreading'

const [mode, nArg] = process.argv.slice(2)
const n = Number(nArg)
const WARM = 200
if (mode === 'rt') {
  const [tx1, rx1] = channel(1)
  const [tx2, rx2] = channel(1)
  const h = spawn(move(rx1, tx2, n), async (rx, tx, n) => {
    for (let i = 0; i < n; i++) await tx.send((await rx.recv()).value)
  })
  for (let i = 0; i < WARM; i++) { await tx1.send(i); await rx2.recv() }
  const t0 = performance.now()
  for (let i = WARM; i < n; i++) { await tx1.send(i); await rx2.recv() }
  const us = ((performance.now() - t0) * 1000) / (n - WARM)
  await h.join()
  console.log(JSON.stringify({ us }))
} else {
  const [tx, rx] = channel(1024)
  const h = spawn(move(tx, n), async (tx, n) => {
    for (let i = 0; i < n; i++) await tx.send(i)
  })
  const t0 = performance.now()
  let inOrder = 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    const r = await rx.recv()
    if (r.value === i) inOrder++
    sum += r.value ?? 0
  }
  const s = (performance.now() - t0) / 1000
  await h.join()
  console.log(JSON.stringify({ mps: n / s / 1e6, inOrder, sumOk: sum === (n * (n - 1)) / 2 }))
}
await shutdown()
