// What a shared-memory word costs to read and write here, plain and through Atomics, on one
// thread with no contention (docs/scheduler.md, third round of 2026-12-02: on Node 20,
// Atomics.load is a builtin call, about 10x a plain read, which is why the scheduler's owner
// reads its own ring plainly). Run: node bench/scheduler/atomics-cost.mjs
const I = new Int32Array(new SharedArrayBuffer(1024))
const N = 2e7
const W = 16
const cases = {
  'plain read': () => { let s = 0; for (let i = 0; i < N; i++) s += I[W]; return s },
  'Atomics.load': () => { let s = 0; for (let i = 0; i < N; i++) s += Atomics.load(I, W); return s },
  'plain write': () => { for (let i = 0; i < N; i++) I[W] = i },
  'Atomics.store': () => { for (let i = 0; i < N; i++) Atomics.store(I, W, i) },
  'Atomics.add': () => { for (let i = 0; i < N; i++) Atomics.add(I, W, 1) },
  'Atomics.compareExchange': () => { for (let i = 0; i < N; i++) Atomics.compareExchange(I, W, i, i + 1) },
}
const rounds = 3
const ns = {}
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const t = performance.now()
    f()
    ns[name] = ((performance.now() - t) * 1e6) / N // the last round's, after the JIT settled
  }
}
console.log(`Node ${process.version}, ${N} operations each, round ${rounds} of ${rounds}:`)
for (const [name, v] of Object.entries(ns)) console.log(`  ${name.padEnd(24)} ${v.toFixed(1).padStart(5)} ns  (${(v / ns['plain read']).toFixed(1)}x a plain read)`)
