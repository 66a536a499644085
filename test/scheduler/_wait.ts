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

/**
 * Starts a runtime whose monitor never rescues (GORT_NO_RESCUE, read as it starts): a lost
 * wake-up hangs the caller's test until its deadline names it, however slowly the OS wakes a
 * thread, where a count of rescues would depend on every wake-up taking under 100 ms.
 */
export async function startWithoutRescue<T>(start: () => Promise<T>): Promise<T> {
  process.env['GORT_NO_RESCUE'] = '1'
  try {
    return await start()
  } finally {
    delete process.env['GORT_NO_RESCUE']
  }
}
