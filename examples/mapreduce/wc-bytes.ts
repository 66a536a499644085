// Word count over raw bytes: `gort mapreduce --job examples/mapreduce/wc-bytes.ts --input 'data/*.txt' --output out/`
// The same part files as wc.ts for text whose only white space is ASCII (space, \t, \n, \v, \f, \r):
// map gets whole lines as bytes and sums each word in the map task's byte table (ctx.emitBytes),
// so no string, pair or promise is made per word; reduce adds the tables' sums.
import { defineJob } from 'gort/mapreduce'

export default defineJob<string, number>({
  records: 'chunks',
  map(_file, chunk, _emit, ctx) {
    let start = -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
        if (start >= 0) ctx.emitBytes(chunk, start, i)
        start = -1
      } else if (start < 0) {
        start = i
      }
    }
    if (start >= 0) ctx.emitBytes(chunk, start, chunk.length)
  },
  async reduce(word, counts, emit) {
    let n = 0
    for await (const c of counts) n += c
    emit(word, n)
  },
})
