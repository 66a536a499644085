// multithreading 0.3 wants Node 22's navigator.hardwareConcurrency and Promise.withResolvers: the
// two polyfills that run it on Node 20 (bench/shared/multithreading-peer.mjs).
import { availableParallelism } from 'node:os'
globalThis.navigator ??= {}
if (globalThis.navigator.hardwareConcurrency === undefined) Object.defineProperty(globalThis.navigator, 'hardwareConcurrency', { value: availableParallelism() })
Promise.withResolvers ??= function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }
