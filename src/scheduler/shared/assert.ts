/**
 * Cheap invariant checks on the shared-memory protocols (run queues, M states): on with
 * GORT_ASSERT=1, which the test runner sets; each check is one branch on a constant otherwise.
 * A failed check throws InternalError (Go's `throw`): a broken invariant, never user error.
 */
export const ASSERT = typeof process !== 'undefined' && process.env['GORT_ASSERT'] === '1'
