// Word count: `gort mapreduce --job examples/mapreduce/wc.ts --input 'data/*.txt' --output out/`
// Every M imports this module; its default export is the job.
import { defineJob } from 'gort/mapreduce'

const sum = async (word: string, values: AsyncIterable<number>, emit: (k: string, v: number) => void): Promise<void> => {
  let n = 0
  for await (const v of values) n += v
  emit(word, n)
}

export default defineJob({
  // What `gort stream-reduce` parses each value back to (streaming's values are text).
  values: 'number',
  map(_file, line, emit) {
    for (const w of line.split(/\s+/)) if (w) emit(w, 1)
  },
  combine: sum,
  reduce: sum,
})
