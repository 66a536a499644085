/** Expects `p` to reject and returns the reason (throws when it fulfils). Shared by the suites. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

/** Expects `fn` to throw and returns the error (throws when it returns). Shared by the suites. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
