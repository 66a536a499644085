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
} else if (workerData.mode === 'sinks') {
  // (c)/(e): counts numbers arriving on several ports until each has sent its end (-1);
  // replies [items, first, end] on the clock all threads share (timeOrigin + now).
  const ports = workerData.ports
  let n = 0
  let t0 = 0
  let ends = 0
  for (const port of ports) {
    port.on('message', (v) => {
      if (v === -1) {
        if (++ends === ports.length) {
          parentPort.postMessage([n, t0, performance.timeOrigin + performance.now()])
          for (const p of ports) p.close()
        }
        return
      }
      if (n++ === 0) t0 = performance.timeOrigin + performance.now()
    })
  }
} else if (workerData.mode === 'sources') {
  // (c): sends n numbers round-robin over its ports, then an end (-1) on each.
  const ports = workerData.ports
  for (let i = 0; i < workerData.n; i++) ports[i % ports.length].postMessage(i)
  for (const p of ports) p.postMessage(-1)
  parentPort.postMessage('sent')
} else if (workerData.mode === 'comlink') {
  const Comlink = await import(workerData.comlink)
  const nodeEndpoint = (await import(workerData.adapter)).default
  Comlink.expose({ echo: (v) => v, take: () => undefined }, nodeEndpoint(parentPort))
}
