/**
 * uvu has no per-test timeout: a hung test makes it print "Exiting early" without
 * naming the test. `deadline` wraps a test body so a hang fails with the test's name.
 * The timer is cleared as soon as the body settles. While the body is pending it
 * keeps the event loop alive on purpose: a body awaiting a channel op that is
 * never woken would otherwise empty the loop, and gort's exit-time deadlock
 * check would end the whole run (exit 2, naming no test, skipping the suites
 * after it) before this timer could fire. The same holds for any other promise
 * that nothing can settle (the run would end early, naming no test).
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
