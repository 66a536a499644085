/**
 * `--param NAME=VALUE`, as `gort mapreduce`, `gort stream-map` and `gort stream-reduce` take it:
 * a job parameter, ctx.params.get('NAME') in the job. The first `=` ends the name, which may not
 * be empty; the value may be, and may hold more `=`. A name given twice keeps its last value, as
 * Hadoop's `-D` does.
 */
export function paramsOf(given: readonly string[] | undefined, usage: (message: string) => Error): Map<string, string> {
  const params = new Map<string, string>()
  for (const p of given ?? []) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw usage(`--param must be NAME=VALUE, got ${JSON.stringify(p)}`)
    params.set(p.slice(0, eq), p.slice(eq + 1))
  }
  return params
}
