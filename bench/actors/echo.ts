// The actor of bench/actors.bench.ts: the same two methods as the plain comlink peer (peer-worker.mjs).
import { actor } from '../../src/scheduler/index.js'

export class Echo {
  echo(v: number): number {
    return v
  }

  take(_v: number): void {}
}
actor(import.meta.url, Echo)
