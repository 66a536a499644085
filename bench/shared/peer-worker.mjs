// Peers for bench/shared.bench.ts, plain JS (no tsx): MessagePort echo and sink, comlink echo.
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'

if (workerData.mode === 'echo') {
  parentPort.on('message', (v) => parentPort.postMessage(v))
} else if (workerData.mode === 'sink') {
  // Counts numbers arriving on a port from the other worker; replies with [items, ms].
  const port = workerData.port
  let n = 0
  let t0 = 0
  port.on('message', (v) => {
    if (n === 0) t0 = performance.now()
    if (v === -1) {
      parentPort.postMessage([n, performance.now() - t0])
      port.close()
      return
    }
    n++
  })
} else if (workerData.mode === 'source') {
  const port = workerData.port
  for (let i = 0; i < workerData.n; i++) port.postMessage(i)
  port.postMessage(-1)
  parentPort.postMessage('sent')
} else if (workerData.mode === 'comlink') {
  const Comlink = await import(workerData.comlink)
  const nodeEndpoint = (await import(workerData.adapter)).default
  Comlink.expose({ echo: (v) => v, take: () => undefined }, nodeEndpoint(parentPort))
}
