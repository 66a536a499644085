/**
 * uvu has no per-test timeout: a hung test makes it print "Exiting early" without
 * naming the test. `deadline` wraps a test body so a hang fails with the test's name.
 * The timer stays referenced until the body settles (then it is cleared): a body that awaits
 * something nothing can settle would otherwise let the event loop run dry and end the whole run
 * mid-suite, naming no test.
 */
export function deadline<T>(name: string, body: () => Promise<T>, ms = 10_000): () => Promise<T> {
  return () =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`test "${name}" did not finish within ${ms} ms`)), ms)
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
