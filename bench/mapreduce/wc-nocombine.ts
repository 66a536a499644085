// Word count without a combiner: every word goes through the shuffle as its own pair. The bench's
// row for the no-combiner targets (peak RSS, speed against the shell pipeline).
import { defineJob } from 'gort/mapreduce'

export default defineJob({
  map(_file, line, emit) {
    for (const w of line.split(/\s+/)) if (w) emit(w, 1)
  },
  async reduce(word: string, values: AsyncIterable<number>, emit: (k: string, v: number) => void) {
    let n = 0
    for await (const v of values) n += v
    emit(word, n)
  },
})
