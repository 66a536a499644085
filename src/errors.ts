/**
 * The error base every gort module throws from.
 *
 * Invariants:
 * - Every error users may catch is a subclass of GortError with a stable `code`
 *   string; callers branch on `err.code`, never on the message text.
 * - Messages that mirror a Go runtime panic use Go's text verbatim
 *   ("send on closed channel"), so people can search for them.
 * - InternalError is Go's `throw`: a broken invariant inside gort. Nobody should
 *   catch it; it means a bug in gort, not in the caller.
 */

export class GortError extends Error {
  /** A stable machine-readable identifier, e.g. `ERR_SEND_ON_CLOSED`. */
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    // `new.target.name` keeps subclass names right without each one repeating it.
    this.name = new.target.name
  }
}

/** A broken invariant inside gort (Go's `throw`, as opposed to `panic`). */
export class InternalError extends GortError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_GORT_INTERNAL', `gort internal error: ${message}`, options)
  }
}

/** A short, safe rendering of a bad argument for error messages: strings quoted, bigints with their n. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'null prototype'})`
}
