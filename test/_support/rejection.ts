/** Expects `p` to reject and returns the reason (throws when it fulfils). Shared by the suites. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}
