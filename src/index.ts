// gort's main entry: channels, select, timers and sync primitives (src/chan).
// Explicit named re-exports only, so the public surface is visible in one place.
export { GortError, InternalError } from './errors.js'
