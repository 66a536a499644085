// The plain comlink peer of bench/actors.bench.ts: a Worker exposing the same object as the Echo actor.
import { parentPort } from 'node:worker_threads'
import { expose } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'

expose({ echo: (v) => v, take: () => undefined }, nodeEndpoint(parentPort))
