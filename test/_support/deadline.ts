/**
 * uvu has no per-test timeout: a hung test makes it print "Exiting early" without
 * naming the test. `deadline` wraps a test body so a hang fails with the test's name.
 * The timer is unref'd and cleared, so it never keeps the process alive by itself.
 */
export function deadline<T>(name: string, body: () => Promise<T>, ms = 10_000): () => Promise<T> {
  return () =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`test "${name}" did not finish within ${ms} ms`)), ms)
      timer.unref()
      body().then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
}
