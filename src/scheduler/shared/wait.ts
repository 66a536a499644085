// Atomics.waitAsync exists in Node 20 (V8) but not in TypeScript's ES2023 lib: typed here once.
type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> }

type WaitAsync = (a: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult

const atomics = Atomics as unknown as { waitAsync: WaitAsync }

export function waitAsync(a: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult {
  return timeout === undefined ? atomics.waitAsync(a, index, value) : atomics.waitAsync(a, index, value, timeout)
}
