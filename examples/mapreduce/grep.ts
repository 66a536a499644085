// Distributed grep (the paper's §2.3): every line that matches a pattern, as `file<TAB>line`.
// `gort mapreduce --job examples/mapreduce/grep.ts --input 'logs/*.log' --output hits/ --reducers 0 --param pattern='ERROR|WARN'`
// With --reducers 0 (map-only), `cat hits/part-m-*` lists the matches in input order, as `grep -H` would;
// with reducers, the identity reduce groups them by file. `--param flags=i` ignores case.
import { defineJob } from 'gort/mapreduce'

// Compiled once per task attempt in setup; every attempt of this job gets the same params.
let pattern: RegExp | undefined

export default defineJob({
  setup(ctx) {
    const source = ctx.params.get('pattern')
    if (source === undefined) throw new TypeError('grep: no pattern (runJob({ params: { pattern } }), or --param pattern=REGEX)')
    pattern = new RegExp(source, (ctx.params.get('flags') ?? '').replace(/[gy]/g, ''))
  },
  map(file, line, emit, ctx) {
    if (!pattern!.test(line)) return
    emit(file, line)
    ctx.counters.increment('matched lines')
  },
})
