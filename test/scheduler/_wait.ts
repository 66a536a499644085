// Waits until `a[i]` satisfies `pred`, without timers: Atomics.waitAsync wakes on each notify.
export async function waitUntil(a: Int32Array, i: number, pred: (v: number) => boolean): Promise<void> {
  for (;;) {
    const v = Atomics.load(a, i)
    if (pred(v)) return
    const r = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(a, i, v)
    if (r.async) await r.value
  }
}

export function flagArray(n = 2): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n))
}

/**
 * Polls `pred` once per event-loop turn (a 1 ms timer) until it holds: for conditions that no
 * shared flag announces, such as a counter in rt.stats(). The test's deadline bounds it.
 */
export async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((resolve) => setTimeout(resolve, 1))
}
