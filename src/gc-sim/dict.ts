/**
 * Null-prototype records for names that come from users' files.
 *
 * Object, field, slot and goroutine names are any identifier, and `__proto__`
 * is one: as a key of `{}` it sets the prototype instead of adding an entry
 * (the object silently disappears), and `constructor` or `toString` read as
 * present when absent. A record made here has no prototype, so every name is
 * a plain own key; JSON.stringify and Object.entries see it as any other.
 */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const out = Object.create(null) as Record<string, T>
  for (const [key, value] of entries) out[key] = value
  return out
}
